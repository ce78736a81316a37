"""Health at a glance: per-endpoint rollups of what the receivers answered, written with the
attempts and read by the endpoints list (page and API) instead of the delivery tables.

Writing: `record_attempts(batch)` adds a batch of attempts (one or many, any endpoints) to
their endpoints' BUCKET-long rollup rows (models.EndpointHealth) and to their last results
(models.EndpointLastResult) with two `INSERT ... ON CONFLICT DO UPDATE`, in the caller's
transaction, so the rollups commit or roll back with the attempt rows. Call it last in that
transaction, with the endpoints already locked FOR KEY SHARE (webhooks.endpoint_locks): it
locks its rows in a fixed order (buckets by endpoint and time, then last results by endpoint)
and takes no other lock after them, so two writers cannot deadlock on them, and a rollup row is
held only from the upsert to the commit.

Reading: `for_endpoints(ids)` sums, in one query, each endpoint's buckets that overlap the last
WINDOW (so the window is WINDOW to WINDOW + BUCKET long), and reads its last success and last
failure (models.EndpointLastResult, one row per endpoint, kept as long as the endpoint). The
histogram is a column per slot: summing plain columns is several times faster than summing
arrays element by element, which made most of the list's time.

Response times: a histogram with fixed bounds (LATENCY_BOUNDS_MS, then one overflow slot).
A percentile is estimated inside the slot that holds it, linearly between the slot's bounds
(as Prometheus' histogram_quantile does): the estimate is never outside the slot that holds the
true value; an overflow is reported as the last bound.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connection
from django.utils import timezone

from webhooks.models import Delivery, EndpointHealth, EndpointLastResult

BUCKET = timedelta(minutes=5)
WINDOW = timedelta(hours=24)
# Upper bounds (inclusive) of the response-time slots, in milliseconds, then one overflow slot:
# the histogram's columns (EndpointHealth.latency_le_<bound>, latency_over) define them.
# At most 1.7x apart from 50 ms on (2x to 2.5x below): an estimate is within that factor
# of the true value.
LATENCY_BOUNDS_MS = tuple(
    int(column.name.removeprefix("latency_le_"))
    for column in EndpointHealth._meta.fields
    if column.name.startswith("latency_le_")
)
LATENCY_COLUMNS = (*(f"latency_le_{bound}" for bound in LATENCY_BOUNDS_MS), "latency_over")
SLOTS = len(LATENCY_COLUMNS)
MAX_ERROR_LENGTH = EndpointLastResult._meta.get_field("last_failure_error").max_length or 500

_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Attempted:
    """One HTTP attempt, as the rollups count it."""

    endpoint_id: int
    attempted_at: datetime
    success: bool
    # None when no answer time was measured.
    duration_ms: int | None = None
    # Why it failed ("HTTP 503", "Timed out", ...).
    error: str = ""
    # The delivery's final status when this attempt ended it (succeeded or failed), else None;
    # always None for test deliveries.
    ended: str | None = None


def bucket_start(at: datetime) -> datetime:
    """The start of the BUCKET that holds `at` (UTC)."""
    step = BUCKET.total_seconds()
    offset = (at - _EPOCH).total_seconds()
    return _EPOCH + timedelta(seconds=math.floor(offset / step) * step)


def latency_slot(duration_ms: int) -> int:
    for slot, bound in enumerate(LATENCY_BOUNDS_MS):
        if duration_ms <= bound:
            return slot
    return len(LATENCY_BOUNDS_MS)


@dataclass
class _Bucket:
    attempts: int = 0
    attempts_failed: int = 0
    deliveries_succeeded: int = 0
    deliveries_failed: int = 0
    latency_counts: list[int] = field(default_factory=lambda: [0] * SLOTS)

    def add(self, attempt: Attempted) -> None:
        self.attempts += 1
        if not attempt.success:
            self.attempts_failed += 1
        if attempt.duration_ms is not None:
            self.latency_counts[latency_slot(attempt.duration_ms)] += 1
        if attempt.ended == Delivery.Status.SUCCEEDED:
            self.deliveries_succeeded += 1
        elif attempt.ended == Delivery.Status.FAILED:
            self.deliveries_failed += 1


@dataclass
class _Last:
    last_success_at: datetime | None = None
    last_failure_at: datetime | None = None
    last_failure_error: str = ""

    def add(self, attempt: Attempted) -> None:
        at = attempt.attempted_at
        if attempt.success:
            if self.last_success_at is None or at >= self.last_success_at:
                self.last_success_at = at
        elif self.last_failure_at is None or at >= self.last_failure_at:
            self.last_failure_at = at
            self.last_failure_error = attempt.error[:MAX_ERROR_LENGTH]


_COUNT_COLUMNS = (
    "attempts",
    "attempts_failed",
    "deliveries_succeeded",
    "deliveries_failed",
    *LATENCY_COLUMNS,
)
_BUCKETS_SQL = (
    "INSERT INTO webhooks_endpointhealth AS h (endpoint_id, bucket_start, "
    + ", ".join(_COUNT_COLUMNS)
    + ") VALUES {values} ON CONFLICT (endpoint_id, bucket_start) DO UPDATE SET "
    + ", ".join(f"{column} = h.{column} + EXCLUDED.{column}" for column in _COUNT_COLUMNS)
)
_BUCKET_VALUES = "(" + ", ".join(["%s"] * (2 + len(_COUNT_COLUMNS))) + ")"
_LAST_SQL = """
INSERT INTO webhooks_endpointlastresult AS r (endpoint_id, last_success_at, last_failure_at,
    last_failure_error)
