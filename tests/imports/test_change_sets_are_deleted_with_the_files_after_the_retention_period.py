"""A finished import's change set is deleted by the housekeeping task that deletes its stored
files, after IMPORT_FILE_RETENTION_DAYS, a batch at a time; younger ones stay, and 0 keeps
them all."""

from datetime import timedelta

import pytest
from django.utils import timezone

from imports import change_set
from imports.models import ImportChange, ImportJob
from imports.tasks import delete_expired_files

pytestmark = pytest.mark.django_db(transaction=True)


def job_with_changes(*, days_ago: float, changes: int) -> ImportJob:
    job = ImportJob.objects.create(
        original_name="p.csv",
        size=20,
        status=ImportJob.Status.COMPLETED,
        finished_at=timezone.now() - timedelta(days=days_ago),
    )
    ImportChange.objects.bulk_create(
        ImportChange(job=job, kind="created", sku=f"s-{n}", new_sku=f"s-{n}")
        for n in range(changes)
    )
    return job


def test_change_sets_past_the_retention_are_deleted_by_the_housekeeping(settings):
    settings.IMPORT_FILE_RETENTION_DAYS = 30
    old = job_with_changes(days_ago=40, changes=5)
    recent = job_with_changes(days_ago=5, changes=3)

    delete_expired_files()

    assert not ImportChange.objects.filter(job=old).exists()
    assert ImportChange.objects.filter(job=recent).count() == 3
    assert ImportJob.objects.filter(pk=old.pk).exists()  # the history stays


def test_a_large_change_set_is_deleted_a_batch_at_a_time(settings):
    settings.IMPORT_FILE_RETENTION_DAYS = 30
    old = job_with_changes(days_ago=40, changes=25)

    assert change_set.delete_expired(batch_size=10) == 25

    assert not ImportChange.objects.filter(job=old).exists()


def test_zero_keeps_change_sets_forever(settings):
    settings.IMPORT_FILE_RETENTION_DAYS = 0
    job = job_with_changes(days_ago=400, changes=2)

    delete_expired_files()

    assert ImportChange.objects.filter(job=job).count() == 2
