"""The merge and the job's outcome commit together: a worker SIGKILLed after the merge, while
it records the outcome, leaves the catalogue unchanged and a job failed once; a worker whose
job was failed as lost meanwhile cannot turn it into completed."""

import os

import psycopg
import pytest
from django.core.files import File
from django.db import connection

from acme.lib import queues
from imports import services
from imports.models import ImportJob
from imports.tasks import fail_lost_jobs, run_import_job
from products.models import Product
from tests.imports.jobs import BIG_ROWS, wait_for_job, wait_until_reading
from tests.support.waiting import wait_until
from tests.support.worker import database_url_for_subprocess
from tests.webhooks.conftest import receiver  # noqa: F401 - the webhooks tests' fixture
from webhooks.models import Delivery, EventType, WebhookEndpoint

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

KILL_PREFIX = f"{os.environ.get('CELERY_QUEUE', 'acme')}-outcome"

# A backend of the worker waiting for the job's row, which the test holds: the merge is done
# and the outcome is being recorded (heartbeats, the other writer of that row, are off).
WAITING_FOR_JOB_ROW = """
SELECT pid FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))
"""


@pytest.fixture(autouse=True)
def endpoint(db, receiver):  # noqa: F811 - the imported fixture, by name
    """Events go to a local receiver answering 200: each delivery succeeds at its first attempt,
    so no worker is still writing delivery attempts when the test's database is flushed."""
    return WebhookEndpoint.objects.create(
        url=receiver.url(), events=list(EventType.values), enabled=True
    )


def _deliveries_settle(count: int) -> None:
    """Wait until the events' deliveries are sent (a worker writing a delivery attempt while
    the test's database is flushed makes the flush deadlock)."""
    wait_until(
        lambda: Delivery.objects.filter(status=Delivery.Status.SUCCEEDED).count() == count,
        timeout=60,
        what="the events' deliveries to be sent",
    )


def _queue_big_import(big_csv) -> ImportJob:
    with big_csv.open("rb") as handle:
        job = ImportJob(original_name="big.csv", size=big_csv.stat().st_size)
        job.file.save("big.csv", File(handle), save=False)
        job.save()
    run_import_job.apply_async(args=[job.pk], queue=queues.queue_name(queues.IMPORTS, KILL_PREFIX))
    return job


def _events() -> list[str]:
    return list(Delivery.objects.order_by("pk").values_list("event_type", flat=True))


def _gone(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid])
        return cursor.fetchone()[0] == 0


def test_a_worker_killed_while_recording_the_outcome_leaves_the_catalogue_unchanged(
    celery_worker, start_worker, big_csv
):
    # No heartbeats: only the explicit sweep below decides the worker is lost.
    doomed = start_worker(
        name="outcome-kill",
        concurrency=1,
        CELERY_QUEUE=KILL_PREFIX,
        IMPORT_HEARTBEAT_SECONDS="3600",
    )
    job = _queue_big_import(big_csv)
    wait_until_reading(job.pk)

    # Hold the job's row from another connection: the worker reaches the outcome and waits.
    url = database_url_for_subprocess().replace("postgres://", "postgresql://", 1)
    with psycopg.connect(url) as holder:
        holder.execute("SELECT id FROM imports_importjob WHERE id = %s FOR UPDATE", [job.pk])

        def waiting_backend():
            with connection.cursor() as cursor:
                cursor.execute(WAITING_FOR_JOB_ROW, [holder.info.backend_pid])
                row = cursor.fetchone()
            return row[0] if row else None

        worker_backend = wait_until(waiting_backend, timeout=120, what="the worker to record")
        doomed.kill()
        holder.rollback()
    # The server notices the dead client when the backend wants its next command.
    wait_until(lambda: _gone(worker_backend), timeout=60, what="the backend to end")

    assert Product.objects.count() == 0
    assert fail_lost_jobs(timeout_seconds=0) == [job.pk]
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED
    assert not job.error_report
    assert _events() == ["import.failed"]
    _deliveries_settle(1)

    services.import_job_retry(job=job)
    job = wait_for_job(job.pk)
    assert job.status == ImportJob.Status.COMPLETED, job.error
    assert (job.created, job.updated) == (BIG_ROWS, 0)
    assert Product.objects.count() == BIG_ROWS
    assert _events() == ["import.failed", "import.completed"]
    _deliveries_settle(2)


def test_a_worker_whose_job_was_failed_as_lost_cannot_complete_it(
    celery_worker, start_worker, big_csv
):
    slow = start_worker(
        name="outcome-lost",
        concurrency=1,
        CELERY_QUEUE=KILL_PREFIX,
        IMPORT_HEARTBEAT_SECONDS="3600",
    )
    log_start = slow.log_path.stat().st_size
    job = _queue_big_import(big_csv)
    wait_until_reading(job.pk)

    # The heartbeats "failed": the sweep fails the job while its worker imports on.
    assert fail_lost_jobs(timeout_seconds=0) == [job.pk]
    wait_until(
        lambda: "succeeded" in slow.log_path.read_text(errors="replace")[log_start:],
        timeout=120,
        what="the worker to finish its task",
    )

    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED
    assert job.error == services.WORKER_LOST_MESSAGE
    assert Product.objects.count() == 0  # its merge was rolled back with the refused outcome
    assert _events() == ["import.failed"]
    _deliveries_settle(1)
