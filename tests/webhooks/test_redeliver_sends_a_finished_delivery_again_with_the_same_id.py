import pytest
from django.urls import reverse

from tests.webhooks.conftest import Reply
from webhooks import delivery as delivery_module
from webhooks.events import emit
from webhooks.models import Delivery

pytestmark = pytest.mark.django_db


def test_redeliver_sends_a_finished_delivery_again_with_the_same_id(
    receiver, make_endpoint, staff_client, django_capture_on_commit_callbacks
):
    receiver.script(Reply(status=404), Reply(status=200))
    endpoint = make_endpoint(receiver.url(), events=["product.created"])
    emit("product.created", {"id": 1})
    delivery = Delivery.objects.get()
    delivery_module.send(delivery.id)
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.FAILED

    with django_capture_on_commit_callbacks() as callbacks:
        response = staff_client.post(reverse("webhooks:redeliver", args=[delivery.pk]))
    assert response.status_code == 302
    assert len(callbacks) == 1  # a task message, sent after commit
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.QUEUED
    delivery_module.send(delivery.id)

    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.SUCCEEDED
    first, second = receiver.requests
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == delivery.msg_id
    assert [a.status_code for a in delivery.attempts.order_by("attempted_at")] == [404, 200]
    # Both attempts are in the endpoint's delivery log; the filter narrows it.
    log = staff_client.get(reverse("webhooks:detail", args=[endpoint.pk])).content.decode()
    assert "HTTP 404" in log and ">200<" in log
    failed_only = staff_client.get(
        reverse("webhooks:detail", args=[endpoint.pk]), {"status": "failed"}
    ).content.decode()
    assert "No deliveries with this status." in failed_only


def test_redeliver_is_refused_while_the_endpoint_is_disabled(receiver, make_endpoint, staff_client):
    receiver.script(Reply(status=400))
    endpoint = make_endpoint(receiver.url(), events=["product.created"])
    emit("product.created", {"id": 1})
    delivery = Delivery.objects.get()
    delivery_module.send(delivery.id)
    endpoint.enabled = False
    endpoint.save()

    response = staff_client.post(reverse("webhooks:redeliver", args=[delivery.pk]), follow=True)

    assert "enable it first" in response.content.decode()
    delivery.refresh_from_db()
    assert delivery.status == Delivery.Status.FAILED
