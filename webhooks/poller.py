"""The periodic side of delivery (task send_due_deliveries, run by beat every
WEBHOOKS_POLL_SECONDS): queue deliveries whose due time has come, recover the ones whose
message or worker was lost, wake a sending run for queued deliveries left waiting, and see
that every rate-limited backlog has its drain. Rows are picked with SELECT ... FOR UPDATE
SKIP LOCKED, so several pollers never queue the same delivery twice at once.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from webhooks import backlog
from webhooks.events import enqueue_after_commit, wake
from webhooks.models import Delivery

logger = logging.getLogger(__name__)

# Due QUEUED rows this old make the poller wake a sending run (see wake_for_queued).
QUEUED_WAKE_AFTER = timedelta(seconds=10)


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
    """Re-queue deliveries whose worker died mid-request (SENDING longer than an attempt can
    last; a process killed mid-batch leaves its whole batch so). A queued delivery needs no
    recovery: any sending run claims it (wake_for_queued sees that one runs)."""
    now = timezone.now()
    with transaction.atomic():
        ids = list(
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(status=Delivery.Status.SENDING, claimed_at__lt=now - sending_stale_after())
            .values_list("id", flat=True)[:batch]
        )
        if ids:
            Delivery.objects.filter(id__in=ids).update(
                status=Delivery.Status.QUEUED, claimed_at=now, next_attempt_at=now
            )
            enqueue_after_commit(ids)
            logger.warning("re-queued %d stale webhook deliveries", len(ids))
    return len(ids)


def wake_for_queued() -> bool:
    """Wake a sending run when due queued deliveries have waited longer than
    QUEUED_WAKE_AFTER: their wake-up message was lost (a broker restart), or every run is
    busy (then the extra run joins in). True when a message was sent."""
    now = timezone.now()
    waiting = Delivery.objects.filter(
        status=Delivery.Status.QUEUED,
        claimed_at__lt=now - QUEUED_WAKE_AFTER,
        next_attempt_at__lte=now,
    ).exists()
    if waiting:
        wake(force=True)
    return waiting


def drain_backlogs() -> int:
    """Schedule a drain for every endpoint with waiting deliveries and none scheduled (a drain
    lost with its worker, or one that could not be sent); returns how many endpoints wait."""
    endpoint_ids = backlog.endpoints_with_backlog()
    for endpoint_id in endpoint_ids:
        backlog.schedule_drain(endpoint_id)
    return len(endpoint_ids)