VALUES {values}
ON CONFLICT (endpoint_id) DO UPDATE SET
    last_success_at = GREATEST(r.last_success_at, EXCLUDED.last_success_at),
    last_failure_at = GREATEST(r.last_failure_at, EXCLUDED.last_failure_at),
    last_failure_error = CASE
        WHEN EXCLUDED.last_failure_at IS NOT NULL
            AND (r.last_failure_at IS NULL OR EXCLUDED.last_failure_at >= r.last_failure_at)
        THEN EXCLUDED.last_failure_error ELSE r.last_failure_error END
"""
_LAST_VALUES = "(%s, %s::timestamptz, %s::timestamptz, %s)"


def record_attempts(batch: Iterable[Attempted]) -> None:
    """Add `batch` to the rollups, in the caller's transaction (see the module's docstring:
    call it last, with the endpoints locked FOR KEY SHARE). Two statements for the batch:
    the buckets, then the last results, each locking its rows in endpoint order."""
    buckets: dict[tuple[int, datetime], _Bucket] = {}
    last: dict[int, _Last] = {}
    for attempt in batch:
        buckets.setdefault(
            (attempt.endpoint_id, bucket_start(attempt.attempted_at)), _Bucket()
        ).add(attempt)
        last.setdefault(attempt.endpoint_id, _Last()).add(attempt)
    if not buckets:
        return
    bucket_params: list[Any] = []
    for (endpoint_id, start), bucket in sorted(buckets.items()):  # the lock order
        bucket_params += [
            endpoint_id,
            start,
            bucket.attempts,
            bucket.attempts_failed,
            bucket.deliveries_succeeded,
            bucket.deliveries_failed,
            *bucket.latency_counts,
        ]
    last_params: list[Any] = []
    for endpoint_id, result in sorted(last.items()):
        last_params += [
            endpoint_id,
            result.last_success_at,
            result.last_failure_at,
            result.last_failure_error,
        ]
    with connection.cursor() as cursor:
        cursor.execute(
            _BUCKETS_SQL.format(values=", ".join([_BUCKET_VALUES] * len(buckets))), bucket_params
        )
        cursor.execute(_LAST_SQL.format(values=", ".join([_LAST_VALUES] * len(last))), last_params)


@dataclass(frozen=True)
class Health:
    """One endpoint's last WINDOW, and its last success and failure."""

    attempts: int = 0
    attempts_failed: int = 0
    deliveries_succeeded: int = 0
    deliveries_failed: int = 0
    latency_counts: tuple[int, ...] = ()
    last_success_at: datetime | None = None
    last_failure_at: datetime | None = None
    last_failure_error: str = ""

    @property
    def deliveries(self) -> int:
        """Deliveries that ended (succeeded, or failed for good) in the window."""
        return self.deliveries_succeeded + self.deliveries_failed

    @property
    def success_rate(self) -> float | None:
        """The share of attempts answered 2xx (None without attempts)."""
        if not self.attempts:
            return None
        return (self.attempts - self.attempts_failed) / self.attempts

    @property
    def success_percent(self) -> float | None:
        """success_rate in percent, rounded down to 0.1 (100.0 only when every attempt
        succeeded)."""
        rate = self.success_rate
        return None if rate is None else math.floor(rate * 1000) / 10

    @property
    def p50_ms(self) -> int | None:
        return percentile_ms(self.latency_counts, 0.5)

    @property
    def p95_ms(self) -> int | None:
        return percentile_ms(self.latency_counts, 0.95)


