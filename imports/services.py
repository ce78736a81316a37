"""Every write to ImportJob: create, claim, heartbeat, record the outcome, cancel, retry,
and the housekeeping beat runs (lost workers, lost messages, expired files).

A job's outcome is recorded in one transaction together with its one `import.completed` or
`import.failed` event. Writes made on behalf of a worker carry the attempt it claimed, so a
worker that lost its job (failed as "worker lost", then retried) cannot overwrite it.
"""

from __future__ import annotations

import contextlib
import logging
import os
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.core.files import File
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError
from redis import RedisError

from imports import deleted_products, progress, revert
from imports.detection import AUTO
from imports.event_data import ImportEventData
from imports.models import COUNT_FIELDS, FIRST_PHASE, ImportJob
from imports.sources import options_with_source
from webhooks.events import emit

WORKER_LOST_MESSAGE = (
    "worker lost: the worker stopped while importing; the catalogue is unchanged. "
    "Retry to run it again."
)


logger = logging.getLogger(__name__)

# Where error reports are stored (ImportJob.error_report's upload_to, without the dates).
REPORTS_FOLDER = "imports/reports"
# A stored report no job references is deleted once it is this old (see
# import_reports_delete_orphans): far longer than any transaction takes to commit. A report
# is stored when validation ends, so this must outlast a merge (IMPORT_TIME_LIMIT_SECONDS).
ORPHAN_REPORT_AGE_SECONDS = 24 * 3600

COMMAND_STOPPED_MESSAGE = (
    "the command that started this import stopped before it ran; the catalogue is unchanged. "
    "Run the command again."
)


def _best_effort(write, job_id: int) -> None:
    """A write of live state after commit: with Redis down, the row already holds the truth
    and readers fall back to it (imports.progress.snapshot)."""
    try:
        write(job_id)
    except RedisError as exc:
        logger.warning("import %s: live state not updated (%s)", job_id, exc)


class ImportJobError(Exception):
    """An action a user asked for that the job's state does not allow; str() says why."""


class RevertNeedsConfirmation(ImportJobError):
    """Later imports changed products the import to revert changed: those would be left as
    they are (conflicts) unless forced. `later_imports`: [{"id", "products"}]."""

    def __init__(self, later_imports: list[dict[str, int]]) -> None:
        self.later_imports = later_imports
        total = sum(later["products"] for later in later_imports)
        names = ", ".join(f"#{later['id']}" for later in later_imports)
        super().__init__(
            f"Later imports ({names}) changed {total:,} of the products this import changed: "
            "reverting leaves those as they are (conflicts) unless you revert anyway. "
            "Confirm to revert the rest, or force to overwrite them too."
        )


# The event a completed job emits, by kind (a delete-all emits products.deleted_all itself).
COMPLETED_EVENTS: dict[str, str] = {
    ImportJob.Kind.IMPORT: "import.completed",
    ImportJob.Kind.REVERT: "import.reverted",
}


def _enqueue(job_id: int, size: int) -> None:
    from imports.tasks import run_import_job  # tasks import services, not the other way

    # Live state is best effort: readers fall back to the job row.
    with contextlib.suppress(RedisError):
        progress.publish_queued(job_id, bytes_total=size)
    try:
        run_import_job.delay(job_id)
    except (BrokerError, RedisError, OSError) as exc:
        # The broker is down (the send gives up after CELERY_PUBLISH_RETRIES). The job is
        # committed and stays queued; no enqueued_at marks it unsent, and requeue_stale_jobs
        # sends it on its first run after the broker is back.
        ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.QUEUED).update(enqueued_at=None)
        logger.warning("import %s: queued, but its task could not be sent yet (%s)", job_id, exc)


def _stored_name(path: str) -> str:
    """The file's base name, cut to fit ImportJob.original_name."""
    limit = ImportJob._meta.get_field("original_name").max_length
    return os.path.basename(path)[:limit]


