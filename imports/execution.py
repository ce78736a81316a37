"""Running a claimed import job: the pipeline (or, for a revert job, imports.revert) plus
what a job needs around it.

Used by the Celery task and by the `import_products` command alike:
1. publish live progress to Redis (throttled, imports/progress.py);
2. refresh the job's heartbeat from a small thread with its own database connection, so a
   job whose worker died can be told apart from a long one (fail_lost_jobs);
3. answer the pipeline's `should_cancel` from a Redis flag set by the cancel service (the
   heartbeat also sees the database flag, in case the Redis key was lost);
4. write rejected records to a temporary CSV, stored as the job's error report once
   validation ends (before the merge locks the catalogue; the outcome names it later);
5. record the outcome through imports/services.py, which emits the job's one event. A
   completed import's outcome is recorded inside the import's own transaction, so the merge,
   the job's status and counts, the report's reference and the event commit together; a
   job already ended elsewhere (failed as lost while this worker went on) refuses the
   outcome, and the merge is rolled back with it. A failed or cancelled import's
   transaction is rolled back first and its outcome recorded on its own.
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
from collections.abc import Callable
from typing import BinaryIO, cast

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import connection, transaction
from redis import RedisError

from acme.lib import database_loss
from imports import progress, services
from imports.models import FIRST_PHASE, ImportJob
from imports.pipeline import ImportCancelled, ImportFailed, ImportOptions, Progress, run_import
from imports.revert import run_revert

logger = logging.getLogger(__name__)

# The worker raises SoftTimeLimitExceeded in a task past IMPORT_TIME_LIMIT_SECONDS.
# The import's transaction never committed (it holds the merge and the outcome), so the
# catalogue is as it was.
DATABASE_LOST_MESSAGE = (
    "the database connection was lost during the {step}; the catalogue is unchanged. "
    "Retry to run it again."
)
LOST_DURING: dict[str, str] = {
    ImportJob.Phase.PARSING: "parsing",
    ImportJob.Phase.VALIDATING: "validation",
    ImportJob.Phase.LOADING: "load",
    ImportJob.Phase.MERGING: "merge",
}
TIME_LIMIT_MESSAGE = (
    "stopped after running for its time limit of {hours:g} h (IMPORT_TIME_LIMIT_SECONDS); "
    "the catalogue is unchanged. Retry to run it again, or raise the limit for larger files."
)


class Heartbeat(threading.Thread):
    """Refreshes `heartbeat_at` (and the phase) every IMPORT_HEARTBEAT_SECONDS, and the
    expiry of the job's live state in Redis."""

    def __init__(self, *, job_id: int, attempt: int, tracker: progress.ProgressTracker) -> None:
        super().__init__(name=f"import-{job_id}-heartbeat", daemon=True)
        self.job_id = job_id
        self.attempt = attempt
        self.tracker = tracker
        self.cancel_seen = False
        self._stop_event = threading.Event()

    def run(self) -> None:
        interval = settings.IMPORT_HEARTBEAT_SECONDS
        try:
            while not self._stop_event.wait(interval):
                try:
                    if services.import_job_heartbeat(
                        job_id=self.job_id, attempt=self.attempt, phase=self.tracker.phase
                    ):
                        self.cancel_seen = True
                    self._keep_live_state()
                except Exception:
                    # A missed beat is not fatal; the timeout is many beats long.
                    logger.exception("import %s: heartbeat failed", self.job_id)
                    # Django drops a broken connection only at request boundaries, which this
                    # thread never reaches: without this, a database restart would leave every
                    # later beat failing on the dead connection and the job failed as lost.
                    connection.close_if_unusable_or_obsolete()
        finally:
            connection.close()  # this thread's own connection

    def _keep_live_state(self) -> None:
        try:
            progress.keep_alive(self.job_id)
        except RedisError as exc:  # live progress is best effort; the row still answers
            logger.warning("import %s: live state not refreshed (%s)", self.job_id, exc)

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=10)


class CancelCheck:
    """`should_cancel`: the pipeline already calls it at most every ~0.2 s and at each phase
    boundary, and a Redis EXISTS is cheap, so every call looks."""

    def __init__(self, job_id: int, heartbeat: Heartbeat) -> None:
        self.job_id = job_id
        self.heartbeat = heartbeat

    def __call__(self) -> bool:
        if self.heartbeat.cancel_seen:
            return True
        try:
            return progress.cancel_requested(self.job_id)
        except RedisError:
            return False  # the heartbeat still sees the flag in PostgreSQL


def job_options(job: ImportJob) -> ImportOptions:
    return ImportOptions(
        encoding=job.encoding,
        delimiter=job.delimiter,
        validate_only=job.validate_only,
        strict=job.strict,
        file_format=job.file_format,
        sheet=job.sheet,
        mapping=dict(job.mapping or {}),
        sync=job.sync,
    )


