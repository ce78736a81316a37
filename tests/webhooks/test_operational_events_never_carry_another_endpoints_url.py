"""`webhook.endpoint_disabled` and `webhook.delivery_exhausted` go to every subscribed endpoint,
so they name the endpoint they are about by id, scheme and host, and description: never its
full URL, whose path or query often carries a credential (also not inside an error text)."""

import json

import pytest
from django.utils import timezone

from tests.webhooks.conftest import Reply
from webhooks import alerts
from webhooks import delivery as delivery_module
from webhooks.events import emit
from webhooks.models import Delivery

pytestmark = pytest.mark.django_db

TOKEN = "tok-3f9a"
QUERY_TOKEN = "key-77c1"


def send_pending():
    for delivery_id in Delivery.objects.filter(status="queued").values_list("id", flat=True):
        delivery_module.send(delivery_id)


def operational_payloads(watcher):
    return [
        delivery.payload
        for delivery in Delivery.objects.filter(endpoint=watcher).order_by("id")
        if delivery.event_type.startswith("webhook.")
    ]


def test_a_disabled_endpoints_url_is_not_sent_to_the_other_endpoints(receiver, make_endpoint):
    watcher = make_endpoint(receiver.url("/ops"), events=["webhook.endpoint_disabled"])
    receiver.script(Reply(status=410), Reply(status=200))
    secret_url = receiver.url(f"/hooks/{TOKEN}?token={QUERY_TOKEN}")
    gone = make_endpoint(secret_url, events=["product.created"], description="Shop sync")
    emit("product.created", {"id": 1})
    send_pending()  # the 410 disables it

    (payload,) = operational_payloads(watcher)
    assert payload["type"] == "webhook.endpoint_disabled"
    text = json.dumps(payload)
    assert TOKEN not in text and QUERY_TOKEN not in text
    data = payload["data"]
    assert data["endpoint_id"] == gone.pk
    assert data["endpoint_host"] == receiver.url("").rstrip("/")
    assert data["endpoint_description"] == "Shop sync"


def test_a_given_up_delivery_does_not_send_its_endpoints_url_even_inside_the_error(
    make_endpoint,
):
    watcher = make_endpoint("http://127.0.0.1:9/ops", events=["webhook.delivery_exhausted"])
    secret_url = f"http://127.0.0.1:9/in/{TOKEN}?token={QUERY_TOKEN}"
    endpoint = make_endpoint(secret_url, events=["product.created"])
    emit("product.created", {"id": 1})
    given_up = Delivery.objects.get(endpoint=endpoint)
    # What requests says when a connection fails names the path and query.
    error = (
        f"Connection failed: Max retries exceeded with url: /in/{TOKEN}?token={QUERY_TOKEN}"
        f" ({secret_url})"
    )
    given_up.status, given_up.completed_at = Delivery.Status.FAILED, timezone.now()
    given_up.last_error = error
    given_up.save()
    alerts.delivery_exhausted(given_up, error=error)

    (payload,) = operational_payloads(watcher)
    text = json.dumps(payload)
    assert TOKEN not in text and QUERY_TOKEN not in text
    data = payload["data"]
    assert data["endpoint_id"] == endpoint.pk
    assert data["endpoint_host"] == "http://127.0.0.1:9"
    assert data["last_error"].startswith("Connection failed")