@transaction.atomic
def import_job_create(
    *,
    uploaded_file: UploadedFile,
    options: dict,
    user=None,
    source: str = ImportJob.Source.WEB,
) -> ImportJob:
    """Store the upload through Django's storage, record the job, queue it after commit."""
    job = ImportJob(
        original_name=_stored_name(uploaded_file.name or "upload.csv"),
        size=uploaded_file.size or 0,
        source=source,
        created_by=user if user is not None and user.is_authenticated else None,
        enqueued_at=timezone.now(),
        **_option_fields(options),
    )
    job.file.save(job.original_name, uploaded_file, save=False)
    job.save()
    transaction.on_commit(lambda: _enqueue(job.pk, job.size))
    return job


@transaction.atomic
def import_job_commit(*, job: ImportJob, user=None) -> ImportJob:
    """Import the stored file a completed validation checked, with its options, as a new
    job (`commit_of` names the validation) queued after commit. The file is shared, not
    copied: the retention sweep deletes it once no job references it any more."""
    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    if not job.validate_only or job.status != ImportJob.Status.COMPLETED:
        raise ImportJobError(
            "Only a completed validation (validate only) can be imported from its stored file."
        )
    if not job.file:
        if job.source == ImportJob.Source.COMMAND and not job.enqueued_at:
            raise ImportJobError(
                "This validation ran from the shell and its file was not stored; run the "
                "command again without --dry-run."
            )
        raise ImportJobError(
            "This validation's file was deleted after the retention period "
            f"({settings.IMPORT_FILE_RETENTION_DAYS:g} days); upload the file again."
        )
    commit = ImportJob.objects.create(
        original_name=job.original_name,
        size=job.size,
        source=job.source,
        file=job.file.name,
        # As the validation read the file: the encoding and delimiter it detected, the
        # sheet, the columns it mapped.
        encoding=job.encoding,
        delimiter=job.delimiter,
        sheet=job.sheet,
        mapping=job.mapping,
        saved_source_id=job.saved_source_id,
        strict=job.strict,
        sync=job.sync,
        validate_only=False,
        commit_of=job,
        created_by=user if user is not None and user.is_authenticated else None,
        enqueued_at=timezone.now(),
    )
    transaction.on_commit(lambda: _enqueue(commit.pk, commit.size))
    return commit


def import_job_create_local(*, path: str, options: dict, size: int) -> ImportJob:
    """A job for an import run in the shell on a local file (not stored: nothing to retry)."""
    return ImportJob.objects.create(
        original_name=_stored_name(path),
        size=size,
        source=ImportJob.Source.COMMAND,
        status=ImportJob.Status.QUEUED,
        **_option_fields(options),
    )


def import_job_create_from_path(*, path: str, options: dict) -> ImportJob:
    """Store a local file like an upload and queue it (the command's --queue)."""
    with open(path, "rb") as handle:
        name = os.path.basename(path)
        with transaction.atomic():
            job = ImportJob(
                original_name=_stored_name(name),
                size=os.fstat(handle.fileno()).st_size,
                source=ImportJob.Source.COMMAND,
                enqueued_at=timezone.now(),
                **_option_fields(options),
            )
            job.file.save(name, File(handle), save=False)
            job.save()
            transaction.on_commit(lambda: _enqueue(job.pk, job.size))
    return job


def _option_fields(options: dict) -> dict:
    """The job's option columns from `options`; a `saved_source` in them (an ImportSource)
    fills each setting the options leave unset (imports.sources.options_with_source) and is
    recorded on the job."""
    saved_source = options.get("saved_source")
    options = options_with_source(saved_source, options)
    return {
        "saved_source": saved_source,
        "encoding": options.get("encoding") or AUTO,
        "delimiter": options.get("delimiter") or AUTO,
        "mapping": options.get("mapping") or {},
        "validate_only": bool(options.get("validate_only")),
        "strict": bool(options.get("strict")),
        "sheet": options.get("sheet") or "",
        "sync": options.get("sync") or ImportJob.Sync.OFF,
    }