def execute(
    job: ImportJob,
    *,
    source: BinaryIO | None = None,
    listener: Callable[[Progress], None] | None = None,
) -> ImportJob | None:
    """Run a claimed (running) job to its outcome and return the recorded job.

    `source` defaults to the stored upload; `listener` also receives every progress call
    (the command's progress bar). Returns None when the job stopped being this attempt's
    (it was failed as lost and retried meanwhile).
    """
    attempt = job.attempts
    tracker = progress.ProgressTracker(
        job.pk, bytes_total=job.size, first_phase=FIRST_PHASE[ImportJob.Kind(job.kind)]
    )
    tracker.start()
    heartbeat = Heartbeat(job_id=job.pk, attempt=attempt, tracker=tracker)
    heartbeat.start()

    def on_progress(update: Progress) -> None:
        tracker(update)
        if listener is not None:
            listener(update)

    report = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed below, then read by path
        "w", encoding="utf-8", newline="", prefix=f"import-{job.pk}-", suffix=".csv", delete=False
    )
    outcome: dict = {}
    stored_report: list[str] = []

    def store_report(result) -> None:
        # Before the merge: a long copy must not hold the catalogue's locks (a rebuild's swap
        # blocks every product read until the import commits).
        report.flush()
        stored_report.append(services.import_report_store(
            job_id=job.pk, report_path=report.name, rows_rejected=result.rows_rejected
        ))  # fmt: skip

    try:
        # A revert reads the change set it takes back (imports.revert), an import its file.
        reverting = job.kind == ImportJob.Kind.REVERT
        stream = None if reverting else source if source is not None else job.file.open("rb")
        try:
            # The merge and the job's outcome (status, counts, report, event) commit in one
            # transaction: a kill at any moment leaves both as they were or both done.
            with transaction.atomic():
                if stream is None:
                    result = run_revert(
                        job=job,
                        on_progress=on_progress,
                        should_cancel=CancelCheck(job.pk, heartbeat),
                    )
                else:
                    result = run_import(
                        # A FieldFile reads like the binary file it opened.
                        source=cast(BinaryIO, stream),
                        options=job_options(job),
                        report=report,
                        bytes_total=job.size,
                        on_progress=on_progress,
                        should_cancel=CancelCheck(job.pk, heartbeat),
                        on_validated=store_report,
                        job_id=job.pk,
                    )
                report.close()
                heartbeat.stop()
                recorded = services.import_job_complete(
                    job_id=job.pk,
                    attempt=attempt,
                    result=result,
                    report_path=report.name,
                    stored_report=stored_report[0] if stored_report else "",
                )
                if recorded is None:
                    raise _OutcomeRefused
            return recorded
        finally:
            if source is None and stream is not None:
                stream.close()
    except _OutcomeRefused:
        logger.warning("import %s: the job was ended elsewhere (failed as lost?) while this "
                       "worker imported; its merge was rolled back", job.pk)  # fmt: skip
        return None
    except ImportCancelled:
        outcome["cancelled"] = True
    except ImportFailed as exc:
        outcome["error"] = str(exc) or "the import failed"
        outcome["result"] = getattr(exc, "result", None)
    except SoftTimeLimitExceeded:
        outcome["error"] = TIME_LIMIT_MESSAGE.format(
            hours=settings.IMPORT_TIME_LIMIT_SECONDS / 3600
        )
        if not connection.in_atomic_block:
            connection.close_if_unusable_or_obsolete()
    except Exception as exc:
        if database_loss.connection_lost(exc):
            committed = _after_lost_connection(job, attempt, exc)
            if committed is not None:
                return committed
            outcome["error"] = DATABASE_LOST_MESSAGE.format(
                step=LOST_DURING.get(tracker.phase, "import")
            )
        else:
            logger.exception("import %s: unexpected error", job.pk)
            outcome["error"] = (
                f"unexpected error ({exc.__class__.__name__}: {exc}); the catalogue is unchanged."
            )
            if not connection.in_atomic_block:
                connection.close_if_unusable_or_obsolete()
    finally:
        heartbeat.stop()
        report.close()
        if not outcome:
            os.unlink(report.name)

    # The import's transaction was rolled back: record how it ended on its own.
    try:
        if outcome.get("cancelled"):
            return services.import_job_mark_cancelled(
                job_id=job.pk, attempt=attempt, phase=tracker.phase
            )
        return services.import_job_fail(
            job_id=job.pk,
            attempt=attempt,
            error=outcome["error"],
            result=outcome.get("result"),
            report_path=report.name,
            phase=tracker.phase,
        )
    finally:
        os.unlink(report.name)


def _after_lost_connection(job: ImportJob, attempt: int, exc: Exception) -> ImportJob | None:
    """Wait for the database, then return the job if its transaction committed before the
    connection broke (the merge and the outcome commit together), else None: nothing of the
    import was committed. Raises `exc` when the database stays away; the lost-worker sweep
    ends the job once it is back."""
    logger.warning("import %s: the database connection was lost (%s); waiting for it",
                   job.pk, exc)  # fmt: skip
    if not database_loss.wait_for_database(timeout=settings.IMPORT_DATABASE_WAIT_SECONDS):
        raise exc
    now = ImportJob.objects.get(pk=job.pk)
    if now.status == ImportJob.Status.COMPLETED and now.attempts == attempt:
        return now
    return None


class _OutcomeRefused(Exception):
    """The job is no longer this attempt's to end: roll its merge back."""
