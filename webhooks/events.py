"""The one place product and import events leave from: an outbox in the caller's transaction.

`emit()` writes one Delivery row per enabled endpoint subscribed to the event, inside whatever
transaction the caller is in, and queues the sending only after that transaction commits. A
rolled-back change therefore leaves no row and sends nothing.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from functools import partial

from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError
from redis import RedisError

from webhooks.endpoint_locks import subscribed_endpoint_ids
from webhooks.models import Delivery, EventType

logger = logging.getLogger(__name__)


def new_msg_id() -> str:
    """The `webhook-id` of a delivery: unique, and the same on each of its retries."""
    return f"msg_{uuid.uuid4().hex}"


def make_payload(event_type: str, data: dict) -> dict:
    return {"type": event_type, "timestamp": timezone.now().isoformat(), "data": data}


def emit(event_type: str, data: dict) -> None:
    """Record `event_type` with its payload `data` for every subscribed endpoint.

    Costs one indexed query (a partial GIN index on enabled endpoints' events) when nothing
    subscribes, which is the common case for product writes. The subscribed endpoints stay
    locked FOR KEY SHARE until the caller commits (see webhooks.endpoint_locks).
    """
    if event_type not in EventType.values:
        raise ValueError(f"unknown webhook event type {event_type!r}")
    # The lock must hold until the rows are written (and the caller commits).
    with transaction.atomic(savepoint=False):
        _write_deliveries(event_type, data)


def _write_deliveries(event_type: str, data: dict) -> None:
    endpoint_ids = subscribed_endpoint_ids(event_type)
    if not endpoint_ids:
        return
    payload = make_payload(event_type, data)
    now = timezone.now()
    deliveries = Delivery.objects.bulk_create(
        Delivery(
            endpoint_id=endpoint_id,
            event_type=event_type,
            payload=payload,
            msg_id=new_msg_id(),
            status=Delivery.Status.QUEUED,
            next_attempt_at=now,
            claimed_at=now,
        )
        for endpoint_id in endpoint_ids
    )
    enqueue_after_commit([delivery.id for delivery in deliveries])


# Set while a wake-up message is on its way to a worker and no run has started on it yet
# (webhooks.sender deletes it as it starts): commits meanwhile need no message of their own,
# since that run claims their rows too. Expires in case the message is lost (the poller also
# wakes a worker for rows queued too long: webhooks.poller.wake_for_queued).
WAKE_KEY = "acme:webhooks:wake"
WAKE_KEY_TTL_MS = 300_000


def enqueue_after_commit(delivery_ids: list[int], *, countdown: float | None = None) -> None:
    """Once the current transaction commits (at once outside one), have a worker send these
    QUEUED deliveries: wake a sending run (webhooks.sender), which claims every due queued
    delivery, these included; with `countdown`, a run that starts then.

    Many commits cost one message between them: while a wake-up is pending (WAKE_KEY), no
    other is sent. A failure to reach the broker is logged, not raised into the committed
    caller: the rows go back to PENDING, which send_due_deliveries queues again.
    """
    transaction.on_commit(partial(_enqueue, delivery_ids, countdown), robust=True)


def wake(*, countdown: float | None = None, force: bool = False) -> bool:
    """Send a message that starts a sending run, unless one is pending already (`countdown`
    or `force`: send it anyway); True when a message went out."""
    from acme.lib.redis_client import get_redis
    from webhooks.tasks import send_queued

    if countdown is None and not force:
        if not get_redis().set(WAKE_KEY, "1", nx=True, px=WAKE_KEY_TTL_MS):
            return False  # a run that has not started yet will claim the rows
        try:
            send_queued.apply_async()
        except BaseException:
            with contextlib.suppress(RedisError):
                get_redis().delete(WAKE_KEY)
            raise
        return True
    send_queued.apply_async(countdown=max(countdown or 0.0, 0.0))
    return True


def wake_taken() -> None:
    """A sending run starts: rows committed from now on need a wake-up of their own."""
    from acme.lib.redis_client import get_redis

    get_redis().delete(WAKE_KEY)


def _enqueue(delivery_ids: list[int], countdown: float | None) -> None:
    try:
        wake(countdown=countdown)
    except (BrokerError, RedisError, OSError) as exc:
        # The broker is down: the rows go back to PENDING, which send_due_deliveries queues
        # again on its first run once the broker is back (a message that did go out is
        # harmless: a delivery is claimed once).
        # Rows another transaction holds are left alone (a claim or a delete has them): this
        # statement never waits for one while holding others (webhooks.endpoint_locks).
        held = Delivery.objects.filter(
            id__in=delivery_ids, status=Delivery.Status.QUEUED
        ).select_for_update(skip_locked=True)
        with transaction.atomic():  # (it runs after the emitting transaction's commit)
            Delivery.objects.filter(id__in=held.values("id")).update(status=Delivery.Status.PENDING)
        logger.warning("webhook deliveries %s: the broker is down; sent later (%s)",
                       delivery_ids, exc)  # fmt: skip