@transaction.atomic
def import_job_revert(
    *,
    job: ImportJob,
    user=None,
    force: bool = False,
    confirm: bool = False,
    source: str = ImportJob.Source.WEB,
) -> ImportJob:
    """Queue a revert of the completed import (or delete-all) `job` (imports.revert).

    Refused (ImportJobError) when `job` cannot be reverted; RevertNeedsConfirmation when
    later imports touched its products and neither `confirm` nor `force` is given. `force`
    ("Revert anyway") overwrites the products changed since the import."""
    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    refusal = revert.revert_refusal(job)
    if refusal is not None:
        raise ImportJobError(refusal)
    if not (confirm or force):
        later = revert.later_jobs_touching(job)
        if later:
            raise RevertNeedsConfirmation(later)
    revert_job = ImportJob.objects.create(
        kind=ImportJob.Kind.REVERT,
        reverts=job,
        force=force,
        original_name=job.original_name,
        size=0,
        source=source,
        created_by=user if user is not None and user.is_authenticated else None,
        enqueued_at=timezone.now(),
    )
    transaction.on_commit(lambda: _enqueue(revert_job.pk, revert_job.size))
    return revert_job


def import_job_delete_all(*, cursor, user=None) -> ImportJob:
    """Delete every product, revertibly (imports.deleted_products), and record it in the
    import history as a completed job of kind delete_all whose `deleted` is the count. Called
    by products.services.products_delete_all in its transaction, under its ACCESS EXCLUSIVE
    lock on the catalogue; a revert of the job puts the products back with their ids within
    IMPORT_FILE_RETENTION_DAYS."""
    now = timezone.now()
    job = ImportJob.objects.create(
        kind=ImportJob.Kind.DELETE_ALL,
        status=ImportJob.Status.COMPLETED,
        original_name="Delete all",
        size=0,
        created_by=user if user is not None and user.is_authenticated else None,
        started_at=now,
    )
    job.deleted = deleted_products.delete_all(cursor, job_id=job.pk)
    job.finished_at = timezone.now()
    job.save(update_fields=["deleted", "finished_at"])
    return job


def import_job_claim(*, job_id: int) -> ImportJob | None:
    """Queued -> running, atomically; None when another delivery already took it (or it
    was cancelled before it started)."""
    now = timezone.now()
    claimed = ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.QUEUED).update(
        status=ImportJob.Status.RUNNING,
        phase=Case(*(When(kind=kind, then=Value(phase)) for kind, phase in FIRST_PHASE.items())),
        attempts=F("attempts") + 1,
        started_at=now,
        heartbeat_at=now,
    )
    if not claimed:
        return None
    return ImportJob.objects.get(pk=job_id)


def import_job_heartbeat(*, job_id: int, attempt: int, phase: str) -> bool:
    """Refresh the heartbeat; returns whether a cancel was requested (a fallback for the
    Redis flag). False also when the job is no longer this worker's."""
    mine = ImportJob.objects.filter(pk=job_id, attempts=attempt, status=ImportJob.Status.RUNNING)
    mine.update(heartbeat_at=timezone.now(), phase=phase or F("phase"))
    return mine.filter(cancel_requested=True).exists()


def _event_data(job: ImportJob) -> dict:
    return dict(ImportEventData(job).data)


def storable(text: str) -> str:
    """`text` as PostgreSQL text and jsonb can store it: NUL shown as U+FFFD. The pipeline
    refuses NULs in what it reports (header cells, values); this keeps any text that still
    carries one (an unexpected error's message) from failing the outcome's transaction."""
    return text.replace("\x00", "\ufffd")


def _apply_result(job: ImportJob, result) -> None:
    for field in COUNT_FIELDS:
        setattr(job, field, getattr(result, field))
    job.unknown_columns = [storable(column) for column in result.unknown_columns]
    # How the file was read, once the worker read it (detected, or as chosen).
    if result.encoding:
        job.encoding, job.delimiter = result.encoding, result.delimiter
    if result.mapping:
        job.mapping = {field: storable(column) if column else None
                       for field, column in result.mapping.items()}  # fmt: skip
    job.durations = {phase: round(seconds, 3) for phase, seconds in result.durations.items()}


