"""Celery tasks: thin wrappers; the retry policy lives in PostgreSQL (see webhooks.delivery)."""

from __future__ import annotations

import logging

from celery import shared_task

from acme.lib.batched_delete import DEFAULT_BATCH_SIZE
from webhooks import drain, poller, retention, sender

logger = logging.getLogger(__name__)


@shared_task(name="webhooks.tasks.send_queued", ignore_result=True)
def send_queued() -> int:
    """A sending run: claim, send and record queued deliveries in batches (webhooks.sender)."""
    return sender.run()


@shared_task(name="webhooks.tasks.send_delivery", ignore_result=True)
def send_delivery(delivery_id: int) -> int:
    """A message of the one-task-per-delivery design, still queued after an upgrade: a
    sending run claims that delivery with the others."""
    return sender.run()


@shared_task(name="webhooks.tasks.drain_endpoint", ignore_result=True)
def drain_endpoint(endpoint_id: int) -> None:
    """Send an endpoint's deliveries waiting for its rate window, in order (webhooks.drain)."""
    drain.drain(endpoint_id)


@shared_task(name="webhooks.tasks.send_due_deliveries", ignore_result=True)
def send_due_deliveries() -> int:
    """Run by beat every WEBHOOKS_POLL_SECONDS: queue due retries, recover lost ones."""
    queued = poller.dispatch_due()
    queued += poller.recover_stale()
    poller.wake_for_queued()
    poller.drain_backlogs()
    return queued


@shared_task(name="webhooks.tasks.delete_expired_deliveries", ignore_result=True)
def delete_expired_deliveries(batch_size: int = DEFAULT_BATCH_SIZE) -> int:
    """Beat: delete finished deliveries (and attempts), and the endpoints' health rollups,
    past WEBHOOKS_DELIVERY_RETENTION_DAYS."""
    deleted = retention.deliveries_delete_expired(batch_size=batch_size)
    if deleted:
        logger.info("deleted %s webhook deliveries past their retention", deleted)
    rollups = retention.health_delete_expired(batch_size=batch_size)
    if rollups:
        logger.info("deleted %s webhook health rollups past their retention", rollups)
    return deleted
