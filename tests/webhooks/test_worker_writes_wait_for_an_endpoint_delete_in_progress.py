"""Every worker write of several delivery rows holds their endpoint first, so a person's
delete in progress (endpoint locked, its deliveries being removed) makes it wait instead of
deadlocking against it.

The delete is played step by step on a connection of its own: lock the endpoint as
webhooks.services does, remove the newest delivery, let the worker's write start on another
connection, then remove the rest and commit. A writer that updated the older delivery before
meeting the newer one held a row the delete then needed while waiting for one the delete
held: PostgreSQL broke the cycle by failing one of them ("deadlock detected").
"""

from __future__ import annotations

import threading
from datetime import timedelta

import psycopg
import pytest
from django.db import connection
from django.utils import timezone

from tests.support.waiting import wait_until
from webhooks import backlog, claims, retention
from webhooks.events import new_msg_id
from webhooks.models import Delivery, DeliveryAttempt, WebhookEndpoint

pytestmark = pytest.mark.django_db(transaction=True)

ENDPOINTS = WebhookEndpoint._meta.db_table
DELIVERIES = Delivery._meta.db_table
ATTEMPTS = DeliveryAttempt._meta.db_table


def _deliveries(endpoint: WebhookEndpoint, status: str, count: int = 3) -> list[Delivery]:
    return [
        Delivery.objects.create(
            endpoint=endpoint,
            event_type="product.created",
            payload={},
            msg_id=new_msg_id(),
            status=status,
        )
        for _ in range(count)
    ]


def _dsn() -> str:
    params = connection.get_connection_params()
    keys = {"host", "port", "dbname", "user", "password"}
    return psycopg.conninfo.make_conninfo(
        **{key: value for key, value in params.items() if key in keys}
    )


def _waiting_for_a_lock(monitor: psycopg.Connection, pid: int) -> bool:
    row = monitor.execute(
        "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [pid]
    ).fetchone()
    return row is not None and row[0] == "Lock"


class WorkerWrite(threading.Thread):
    """The worker's write on a connection of its own; keeps its error and its backend pid."""

    def __init__(self, write) -> None:
        super().__init__()
        self.write = write
        self.error: BaseException | None = None
        self.pid: int | None = None

    def run(self) -> None:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                self.pid = cursor.fetchone()[0]
            self.write()
        except BaseException as error:  # noqa: BLE001 - reported by the test
            self.error = error
        finally:
            connection.close()


def _finish_the_delete(delete: psycopg.Connection, endpoint_id: int, writer: WorkerWrite) -> None:
    """The rest of the delete (attempts, deliveries, the endpoint) and its commit; then the
    writer on the other connection has ended without an error."""
    delete.execute(f"DELETE FROM {ATTEMPTS} WHERE endpoint_id = %s", [endpoint_id])
    delete.execute(f"DELETE FROM {DELIVERIES} WHERE endpoint_id = %s", [endpoint_id])
    delete.execute(f"DELETE FROM {ENDPOINTS} WHERE id = %s", [endpoint_id])
    delete.commit()
    writer.join(timeout=30)
    assert not writer.is_alive()
    assert writer.error is None


WRITES = {
    "ending a disabled endpoint's claimed deliveries": (
        Delivery.Status.SENDING,
        lambda deliveries: claims.fail_disabled(deliveries),
    ),
    "moving claimed deliveries to wait for a rate window": (
        Delivery.Status.SENDING,
        lambda deliveries: backlog.wait_for_window(deliveries),
    ),
    "failing a disabled endpoint's backlog": (
        Delivery.Status.WAITING,
        lambda deliveries: backlog.fail_waiting(deliveries[0].endpoint_id, error="disabled"),
    ),
}


@pytest.mark.parametrize("name", WRITES)
def test_a_worker_write_waits_for_a_delete_in_progress_instead_of_deadlocking(name, make_endpoint):
    status, write = WRITES[name]
    endpoint = make_endpoint("http://127.0.0.1:9/hook", enabled=False)
    deliveries = _deliveries(endpoint, status)
    newest = max(delivery.id for delivery in deliveries)
    with psycopg.connect(_dsn(), autocommit=True) as monitor, psycopg.connect(_dsn()) as delete:
        delete.execute(f"SELECT id FROM {ENDPOINTS} WHERE id = %s FOR UPDATE", [endpoint.id])
        delete.execute(f"DELETE FROM {ATTEMPTS} WHERE delivery_id = %s", [newest])
        delete.execute(f"DELETE FROM {DELIVERIES} WHERE id = %s", [newest])
        worker = WorkerWrite(lambda: write(deliveries))
        worker.start()
        wait_until(
            lambda: worker.pid and _waiting_for_a_lock(monitor, worker.pid),
            what="the worker's write waits for the delete",
        )
        _finish_the_delete(delete, endpoint.id, worker)
    assert not Delivery.objects.exists()


def test_the_retention_sweep_leaves_an_endpoint_being_deleted_to_its_delete(
    make_endpoint, settings
):
    # The delete has removed the endpoint's attempts and is about to remove its deliveries;
    # a sweep that locked those deliveries and then waited for their attempts closed a cycle.
    settings.WEBHOOKS_DELIVERY_RETENTION_DAYS = 1
    endpoint = make_endpoint("http://127.0.0.1:9/hook")
    long_ago = timezone.now() - timedelta(days=2)
    deliveries = _deliveries(endpoint, Delivery.Status.SUCCEEDED)
    Delivery.objects.update(completed_at=long_ago)
    DeliveryAttempt.objects.bulk_create(
        DeliveryAttempt(delivery=delivery, endpoint=endpoint, attempted_at=long_ago, success=True)
        for delivery in deliveries
    )
    swept: list[int] = []
    with psycopg.connect(_dsn(), autocommit=True) as monitor, psycopg.connect(_dsn()) as delete:
        delete.execute(f"SELECT id FROM {ENDPOINTS} WHERE id = %s FOR UPDATE", [endpoint.id])
        delete.execute(f"DELETE FROM {ATTEMPTS} WHERE endpoint_id = %s", [endpoint.id])
        sweep = WorkerWrite(lambda: swept.append(retention.deliveries_delete_expired()))
        sweep.start()
        wait_until(
            lambda: not sweep.is_alive() or (sweep.pid and _waiting_for_a_lock(monitor, sweep.pid)),
            what="the sweep ends or waits",
        )
        _finish_the_delete(delete, endpoint.id, sweep)
    assert swept == [0]  # the delete took them
    assert not Delivery.objects.exists()
