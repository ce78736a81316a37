"""Deliveries waiting for the rate window fail in bulk when their endpoint is disabled (the
drain does it in one UPDATE); /metrics counts them as failed like any other."""

import pytest
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from webhooks import drain
from webhooks.models import Delivery, WebhookEndpoint

pytestmark = pytest.mark.django_db


def failed_total(client) -> float:
    text = client.get("/metrics").content.decode()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "acme_webhook_deliveries_finished_total" and sample.labels == {
                "status": "failed"
            }:
                return sample.value
    raise AssertionError("no acme_webhook_deliveries_finished_total{status=failed}")


def test_metrics_count_waiting_deliveries_failed_when_their_endpoint_is_disabled(
    staff_client, django_capture_on_commit_callbacks
):
    endpoint = WebhookEndpoint.objects.create(
        url="https://93.184.215.14/hook", events=["product.created"], enabled=False
    )
    for number in range(3):
        Delivery.objects.create(
            endpoint=endpoint,
            event_type="product.created",
            payload={"type": "product.created", "timestamp": timezone.now().isoformat(),
                     "data": {"id": number}},
            msg_id=f"msg_{number}",
            status=Delivery.Status.WAITING,
        )  # fmt: skip
    assert failed_total(staff_client) == 0

    with django_capture_on_commit_callbacks(execute=True):  # the drain runs in autocommit
        drain.drain(endpoint.pk)

    assert Delivery.objects.filter(status=Delivery.Status.FAILED).count() == 3
    assert failed_total(staff_client) == 3
