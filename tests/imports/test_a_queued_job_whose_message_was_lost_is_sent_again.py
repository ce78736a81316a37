"""A job stays `queued` if its task message is lost (a broker restarted without persistence,
a send that failed after the job was committed). Beat sends it again; the claim still runs
it once. A job the command created and never ran is failed instead of waiting forever."""

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from imports.models import ImportJob
from imports.tasks import requeue_stale_jobs
from products.models import Product
from tests.imports.jobs import SAMPLE_PRODUCTS, wait_for_job
from tests.support.sample import SAMPLE_CSV

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def queued_job(*, sent_ago: timedelta | None, stored: bool = True) -> ImportJob:
    """A queued job as the services leave it, whose message never reached a worker."""
    job = ImportJob(
        original_name="products-sample.csv",
        size=SAMPLE_CSV.stat().st_size,
        enqueued_at=None if sent_ago is None else timezone.now() - sent_ago,
    )
    if stored:
        job.file.save(job.original_name, ContentFile(SAMPLE_CSV.read_bytes()), save=False)
    job.save()
    if sent_ago is not None and not stored:
        ImportJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - sent_ago)
    return job


def test_a_job_queued_too_long_is_sent_again_and_imported_once(celery_worker):
    lost = queued_job(sent_ago=timedelta(minutes=10))
    recent = queued_job(sent_ago=timedelta(seconds=5))

    sent = requeue_stale_jobs()

    assert sent == [lost.pk]
    lost = wait_for_job(lost.pk)
    assert lost.status == ImportJob.Status.COMPLETED, lost.error
    assert (lost.attempts, lost.created) == (1, SAMPLE_PRODUCTS)
    assert Product.objects.count() == SAMPLE_PRODUCTS
    recent.refresh_from_db()
    assert recent.status == ImportJob.Status.QUEUED  # sent 5 s ago: not yet suspicious
    # Sent again just now: the next beat run leaves it alone.
    assert requeue_stale_jobs() == []


def test_a_command_job_never_claimed_is_failed_with_what_to_do():
    abandoned = ImportJob.objects.create(
        original_name="local.csv", size=10, source=ImportJob.Source.COMMAND
    )
    ImportJob.objects.filter(pk=abandoned.pk).update(
        created_at=timezone.now() - timedelta(minutes=10)
    )
    starting = ImportJob.objects.create(
        original_name="local.csv", size=10, source=ImportJob.Source.COMMAND
    )

    assert requeue_stale_jobs() == []

    abandoned.refresh_from_db()
    assert abandoned.status == ImportJob.Status.FAILED
    assert "Run the command again" in abandoned.error
    starting.refresh_from_db()
    assert starting.status == ImportJob.Status.QUEUED


def test_beat_schedules_the_import_housekeeping_under_registered_task_names(settings):
    from acme.celery import app

    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    housekeeping = {
        "imports.tasks.fail_lost_jobs",
        "imports.tasks.requeue_stale_jobs",
        "imports.tasks.delete_expired_files",
    }
    assert housekeeping <= scheduled
    app.loader.import_default_modules()
    assert housekeeping <= set(app.tasks)
