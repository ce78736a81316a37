"""Claim queued deliveries a batch at a time and decide which go out now.

`claim_due(limit)` takes up to `limit` due QUEUED deliveries, oldest first, in one statement
(SELECT ... FOR UPDATE SKIP LOCKED inside an UPDATE ... RETURNING, so several workers claiming
at once never get the same row and never wait for each other); `claim_ids` takes given ones
(a single `send`). Each claimed row becomes SENDING, or WAITING when its endpoint already has
deliveries waiting for a rate window (it joins the end of that backlog, so the endpoint's
deliveries stay in order; see webhooks.backlog).

`ready` then reads the endpoints of the batch (one query, after the claim: an endpoint
changed before that read is sent as it is now) and:
- ends the deliveries of an endpoint disabled meanwhile ("Endpoint is disabled"; test sends
  still go), and skips those of an endpoint deleted meanwhile (they went with it);
- takes each endpoint's rate-limit slots for its deliveries in one call
  (webhooks.ratelimit.acquire(wanted=n)); the deliveries the window has no slot for become
  WAITING, once, for the endpoint's drain;
- returns the deliveries to send at once, their `endpoint` loaded. The caller sends each of
  them right away (webhooks.sender starts them all at once), so a change committed before
  the claim is never missed; and a slot is only used in the window that granted it: a
  delivery that could not start before that window ended (a busy machine) is not sent on
  it but takes a slot of the current window, or waits for the drain (`slot_expired`), so
  no window ever starts more attempts than the limit, however large the batches.
"""

from __future__ import annotations

import time
from collections import defaultdict
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from webhooks import backlog, ratelimit, recording
from webhooks.endpoint_locks import share_endpoints
from webhooks.models import Delivery, WebhookEndpoint

DISABLED_ERROR = "Endpoint is disabled"

# A batch of due QUEUED rows, oldest first (the delivery_in_flight index: queued and sending
# rows by claimed_at, which emit() sets to the row's creation time), becomes SENDING, or
# WAITING behind its endpoint's backlog.
_CLAIM_DUE_SQL = """
WITH picked AS (
    SELECT id FROM webhooks_delivery
    WHERE status = %(queued)s AND next_attempt_at <= %(due)s
    ORDER BY claimed_at, id
    LIMIT %(limit)s
    FOR UPDATE SKIP LOCKED
)
UPDATE webhooks_delivery AS d SET
    status = CASE WHEN EXISTS (
        SELECT 1 FROM webhooks_delivery AS w
        WHERE w.endpoint_id = d.endpoint_id AND w.status = %(waiting)s
    ) THEN %(waiting)s ELSE %(sending)s END,
    claimed_at = %(now)s
FROM picked
WHERE d.id = picked.id
RETURNING d.*
"""

# The same for given rows (still QUEUED and due): a duplicate or early message claims nothing.
_CLAIM_IDS_SQL = """
UPDATE webhooks_delivery AS d SET
    status = CASE WHEN EXISTS (
        SELECT 1 FROM webhooks_delivery AS w
        WHERE w.endpoint_id = d.endpoint_id AND w.status = %(waiting)s
    ) THEN %(waiting)s ELSE %(sending)s END,
    claimed_at = %(now)s
WHERE d.id = ANY(%(ids)s) AND d.status = %(queued)s AND d.next_attempt_at <= %(due)s
RETURNING d.*
"""


def _params(**extra) -> dict:
    now = timezone.now()
    return {
        "queued": Delivery.Status.QUEUED,
        "waiting": Delivery.Status.WAITING,
        "sending": Delivery.Status.SENDING,
        "now": now,
        # A countdown may fire a moment early.
        "due": now + timedelta(seconds=1),
        **extra,
    }


def claim_due(limit: int) -> list[Delivery]:
    """Claim up to `limit` due queued deliveries and return those to send now (see `ready`)."""
    if limit <= 0:
        return []
    claimed = list(Delivery.objects.raw(_CLAIM_DUE_SQL, _params(limit=limit)))
    return ready(claimed)


