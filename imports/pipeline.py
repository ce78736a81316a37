"""The import pipeline: a CSV stream in, a merged catalogue (or an untouched one) out.

Used alike by the Celery task and the `import_products` command (through imports.services);
it records nothing about jobs and emits no events, its caller does, except the job's change
set (imports.change_set), which the merge writes as it merges when given the job's id.

Steps (one transaction, on Django's default connection; a savepoint when the caller is
already in a transaction):

1. parsing: the file's first block (imports.detection.DETECTION_BYTES) settles how it is
   read: the encoding and delimiter chosen, or detected when AUTO (UTF-8 with or without BOM,
   UTF-16, cp1252, latin-1; comma, semicolon, tab, pipe). Then the file is read as a stream
   of ~1 MB byte chunks, each cut after its last newline and decoded on its own (a UTF-16
   file is transcoded to UTF-8 first, chunk by chunk); a byte the encoding cannot decode
   fails the import naming its line; a UTF-32 byte order mark, a UTF-16 one in a file read
   as another encoding, or a header cell holding NUL (UTF-16 without one that was not
   detected), fails it naming the encoding. The first non-blank record is the header: the
   requested mapping names some fields' columns, the others are suggested (names and
   aliases, case and spacing ignored: imports.column_mapping); `sku` and `name` required,
   `description` and `active` optional (imports.csv_records.COLUMNS: a field the file lacks,
   or the mapping leaves out, is never written), other columns ignored and listed in
   `ImportResult.unknown_columns`. An empty file, or a header without records, fails.
2. validating: the csv module (C) parses each record (quoted commas, doubled quotes and
   newlines are data; multi-line records are numbered by the line where they start). A
   record is rejected with its record number, line and reason when its field count differs
   from the header's, sku or name is empty after trimming, sku or name is longer than
   Product's max_length (csv_records.FIELD_LIMITS), a value holds a control character
   (products.text_rules), or `active` is not one of csv_records.ACTIVE_SPELLINGS. sku, name and
   description are unescaped first (products.formula_escaping), so an export imports back
   unchanged. Rejections go to the report CSV (record, line, reason, original fields,
   escaped the same way).
3. loading: valid records, numbered, are COPYed (psycopg 3 `cursor.copy`, PostgreSQL's text
   format escaped per ~1 MB batch, see imports.staging) into a temporary staging table
   *during* the same pass as steps 1-2, so PostgreSQL ingests while Python parses. The
   "loading" phase is what remains once the file is read: finishing the COPY, keeping the
   last valid record per lower(sku), ANALYZE.
4. merging: see imports.merge: one advisory lock serializes merges; one join classifies
   the staged SKUs; UPDATE of existing products whose values differ (unchanged rows are not
   rewritten and keep updated_at); plain INSERT of new SKUs; counts from the database; the
   GIN pending lists are flushed so searches right after the import are fast.
   Validate only stops after the classifying join (imports.merge.classify_staged): the
   created / updated / unchanged counts are what the UPDATE and INSERT would report, taken
   from the database under the same lock, and products_product is never written, so a dry
   run of a big file costs no catalogue writes, WAL or index maintenance (at 500k rows
   with the trigram indexes, the rolled-back merge it replaces cost tens of seconds).
   With a job id, each road records the products it creates and updates, with the values
   before and after (imports.change_set), validate only included.
   Sync mode (imports.sync, opt-in): then, under the same lock, the products no staged
   record names are deactivated or deleted (validate only: counted), each recorded in the
   change set; a file with rejected records fails before the merge, as in strict mode.
5. commit (validate only too: it wrote only its change set; the staging table is dropped
   explicitly, and with the transaction); strict mode
   fails before the merge if any record was rejected (the whole file is still checked, so
   the report lists every rejection).

On ImportFailed, ImportCancelled or any other exception the transaction (or savepoint) is
rolled back: the catalogue is unchanged and the staging table is gone.

Progress: `on_progress` is called on every phase change, on every step of the merge and at
most every 0.25 s within a phase (records and bytes advance during "validating", the
streaming pass); `should_cancel` is polled between batches of 2,048 records (at most every
0.2 s), before the merge and before each of the merge's steps (so a cancel waits at most
for the step in progress, such as one index build), never after the last one.

Performance design (figures and the command that prints them: bench/imports_pipeline.py):
- one pass over the file, never whole in memory: memory is bounded by a read chunk, one
  COPY chunk, the writer's short queue and one batch of records, whatever the file size
  (peak RSS ~100 MB at 50k, 500k and 2.5M rows, most of it Django itself);
- parsing in C (csv module over lines split in C); per record Python only checks and
  formats one string; escaping for COPY is a few `str.replace` passes per 1 MB batch;
  psycopg's threaded COPY writer (queue bounded to 4 MB) sends while Python parses on;
- the staging table is temporary (no WAL, no index, private); PostgreSQL parses the COPY on
  the other core while Python reads on;
- the merge is set-based: hash aggregate for duplicates, one hash join to classify, then
  only the statements that have work; unchanged rows are never written or locked (an
  identical re-import writes nothing to the catalogue); new SKUs use a plain INSERT (no
  per-row speculative insertion of ON CONFLICT); work_mem is raised with SET LOCAL for
  this transaction only;
- commits stay durable (no synchronous_commit tricks, no unlogged catalogue).
The catalogue's indexes, and why they are kept (the search/import trade-off):
products.models has five btrees and three pg_trgm GIN indexes (lower(sku), lower(name),
lower(description)); the products pages need the trigram ones for contains-searches under 50
ms at 500k rows (without the description one a rare description search scans the table: 460
ms-1.1 s). Their cost, measured at 470k rows on this 2-core machine (PostgreSQL 18):
extracting the description trigrams alone takes ~8 s of CPU (64M trigrams); building the
description index ~15-16 s (with parallel workers; 26 s on PostgreSQL 15), sku and name ~5
s, all btrees ~2 s; maintaining them row by row instead costs 45-55 s. A full-text
(tsvector) index on description would still cost ~5 s to parse plus ~9 s to build
(PostgreSQL 15) and would only match words, not substrings. So the physical floor of a
search-ready import is COPY plus building every catalogue index once, and the targets are
stated against that floor (bench/imports_pipeline.py TARGETS: empty and every row changed
<= 1.25x it, an identical re-import <= 6x raw COPY). The design keeps fresh, synchronous
indexes (every product is findable by every filter the moment the import commits) and pays
for them as cheaply as PostgreSQL allows:
- a merge writing at least IMPORT_REBUILD_MIN_ROWS rows and REBUILD_MIN_SHARE of the
  catalogue (a first load, a re-import where most rows changed) builds the merged catalogue
  in a new table and builds each index once (imports.rebuild): 2x faster than row-by-row
  maintenance, readers never blocked by it;
- smaller merges write in place; gin_pending_list_limit is raised so the GIN pending lists
  are merged in fewer, larger sorted batches (with work_mem as their sort memory), and
  flushed before commit so searches right after an import are fast;
- an identical re-import writes nothing.
What is left over that floor is Python's parse, the duplicate and classifying joins, writing
the merged rows a second time (from staging), ANALYZE and the change set (imports.change_set);
bench/imports_pipeline.py prints each statement's share (--statements), the figures are in
bench/README.md.
Building the trigram indexes after commit instead (CREATE INDEX CONCURRENTLY) would at best
be borderline (about 8 s to commit at 500k: parse, load, classify, copy and btrees; 10-15x
the floor) and would leave searches slow for ~20 s after every big import, with an invalid
index to repair if the worker dies meanwhile; not taken without a product decision.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, BinaryIO

from django.db import connection, transaction

from .column_mapping import Mapping, read_header
from .csv_records import (
    DecodedLines,
    InvalidFile,
    RejectionReport,
    csv_reader,
    make_record_checker,
)
from .detection import AUTO, UnsupportedSetting, read_head, settle
from .merge import (
    analyze_staging,
    apply_merge_settings,
    classify_staged,
    drop_superseded,
    flush_gin_pending_lists,
    merge_into_catalogue,
)
from .models import ImportJob
from .staging import (
    COPY_STAGING,
    BoundedQueuedWriter,
    StagingCopy,
    create_staging,
    drop_staging,
)
from .sync import count_missing, sync_catalogue
from .workbook_records import WorkbookRows

PHASES = tuple(ImportJob.Phase.values)  # in the order they run

PROGRESS_INTERVAL_SECONDS = 0.25
CANCEL_CHECK_INTERVAL_SECONDS = 0.2
RECORDS_PER_BATCH = 2048


@dataclass(frozen=True)
class ImportOptions:
    encoding: str = AUTO  # imports.detection: a key of ENCODINGS, or AUTO
    delimiter: str = AUTO  # a key of DELIMITERS, or AUTO
    validate_only: bool = False
    strict: bool = False
    # imports.uploads.FILE_FORMATS: "csv", or "xlsx" (read by imports.workbook_records;
    # encoding and delimiter do not apply, `sheet` names the sheet, "" for the first).
    file_format: str = "csv"
    sheet: str = ""
    # Requested columns (imports.column_mapping): the fields it leaves unnamed are suggested.
    mapping: Mapping = field(default_factory=dict)
    # Sync mode (imports.sync, ImportJob.Sync): "" off, "deactivate" or "delete" the products
    # the file does not name.
    sync: str = ""


@dataclass(frozen=True)
class Progress:
    phase: str
    records_processed: int
    bytes_processed: int
    bytes_total: int | None
    # What the phase is doing now, when it has steps a user can follow ("building index 3
    # of 8"); None while walking the file.
    step: str | None = None


@dataclass
class ImportResult:
    rows_read: int = 0
    rows_valid: int = 0
    rows_rejected: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deactivated: int = 0
    deleted: int = 0
    # A revert's counts (imports.revert); an import leaves them at 0.
    restored: int = 0
    conflicts: int = 0
    unknown_columns: list[str] = field(default_factory=list)
    durations: dict[str, float] = field(default_factory=dict)
    validate_only: bool = False
    # How the file was read (detected or as chosen) and the columns each field came from;
    # empty until the header was read.
    encoding: str = ""
    delimiter: str = ""
    mapping: Mapping = field(default_factory=dict)


class ImportFailed(Exception):
    """str(exc) is a message a user can act on; `.result` may hold partial counts or be None."""

    def __init__(self, message: str, result: ImportResult | None = None):
        super().__init__(message)
        self.result = result


class ImportCancelled(Exception):
    pass


class _Tracker:
    """Phase durations, throttled progress calls and throttled cancellation checks."""

    def __init__(self, result, on_progress, should_cancel, bytes_total):
        self.result = result
        self.on_progress = on_progress
        self.should_cancel = should_cancel
        self.bytes_total = bytes_total
        self.phase: str | None = None
        self.phase_started = 0.0
        self.last_progress = 0.0
        self.last_cancel_check = float("-inf")
        self.records = 0
        self.bytes = 0
        self.step_text: str | None = None

    def enter(self, phase: str) -> None:
        self.close_phase()
        self.phase = phase
        self.step_text = None
        self.phase_started = time.monotonic()
        self._emit(self.phase_started)

    def step(self, text: str) -> None:
        """A step within the phase (few per import: always reported); a cancel asked
        meanwhile stops the import here, before the step's work."""
        self.step_text = text
        self._emit(time.monotonic())
        self.check_cancel()

    def close_phase(self) -> None:
        if self.phase is not None:
            elapsed = time.monotonic() - self.phase_started
            self.result.durations[self.phase] = self.result.durations.get(self.phase, 0) + elapsed
            self.phase = None

    def tick(self, records: int, bytes_processed: int) -> None:
        self.records, self.bytes = records, bytes_processed
        now = time.monotonic()
        if now - self.last_progress >= PROGRESS_INTERVAL_SECONDS:
            self._emit(now)
        if now - self.last_cancel_check >= CANCEL_CHECK_INTERVAL_SECONDS:
            self.check_cancel()

    def check_cancel(self) -> None:
        self.last_cancel_check = time.monotonic()
        if self.should_cancel is not None and self.should_cancel():
            raise ImportCancelled("the import was cancelled")

    def _emit(self, now: float) -> None:
        self.last_progress = now
        if self.on_progress is not None and self.phase is not None:
            self.on_progress(
                Progress(self.phase, self.records, self.bytes, self.bytes_total, self.step_text)
            )


