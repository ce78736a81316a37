from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from imports import progress
from imports.execution import Heartbeat
from imports.models import ImportJob
from tests.support.waiting import wait_until


def terminate_other_connections() -> int:
    """Kill every other session on the test database, as a database restart would."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_the_heartbeat_reconnects_after_the_database_drops_its_connection(settings):
    settings.IMPORT_HEARTBEAT_SECONDS = 0.05
    old = timezone.now() - timedelta(minutes=10)
    job = ImportJob.objects.create(original_name="a.csv", size=1, status="running",
                                   attempts=1, started_at=old, heartbeat_at=old)  # fmt: skip
    tracker = progress.ProgressTracker(job.pk, bytes_total=1)
    tracker.phase = "loading"
    heartbeat = Heartbeat(job_id=job.pk, attempt=1, tracker=tracker)
    heartbeat.start()
    try:
        wait_until(lambda: ImportJob.objects.get(pk=job.pk).heartbeat_at > old,
                   timeout=10, what="a first heartbeat")  # fmt: skip
        assert terminate_other_connections() >= 1
        ImportJob.objects.filter(pk=job.pk).update(heartbeat_at=old)

        wait_until(lambda: ImportJob.objects.get(pk=job.pk).heartbeat_at > old,
                   timeout=10, what="a heartbeat after the connection was lost")  # fmt: skip
    finally:
        heartbeat.stop()
    assert not heartbeat.is_alive()
