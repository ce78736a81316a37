from datetime import timedelta

import pytest
from django.utils import timezone

from imports import progress
from imports.execution import Heartbeat
from imports.models import ImportJob
from imports.tasks import fail_lost_jobs
from tests.support.waiting import wait_until


def running_job(heartbeat_age: timedelta) -> ImportJob:
    beat = timezone.now() - heartbeat_age
    return ImportJob.objects.create(original_name="a.csv", size=1, status="running",
                                    attempts=1, started_at=beat, heartbeat_at=beat)  # fmt: skip


@pytest.mark.django_db
def test_only_jobs_silent_for_longer_than_the_timeout_are_failed(settings):
    settings.IMPORT_HEARTBEAT_TIMEOUT_SECONDS = 60
    alive = running_job(timedelta(seconds=10))
    lost = running_job(timedelta(seconds=90))
    an_hour_ago = timezone.now() - timedelta(hours=1)
    finished = ImportJob.objects.create(
        original_name="b.csv", size=1, status="completed", heartbeat_at=an_hour_ago
    )

    assert fail_lost_jobs() == [lost.pk]

    statuses = dict(ImportJob.objects.values_list("pk", "status"))
    assert statuses == {alive.pk: "running", lost.pk: "failed", finished.pk: "completed"}
    lost.refresh_from_db()
    assert lost.error == (
        "worker lost: the worker stopped while importing; the catalogue is unchanged. "
        "Retry to run it again."
    )
    assert lost.finished_at is not None


@pytest.mark.django_db(transaction=True)
def test_a_running_import_keeps_its_heartbeat_fresh(settings):
    settings.IMPORT_HEARTBEAT_SECONDS = 0.05
    job = running_job(timedelta(minutes=10))
    tracker = progress.ProgressTracker(job.pk, bytes_total=1)
    tracker.phase = "loading"
    heartbeat = Heartbeat(job_id=job.pk, attempt=1, tracker=tracker)
    heartbeat.start()
    try:
        wait_until(
            lambda: ImportJob.objects.get(pk=job.pk).phase == "loading",
            timeout=10, what="a heartbeat",
        )  # fmt: skip
        assert fail_lost_jobs(timeout_seconds=60) == []
    finally:
        heartbeat.stop()
    assert not heartbeat.is_alive()
    assert ImportJob.objects.get(pk=job.pk).status == "running"


@pytest.mark.django_db
def test_a_stale_worker_cannot_overwrite_a_retried_job():
    from imports import services

    job = running_job(timedelta(seconds=1))
    ImportJob.objects.filter(pk=job.pk).update(attempts=2)  # failed as lost, then retried

    assert services.import_job_heartbeat(job_id=job.pk, attempt=1, phase="merging") is False
    assert services.import_job_fail(job_id=job.pk, attempt=1, error="late news") is None
    job.refresh_from_db()
    assert (job.status, job.phase, job.error) == ("running", "", "")
