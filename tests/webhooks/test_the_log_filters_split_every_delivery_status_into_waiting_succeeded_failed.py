"""The endpoint page's status filter: "Waiting" is every status that is not final
(Delivery.FINAL_STATUSES), so each delivery shows under exactly one of the three filters."""

import pytest
from django.urls import reverse

from webhooks.models import Delivery

pytestmark = pytest.mark.django_db


def test_every_status_shows_under_exactly_one_filter(make_endpoint, staff_client):
    endpoint = make_endpoint("http://127.0.0.1:9/hook", events=["product.created"])
    for status in Delivery.Status.values:
        Delivery.objects.create(
            endpoint=endpoint,
            event_type="product.created",
            payload={"type": "product.created", "timestamp": "x", "data": {}},
            msg_id=f"msg_{status}",
            status=status,
        )
    shown = {}
    for name in ("waiting", "succeeded", "failed"):
        page = staff_client.get(reverse("webhooks:detail", args=[endpoint.pk]), {"status": name})
        text = page.content.decode()
        shown[name] = {status for status in Delivery.Status.values if f"msg_{status}<" in text}

    final = set(Delivery.FINAL_STATUSES)
    assert shown["waiting"] == set(Delivery.Status.values) - final
    assert shown["succeeded"] == {Delivery.Status.SUCCEEDED}
    assert shown["failed"] == {Delivery.Status.FAILED}
