"""Uploads and error reports of imports finished more than IMPORT_FILE_RETENTION_DAYS ago
are deleted from storage; the job rows, their counts and history stay."""

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from imports import services
from imports.models import ImportJob
from imports.tasks import delete_expired_files

pytestmark = pytest.mark.django_db(transaction=True)


def finished_job(status: str, *, days_ago: float) -> ImportJob:
    job = ImportJob(
        original_name="p.csv",
        size=20,
        status=status,
        created=3,
        finished_at=timezone.now() - timedelta(days=days_ago),
    )
    job.file.save("p.csv", ContentFile(b"sku,name\na,A\n"), save=False)
    job.error_report.save("report.csv", ContentFile(b"record,line,reason\n"), save=False)
    job.save()
    return job


def stored(job: ImportJob) -> list[bool]:
    return [field.storage.exists(field.name) for field in (job.file, job.error_report)]


def test_files_past_the_retention_are_deleted_and_the_history_stays(settings):
    settings.IMPORT_FILE_RETENTION_DAYS = 30
    old = finished_job(ImportJob.Status.COMPLETED, days_ago=40)
    old_failed = finished_job(ImportJob.Status.FAILED, days_ago=31)
    recent = finished_job(ImportJob.Status.COMPLETED, days_ago=5)
    old_paths = [(job.file.name, job.error_report.name) for job in (old, old_failed)]

    assert delete_expired_files() == 2

    for job, (upload, report) in zip((old, old_failed), old_paths, strict=True):
        job.refresh_from_db()
        assert (job.file.name, job.error_report.name) == ("", "")
        assert not job.file.storage.exists(upload) and not job.file.storage.exists(report)
        assert job.created == 3  # the history stays
    assert not old_failed.can_retry
    with pytest.raises(services.ImportJobError, match="retention"):
        services.import_job_retry(job=old_failed)
    recent.refresh_from_db()
    assert stored(recent) == [True, True]
    assert delete_expired_files() == 0


def test_zero_keeps_files_forever(settings):
    settings.IMPORT_FILE_RETENTION_DAYS = 0
    job = finished_job(ImportJob.Status.COMPLETED, days_ago=400)

    assert delete_expired_files() == 0

    assert stored(job) == [True, True]
