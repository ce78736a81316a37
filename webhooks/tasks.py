"""Celery tasks: thin wrappers; the retry policy lives in PostgreSQL (see webhooks.delivery)."""

from __future__ import annotations

from celery import shared_task

from webhooks import delivery, poller


@shared_task(name="webhooks.tasks.send_delivery", ignore_result=True)
def send_delivery(delivery_id: int) -> None:
    """Claim one queued delivery and make one attempt (or wait for its rate window)."""
    delivery.send(delivery_id)


@shared_task(name="webhooks.tasks.send_due_deliveries", ignore_result=True)
def send_due_deliveries() -> int:
    """Run by beat every WEBHOOKS_POLL_SECONDS: queue due retries, recover lost ones."""
    queued = poller.dispatch_due()
    queued += poller.recover_stale()
    return queued
