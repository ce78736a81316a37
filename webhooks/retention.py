"""How long delivery history is kept: finished deliveries (and their attempts) older than
WEBHOOKS_DELIVERY_RETENTION_DAYS are deleted by beat, a batch at a time, and so are the
endpoints' health rollups (webhooks.health) of that age."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone

from acme.lib.batched_delete import (
    DEFAULT_BATCH_SIZE,
    delete_in_batches,
    delete_picked_in_batches,
)
from webhooks.models import Delivery, EndpointHealth, WebhookEndpoint

# A batch of expired deliveries, locked with their endpoints held FOR KEY SHARE first, as
# every writer of delivery rows does (webhooks.endpoint_locks): rows another transaction
# holds are skipped this time, and so are the deliveries of an endpoint being deleted (it
# takes them with it); the cascade to their attempts then never waits for that delete.
_EXPIRED_BATCH = f"""
SELECT d.id FROM {Delivery._meta.db_table} AS d
JOIN {WebhookEndpoint._meta.db_table} AS e ON e.id = d.endpoint_id
WHERE d.status = ANY(%s) AND d.completed_at < %s
LIMIT %s
FOR KEY SHARE OF e SKIP LOCKED FOR UPDATE OF d SKIP LOCKED
"""


def deliveries_delete_expired(*, batch_size: int = DEFAULT_BATCH_SIZE) -> int:
    """Delete deliveries finished more than the retention period ago, with their attempts
    (0 days keeps them all), `batch_size` per transaction. Deliveries still waiting or being
    sent are never touched."""
    days = settings.WEBHOOKS_DELIVERY_RETENTION_DAYS
    if not days:
        return 0
    cutoff = timezone.now() - timedelta(days=days)

    def pick(size: int) -> list[int]:
        with connection.cursor() as cursor:
            cursor.execute(_EXPIRED_BATCH, [list(Delivery.FINAL_STATUSES), cutoff, size])
            return [key for (key,) in cursor.fetchall()]

    return delete_picked_in_batches(Delivery, pick, batch_size=batch_size)


def health_delete_expired(*, batch_size: int = DEFAULT_BATCH_SIZE) -> int:
    """Delete the health rollups of buckets older than the retention period (0 days keeps
    them); an endpoint's last success and failure (EndpointLastResult) stay with it."""
    days = settings.WEBHOOKS_DELIVERY_RETENTION_DAYS
    if not days:
        return 0
    expired = EndpointHealth.objects.filter(bucket_start__lt=timezone.now() - timedelta(days=days))
    return delete_in_batches(expired, batch_size=batch_size)
