"""A revert's writes and its outcome commit together: a worker SIGKILLed after the revert
wrote the catalogue, while it records the outcome, leaves the catalogue as the import left it
and the revert failed once (one `import.failed`); Retry then reverts it."""

import psycopg
import pytest
from django.db import connection

from acme.lib import queues
from imports import services
from imports.merge import MERGE_LOCK_KEY
from imports.models import ImportJob
from imports.tasks import fail_lost_jobs, run_import_job
from products import services as product_services
from tests.imports.jobs import wait_for_job
from tests.imports.reverts import catalogue, deliveries_settle, import_text
from tests.imports.test_a_job_ends_once_with_one_event_whatever_is_killed_when import (
    KILL_PREFIX,
    _gone,
)
from tests.support.waiting import wait_until
from tests.support.worker import database_url_for_subprocess
from tests.webhooks.conftest import receiver  # noqa: F401 - the webhooks tests' fixture
from webhooks.models import Delivery, WebhookEndpoint

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

# The worker's backend waiting for a lock the holder has, and what it is running.
BLOCKED_BY = """
SELECT pid, query FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))
"""


@pytest.fixture(autouse=True)
def endpoint(db, receiver):  # noqa: F811 - the imported fixture, by name
    return WebhookEndpoint.objects.create(
        url=receiver.url(), events=["import.completed", "import.failed", "import.reverted"],
        enabled=True,
    )  # fmt: skip


def _blocked(holder) -> tuple[int, str] | None:
    # Read from another connection: within the holder's transaction pg_stat_activity would
    # answer from the snapshot its first read took.
    with connection.cursor() as cursor:
        cursor.execute(BLOCKED_BY, [holder.info.backend_pid])
        return cursor.fetchone()


def test_a_worker_killed_while_a_revert_records_its_outcome_changes_nothing(
    celery_worker, start_worker
):
    for n in range(50):
        product_services.product_create(sku=f"old-{n}", name=f"Old {n}")
    job = import_text(
        "sku,name\n"
        + "".join(f"old-{n},Renamed {n}\n" for n in range(50))
        + "".join(f"new-{n},New {n}\n" for n in range(50))
    )
    assert (job.created, job.updated) == (50, 50), job.error
    after_import = catalogue()

    doomed = start_worker(name="revert-kill", concurrency=1, CELERY_QUEUE=KILL_PREFIX,
                          IMPORT_HEARTBEAT_SECONDS="3600")  # fmt: skip
    revert = ImportJob.objects.create(kind=ImportJob.Kind.REVERT, reverts=job,
                                      original_name=job.original_name, size=0)  # fmt: skip
    url = database_url_for_subprocess().replace("postgres://", "postgresql://", 1)
    with psycopg.connect(url, autocommit=True) as holder:
        # Hold the merge lock: the worker claims the revert and waits at its first step ...
        holder.execute("SELECT pg_advisory_lock(%s)", [MERGE_LOCK_KEY])
        run_import_job.apply_async(
            args=[revert.pk], queue=queues.queue_name(queues.IMPORTS, KILL_PREFIX)
        )
        wait_until(lambda: _blocked(holder), timeout=120, what="the revert to wait for the lock")
        # ... then hold its job row and let it go: it reverts, then waits to record.
        holder.execute("BEGIN")
        holder.execute("SELECT id FROM imports_importjob WHERE id = %s FOR UPDATE", [revert.pk])
        holder.execute("SELECT pg_advisory_unlock(%s)", [MERGE_LOCK_KEY])

        def recording():
            blocked = _blocked(holder)
            return blocked if blocked and "imports_importjob" in blocked[1] else None

        worker_backend, _ = wait_until(recording, timeout=120, what="the revert to record")
        doomed.kill()
        holder.execute("ROLLBACK")
    wait_until(lambda: _gone(worker_backend), timeout=60, what="the backend to end")

    assert catalogue() == after_import  # nothing of the revert committed
    assert fail_lost_jobs(timeout_seconds=0) == [revert.pk]
    revert.refresh_from_db()
    assert revert.status == ImportJob.Status.FAILED
    assert not revert.changes.exists()

    services.import_job_retry(job=revert)
    revert = wait_for_job(revert.pk)
    assert revert.status == ImportJob.Status.COMPLETED, revert.error
    assert (revert.restored, revert.deleted, revert.conflicts) == (50, 50, 0)
    assert sorted(catalogue()) == sorted(f"old-{n}" for n in range(50))
    events = list(Delivery.objects.order_by("pk").values_list("event_type", flat=True))
    assert events == ["import.completed", "import.failed", "import.reverted"]
    deliveries_settle(3)
