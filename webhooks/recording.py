"""Record what delivery attempts came to, a batch at a time, and move each delivery on.

A worker sends many deliveries at once (webhooks.sender) and records their outcomes together:
one transaction per batch, whose statements do not grow with its size except for failures:

1. commit without waiting for the WAL flush (`_relaxed_commit`);
2. lock the batch's endpoints FOR KEY SHARE, in id order (webhooks.endpoint_locks); results
   for an endpoint deleted meanwhile are dropped (its deliveries went with it);
3. insert every attempt row (one INSERT);
4. move each delivery on, in endpoint id order and, per endpoint, in the order the answers
   came: a success is collected for one UPDATE of all of them (step 5) and resets the
   endpoint's failure count if it may be non-zero; a failure is retried (short waits as a
   Celery countdown, longer ones for the poller), or fails the delivery (counted towards
   disabling the endpoint, `webhook.delivery_exhausted` raised when the schedule ran out,
   the endpoint disabled on 410), one delivery at a time as before: failures are rare;
5. one UPDATE of every succeeded delivery;
6. the batch's attempts added to their endpoints' health rollups (webhooks.health: two
   upserts, last in the transaction, as it requires);
7. after commit: the metrics (one Redis pipeline) and the queued retries' wake-ups.

The endpoint rows are written (step 4) in endpoint id order, after every endpoint's lock was
taken (step 2), so two workers recording batches that share endpoints cannot deadlock.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from webhooks import alerts, delivery_metrics, health
from webhooks.endpoint_locks import share_endpoints
from webhooks.events import enqueue_after_commit
from webhooks.models import Delivery, DeliveryAttempt, WebhookEndpoint

logger = logging.getLogger(__name__)

# Waits after the 1st, 2nd, ... failed attempt; then the delivery fails.
RETRY_SCHEDULE_SECONDS = (5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600)
JITTER = 0.1  # each wait is stretched or shrunk by up to 10 %
# Waits up to this long may be a Celery countdown (well under the broker's visibility timeout).
COUNTDOWN_MAX_SECONDS = 120
MAX_ERROR_LENGTH = 500


@dataclass
class Outcome:
    status_code: int | None = None
    duration_ms: int | None = None
    error: str = ""
    retry_after: float | None = None

    @property
    def success(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def retryable(self) -> bool:
        if self.status_code is None:
            return self.error != "" and not self.error.startswith("Refused")
        return self.status_code == 429 or self.status_code >= 500


@dataclass
class Attempted:
    """One attempt made: the claimed delivery (its `endpoint` loaded), when it started and
    what came of it."""

    delivery: Delivery
    attempted_at: datetime
    outcome: Outcome


def _relaxed_commit() -> None:
    """Inside a transaction: commit without waiting for the WAL flush.

    Recording attempts is the hot path. If PostgreSQL itself crashes, the last few hundred
    milliseconds of recorded attempts may be lost; such a delivery is then sent again with the
    same webhook-id (at-least-once, as Standard Webhooks expects).
    Nothing outside webhooks is affected: the setting is local to these transactions.
    """
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit TO OFF")


def _error_text(outcome: Outcome) -> str:
    error = outcome.error
    if not error and not outcome.success and outcome.status_code is not None:
        error = f"HTTP {outcome.status_code}"
    return error[:MAX_ERROR_LENGTH]


def record(attempts: Sequence[Attempted]) -> None:
    """Store the attempts and move their deliveries (and, when final, their endpoints) on;
    the steps are in the module's docstring. A delivery deleted on its own while it was sent
    (not with its endpoint: that is handled inside) fails the batch's INSERT: the others are
    then recorded one by one."""
    try:
        _record(attempts)
    except IntegrityError:
        for item in attempts:
            try:
                _record([item])
            except IntegrityError:
                logger.info("delivery %s vanished while being sent", item.delivery.id)


@transaction.atomic
def _record(attempts: Sequence[Attempted]) -> None:
    if not attempts:
        return
    _relaxed_commit()
    present = share_endpoints(item.delivery.endpoint_id for item in attempts)
    kept = [item for item in attempts if item.delivery.endpoint_id in present]
    for item in attempts:
        if item.delivery.endpoint_id not in present:
            logger.info("delivery %s: its endpoint was deleted while it was sent", item.delivery.id)
    if not kept:
        return
    DeliveryAttempt.objects.bulk_create(
        DeliveryAttempt(
            delivery_id=item.delivery.id,
            endpoint_id=item.delivery.endpoint_id,
            attempted_at=item.attempted_at,
            status_code=item.outcome.status_code,
            duration_ms=item.outcome.duration_ms,
            error=_error_text(item.outcome),
            success=item.outcome.success,
        )
        for item in kept
    )
    durations = [item.outcome.duration_ms for item in kept]
    transaction.on_commit(partial(delivery_metrics.count_attempts, durations))
    # Endpoints whose failure count may be above 0 (as claimed, or counted up in this batch).
    may_have_failures = {
        item.delivery.endpoint_id
        for item in kept
        if not item.delivery.is_test and item.delivery.endpoint.consecutive_failures
    }
    succeeded: list[Delivery] = []
    rollup: list[health.Attempted] = []
    # Stable: per endpoint, the order the answers came in.
    for item in sorted(kept, key=lambda item: item.delivery.endpoint_id):
        delivery, outcome = item.delivery, item.outcome
        delivery.last_status_code = outcome.status_code
        delivery.last_duration_ms = outcome.duration_ms
        delivery.last_error = _error_text(outcome)
        if outcome.success:
            succeeded.append(delivery)
            ended: str | None = Delivery.Status.SUCCEEDED
            if not delivery.is_test and delivery.endpoint_id in may_have_failures:
                WebhookEndpoint.objects.filter(
                    pk=delivery.endpoint_id, consecutive_failures__gt=0
                ).update(consecutive_failures=0)
                may_have_failures.discard(delivery.endpoint_id)
        else:
            ended = _after_failure(delivery, outcome)
            if ended == Delivery.Status.FAILED and not delivery.is_test:
                may_have_failures.add(delivery.endpoint_id)
        rollup.append(
            health.Attempted(
                endpoint_id=delivery.endpoint_id,
                attempted_at=item.attempted_at,
                success=outcome.success,
                duration_ms=outcome.duration_ms,
                error=delivery.last_error,
                ended=None if delivery.is_test else ended,
            )
        )
    _finish_succeeded(succeeded)
    # Last: it locks the rollup rows, in its own fixed order (webhooks.health).
    health.record_attempts(rollup)


def _after_failure(delivery: Delivery, outcome: Outcome) -> str | None:
    """Retry or fail a delivery whose attempt did not succeed; returns the final status it
    reached (None while it will be retried)."""
    error = delivery.last_error
    if outcome.status_code == 410 and not delivery.is_test:
        finish(delivery, Delivery.Status.FAILED)
        alerts.disable_endpoint(delivery.endpoint_id, reason="The receiver answered 410 Gone.")
        return Delivery.Status.FAILED
    if (
        outcome.retryable
        and not delivery.is_test
        and delivery.retries < len(RETRY_SCHEDULE_SECONDS)
    ):
        wait = outcome.retry_after
        if wait is None:
            base = RETRY_SCHEDULE_SECONDS[delivery.retries]
            wait = base * random.uniform(1 - JITTER, 1 + JITTER)
        delivery.retries += 1
        _schedule(delivery, wait)
        return None
    finish(delivery, Delivery.Status.FAILED)
    if delivery.is_test:
        return Delivery.Status.FAILED
    if outcome.retryable:  # a failure worth retrying, but the schedule is used up
        alerts.delivery_exhausted(delivery, error=error)
    count_failure(delivery.endpoint_id, last_error=error)
    return Delivery.Status.FAILED


# Every succeeded delivery of a batch in one statement.
_SUCCEEDED_SQL = """
UPDATE webhooks_delivery AS d SET
    status = %s, completed_at = %s, next_attempt_at = NULL,
    last_status_code = v.status_code, last_duration_ms = v.duration_ms, last_error = ''
