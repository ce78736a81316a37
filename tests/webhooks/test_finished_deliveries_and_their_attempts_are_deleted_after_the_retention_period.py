from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from webhooks.models import Delivery, DeliveryAttempt, WebhookEndpoint
from webhooks.tasks import delete_expired_deliveries

pytestmark = pytest.mark.django_db


def _delivery(endpoint, *, status, completed_days_ago=None, attempts=1):
    completed_at = None
    if completed_days_ago is not None:
        completed_at = timezone.now() - timedelta(days=completed_days_ago)
    delivery = Delivery.objects.create(
        endpoint=endpoint,
        event_type="product.created",
        payload={"type": "product.created", "timestamp": "t", "data": {}},
        msg_id=f"msg_{Delivery.objects.count()}",
        status=status,
        completed_at=completed_at,
    )
    for _ in range(attempts):
        DeliveryAttempt.objects.create(
            delivery=delivery, endpoint=endpoint, attempted_at=timezone.now(), error="x"
        )
    return delivery


@pytest.fixture
def endpoint():
    return WebhookEndpoint.objects.create(
        url="https://example.com/hook", events=["product.created"]
    )


def test_finished_deliveries_and_their_attempts_are_deleted_after_the_retention_period(
    endpoint, settings
):
    settings.WEBHOOKS_DELIVERY_RETENTION_DAYS = 30
    expired = [
        _delivery(endpoint, status=Delivery.Status.SUCCEEDED, completed_days_ago=31),
        _delivery(endpoint, status=Delivery.Status.FAILED, completed_days_ago=45, attempts=3),
        _delivery(endpoint, status=Delivery.Status.SUCCEEDED, completed_days_ago=60),
    ]
    recent = _delivery(endpoint, status=Delivery.Status.SUCCEEDED, completed_days_ago=29)
    waiting = _delivery(endpoint, status=Delivery.Status.PENDING)  # never finished: kept
    Delivery.objects.filter(pk=waiting.pk).update(created_at=timezone.now() - timedelta(days=90))

    assert delete_expired_deliveries() == len(expired)

    assert set(Delivery.objects.values_list("pk", flat=True)) == {recent.pk, waiting.pk}
    assert set(DeliveryAttempt.objects.values_list("delivery_id", flat=True)) == {
        recent.pk,
        waiting.pk,
    }
    assert delete_expired_deliveries() == 0


def test_deliveries_are_deleted_in_batches_of_their_own(endpoint, settings):
    settings.WEBHOOKS_DELIVERY_RETENTION_DAYS = 30
    for _ in range(5):
        _delivery(endpoint, status=Delivery.Status.SUCCEEDED, completed_days_ago=40)

    with CaptureQueriesContext(connection) as queries:
        assert delete_expired_deliveries(batch_size=2) == 5

    deletes = [q["sql"] for q in queries if q["sql"].startswith('DELETE FROM "webhooks_delivery"')]
    assert len(deletes) == 3  # 2 + 2 + 1: no single statement over the whole backlog
    assert not Delivery.objects.exists()


def test_zero_days_keeps_every_delivery(endpoint, settings):
    settings.WEBHOOKS_DELIVERY_RETENTION_DAYS = 0
    _delivery(endpoint, status=Delivery.Status.SUCCEEDED, completed_days_ago=400)

    assert delete_expired_deliveries() == 0
    assert Delivery.objects.count() == 1


def test_beat_runs_the_retention_sweep_under_its_registered_name(settings):
    from acme.celery import app

    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "webhooks.tasks.delete_expired_deliveries" in scheduled
    app.loader.import_default_modules()
    assert "webhooks.tasks.delete_expired_deliveries" in app.tasks