def claim_ids(delivery_ids: list[int]) -> list[Delivery]:
    """Claim these deliveries if they are still queued and due; those to send now."""
    claimed = list(Delivery.objects.raw(_CLAIM_IDS_SQL, _params(ids=delivery_ids)))
    return ready(claimed)


def slot_expired(delivery: Delivery) -> bool:
    """Whether the rate window that granted this claimed delivery its slot has ended, or
    ends within ratelimit.SLOT_MARGIN_SECONDS: it must not be sent on that slot then (its
    request could arrive in the next window, whose count does not include it); it takes a
    slot of the current window (`take_slots` again). Read the attempt's time before asking
    (delivery.exchange_in_slot)."""
    expires_at = delivery.slot_expires_at
    return expires_at is not None and time.monotonic() >= expires_at


def ready(claimed: list[Delivery]) -> list[Delivery]:
    """Of freshly claimed deliveries, those to send at once, their `endpoint` loaded and a
    rate-limit slot each taken; the others wait for their endpoint's drain or are ended
    (module docstring)."""
    for endpoint_id in {d.endpoint_id for d in claimed if d.status == Delivery.Status.WAITING}:
        backlog.schedule_drain(endpoint_id)  # (one is scheduled already, as a rule)
    sending = [d for d in claimed if d.status == Delivery.Status.SENDING]
    if not sending:
        return []
    endpoints = WebhookEndpoint.objects.in_bulk({d.endpoint_id for d in sending})
    enabled: list[Delivery] = []
    disabled: list[Delivery] = []
    for delivery in sending:
        endpoint = endpoints.get(delivery.endpoint_id)
        if endpoint is None:  # deleted a moment ago, and this delivery with it
            continue
        delivery.endpoint = endpoint
        if not endpoint.enabled and not delivery.is_test:
            disabled.append(delivery)
        else:
            enabled.append(delivery)
    fail_disabled(disabled)
    return take_slots(enabled)


def fail_disabled(deliveries: list[Delivery]) -> None:
    """End claimed deliveries whose endpoint was found disabled ("Endpoint is disabled"), in
    one transaction that holds their endpoints first, as every writer of delivery rows does
    (webhooks.endpoint_locks: a person deleting the endpoint meanwhile waits for it instead
    of deadlocking against it); those of an endpoint deleted meanwhile went with it."""
    if not deliveries:
        return
    with transaction.atomic():
        present = share_endpoints(delivery.endpoint_id for delivery in deliveries)
        for delivery in sorted(deliveries, key=lambda delivery: delivery.id):
            if delivery.endpoint_id in present:
                recording.finish(delivery, Delivery.Status.FAILED, error=DISABLED_ERROR)


def take_slots(deliveries: list[Delivery]) -> list[Delivery]:
    """Take a rate-limit slot for each of these claimed deliveries (their `endpoint` loaded),
    one Redis call per endpoint; those the window has no slot for become WAITING, once, for
    the endpoint's drain. Returns those with a slot, oldest first per endpoint."""
    by_endpoint: dict[int, list[Delivery]] = defaultdict(list)
    for delivery in sorted(deliveries, key=lambda delivery: delivery.id):
        by_endpoint[delivery.endpoint_id].append(delivery)
    go: list[Delivery] = []
    for endpoint_id, waiting in by_endpoint.items():
        endpoint = waiting[0].endpoint
        asked_at = time.monotonic()
        decision = ratelimit.acquire(
            endpoint_id=endpoint_id, limit=endpoint.rate_limit, wanted=len(waiting)
        )
        for delivery in waiting[: decision.granted]:
            # The window ends `retry_in` after Redis read its clock, which was after
            # `asked_at`: a slot is used only before then, less the margin (see
            # `slot_expired`, ratelimit.SLOT_MARGIN_SECONDS).
            delivery.slot_expires_at = decision.slots_until(asked_at)
            go.append(delivery)
        over = waiting[decision.granted :]
        if over:
            # Not attempts: the endpoint's drain sends them in a later window, never dropped.
            backlog.wait_for_window(over)
            backlog.schedule_drain(endpoint_id, decision.retry_in)
    return go
