"""The one place product and import events leave from: an outbox in the caller's transaction.

`emit()` writes one Delivery row per enabled endpoint subscribed to the event, inside whatever
transaction the caller is in, and queues the sending only after that transaction commits. A
rolled-back change therefore leaves no row and sends nothing.
"""

from __future__ import annotations

import logging
import uuid
from functools import partial
from typing import Any

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


def enqueue_after_commit(delivery_ids: list[int], *, countdown: float | None = None) -> None:
    """Send the task messages once the current transaction commits (at once outside one).

    A failure to reach the broker is logged, not raised into the committed caller: the rows
    stay QUEUED and send_due_deliveries re-sends their messages (see delivery.recover_stale).
    """
    transaction.on_commit(partial(_enqueue, delivery_ids, countdown), robust=True)


def _enqueue(delivery_ids: list[int], countdown: float | None) -> None:
    from webhooks.tasks import send_delivery

    options: dict[str, Any] = {} if countdown is None else {"countdown": countdown}
    try:
        # One producer (one broker connection) for all the messages of this commit.
        with send_delivery.app.producer_or_acquire() as producer:
            for delivery_id in delivery_ids:
                send_delivery.apply_async((delivery_id,), producer=producer, **options)
    except (BrokerError, RedisError, OSError) as exc:
        # The broker is down: the rows go back to PENDING, which send_due_deliveries queues
        # again on its first run once the broker is back (a message that did go out is
        # harmless: a delivery is claimed once).
        Delivery.objects.filter(id__in=delivery_ids, status=Delivery.Status.QUEUED).update(
            status=Delivery.Status.PENDING
        )
        logger.warning("webhook deliveries %s: the broker is down; sent later (%s)",
                       delivery_ids, exc)  # fmt: skip
