"""Deliveries waiting for their endpoint's rate window, and the one drain that sends them.

A delivery over its endpoint's limit is not rescheduled on its own (every one of a backlog of
N would wake at each window, and N - limit of them would be written back: ~N^2 / limit writes).
It becomes WAITING, once, and stays untouched; so does every later delivery of that endpoint
while a backlog exists, which keeps them in order. One drain per endpoint (webhooks.drain)
takes them oldest first, as many as each window allows.

At most one drain per endpoint is scheduled or running: `acme:webhooks:drain:<endpoint id>`
in Redis says one is, until it ends (or its key expires, if its worker died). The poller
schedules a drain for any backlog left without one.
"""

from __future__ import annotations

import contextlib
import logging
from functools import partial

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError
from redis import RedisError

from acme.lib.redis_client import get_redis
from webhooks import delivery_metrics
from webhooks.endpoint_locks import share_endpoint, share_endpoints
from webhooks.models import Delivery

logger = logging.getLogger(__name__)

KEY_PREFIX = "acme:webhooks:drain:"


def _key(endpoint_id: int) -> str:
    return f"{KEY_PREFIX}{endpoint_id}"


def wait_for_window(deliveries: list[Delivery]) -> None:
    """SENDING -> WAITING: claimed deliveries the window has no slot for (one statement),
    their endpoints held first (webhooks.endpoint_locks); those of an endpoint deleted
    meanwhile went with it."""
    with transaction.atomic():
        present = share_endpoints(delivery.endpoint_id for delivery in deliveries)
        Delivery.objects.filter(
            pk__in=[delivery.pk for delivery in deliveries if delivery.endpoint_id in present],
            status=Delivery.Status.SENDING,
        ).update(status=Delivery.Status.WAITING, claimed_at=timezone.now())
    for delivery in deliveries:
        delivery.status = Delivery.Status.WAITING


def has_backlog(endpoint_id: int) -> bool:
    return Delivery.objects.filter(endpoint_id=endpoint_id, status=Delivery.Status.WAITING).exists()


def endpoints_with_backlog() -> list[int]:
    return list(
        Delivery.objects.filter(status=Delivery.Status.WAITING)
        .order_by("endpoint_id")
        .values_list("endpoint_id", flat=True)
        .distinct()
    )


# The oldest waiting deliveries of an endpoint, WAITING -> SENDING, in one statement.
_CLAIM_NEXT_SQL = """
UPDATE webhooks_delivery SET status = %s, claimed_at = %s
WHERE id IN (
    SELECT id FROM webhooks_delivery
    WHERE endpoint_id = %s AND status = %s
    ORDER BY id LIMIT %s
    FOR UPDATE SKIP LOCKED
)
RETURNING *
"""


def claim_next(endpoint_id: int, count: int = 1) -> list[Delivery]:
    """Up to `count` of the endpoint's oldest waiting deliveries, now SENDING, oldest first."""
    params = [Delivery.Status.SENDING, timezone.now(), endpoint_id, Delivery.Status.WAITING, count]
    claimed = list(Delivery.objects.raw(_CLAIM_NEXT_SQL, params))
    return sorted(claimed, key=lambda delivery: delivery.id)


def fail_waiting(endpoint_id: int, *, error: str) -> int:
    """Fail an endpoint's waiting deliveries at once (it was disabled); test sends stay.
    The endpoint is held first (webhooks.endpoint_locks); 0 if it was deleted meanwhile."""
    with transaction.atomic():
        if not share_endpoint(endpoint_id):
            return 0
        failed = Delivery.objects.filter(
            endpoint_id=endpoint_id, status=Delivery.Status.WAITING, is_test=False
        ).update(
            status=Delivery.Status.FAILED,
            completed_at=timezone.now(),
            next_attempt_at=None,
            last_error=error,
        )
        if failed:
            transaction.on_commit(
                partial(delivery_metrics.count_finished, Delivery.Status.FAILED, failed)
            )
    return failed


def schedule_drain(endpoint_id: int, countdown: float = 0.0, *, running: bool = False) -> None:
    """After commit: have the endpoint's drain run in `countdown` seconds, unless one is
    scheduled or running already. `running`: the drain itself asks for its next turn."""
    if connection.in_atomic_block:
        transaction.on_commit(partial(_schedule, endpoint_id, countdown, running), robust=True)
    else:
        _schedule(endpoint_id, countdown, running)


def drain_ended(endpoint_id: int) -> None:
    """The running drain is done: the next backlog needs a new one."""
    get_redis().delete(_key(endpoint_id))


def _schedule(endpoint_id: int, countdown: float, running: bool) -> None:
    from webhooks.tasks import drain_endpoint

    # Long enough for the wait and a whole drain run; a drain lost with its worker is
    # replaced once it expires.
    ttl_ms = int((countdown + settings.WEBHOOKS_TASK_TIME_LIMIT_SECONDS + 60) * 1000)
    try:
        if not get_redis().set(_key(endpoint_id), "1", px=ttl_ms, nx=not running):
            return  # another drain has it in hand
        drain_endpoint.apply_async((endpoint_id,), countdown=max(countdown, 0))
    except (RedisError, BrokerError) as error:
        # The rows stay WAITING; the poller schedules the drain again.
        logger.warning("endpoint %s: could not schedule its drain yet (%s)", endpoint_id, error)
        with contextlib.suppress(RedisError):
            drain_ended(endpoint_id)
