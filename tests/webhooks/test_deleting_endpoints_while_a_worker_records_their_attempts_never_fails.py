"""Deleting endpoints, from the API and from the admin's "delete selected" action, while the
real worker sends their deliveries and records what the receiver answered (successes, final
failures that count towards disabling, retries), and while other connections emit product
events: no server error, no deadlock anywhere (the database counts them), nothing left behind.

The worker's recording transaction locks the endpoints before their delivery rows
(webhooks.endpoint_locks); a delete that removed the delivery rows before locking the
endpoint (a plain queryset delete, as the admin's bulk action does by default) took them in
the opposite order.
"""

from __future__ import annotations

import time

import pytest
from django.contrib.auth.models import User
from django.db import connection

from tests.support.waiting import wait_until
from tests.webhooks.conftest import Reply
from tests.webhooks.test_endpoint_changes_are_safe_while_products_change import ProductWriters
from webhooks.models import Delivery, DeliveryAttempt, EndpointHealth, WebhookEndpoint

pytestmark = pytest.mark.django_db(transaction=True)

ENDPOINTS = 24


def _deadlocks() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")
        (count,) = cursor.fetchone()
    return count


def _deadlocks_reported() -> int:
    """The count once every backend has reported: a deadlock is counted by the backend that
    detected it, which reports within PostgreSQL's idle interval (10 s) of going idle."""
    time.sleep(11)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
    return _deadlocks()


@pytest.fixture
def endpoints(make_endpoint, receiver):
    # Successes (which reset a failure count), a final failure (counted on the endpoint's
    # row) and a retried one, in turn: every kind of write the worker makes for an endpoint.
    receiver.script(*[Reply(200), Reply(400), Reply(200), Reply(503)] * 10_000)
    return [
        make_endpoint(receiver.url(f"/hook-{index}"), events=["product.created"])
        for index in range(ENDPOINTS)
    ]


def test_deleting_endpoints_while_the_worker_records_their_attempts_never_fails(
    celery_worker, receiver, endpoints, client, staff_client, password
):
    admin = User.objects.create_superuser("deleter", "deleter@example.com", password)
    admin_client = client.__class__()
    admin_client.force_login(admin)
    before = _deadlocks_reported()  # earlier tests' deadlocks counted first
    with ProductWriters() as writers:
        # The worker is recording attempts for every endpoint before the first delete.
        receiver.wait_for(ENDPOINTS * 3, timeout=60)
        half = ENDPOINTS // 2
        statuses = [
            staff_client.delete(f"/api/webhooks/{endpoint.id}/").status_code
            for endpoint in endpoints[:half]
        ]
        for pair in range(half, ENDPOINTS, 2):
            response = admin_client.post(
                "/admin/webhooks/webhookendpoint/",
                {
                    "action": "delete_selected",
                    "_selected_action": [endpoint.id for endpoint in endpoints[pair : pair + 2]],
                    "post": "yes",
                },
            )
            statuses.append(response.status_code)
    assert writers.errors == []
    assert statuses == [204] * half + [302] * (half // 2)
    assert not WebhookEndpoint.objects.exists()
    assert not Delivery.objects.exists()
    assert not DeliveryAttempt.objects.exists()
    assert not EndpointHealth.objects.exists()
    # The worker's batches in flight at the deletes are recorded (or dropped) by now.
    wait_until(lambda: not Delivery.objects.exists(), timeout=10, what="no delivery row comes back")
    assert _deadlocks_reported() == before


def test_disabling_then_deleting_endpoints_while_the_worker_ends_their_deliveries_never_fails(
    celery_worker, receiver, make_endpoint, staff_client
):
    # A low rate limit and a slow receiver: each endpoint has deliveries being sent, queued
    # and waiting for a window when it is disabled, which the worker then ends ("Endpoint is
    # disabled") while the endpoint is being deleted.
    receiver.script(Reply(200, delay=0.05))
    endpoints = [
        make_endpoint(receiver.url(f"/slow-{index}"), events=["product.created"], rate_limit=2)
        for index in range(ENDPOINTS)
    ]
    before = _deadlocks_reported()  # earlier tests' deadlocks counted first
    with ProductWriters() as writers:
        receiver.wait_for(ENDPOINTS, timeout=60)
        statuses = []
        for endpoint in endpoints:
            statuses.append(staff_client.post(f"/api/webhooks/{endpoint.id}/disable/").status_code)
            statuses.append(staff_client.delete(f"/api/webhooks/{endpoint.id}/").status_code)
    assert writers.errors == []
    assert statuses == [200, 204] * ENDPOINTS
    assert not WebhookEndpoint.objects.exists()
    wait_until(lambda: not Delivery.objects.exists(), timeout=10, what="no delivery row comes back")
    assert _deadlocks_reported() == before
