"""Live progress of import jobs in Redis: the only module that touches these keys.

    acme:import:<id>:progress  hash: status, phase, step, records_processed, bytes_processed,
                               bytes_total, percent, rate, eta_seconds, started, updated_at
    acme:import:<id>:cancel    "1" while a cancel request for a running job is pending
    acme:import:<id>:checked   set for ROW_CHECK_SECONDS after a reader confirmed the row

Both keys expire on their own (KEY_TTL_SECONDS, refreshed by a running import's heartbeat),
so a lost worker leaves nothing behind for long. Final state lives in PostgreSQL: when the key
is gone, `snapshot()` answers from the job row, so readers never need to know which store they
got. Clearing the key when a job ends is best effort (Redis may be briefly unreachable just
then), so a key saying queued/running is confirmed against the row at most every
ROW_CHECK_SECONDS per job (one primary-key read); a key left behind by a finished job is
deleted then, and the row answers.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, TypeGuard, cast

from redis import RedisError
from redis.typing import EncodableT, FieldT

from acme.lib.redis_client import get_async_redis, get_redis
from imports.models import COUNT_FIELDS, ImportJob

logger = logging.getLogger(__name__)

# Long enough for a job queued behind others (its row answers once the key is gone) and for
# many missed heartbeats; a running import's heartbeat refreshes it (keep_alive).
KEY_TTL_SECONDS = 15 * 60
# How long readers trust a key saying queued/running before confirming it against the row.
ROW_CHECK_SECONDS = 3
# The page polls about twice a second; writing more often than this buys nothing.
MIN_WRITE_INTERVAL_SECONDS = 0.25
# Phases that walk through the file; their byte position drives the percent and the ETA.
FILE_PHASES = (ImportJob.Phase.PARSING, ImportJob.Phase.VALIDATING)
PHASE_LABELS = dict(ImportJob.Phase.choices)

_INT_FIELDS = ("records_processed", "bytes_processed", "bytes_total", "job_id")
_FLOAT_FIELDS = ("percent", "rate", "eta_seconds", "started")


def progress_key(job_id: int) -> str:
    return f"acme:import:{job_id}:progress"


def cancel_key(job_id: int) -> str:
    return f"acme:import:{job_id}:cancel"


def checked_key(job_id: int) -> str:
    return f"acme:import:{job_id}:checked"


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def publish(job_id: int, **fields: Any) -> None:
    """Merge `fields` into the job's live state (None values are stored as empty)."""
    values: dict[FieldT, EncodableT] = {
        name: "" if value is None else value for name, value in fields.items()
    }
    values["updated_at"] = _now_iso()
    values["job_id"] = job_id
    pipe = get_redis().pipeline(transaction=False)
    pipe.hset(progress_key(job_id), mapping=values)
    pipe.expire(progress_key(job_id), KEY_TTL_SECONDS)
    pipe.execute()


def publish_queued(job_id: int, *, bytes_total: int | None) -> None:
    get_redis().delete(progress_key(job_id), cancel_key(job_id))
    publish(job_id, status="queued", phase="", records_processed=0, bytes_processed=0,
            bytes_total=bytes_total)  # fmt: skip


def clear(job_id: int) -> None:
    """The job finished: its row holds the truth from now on."""
    get_redis().delete(progress_key(job_id), cancel_key(job_id))


def keep_alive(job_id: int) -> None:
    """A running import's heartbeat: its keys live another KEY_TTL_SECONDS (a long merge step
    publishes no progress for minutes)."""
    pipe = get_redis().pipeline(transaction=False)
    pipe.expire(progress_key(job_id), KEY_TTL_SECONDS)
    pipe.expire(cancel_key(job_id), KEY_TTL_SECONDS)
    pipe.execute()


def _row_check_due(job_id: int) -> bool:
    """True for one caller per ROW_CHECK_SECONDS per job."""
    return bool(get_redis().set(checked_key(job_id), "1", nx=True, ex=ROW_CHECK_SECONDS))