def percentile_ms(counts: Sequence[int], share: float) -> int | None:
    """The `share` quantile of a LATENCY_BOUNDS_MS histogram, interpolated inside its slot."""
    total = sum(counts)
    if not total:
        return None
    rank = share * total
    seen = 0
    for slot, count in enumerate(counts):
        if count and seen + count >= rank:
            if slot >= len(LATENCY_BOUNDS_MS):
                return LATENCY_BOUNDS_MS[-1]
            lower = LATENCY_BOUNDS_MS[slot - 1] if slot else 0
            upper = LATENCY_BOUNDS_MS[slot]
            return round(lower + (upper - lower) * (rank - seen) / count)
        seen += count
    return LATENCY_BOUNDS_MS[-1]


_READ_SQL = (
    "WITH totals AS (SELECT endpoint_id, "
    + ", ".join(f"sum({column}) AS {column}" for column in _COUNT_COLUMNS)
    + """ FROM webhooks_endpointhealth
        WHERE endpoint_id = ANY(%(ids)s) AND bucket_start > %(since)s
        GROUP BY endpoint_id
    )
    SELECT e.id, r.last_success_at, r.last_failure_at, r.last_failure_error, """
    + ", ".join(f"t.{column}" for column in _COUNT_COLUMNS)
    + """ FROM unnest(%(ids)s::bigint[]) AS e(id)
    LEFT JOIN totals AS t ON t.endpoint_id = e.id
    LEFT JOIN webhooks_endpointlastresult AS r ON r.endpoint_id = e.id"""
)


def for_endpoints(ids: Sequence[int], *, now: datetime | None = None) -> dict[int, Health]:
    """{endpoint id: Health} for `ids` (a page of the list): one query on the rollups."""
    if not ids:
        return {}
    since = (now or timezone.now()) - WINDOW - BUCKET
    with connection.cursor() as cursor:
        cursor.execute(_READ_SQL, {"ids": list(ids), "since": since})
        rows = cursor.fetchall()
    found: dict[int, Health] = {}
    for endpoint_id, ok_at, bad_at, error, *counts in rows:
        attempts, failed, succeeded_d, failed_d, *latency = (int(n or 0) for n in counts)
        found[endpoint_id] = Health(
            attempts=attempts,
            attempts_failed=failed,
            deliveries_succeeded=succeeded_d,
            deliveries_failed=failed_d,
            latency_counts=tuple(latency),
            last_success_at=ok_at,
            last_failure_at=bad_at,
            last_failure_error=error or "",
        )
    return found
