"""Deleting, disabling or unsubscribing an endpoint while other connections emit product
events never fails, and no delivery for the endpoint is written after the change committed.

Four real threads (each its own PostgreSQL connection) create products, which emit
product.created to every subscribed endpoint, while this thread changes the endpoints.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.db.models import Max

from products.services import product_create
from webhooks import services
from webhooks.models import Delivery, WebhookEndpoint

pytestmark = pytest.mark.django_db(transaction=True)

WRITERS = 4
ENDPOINTS = 30


class ProductWriters:
    """Threads creating products until stopped; every error they meet is kept."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.errors: list[BaseException] = []
        self.created = 0
        self._lock = threading.Lock()
        self.threads = [
            threading.Thread(target=self._run, args=(number,)) for number in range(WRITERS)
        ]

    def _run(self, number: int) -> None:
        try:
            index = 0
            while not self.stop.is_set():
                product_create(sku=f"writer-{number}-{index}", name="Concurrent product")
                index += 1
                with self._lock:
                    self.created += 1
        except BaseException as error:  # noqa: BLE001 - reported by the test
            self.errors.append(error)
        finally:
            connection.close()

    def __enter__(self) -> ProductWriters:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=30)


def _endpoints(make_endpoint) -> list[WebhookEndpoint]:
    return [
        make_endpoint(f"http://127.0.0.1:9/hook-{index}", events=["product.created"])
        for index in range(ENDPOINTS)
    ]


def _last_delivery_id(endpoint_id: int) -> int:
    return Delivery.objects.filter(endpoint_id=endpoint_id).aggregate(last=Max("id"))["last"] or 0


def test_deleting_endpoints_through_the_api_while_products_change_never_fails(
    make_endpoint, staff_client
):
    endpoints = _endpoints(make_endpoint)
    with ProductWriters() as writers:
        statuses = [
            staff_client.delete(f"/api/webhooks/{endpoint.id}/").status_code
            for endpoint in endpoints
        ]
    assert writers.errors == []
    assert writers.created > 0
    assert statuses == [204] * ENDPOINTS
    assert not WebhookEndpoint.objects.exists()
    assert not Delivery.objects.exists()


def test_no_delivery_is_written_for_an_endpoint_after_its_disable_committed(make_endpoint):
    endpoints = _endpoints(make_endpoint)
    last_at_disable = {}
    with ProductWriters() as writers:
        for endpoint in endpoints:
            services.endpoint_set_enabled(endpoint=endpoint, enabled=False)
            last_at_disable[endpoint.id] = _last_delivery_id(endpoint.id)
    assert writers.errors == []
    assert writers.created > 0
    assert {endpoint.id: _last_delivery_id(endpoint.id) for endpoint in endpoints} == (
        last_at_disable
    )


def test_no_delivery_is_written_for_an_event_after_the_endpoint_unsubscribed(make_endpoint):
    endpoints = _endpoints(make_endpoint)
    last_at_change = {}
    with ProductWriters() as writers:
        for endpoint in endpoints:
            services.endpoint_update(endpoint=endpoint, events=["product.deleted"])
            last_at_change[endpoint.id] = _last_delivery_id(endpoint.id)
    assert writers.errors == []
    assert {endpoint.id: _last_delivery_id(endpoint.id) for endpoint in endpoints} == (
        last_at_change
    )