def _confirmed_by_row(job_id: int) -> bool:
    """The row agrees the job is not finished; a key left behind by a finished (or deleted)
    job is deleted."""
    status = ImportJob.objects.filter(pk=job_id).values_list("status", flat=True).first()
    if status is not None and status not in ImportJob.FINISHED:
        return True
    clear(job_id)
    return False


def request_cancel(job_id: int) -> None:
    get_redis().set(cancel_key(job_id), "1", ex=KEY_TTL_SECONDS)


def cancel_requested(job_id: int) -> bool:
    return bool(get_redis().exists(cancel_key(job_id)))


def read(job_id: int) -> dict[str, Any] | None:
    """The live state, typed, or None when there is none."""
    # The client decodes responses (decode_responses=True): str, never bytes.
    return _typed(cast("dict[str, str]", get_redis().hgetall(progress_key(job_id))))


def _typed(raw: Mapping[str, str]) -> dict[str, Any] | None:
    if not raw:
        return None
    state: dict[str, Any] = {}
    for name, value in raw.items():
        if value == "":
            state[name] = None
        elif name in _INT_FIELDS:
            state[name] = int(value)
        elif name in _FLOAT_FIELDS:
            state[name] = float(value)
        else:
            state[name] = value
    return state


class ProgressTracker:
    """The pipeline's `on_progress` callback for one running job.

    Throttles Redis writes to MIN_WRITE_INTERVAL_SECONDS (a new phase or merge step is
    always written), and derives the rate (records/s), percent of bytes and ETA. `phase` and
    `records_processed` are read by the heartbeat and by the command's progress bar.
    """

    def __init__(
        self, job_id: int, *, bytes_total: int | None, first_phase: str = "parsing"
    ) -> None:
        self.job_id = job_id
        self.first_phase = first_phase
        self.bytes_total = bytes_total
        self.started = time.monotonic()
        self.started_wall = time.time()
        self.phase = ""
        self.step: str | None = None
        self.records_processed = 0
        self.bytes_processed = 0
        self._last_write = 0.0

    def _publish(self, **fields: Any) -> None:
        # Live progress is best effort: an import must not fail because Redis hiccuped.
        try:
            publish(self.job_id, **fields)
        except RedisError as exc:
            logger.warning("import %s: progress not published (%s)", self.job_id, exc)

    def start(self) -> None:
        self._publish(status="running", phase=self.first_phase, records_processed=0,
                      bytes_processed=0, bytes_total=self.bytes_total, started=self.started_wall,
                      percent=0, rate=None, eta_seconds=None)  # fmt: skip
        self.phase = self.first_phase

    def __call__(self, progress) -> None:
        now = time.monotonic()
        moved_on = progress.phase != self.phase or progress.step != self.step
        self.phase = progress.phase
        self.step = progress.step
        self.records_processed = progress.records_processed
        self.bytes_processed = progress.bytes_processed
        if progress.bytes_total:
            self.bytes_total = progress.bytes_total
        if not moved_on and now - self._last_write < MIN_WRITE_INTERVAL_SECONDS:
            return
        self._last_write = now
        elapsed = max(now - self.started, 1e-6)
        percent = None
        eta = None
        if self.bytes_total:
            percent = min(100.0, 100.0 * progress.bytes_processed / self.bytes_total)
            if progress.phase in FILE_PHASES and progress.bytes_processed > 0:
                remaining = max(self.bytes_total - progress.bytes_processed, 0)
                eta = round(elapsed * remaining / progress.bytes_processed, 1)
        self._publish(
            status="running",
            phase=progress.phase,
            step=progress.step,
            records_processed=progress.records_processed,
            bytes_processed=progress.bytes_processed,
            bytes_total=self.bytes_total,
            percent=None if percent is None else round(percent, 1),
            rate=round(progress.records_processed / elapsed, 1),
            eta_seconds=eta,
            started=self.started_wall,
        )


# Every key of a job's progress state, live or from the row, in the order readers get them.
STATE_KEYS = (
    "id", "status", "phase", "phase_label", "step", "records_processed", "bytes_processed",
    "bytes_total", "percent", "rate", "eta_seconds", "updated_at", "finished", "live",
    "validate_only", "outcome", "cancel_requested", "counts", "unknown_columns", "durations",
    "error", "has_report",
)  # fmt: skip