def _locked_attempt(job_id: int, attempt: int | None) -> ImportJob | None:
    """The job row, locked, when it is still running as `attempt`; else None (a job ends
    once: one failed as lost, cancelled or retried meanwhile is no longer this worker's)."""
    job = ImportJob.objects.select_for_update().get(pk=job_id)
    if job.status != ImportJob.Status.RUNNING:
        return None
    if attempt is not None and job.attempts != attempt:
        return None
    return job


def import_report_store(*, job_id: int, report_path: str, rows_rejected: int) -> str:
    """Store a finished report before the import's merge (a copy that may take long must not
    run while the merge holds locks on the catalogue); returns the stored name, "" when the
    report is not worth keeping. Until the outcome that references it commits, the file is
    an orphan the housekeeping deletes (import_reports_delete_orphans) if it never does."""
    if not rows_rejected or os.path.getsize(report_path) == 0:
        return ""
    stored = ImportJob(pk=job_id).error_report
    with open(report_path, "rb") as handle:
        stored.save(f"import-{job_id}-rejected.csv", File(handle), save=False)
    return stored.name or ""


def _save_report(job: ImportJob, report_path: str | None) -> None:
    """Store the report before the transaction that references it commits.

    A rollback after this (or a kill before the commit) leaves a file no job names; the
    housekeeping deletes such files (import_reports_delete_orphans)."""
    # The report always has its header row; it is worth keeping only with rejections in it.
    if report_path and job.rows_rejected and os.path.getsize(report_path) > 0:
        with open(report_path, "rb") as handle:
            job.error_report.save(f"import-{job.pk}-rejected.csv", File(handle), save=False)


def _discard_report(job: ImportJob) -> None:
    """The transaction that would reference the stored report fails: delete the file."""
    if job.error_report.name:
        _delete_file(job.error_report.storage, job.error_report.name)


def _finish(job: ImportJob, status: str, *, error: str) -> None:
    """Record how a job ended (in the caller's transaction); its live progress key is
    cleared once that commits."""
    job.status = status
    job.error = storable(error)
    job.finished_at = timezone.now()
    job.save()
    transaction.on_commit(partial(_best_effort, progress.clear, job.pk))


@transaction.atomic
def import_job_complete(
    *,
    job_id: int,
    attempt: int | None,
    result,
    report_path: str | None = None,
    stored_report: str = "",
) -> ImportJob | None:
    """Record a finished import and emit `import.completed` (a revert: `import.reverted`)
    in the same transaction, which
    is the import's own (imports.execution): the merge commits only with its outcome. None
    when the job is no longer running as `attempt`; the caller then rolls the merge back.
    `stored_report` names a report already stored (import_report_store); else the file at
    `report_path` is stored now."""
    job = _locked_attempt(job_id, attempt)
    if job is None:
        return None
    _apply_result(job, result)
    if stored_report:
        job.error_report.name = stored_report
    else:
        _save_report(job, report_path)
    try:
        _finish(job, ImportJob.Status.COMPLETED, error="")
        emit(COMPLETED_EVENTS[job.kind], _event_data(job))
    except BaseException:
        _discard_report(job)
        raise
    return job


@transaction.atomic
def import_job_fail(
    *,
    job_id: int,
    attempt: int | None,
    error: str,
    result=None,
    report_path: str | None = None,
    phase: str = "",
) -> ImportJob | None:
    """Record a failed import (with partial counts when known) and emit `import.failed`.

    `phase` is where it failed, when known."""
    job = _locked_attempt(job_id, attempt)
    if job is None:
        return None
    if phase:
        job.phase = phase
    if result is not None:
        _apply_result(job, result)
        _save_report(job, report_path)
    try:
        _finish(job, ImportJob.Status.FAILED, error=error[:5000] or "the import failed")
        emit("import.failed", _event_data(job))
    except BaseException:
        _discard_report(job)
        raise
    return job


@transaction.atomic
def import_job_mark_cancelled(
    *, job_id: int, attempt: int | None, phase: str = ""
) -> ImportJob | None:
    """The worker stopped between chunks or merge steps because a cancel was asked; the
    merge was rolled back."""
    job = _locked_attempt(job_id, attempt)
    if job is None:
        return None
    if phase:
        job.phase = phase
    _finish(
        job,
        ImportJob.Status.CANCELLED,
        error="cancelled: the import was stopped; the catalogue is unchanged.",
    )
    return job


