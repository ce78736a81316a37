"""The staging table an import COPYs its valid records into before the merge.

A temporary table: private to the import's session, never WAL-logged, without indexes,
dropped with the transaction (and explicitly, for callers inside a longer transaction).

Rows go through psycopg 3's `cursor.copy()` in PostgreSQL's text format, about a megabyte
per `write`. Formatting is done per batch, not per field: imports.csv_records hands over
each valid record as one string, its fields joined by NUL and a value the file does not give
as "\\x03"; a batch is joined by "\\x01" and escaped with a handful of `str.replace` passes
over the whole batch (backslash, tab, newline, carriage return), then the separators become
tab, newline and \\N. No valid record holds the separators: they are control characters,
refused in every product text (products.text_rules).
"""

from __future__ import annotations

from psycopg.copy import QueuedLibpqWriter

from .csv_records import NOT_GIVEN

STAGING_TABLE = "import_staging"
COPY_CHUNK_CHARS = 1 << 20

CREATE_STAGING = f"""
CREATE TEMPORARY TABLE {STAGING_TABLE} (
    record_no bigint NOT NULL,
    sku text NOT NULL,
    name text NOT NULL,
    -- NULL: the file gives no value (imports.csv_records.COLUMNS), see MERGED_VALUES
    description text,
    active boolean,
    -- The merge's key, computed by PostgreSQL while it ingests the COPY (on the other core
    -- while Python parses on), never again per statement; PostgreSQL's lower(), as in the
    -- catalogue's unique index, not Python's str.lower().
    sku_key text GENERATED ALWAYS AS (lower(sku)) STORED
) ON COMMIT DROP
"""
COPY_STAGING = f"COPY {STAGING_TABLE} (record_no, sku, name, description, active) FROM STDIN"

# What a staged row `s` makes of the catalogue's columns: for an existing product `p`, the
# file's value, or the stored one where the file gives none (NULL: a column the file does
# not have is never written); for a new product, the file's value or the column's default.
# Every merge road (imports.merge, imports.rebuild) and validate only use these.
MERGED_VALUES = {
    "sku": "s.sku",
    "name": "s.name",
    "description": "coalesce(s.description, p.description)",
    "active": "coalesce(s.active, p.active)",
}
NEW_VALUES = {
    "sku": "s.sku",
    "name": "s.name",
    "description": "coalesce(s.description, '')",
    "active": "coalesce(s.active, true)",
}
# Whether staged row `s` changes product `p`.
DIFFERS = (
    f"({', '.join(f'p.{column}' for column in MERGED_VALUES)}) "
    f"IS DISTINCT FROM ({', '.join(MERGED_VALUES.values())})"
)


def create_staging(cursor) -> None:
    cursor.execute(f"DROP TABLE IF EXISTS {STAGING_TABLE}")
    cursor.execute(CREATE_STAGING)


def drop_staging(cursor) -> None:
    cursor.execute(f"DROP TABLE IF EXISTS {STAGING_TABLE}")


def _escape(value: str) -> str:
    return (
        value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    )


def format_rows(rows: list[str]) -> str:
    """COPY text for rows built by csv_records.make_record_checker."""
    if not rows:
        return ""
    return (
        _escape("\x01".join(rows) + "\x01")
        .replace("\x00", "\t")
        .replace("\x01", "\n")
        .replace(NOT_GIVEN, "\\N")
    )


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
        # psycopg's own queue (interruptible waits), bounded lower: put() reads maxsize.
        self._queue.maxsize = self.QUEUED_CHUNKS


class StagingCopy:
    """Send batches of staging rows to an open COPY in chunks of about a megabyte."""

    def __init__(self, copy):
        self.copy = copy
        self.pending: list[str] = []
        self.pending_chars = 0

    def write_rows(self, rows: list[str]) -> None:
        text = format_rows(rows)
        self.pending.append(text)
        self.pending_chars += len(text)
        if self.pending_chars >= COPY_CHUNK_CHARS:
            self.flush()

    def flush(self) -> None:
        if self.pending_chars:
            self.copy.write("".join(self.pending))
            self.pending = []
            self.pending_chars = 0
