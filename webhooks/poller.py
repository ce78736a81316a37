"""The periodic side of delivery (task send_due_deliveries, run by beat every
WEBHOOKS_POLL_SECONDS): queue deliveries whose due time has come, recover the ones whose
message or worker was lost, and see that every rate-limited backlog has its drain. Rows are
picked with SELECT ... FOR UPDATE SKIP LOCKED, so several pollers never queue the same delivery
twice at once.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from webhooks import backlog
from webhooks.events import enqueue_after_commit
from webhooks.models import Delivery

logger = logging.getLogger(__name__)

# A QUEUED row whose message has not run for this long is queued again (a lost message; the
# broker itself would only redeliver it after its visibility timeout).
QUEUED_STALE_AFTER = timedelta(minutes=30)


def sending_stale_after() -> timedelta:
    """A SENDING row older than this belongs to a worker that died mid-request."""
    return timedelta(
        seconds=settings.WEBHOOKS_CONNECT_TIMEOUT_SECONDS
        + settings.WEBHOOKS_TOTAL_TIMEOUT_SECONDS
        + 120
    )


def dispatch_due(*, batch: int = 500) -> int:
    """Queue deliveries whose due time has come; rows locked by another poller are skipped."""
    now = timezone.now()
    with transaction.atomic():
        ids = list(
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(status=Delivery.Status.PENDING, next_attempt_at__lte=now)
            .order_by("next_attempt_at")
            .values_list("id", flat=True)[:batch]
        )
        if ids:
            Delivery.objects.filter(id__in=ids).update(
                status=Delivery.Status.QUEUED, claimed_at=now
            )
            enqueue_after_commit(ids)
    return len(ids)


def recover_stale(*, batch: int = 500) -> int:
    """Re-queue deliveries whose message was lost (QUEUED too long) or whose worker died
    mid-request (SENDING too long). A duplicate message is harmless: `claim` runs once."""
    now = timezone.now()
    with transaction.atomic():
        queued = list(
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(
                status=Delivery.Status.QUEUED,
                claimed_at__lt=now - QUEUED_STALE_AFTER,
                next_attempt_at__lte=now,
            )
            .values_list("id", flat=True)[:batch]
        )
        sending = list(
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(status=Delivery.Status.SENDING, claimed_at__lt=now - sending_stale_after())
            .values_list("id", flat=True)[:batch]
        )
        ids = queued + sending
        if ids:
            Delivery.objects.filter(id__in=ids).update(
                status=Delivery.Status.QUEUED, claimed_at=now, next_attempt_at=now
            )
            enqueue_after_commit(ids)
            logger.warning("re-queued %d stale webhook deliveries", len(ids))
    return len(ids)


def drain_backlogs() -> int:
    """Schedule a drain for every endpoint with waiting deliveries and none scheduled (a drain
    lost with its worker, or one that could not be sent); returns how many endpoints wait."""
    endpoint_ids = backlog.endpoints_with_backlog()
    for endpoint_id in endpoint_ids:
        backlog.schedule_drain(endpoint_id)
    return len(endpoint_ids)
