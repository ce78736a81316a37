"""Recover after an outage: every delivery of the endpoint created in the window that has not
succeeded (failed, or waiting for a retry) is sent again now, oldest first, by the endpoint's
drain (within its rate limit) on a real worker; the answer says how many and links progress."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.support.waiting import wait_until
from webhooks.models import Delivery

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def make_delivery(endpoint, *, name, status, age, **fields):
    created = timezone.now() - age
    delivery = Delivery.objects.create(
        endpoint=endpoint,
        event_type="product.created",
        payload={"type": "product.created", "timestamp": created.isoformat(), "data": {"n": name}},
        msg_id=f"msg_{name}",
        status=status,
        completed_at=created if status in ("failed", "succeeded") else None,
        **fields,
    )
    Delivery.objects.filter(pk=delivery.pk).update(created_at=created)
    return delivery


def test_recover_sends_again_every_unsucceeded_delivery_in_the_window_oldest_first(
    celery_worker, receiver, make_endpoint, staff_client
):
    endpoint = make_endpoint(receiver.url(), events=["product.created"], rate_limit=100)
    now = timezone.now()
    make_delivery(endpoint, name="too_old", status="failed", age=timedelta(days=2), retries=6)
    make_delivery(endpoint, name="first", status="failed", age=timedelta(hours=3), retries=6)
    make_delivery(endpoint, name="fine", status="succeeded", age=timedelta(hours=2, minutes=30))
    make_delivery(
        endpoint, name="second", status="pending", age=timedelta(hours=2), retries=3,
        next_attempt_at=now + timedelta(hours=5),
    )  # fmt: skip
    make_delivery(endpoint, name="third", status="failed", age=timedelta(minutes=30), retries=6)
    make_delivery(endpoint, name="too_new", status="failed", age=timedelta(minutes=5), retries=6)

    response = staff_client.post(
        f"/api/webhooks/{endpoint.pk}/recover/",
        {
            "since": (now - timedelta(hours=4)).isoformat(),
            "until": (now - timedelta(minutes=10)).isoformat(),
        },
        content_type="application/json",
    )
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["count"] == 3
    progress_url = body["progress_url"]

    requests = receiver.wait_for(3)
    assert [r.headers["webhook-id"] for r in requests] == ["msg_first", "msg_second", "msg_third"]

    def finished():
        progress = staff_client.get(progress_url).json()
        return progress if progress["done"] else None

    progress = wait_until(finished, what="the recovery to finish")
    assert progress["count"] == 3 and progress["succeeded"] == 3 and progress["remaining"] == 0
    statuses = dict(Delivery.objects.values_list("msg_id", "status"))
    assert statuses == {
        "msg_too_old": "failed",
        "msg_first": "succeeded",
        "msg_fine": "succeeded",
        "msg_second": "succeeded",
        "msg_third": "succeeded",
        "msg_too_new": "failed",
    }
    assert len(receiver.requests) == 3


def test_recover_from_the_page_and_the_admin(
    celery_worker, receiver, make_endpoint, staff_client, admin_client
):
    endpoint = make_endpoint(receiver.url(), events=["product.created"])
    make_delivery(endpoint, name="page", status="failed", age=timedelta(hours=1), retries=6)
    since = timezone.localtime(timezone.now() - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    response = staff_client.post(
        reverse("webhooks:recover", args=[endpoint.pk]), {"since": since}, follow=True
    )
    assert "1 delivery will be sent again" in response.content.decode()
    receiver.wait_for(1)

    make_delivery(endpoint, name="admin", status="failed", age=timedelta(hours=1), retries=6)
    admin_client.post(
        reverse("admin:webhooks_webhookendpoint_changelist"),
        {"action": "recover_last_day", "_selected_action": [endpoint.pk]},
    )
    requests = receiver.wait_for(2)
    assert requests[-1].headers["webhook-id"] == "msg_admin"


def test_recover_is_refused_for_a_disabled_endpoint_and_without_permission(
    make_endpoint, staff_client, client, viewer_user
):
    endpoint = make_endpoint("http://127.0.0.1:9/hook", events=["product.created"])
    make_delivery(endpoint, name="x", status="failed", age=timedelta(hours=1), retries=6)
    since = (timezone.now() - timedelta(hours=2)).isoformat()
    staff_client.post(f"/api/webhooks/{endpoint.pk}/disable/")
    refused = staff_client.post(
        f"/api/webhooks/{endpoint.pk}/recover/", {"since": since}, content_type="application/json"
    )
    assert refused.status_code == 409 and "enable it first" in refused.json()["detail"]
    bad = staff_client.post(
        f"/api/webhooks/{endpoint.pk}/recover/", {}, content_type="application/json"
    )
    assert bad.status_code == 400 and "since" in bad.json()

    client.force_login(viewer_user)
    assert client.post(f"/api/webhooks/{endpoint.pk}/recover/", {"since": since}).status_code == 403
    assert Delivery.objects.get().status == "failed"