@transaction.atomic
def import_job_cancel(*, job: ImportJob) -> ImportJob:
    """Cancel a queued job at once; ask a running one to stop between chunks or steps."""
    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    if job.status == ImportJob.Status.QUEUED:
        _finish(
            job,
            ImportJob.Status.CANCELLED,
            error="cancelled before it started; the catalogue is unchanged.",
        )
    elif job.status == ImportJob.Status.RUNNING:
        # The pipeline stops at its next check: between chunks of the file, or between the
        # merge's steps (an index build can take seconds); a merge that commits first wins.
        job.cancel_requested = True
        job.save(update_fields=["cancel_requested"])
        # The Redis flag is the fast path; with Redis down the heartbeat sees the row's flag.
        transaction.on_commit(partial(_best_effort, progress.request_cancel, job.pk))
    else:
        raise ImportJobError(f"This import is already {job.status}; there is nothing to cancel.")
    return job


@transaction.atomic
def import_job_retry(*, job: ImportJob) -> ImportJob:
    """Run a failed or cancelled job again from its stored file, with fresh counts."""
    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    if job.status not in (ImportJob.Status.FAILED, ImportJob.Status.CANCELLED):
        raise ImportJobError(f"Only failed or cancelled imports can be retried; this one is "
                             f"{job.status}.")  # fmt: skip
    if job.kind == ImportJob.Kind.REVERT:
        pass  # runs from the change set it takes back, not from a file
    elif not job.file and job.source == ImportJob.Source.COMMAND and not job.enqueued_at:
        raise ImportJobError(
            "This import ran from the shell and its file was not stored; run the command again."
        )
    elif not job.file:
        raise ImportJobError(
            "This import's file was deleted after the retention period "
            f"({settings.IMPORT_FILE_RETENTION_DAYS:g} days); upload the file again."
        )
    old_report = job.error_report.name if job.error_report else None
    job.status = ImportJob.Status.QUEUED
    job.phase = ""
    job.cancel_requested = False
    job.error = ""
    job.error_report = ""
    job.started_at = job.finished_at = job.heartbeat_at = None
    for field in COUNT_FIELDS:
        setattr(job, field, 0)
    job.unknown_columns = []
    job.durations = {}
    job.enqueued_at = timezone.now()
    job.save()
    if old_report:
        storage = job.error_report.storage
        transaction.on_commit(lambda: storage.delete(old_report))
    transaction.on_commit(lambda: _enqueue(job.pk, job.size))
    return job


def import_jobs_fail_lost(*, timeout_seconds: float | None = None) -> list[int]:
    """Fail running jobs whose heartbeat stopped more than `timeout_seconds` ago.

    Their pipeline transaction died with the worker, so the catalogue is unchanged.
    Returns the ids of the jobs it failed.
    """
    if timeout_seconds is None:
        timeout_seconds = settings.IMPORT_HEARTBEAT_TIMEOUT_SECONDS
    cutoff = timezone.now() - timedelta(seconds=timeout_seconds)
    failed: list[int] = []
    with transaction.atomic():
        lost = (
            ImportJob.objects.select_for_update(skip_locked=True)
            .filter(status=ImportJob.Status.RUNNING, heartbeat_at__lt=cutoff)
            .order_by("pk")
        )
        for job in lost:
            _finish(job, ImportJob.Status.FAILED, error=WORKER_LOST_MESSAGE)
            emit("import.failed", _event_data(job))
            failed.append(job.pk)
    return failed


