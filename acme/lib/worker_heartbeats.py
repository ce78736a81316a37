"""Each Celery worker's last heartbeat, in one Redis hash, for /metrics.

Celery's consumer sends a heartbeat every couple of seconds (the `heartbeat_sent` signal,
connected in acme/celery.py); each one stores the worker's name and the time in
`acme:workers:heartbeat`. Readers forget workers silent for FORGET_SECONDS, so the set of
names (a metrics label) stays as small as the set of live workers.
"""

from __future__ import annotations

import logging
import time
from typing import cast

from redis import RedisError

from acme.lib.redis_client import get_redis

logger = logging.getLogger(__name__)

KEY = "acme:workers:heartbeat"
FORGET_SECONDS = 600


def beat(worker: str) -> None:
    try:
        get_redis().hset(KEY, worker, time.time())
    except RedisError:
        logger.warning("could not store the worker heartbeat in Redis", exc_info=True)


def on_heartbeat_sent(sender, **kwargs) -> None:
    """celery.signals.heartbeat_sent: `sender` is the worker's Heart."""
    beat(sender.eventer.hostname)


def ages() -> dict[str, float]:
    """Seconds since each live worker's last heartbeat; long-silent workers are dropped."""
    redis = get_redis()
    now = time.time()
    result: dict[str, float] = {}
    # The client decodes responses (decode_responses=True): str, never bytes.
    stamps = cast("dict[str, str]", redis.hgetall(KEY))
    for worker, stamp in stamps.items():
        age = max(now - float(stamp), 0.0)
        if age > FORGET_SECONDS:
            redis.hdel(KEY, worker)
        else:
            result[worker] = age
    return result
