"""When the system disables an endpoint (410, too many failures) or a delivery runs out of
retries, the team hears about it: a notice on the webhooks page and in the admin, the reason
and time in the API, and operational events other endpoints can subscribe to."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from tests.webhooks.conftest import Reply
from webhooks import delivery as delivery_module
from webhooks.events import emit
from webhooks.models import Delivery
from webhooks.recording import RETRY_SCHEDULE_SECONDS

pytestmark = pytest.mark.django_db


@pytest.fixture
def watcher(make_endpoint, receiver):
    """An endpoint of the operations team, subscribed to the operational events."""
    return make_endpoint(
        receiver.url("/ops"),
        events=["webhook.endpoint_disabled", "webhook.delivery_exhausted"],
    )


def send_pending():
    for delivery_id in Delivery.objects.filter(status="queued").values_list("id", flat=True):
        delivery_module.send(delivery_id)


def ops_requests(receiver):
    return [r for r in receiver.requests if r.path == "/ops"]


def test_a_410_disables_the_endpoint_and_tells_the_team(
    receiver, make_endpoint, watcher, staff_client, admin_client
):
    receiver.script(Reply(status=410), Reply(status=200))
    gone = make_endpoint(receiver.url("/gone"), events=["product.created"])
    emit("product.created", {"id": 1})
    send_pending()  # the 410
    send_pending()  # the operational event it caused

    body = staff_client.get(f"/api/webhooks/{gone.pk}/").json()
    assert body["enabled"] is False
    assert "410 Gone" in body["disabled_reason"]
    disabled_at = body["disabled_at"]
    assert disabled_at is not None

    (request,) = ops_requests(receiver)
    event = Webhook(watcher.secret).verify(request.body, request.headers)
    assert event["type"] == "webhook.endpoint_disabled"
    assert event["data"]["endpoint_id"] == gone.pk
    assert "url" not in event["data"]  # only scheme and host: see the operational-events test
    assert event["data"]["endpoint_host"] == receiver.url("").rstrip("/")
    assert "410 Gone" in event["data"]["reason"]

    page = staff_client.get(reverse("webhooks:list")).content.decode()
    assert 'id="trouble"' in page and "disabled automatically" in page and gone.url in page
    admin = admin_client.get(reverse("admin:webhooks_webhookendpoint_changelist"), follow=True)
    assert f"{gone.url} was disabled automatically" in admin.content.decode()

    # Re-enabling clears the failure state and the notice.
    enabled = staff_client.post(f"/api/webhooks/{gone.pk}/enable/").json()
    assert enabled["disabled_at"] is None and enabled["disabled_reason"] == ""
    assert enabled["consecutive_failures"] == 0
    page = staff_client.get(reverse("webhooks:list")).content.decode()
    assert 'id="trouble"' not in page


def test_too_many_failures_disable_the_endpoint_and_tell_the_team(
    receiver, make_endpoint, watcher, staff_client, settings
):
    settings.WEBHOOKS_DISABLE_AFTER_FAILURES = 2
    receiver.script(Reply(status=400), Reply(status=400), Reply(status=200))
    failing = make_endpoint(receiver.url("/failing"), events=["product.created"])
    emit("product.created", {"id": 1})
    emit("product.created", {"id": 2})
    send_pending()
    send_pending()

    failing.refresh_from_db()
    assert not failing.enabled and failing.disabled_at is not None
    (request,) = ops_requests(receiver)
    event = Webhook(watcher.secret).verify(request.body, request.headers)
    assert event["type"] == "webhook.endpoint_disabled"
    assert "2 failed deliveries in a row" in event["data"]["reason"]


def test_a_delivery_out_of_retries_tells_the_team(
    receiver, make_endpoint, watcher, staff_client, admin_client
):
    receiver.script(Reply(status=503), Reply(status=200))
    flaky = make_endpoint(receiver.url("/flaky"), events=["product.created"])
    emit("product.created", {"id": 1})
    delivery = Delivery.objects.get(endpoint=flaky)
    # Its last retry is due: every wait of the schedule has been used up.
    Delivery.objects.filter(pk=delivery.pk).update(retries=len(RETRY_SCHEDULE_SECONDS))
    send_pending()
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.FAILED
    send_pending()

    (request,) = ops_requests(receiver)
    event = Webhook(watcher.secret).verify(request.body, request.headers)
    assert event["type"] == "webhook.delivery_exhausted"
    data = event["data"]
    assert data["delivery_id"] == delivery.pk and data["msg_id"] == delivery.msg_id
    assert data["endpoint_id"] == flaky.pk and data["event_type"] == "product.created"
    assert data["last_status_code"] == 503 and data["last_error"] == "HTTP 503"

    body = staff_client.get(f"/api/webhooks/{flaky.pk}/").json()
    assert body["enabled"] is True
    assert body["last_exhausted_error"] == "HTTP 503"
    exhausted_at = timezone.datetime.fromisoformat(body["last_exhausted_at"])
    assert abs(exhausted_at - timezone.now()) < timedelta(minutes=5)
    page = staff_client.get(reverse("webhooks:list")).content.decode()
    assert 'id="trouble"' in page and "ran out of retries" in page and flaky.url in page
    admin = admin_client.get(reverse("admin:webhooks_webhookendpoint_changelist"), follow=True)
    assert "ran out of retries" in admin.content.decode()


def test_an_operational_event_that_runs_out_of_retries_raises_no_further_event(
    receiver, make_endpoint, watcher
):
    receiver.script(Reply(status=503))
    emit_disabled = make_endpoint(receiver.url("/gone"), events=["product.created"])
    Delivery.objects.create(
        endpoint=watcher,
        event_type="webhook.endpoint_disabled",
        payload={"type": "webhook.endpoint_disabled", "timestamp": "x", "data": {}},
        msg_id="msg_ops",
        status="queued",
        retries=len(RETRY_SCHEDULE_SECONDS),
        next_attempt_at=timezone.now(),
    )
    send_pending()
    assert Delivery.objects.get(msg_id="msg_ops").status == Delivery.Status.FAILED
    # No webhook.delivery_exhausted about it (it would go to the same failing receiver).
    assert not Delivery.objects.filter(event_type="webhook.delivery_exhausted").exists()
    assert emit_disabled.enabled
