from datetime import timedelta

import pytest
from django.utils import timezone

from webhooks import health
from webhooks.models import EndpointHealth, EndpointLastResult, WebhookEndpoint
from webhooks.tasks import delete_expired_deliveries

pytestmark = pytest.mark.django_db


def test_health_rollups_are_deleted_with_the_delivery_history(settings):
    settings.WEBHOOKS_DELIVERY_RETENTION_DAYS = 30
    endpoint = WebhookEndpoint.objects.create(
        url="https://93.184.215.14/hook", events=["product.created"]
    )
    now = timezone.now()
    health.record_attempts(
        health.Attempted(
            endpoint_id=endpoint.pk, attempted_at=now - timedelta(days=days), success=True
        )
        for days in (45, 31, 29, 0)
    )
    assert EndpointHealth.objects.count() == 4

    delete_expired_deliveries()

    kept = sorted((now - row.bucket_start).days for row in EndpointHealth.objects.all())
    assert kept == [0, 29]
    assert health.for_endpoints([endpoint.pk])[endpoint.pk].last_success_at is not None

    settings.WEBHOOKS_DELIVERY_RETENTION_DAYS = 0  # keeps everything
    health.record_attempts(
        [
            health.Attempted(
                endpoint_id=endpoint.pk, attempted_at=now - timedelta(days=90), success=True
            )
        ]
    )
    delete_expired_deliveries()
    assert EndpointHealth.objects.count() == 3


def test_deleting_an_endpoint_deletes_its_rollups():
    from webhooks.services import endpoint_delete

    endpoint = WebhookEndpoint.objects.create(
        url="https://93.184.215.14/hook", events=["product.created"]
    )
    health.record_attempts(
        [health.Attempted(endpoint_id=endpoint.pk, attempted_at=timezone.now(), success=False)]
    )
    assert EndpointLastResult.objects.filter(endpoint=endpoint).exists()
    endpoint_delete(endpoint=endpoint)
    assert not EndpointHealth.objects.exists()
    assert not EndpointLastResult.objects.exists()
