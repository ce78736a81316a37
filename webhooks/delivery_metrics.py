"""Counters of finished deliveries and of attempt latency, in Redis, for /metrics.

Written by whichever worker process records an attempt, after its transaction commits, and
read at scrape time (acme/lib/metrics.py), so every process's work is counted once, whoever
serves the scrape. Two hashes:
  acme:metrics:webhook_deliveries_finished   {<status>: count}
  acme:metrics:webhook_delivery_latency      {<bucket upper bound>: count, sum: seconds, count: n}
Buckets are not cumulative here; the reader adds them up. A Redis failure is logged and the
sample lost: metrics must never fail a delivery.
"""

from __future__ import annotations

import logging

from redis import RedisError

from acme.lib.redis_client import get_redis

logger = logging.getLogger(__name__)

FINISHED_KEY = "acme:metrics:webhook_deliveries_finished"
LATENCY_KEY = "acme:metrics:webhook_delivery_latency"
# Upper bounds in seconds of the attempt latency histogram (then +Inf).
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


def _bucket(seconds: float) -> str:
    for bound in LATENCY_BUCKETS:
        if seconds <= bound:
            return str(bound)
    return "+Inf"


def count_attempts(durations_ms: list[int | None]) -> None:
    """HTTP attempts took these many milliseconds each (None: one never got that far); one
    Redis round trip for a whole batch."""
    seconds = [duration / 1000 for duration in durations_ms if duration is not None]
    if not seconds:
        return
    buckets: dict[str, int] = {}
    for value in seconds:
        buckets[_bucket(value)] = buckets.get(_bucket(value), 0) + 1
    try:
        with get_redis().pipeline(transaction=False) as pipe:
            for bucket, count in buckets.items():
                pipe.hincrby(LATENCY_KEY, bucket, count)
            pipe.hincrbyfloat(LATENCY_KEY, "sum", sum(seconds))
            pipe.hincrby(LATENCY_KEY, "count", len(seconds))
            pipe.execute()
    except RedisError:
        logger.warning("could not count delivery attempts in Redis", exc_info=True)


def count_finished(status: str, deliveries: int = 1) -> None:
    """`deliveries` reached their final `status` (succeeded or failed)."""
    try:
        get_redis().hincrby(FINISHED_KEY, status, deliveries)
    except RedisError:
        logger.warning("could not count a finished delivery in Redis", exc_info=True)


def read() -> tuple[dict[str, int], list[tuple[str, int]], float, int]:
    """(finished by status, cumulative latency buckets [(le, count)], latency sum, count)."""
    with get_redis().pipeline(transaction=False) as pipe:
        pipe.hgetall(FINISHED_KEY)
        pipe.hgetall(LATENCY_KEY)
        finished, latency = pipe.execute()
    cumulative, running = [], 0
    for bound in [*map(str, LATENCY_BUCKETS), "+Inf"]:
        running += int(latency.get(bound, 0))
        cumulative.append((bound, running))
    finished_counts = {status: int(count) for status, count in finished.items()}
    return finished_counts, cumulative, float(latency.get("sum", 0)), int(latency.get("count", 0))
