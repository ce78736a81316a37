"""How long delivery history is kept: finished deliveries (and their attempts) older than
WEBHOOKS_DELIVERY_RETENTION_DAYS are deleted by beat, a batch at a time, and so are the
endpoints' health rollups (webhooks.health) of that age."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from acme.lib.batched_delete import DEFAULT_BATCH_SIZE, delete_in_batches
from webhooks.models import Delivery, EndpointHealth


def deliveries_delete_expired(*, batch_size: int = DEFAULT_BATCH_SIZE) -> int:
    """Delete deliveries finished more than the retention period ago, with their attempts
    (0 days keeps them all). Deliveries still waiting or being sent are never touched."""
    days = settings.WEBHOOKS_DELIVERY_RETENTION_DAYS
    if not days:
        return 0
    expired = Delivery.objects.filter(
        status__in=Delivery.FINAL_STATUSES,
        completed_at__lt=timezone.now() - timedelta(days=days),
    )
    return delete_in_batches(expired, batch_size=batch_size)


def health_delete_expired(*, batch_size: int = DEFAULT_BATCH_SIZE) -> int:
    """Delete the health rollups of buckets older than the retention period (0 days keeps
    them); an endpoint's last success and failure (EndpointLastResult) stay with it."""
    days = settings.WEBHOOKS_DELIVERY_RETENTION_DAYS
    if not days:
        return 0
    expired = EndpointHealth.objects.filter(bucket_start__lt=timezone.now() - timedelta(days=days))
    return delete_in_batches(expired, batch_size=batch_size)