def import_jobs_requeue_stale(*, after_seconds: float | None = None) -> list[int]:
    """Send again the task of jobs still queued `after_seconds` after their last send, and
    at once the task of jobs whose send failed (no enqueued_at: the broker was down).

    A message can be lost (a broker restarted without persistence). Sending it again is
    safe: the claim runs a job once however many messages arrive. Jobs the command created
    and never claimed (it stopped before running them; they have no stored file to run from)
    are failed instead. Returns the ids sent.
    """
    if after_seconds is None:
        after_seconds = settings.IMPORT_REQUEUE_AFTER_SECONDS
    now = timezone.now()
    cutoff = now - timedelta(seconds=after_seconds)
    with transaction.atomic():
        stale = list(
            ImportJob.objects.select_for_update(skip_locked=True)
            .filter(Q(enqueued_at__lt=cutoff) | Q(enqueued_at=None), status=ImportJob.Status.QUEUED)
            .filter(~Q(file="") | Q(kind=ImportJob.Kind.REVERT))  # a revert has no file
            .order_by("pk")
            .values_list("pk", "size")
        )
        ImportJob.objects.filter(pk__in=[pk for pk, _ in stale]).update(enqueued_at=now)
        for pk, size in stale:
            transaction.on_commit(partial(_enqueue, pk, size))
        ImportJob.objects.filter(
            status=ImportJob.Status.QUEUED,
            kind=ImportJob.Kind.IMPORT,
            file="",
            enqueued_at=None,
            created_at__lt=cutoff,
        ).update(status=ImportJob.Status.FAILED, error=COMMAND_STOPPED_MESSAGE, finished_at=now)
    return [pk for pk, _ in stale]


def import_jobs_delete_expired_files(
    *, retention_days: float | None = None, batch: int = 500
) -> int:
    """Delete the stored uploads and error reports of imports finished more than
    `retention_days` ago (IMPORT_FILE_RETENTION_DAYS; 0 keeps them forever). The job rows,
    their counts and history stay; such a job can no longer be retried. At most `batch`
    jobs per call; returns how many lost their files."""
    if retention_days is None:
        retention_days = settings.IMPORT_FILE_RETENTION_DAYS
    if retention_days <= 0:
        return 0
    cutoff = timezone.now() - timedelta(days=retention_days)
    with transaction.atomic():
        expired = list(
            ImportJob.objects.select_for_update(skip_locked=True)
            .filter(finished_at__lt=cutoff)
            .exclude(file="", error_report="")
            .order_by("finished_at")[:batch]
        )
        stored = [(f.storage, f.name) for job in expired for f in (job.file, job.error_report)]
        for job in expired:
            job.file = job.error_report = ""
            job.save(update_fields=["file", "error_report"])
        # An upload is shared by a validation and the import of it (import_job_commit):
        # deleted once no job references it.
        names = [name for _, name in stored if name]
        kept = set(ImportJob.objects.filter(file__in=names).values_list("file", flat=True))
        for storage, name in stored:
            if name and name not in kept:
                # Only once the row no longer points at it, and never on a rollback.
                transaction.on_commit(partial(_delete_file, storage, name))
    return len(expired)


def import_reports_delete_orphans(*, older_than_seconds: float = ORPHAN_REPORT_AGE_SECONDS) -> int:
    """Delete stored error reports that no job references and that are older than
    `older_than_seconds`: those of outcomes whose transaction never committed (a worker
    killed between storing its report and its commit). Younger files may belong to a
    transaction about to commit. Returns how many were deleted."""
    storage = ImportJob._meta.get_field("error_report").storage
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    candidates = [
        name
        for name in _stored_files(storage, REPORTS_FOLDER)
        if storage.get_modified_time(name) < cutoff
    ]
    referenced = set(
        ImportJob.objects.filter(error_report__in=candidates).values_list("error_report", flat=True)
    )
    orphans = [name for name in candidates if name not in referenced]
    for name in orphans:
        _delete_file(storage, name)
    return len(orphans)


def _stored_files(storage, folder: str) -> list[str]:
    if not storage.exists(folder):
        return []
    folders, files = storage.listdir(folder)
    found = [f"{folder}/{name}" for name in files]
    for sub in folders:
        found.extend(_stored_files(storage, f"{folder}/{sub}"))
    return found


def _delete_file(storage, name: str) -> None:
    try:
        storage.delete(name)
    except OSError as exc:
        logger.warning("import file %s not deleted (%s); delete it by hand", name, exc)
