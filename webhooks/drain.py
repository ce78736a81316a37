"""An endpoint's drain: send its waiting deliveries oldest first, a window's budget at a
time, then ask for the next window (see webhooks.backlog for why deliveries wait).

Per batch (up to BATCH deliveries): one rate-limit call for the batch's slots, one claim of
the oldest waiting deliveries, one recording transaction (webhooks.recording). Per delivery:
one read of its endpoint (by primary key) and the POST itself, one after the other over a
kept-alive connection, so the endpoint gets them in order. The deliveries still waiting are
not read or written until their turn.
"""

from __future__ import annotations

import time

from django.conf import settings

from webhooks import backlog, claims, delivery, ratelimit, recording
from webhooks.models import Delivery, WebhookEndpoint

# Deliveries claimed (and slots taken) at a time.
BATCH = 100


def _current(endpoint_id: int) -> WebhookEndpoint | None:
    return WebhookEndpoint.objects.filter(pk=endpoint_id).first()


def drain(endpoint_id: int) -> float | None:
    """Steps: read the endpoint (stop if it was deleted; fail the backlog at once if it is
    disabled); take as many of the window's slots as up to BATCH waiting deliveries need, in
    one call, and claim that many of the oldest (giving back slots they did not need); send
    them one after the other, reading the endpoint again before each (a change applies from
    the next delivery: a deleted endpoint ends the drain, a disabled one fails the rest;
    a delivery whose slot's window ended meanwhile goes back to waiting); record the batch;
    repeat. When the window is spent, schedule the next run for the next window and return
    its wait in seconds; return None once nothing waits (the drain has ended).

    A run stops starting attempts in time to stay inside the task's time limit, and hands
    over to a fresh run.
    """
    one_attempt = (
        settings.WEBHOOKS_CONNECT_TIMEOUT_SECONDS + settings.WEBHOOKS_TOTAL_TIMEOUT_SECONDS
    )
    stop_at = time.monotonic() + settings.WEBHOOKS_TASK_TIME_LIMIT_SECONDS - one_attempt - 15
    while True:
        # Read again before every batch and every delivery: a run lasts up to the task's time
        # limit, and a change meanwhile (secret rotated now, URL, rate limit, disabled,
        # deleted) must apply from the next delivery on, as it does for deliveries sent
        # without a backlog.
        endpoint = _current(endpoint_id)
        if endpoint is None:  # deleted, and its deliveries with it
            backlog.drain_ended(endpoint_id)
            return None
        if not endpoint.enabled:
            backlog.fail_waiting(endpoint_id, error=claims.DISABLED_ERROR)  # test sends still go
        if time.monotonic() > stop_at:
            backlog.schedule_drain(endpoint_id, 0, running=True)
            return 0.0
        asked_at = time.monotonic()
        decision = ratelimit.acquire(
            endpoint_id=endpoint_id, limit=endpoint.rate_limit, wanted=BATCH
        )
        if not decision.allowed:
            if not backlog.has_backlog(endpoint_id):
                _end(endpoint_id)
                return None
            backlog.schedule_drain(endpoint_id, decision.retry_in, running=True)
            return decision.retry_in
        batch = backlog.claim_next(endpoint_id, decision.granted)
        if len(batch) < decision.granted:
            ratelimit.release(endpoint_id=endpoint_id, slots=decision.granted - len(batch))
        if not batch:
            _end(endpoint_id)
            return None
        for waiting in batch:
            waiting.slot_expires_at = decision.slots_until(asked_at)
        if not _send_in_order(endpoint, batch):
            backlog.drain_ended(endpoint_id)
            return None


def _send_in_order(endpoint: WebhookEndpoint, batch: list[Delivery]) -> bool:
    """Send a claimed batch one delivery after the other, each with its endpoint as it is
    now, and record it; False when the endpoint was deleted meanwhile."""
    attempted: list[recording.Attempted] = []
    disabled: list[Delivery] = []
    gone = False
    for index, waiting in enumerate(batch):
        if index:
            current = _current(endpoint.pk)
            if current is None:
                gone = True
                break
            endpoint = current
        waiting.endpoint = endpoint
        if not endpoint.enabled and not waiting.is_test:
            disabled.append(waiting)
            continue
        attempt = delivery.exchange_in_slot(waiting)
        if attempt is None:  # the slot expired: their turn comes in a later window
            backlog.wait_for_window(batch[index:])
            break
        attempted.append(attempt)
    recording.record(attempted)
    if not gone:
        claims.fail_disabled(disabled)
    return not gone


def _end(endpoint_id: int) -> None:
    backlog.drain_ended(endpoint_id)
    # A delivery that started waiting while this run decided to end needs a new drain.
    if backlog.has_backlog(endpoint_id):
        backlog.schedule_drain(endpoint_id)