def _state(*, phase: str | None, **values: Any) -> dict[str, Any]:
    """The one shape of a progress state: the keys given, the phase's label, None for the rest."""
    unknown = values.keys() - set(STATE_KEYS)
    if unknown:
        raise TypeError(f"not progress state keys: {sorted(unknown)}")
    values.update(phase=phase or None, phase_label=PHASE_LABELS.get(phase) if phase else None)
    return {key: values.get(key) for key in STATE_KEYS}


def from_job(job: ImportJob) -> dict[str, Any]:
    """The state built from the job row."""
    completed = job.status == ImportJob.Status.COMPLETED
    return _state(
        id=job.pk,
        status=job.status,
        phase=job.phase,
        records_processed=job.rows_read,
        bytes_processed=job.size if completed else None,
        bytes_total=job.size,
        percent=100.0 if completed else None,
        rate=_rate(job),
        updated_at=(job.finished_at or job.started_at or job.created_at).isoformat(),
        finished=job.is_finished,
        live=False,
        validate_only=job.validate_only,
        outcome=job.outcome_text or None,
        cancel_requested=job.cancel_requested,
        counts=counts(job),
        unknown_columns=job.unknown_columns,
        durations=job.durations,
        error=job.error or None,
        has_report=bool(job.error_report),
    )


def counts(job: ImportJob) -> dict[str, int]:
    return {field: getattr(job, field) for field in COUNT_FIELDS}


def _rate(job: ImportJob) -> float | None:
    seconds = job.total_seconds
    if not seconds or not job.rows_read:
        return None
    return round(job.rows_read / seconds, 1)


def snapshot(job_id: int, *, confirm: bool = False) -> dict[str, Any] | None:
    """What a reader should see for the job now: live state while it runs, else the row.

    A key saying live is confirmed against the row when a check is due, or always with
    `confirm`. Returns None when the job does not exist.
    """
    try:
        live = read(job_id)
        if _is_live(live) and (
            not (confirm or _row_check_due(job_id)) or _confirmed_by_row(job_id)
        ):
            return _live_snapshot(job_id, live, cancel_requested(job_id))
    except RedisError:
        pass  # Redis is down: the row answers (its phase lags by a heartbeat at most)
    return _row_snapshot(job_id)


async def live_snapshot_async(job_id: int) -> dict[str, Any] | None:
    """snapshot() of a live job for code on an event loop (one Redis round trip, no thread);
    None when the job is not live (finished, not found, or its key is gone) or when its key
    is due a check against the row: then the caller asks snapshot(confirm=True) in a thread."""
    pipe = get_async_redis().pipeline(transaction=False)
    pipe.hgetall(progress_key(job_id))
    pipe.exists(cancel_key(job_id))
    pipe.set(checked_key(job_id), "1", nx=True, ex=ROW_CHECK_SECONDS)
    try:
        raw, cancel, check_due = await pipe.execute()
    except RedisError:
        return None  # Redis is down: the row answers
    live = _typed(raw)
    if _is_live(live) and not check_due:
        return _live_snapshot(job_id, live, bool(cancel))
    return None


def _is_live(live: dict[str, Any] | None) -> TypeGuard[dict[str, Any]]:
    return live is not None and live.get("status") in ("queued", "running")


def _live_snapshot(job_id: int, live: dict[str, Any], cancel: bool) -> dict[str, Any]:
    """The state built from the live key (what only the finished row knows stays None)."""
    return _state(
        id=job_id,
        status=live["status"],
        phase=live.get("phase"),
        step=live.get("step"),
        records_processed=live.get("records_processed") or 0,
        bytes_processed=live.get("bytes_processed"),
        bytes_total=live.get("bytes_total"),
        percent=live.get("percent"),
        rate=live.get("rate"),
        eta_seconds=live.get("eta_seconds"),
        updated_at=live.get("updated_at"),
        finished=False,
        live=True,
        cancel_requested=cancel,
        has_report=False,
    )


def _row_snapshot(job_id: int) -> dict[str, Any] | None:
    job = ImportJob.objects.filter(pk=job_id).first()
    if job is None:
        return None
    return from_job(job)
