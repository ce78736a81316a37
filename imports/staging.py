"""The staging table an import COPYs its valid records into before the merge.

A temporary table: private to the import's session, never WAL-logged, dropped with the
transaction (and explicitly, for callers that run inside a longer outer transaction).
Rows are sent with psycopg 3's `cursor.copy()` as CSV text formatted by the csv module's C
writer, in chunks of about a megabyte, so neither Python nor the server handles one row at
a time over the wire.
"""

from __future__ import annotations

import csv
import io

STAGING_TABLE = "import_staging"
COPY_CHUNK_CHARS = 1 << 20

CREATE_STAGING = f"""
CREATE TEMPORARY TABLE {STAGING_TABLE} (
    record_no bigint NOT NULL,
    sku text NOT NULL,
    name text NOT NULL,
    description text,          -- NULL means empty (CSV COPY reads an empty cell as NULL)
    active boolean             -- NULL: no value in the file (new: active, existing: keep)
) ON COMMIT DROP
"""
COPY_STAGING = (
    f"COPY {STAGING_TABLE} (record_no, sku, name, description, active) FROM STDIN (FORMAT csv)"
)


def create_staging(cursor) -> None:
    cursor.execute(f"DROP TABLE IF EXISTS {STAGING_TABLE}")
    cursor.execute(CREATE_STAGING)


def drop_staging(cursor) -> None:
    cursor.execute(f"DROP TABLE IF EXISTS {STAGING_TABLE}")


class StagingCopy:
    """Buffer rows `(record_no, sku, name, description, active)` and COPY them in chunks."""

    def __init__(self, copy):
        self.copy = copy
        self.buffer = io.StringIO()
        self.writer = csv.writer(self.buffer, lineterminator="\n")
        self.rows_sent = 0

    def write_rows(self, rows: list[tuple]) -> None:
        self.writer.writerows(rows)
        self.rows_sent += len(rows)
        if self.buffer.tell() >= COPY_CHUNK_CHARS:
            self.flush()

    def flush(self) -> None:
        if self.buffer.tell():
            self.copy.write(self.buffer.getvalue())
            self.buffer = io.StringIO()
            self.writer = csv.writer(self.buffer, lineterminator="\n")