def run_import(
    *,
    source: BinaryIO,
    options: ImportOptions,
    report: IO[str] | None = None,
    bytes_total: int | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
    on_validated: Callable[[ImportResult], None] | None = None,
    job_id: int | None = None,
) -> ImportResult:
    """Import a product CSV into the catalogue; see the module docstring for the steps.

    `on_validated` is called once validation ends, when the report is complete and before
    the merge takes any lock on the catalogue (the caller stores the report then). With
    `job_id`, the products created and updated are recorded as that job's change set."""
    result = ImportResult(validate_only=options.validate_only)
    tracker = _Tracker(result, on_progress, should_cancel, bytes_total)
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            _import(cursor, source, options, report, result, tracker, on_validated, job_id)
    except (InvalidFile, UnsupportedSetting) as exc:
        raise ImportFailed(str(exc), result) from None
    finally:
        tracker.close_phase()
    return result


def _import(cursor, source, options, report, result, tracker, on_validated, job_id) -> None:
    tracker.enter("parsing")
    lines, reader = _open_records(source, options, result)
    header_fields = read_header_fields(reader)
    header = read_header(header_fields, options.mapping)
    result.unknown_columns = header.unknown_columns
    result.mapping = header.mapping
    rejections = RejectionReport(report, header_fields, position=lines.position)
    create_staging(cursor)

    tracker.enter("validating")
    first_rejection = _stream_records(
        cursor, reader, lines, header, rejections, options, result, tracker
    )
    if result.rows_read == 0:
        raise InvalidFile("the file has a header but no records")
    if (options.strict or options.sync) and result.rows_rejected:
        rejected = (
            f"{result.rows_rejected} record{'s' if result.rows_rejected > 1 else ''} rejected "
            f"(first: {first_rejection})"
        )
        if options.strict:
            raise ImportFailed(f"strict mode: {rejected}", result)
        raise ImportFailed(
            f"sync mode needs every record valid: {rejected}; the products of rejected records "
            "are not in the file and would be "
            f"{'deleted' if options.sync == ImportJob.Sync.DELETE else 'deactivated'}. Fix them "
            "and import the file again",
            result,
        )
    tracker.check_cancel()
    if on_validated is not None:
        on_validated(result)  # the report's last line is written

    tracker.enter("loading")
    apply_merge_settings(cursor)
    staged = result.rows_valid - drop_superseded(cursor)
    analyze_staging(cursor)
    tracker.check_cancel()

    tracker.enter("merging")
    if options.validate_only:
        # The catalogue is only read: the counts (and the change set) from the classifying
        # join, no UPDATE or INSERT.
        counts = classify_staged(cursor, staged=staged, job_id=job_id)
    else:
        counts = merge_into_catalogue(cursor, staged=staged, on_step=tracker.step, job_id=job_id)
    synced = 0
    if options.sync:
        if options.validate_only:
            synced = count_missing(cursor, mode=options.sync, job_id=job_id)
        else:
            what = "deleting" if options.sync == ImportJob.Sync.DELETE else "deactivating"
            tracker.step(f"{what} the products the file does not name")
            synced = sync_catalogue(cursor, mode=options.sync, job_id=job_id)
        if options.sync == ImportJob.Sync.DELETE:
            result.deleted = synced
        else:
            result.deactivated = synced
    wrote = ((counts.created or counts.updated) and not counts.rebuilt) or synced
    if wrote and not options.validate_only:
        tracker.step("bringing the search indexes up to date")
        flush_gin_pending_lists(cursor)
    result.created, result.updated, result.unchanged = (
        counts.created,
        counts.updated,
        counts.unchanged,
    )
    drop_staging(cursor)
    tracker.close_phase()


