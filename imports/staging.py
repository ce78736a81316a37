"""The staging table an import COPYs its valid records into before the merge.

A temporary table: private to the import's session, never WAL-logged, without indexes,
dropped with the transaction (and explicitly, for callers inside a longer transaction).

Rows go through psycopg 3's `cursor.copy()` in PostgreSQL's text format, about a megabyte
per `write`. Formatting is done per batch, not per field: imports.csv_records hands over
each valid record as one string, its fields joined by NUL (a character no stored text can
hold) and an unknown `active` as "\\x03"; a batch is joined by "\\x01" and escaped with a
handful of `str.replace` passes over the whole batch (backslash, tab, newline, carriage
return), then the separators become tab, newline and \\N. When the file itself contains
"\\x01" or "\\x03" (csv_records.DecodedLines.saw_control), rows are escaped field by field.
"""

from __future__ import annotations

from queue import Queue

from psycopg.copy import QueuedLibpqWriter

from .csv_records import ACTIVE_UNKNOWN

STAGING_TABLE = "import_staging"
COPY_CHUNK_CHARS = 1 << 20

CREATE_STAGING = f"""
CREATE TEMPORARY TABLE {STAGING_TABLE} (
    record_no bigint NOT NULL,
    sku text NOT NULL,
    name text NOT NULL,
    description text NOT NULL,
    active boolean,            -- NULL: no value in the file (new: active, existing: keep)
    -- The merge's key, computed by PostgreSQL while it ingests the COPY (on the other core
    -- while Python parses on), never again per statement; PostgreSQL's lower(), as in the
    -- catalogue's unique index, not Python's str.lower().
    sku_key text GENERATED ALWAYS AS (lower(sku)) STORED
) ON COMMIT DROP
"""
COPY_STAGING = f"COPY {STAGING_TABLE} (record_no, sku, name, description, active) FROM STDIN"


def create_staging(cursor) -> None:
    cursor.execute(f"DROP TABLE IF EXISTS {STAGING_TABLE}")
    cursor.execute(CREATE_STAGING)


def drop_staging(cursor) -> None:
    cursor.execute(f"DROP TABLE IF EXISTS {STAGING_TABLE}")


def _escape(value: str) -> str:
    return (
        value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    )


def format_rows(rows: list[str], *, data_has_separators: bool) -> str:
    """COPY text for rows built by csv_records.make_record_checker."""
    if not rows:
        return ""
    if not data_has_separators:
        return (
            _escape("\x01".join(rows) + "\x01")
            .replace("\x00", "\t")
            .replace("\x01", "\n")
            .replace(ACTIVE_UNKNOWN, "\\N")
        )
    lines = []
    for row in rows:
        *fields, active = row.split("\x00")
        fields = [_escape(field) for field in fields]
        fields.append("\\N" if active == ACTIVE_UNKNOWN else active)
        lines.append("\t".join(fields))
    return "\n".join(lines) + "\n"


class BoundedQueuedWriter(QueuedLibpqWriter):
    """psycopg's threaded COPY writer with a short queue.

    `copy.write()` hands each chunk to a thread that sends it, so Python parses the next
    records while the previous ones are on the wire (a plain writer blocks until libpq has
    flushed). psycopg's own queue holds up to 1,024 x 128 KB; 32 keeps at most 4 MB in
    flight, so memory stays flat however slow the server is.
    """

    QUEUED_CHUNKS = 32

    def __init__(self, cursor):
        super().__init__(cursor)
        self._queue = Queue(maxsize=self.QUEUED_CHUNKS)


class StagingCopy:
    """Send batches of staging rows to an open COPY in chunks of about a megabyte."""

    def __init__(self, copy):
        self.copy = copy
        self.pending: list[str] = []
        self.pending_chars = 0

    def write_rows(self, rows: list[str], *, data_has_separators: bool) -> None:
        text = format_rows(rows, data_has_separators=data_has_separators)
        self.pending.append(text)
        self.pending_chars += len(text)
        if self.pending_chars >= COPY_CHUNK_CHARS:
            self.flush()

    def flush(self) -> None:
        if self.pending_chars:
            self.copy.write("".join(self.pending))
            self.pending = []
            self.pending_chars = 0
