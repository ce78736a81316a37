"""An endpoint's drain: send its waiting deliveries oldest first, a window's budget at a
time, then ask for the next window (see webhooks.backlog for why deliveries wait).

Per delivery sent: one read of its endpoint (by primary key), one rate-limit slot, one claim,
one attempt recorded. The deliveries still waiting are not read or written until their turn.
"""

from __future__ import annotations

import time

from django.conf import settings

from webhooks import backlog, claims, delivery, ratelimit
from webhooks.models import WebhookEndpoint


def drain(endpoint_id: int) -> float | None:
    """Steps, before each delivery: read the endpoint (stop if it was deleted; fail the
    backlog at once if it is disabled); while the window has a slot, claim the oldest waiting
    delivery and attempt it with the endpoint as just read; when the window is spent,
    schedule the next run for the next window and return its wait in seconds; return None
    once nothing waits (the drain has ended).

    A run stops starting attempts in time to stay inside the task's time limit, and hands
    over to a fresh run.
    """
    one_attempt = (
        settings.WEBHOOKS_CONNECT_TIMEOUT_SECONDS + settings.WEBHOOKS_TOTAL_TIMEOUT_SECONDS
    )
    stop_at = time.monotonic() + settings.WEBHOOKS_TASK_TIME_LIMIT_SECONDS - one_attempt - 15
    while True:
        # Read again before every delivery: a run lasts up to the task's time limit, and a
        # change meanwhile (secret rotated now, URL, rate limit, disabled, deleted) must apply
        # from the next delivery on, as it does for deliveries sent without a backlog.
        endpoint = WebhookEndpoint.objects.filter(pk=endpoint_id).first()
        if endpoint is None:  # deleted, and its deliveries with it
            backlog.drain_ended(endpoint_id)
            return None
        if not endpoint.enabled:
            backlog.fail_waiting(endpoint_id, error=claims.DISABLED_ERROR)  # test sends still go
        if time.monotonic() > stop_at:
            backlog.schedule_drain(endpoint_id, 0, running=True)
            return 0.0
        decision = ratelimit.acquire(endpoint_id=endpoint_id, limit=endpoint.rate_limit)
        if not decision.allowed:
            if not backlog.has_backlog(endpoint_id):
                _end(endpoint_id)
                return None
            backlog.schedule_drain(endpoint_id, decision.retry_in, running=True)
            return decision.retry_in
        waiting = backlog.claim_next(endpoint_id)
        if waiting is None:
            ratelimit.release(endpoint_id=endpoint_id)
            _end(endpoint_id)
            return None
        waiting.endpoint = endpoint
        delivery.attempt(waiting)


def _end(endpoint_id: int) -> None:
    backlog.drain_ended(endpoint_id)
    # A delivery that started waiting while this run decided to end needs a new drain.
    if backlog.has_backlog(endpoint_id):
        backlog.schedule_drain(endpoint_id)