def _open_records(source: BinaryIO, options: ImportOptions, result: ImportResult):
    """(lines, reader): what tracks position, bytes read and the text flags the checks
    read, and the iterator of records (lists of str). One object for a workbook. A CSV's
    encoding and delimiter are settled from its first block (chosen, or detected), and
    recorded in `result`."""
    if options.file_format == "xlsx":
        rows = WorkbookRows(source, sheet=options.sheet)
        return rows, rows
    head, source = read_head(source)
    read_as = settle(head, encoding=options.encoding, delimiter=options.delimiter)
    result.encoding, result.delimiter = read_as.encoding, read_as.delimiter
    lines = DecodedLines(source, read_as.encoding)
    return lines, csv_reader(lines, read_as.delimiter)


def read_header_fields(reader) -> list[str]:
    """The first non-blank record: the header (imports.preview reads it the same way)."""
    try:
        for fields in reader:
            if any(cell.strip() for cell in fields):
                return fields
    except csv.Error as exc:
        raise InvalidFile(f"line {reader.line_num}: the header cannot be read ({exc})") from None
    raise InvalidFile("the file is empty")


def _stream_records(cursor, reader, lines, header, rejections, options, result, tracker) -> str:
    """Parse, check and COPY every record; return the first rejection as text ("" if none)."""
    batch: list[str] = []
    check = make_record_checker(header, batch, lines)
    strict = options.strict
    first_rejection = ""
    record_no = rows_rejected = 0
    previous_line_end = reader.line_num
    raw_cursor = cursor.cursor
    with raw_cursor.copy(COPY_STAGING, writer=BoundedQueuedWriter(raw_cursor)) as copy:
        staging = StagingCopy(copy)
        try:
            for fields in reader:
                line_end = reader.line_num
                if not fields:  # a blank line between records
                    previous_line_end = line_end
                    continue
                record_no += 1
                # a record spanning lines may hold a line break in its sku or name
                reason = check(fields, record_no, line_end - previous_line_end > 1)
                if reason is not None:
                    rows_rejected += 1
                    line = previous_line_end + 1
                    rejections.add(record_no, line, reason, fields)
                    if not first_rejection:
                        first_rejection = f"record {record_no}, {lines.position} {line}: {reason}"
                previous_line_end = line_end
                if record_no % RECORDS_PER_BATCH == 0:
                    _send(staging, batch, lines, strict and rows_rejected > 0)
                    result.rows_read, result.rows_rejected = record_no, rows_rejected
                    result.rows_valid = record_no - rows_rejected
                    tracker.tick(record_no, lines.bytes_read)
        except csv.Error as exc:
            raise InvalidFile(
                f"record {record_no + 1}, line {previous_line_end + 1}: the record cannot be "
                f"read ({exc}); is a quote left open?"
            ) from None
        _send(staging, batch, lines, strict and rows_rejected > 0)
        staging.flush()
    result.rows_read, result.rows_rejected = record_no, rows_rejected
    result.rows_valid = record_no - rows_rejected
    tracker.tick(record_no, lines.bytes_read)
    return first_rejection


def _send(staging: StagingCopy, batch: list[str], lines: DecodedLines, discard: bool) -> None:
    # A strict import that has rejected a record will fail: stop loading, keep validating.
    if not discard:
        staging.write_rows(batch)
    batch.clear()