FROM unnest(%s::bigint[], %s::integer[], %s::integer[]) AS v(id, status_code, duration_ms)
WHERE d.id = v.id
"""


def _finish_succeeded(deliveries: list[Delivery]) -> None:
    if not deliveries:
        return
    now = timezone.now()
    for delivery in deliveries:
        delivery.status = Delivery.Status.SUCCEEDED
        delivery.completed_at = now
        delivery.next_attempt_at = None
    with connection.cursor() as cursor:
        cursor.execute(
            _SUCCEEDED_SQL,
            [
                Delivery.Status.SUCCEEDED,
                now,
                [delivery.id for delivery in deliveries],
                [delivery.last_status_code for delivery in deliveries],
                [delivery.last_duration_ms for delivery in deliveries],
            ],
        )
    counted = sum(not delivery.is_test for delivery in deliveries)
    if counted:
        transaction.on_commit(
            partial(delivery_metrics.count_finished, Delivery.Status.SUCCEEDED, counted)
        )


def _schedule(delivery: Delivery, wait_seconds: float) -> None:
    """Due again in `wait_seconds`: a countdown when short, else the poller's business."""
    now = timezone.now()
    delivery.next_attempt_at = now + timedelta(seconds=wait_seconds)
    delivery.claimed_at = now
    short = wait_seconds <= COUNTDOWN_MAX_SECONDS
    delivery.status = Delivery.Status.QUEUED if short else Delivery.Status.PENDING
    delivery.save(
        update_fields=[
            "status",
            "retries",
            "next_attempt_at",
            "claimed_at",
            "last_status_code",
            "last_duration_ms",
            "last_error",
        ]
    )
    if short:
        enqueue_after_commit([delivery.id], countdown=max(wait_seconds, 0))


def finish(delivery: Delivery, status: str, *, error: str | None = None) -> None:
    """Give the delivery its final status (in the caller's transaction)."""
    if not delivery.is_test:
        transaction.on_commit(partial(delivery_metrics.count_finished, status))
    delivery.status = status
    delivery.completed_at = timezone.now()
    delivery.next_attempt_at = None
    if error is not None:
        delivery.last_error = error
    delivery.save(
        update_fields=[
            "status",
            "retries",
            "completed_at",
            "next_attempt_at",
            "last_status_code",
            "last_duration_ms",
            "last_error",
        ]
    )


def count_failure(endpoint_id: int, *, last_error: str) -> None:
    """One more failed delivery in a row; at the configured number the endpoint is disabled."""
    limit = settings.WEBHOOKS_DISABLE_AFTER_FAILURES
    WebhookEndpoint.objects.filter(pk=endpoint_id).update(
        consecutive_failures=F("consecutive_failures") + 1
    )
    failures = (
        WebhookEndpoint.objects.filter(pk=endpoint_id)
        .values_list("consecutive_failures", flat=True)
        .first()
    )
    if failures is not None and limit and failures >= limit:
        alerts.disable_endpoint(
            endpoint_id,
            reason=f"Disabled after {failures} failed deliveries in a row; last error: "
            f"{last_error or 'unknown'}.",
        )
