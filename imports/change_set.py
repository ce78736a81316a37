"""An import's change set: the one module that writes ImportChange rows.

Every statement here is set-based (INSERT ... SELECT, or a data-modifying CTE around the
merge's own statement) and runs in the job's own transaction, so the change set commits or
rolls back with the merge it describes. Rows are written only for products a job creates or
updates (or deletes / deactivates, for the kinds that do); an unchanged product gets none.

What the merge roads record (imports.merge, imports.rebuild):

- updated, catalogue locked (a bulk merge holds REBUILD_LOCK_MODE, so nothing changes
  between statements): `record_updated` before the UPDATE or the rebuild, from the same join
  and predicate (imports.staging.DIFFERS) the merge writes with;
- updated, catalogue not locked (a small in-place merge, page writes go on):
  `UPDATE_CHANGED_RECORDED` replaces the merge's UPDATE: it locks the rows that differ
  (FOR UPDATE, so `before` is what the UPDATE overwrites, even if a page wrote meanwhile),
  updates exactly those and records exactly those, in one statement;
- created: `recording_created` wraps the merge's INSERT of new SKUs (in place or into the
  rebuilt table) in a CTE, so the new products' ids come from its RETURNING;
- validate only: `record_and_classify` writes both kinds from one join and returns the
  counts (it replaces the classifying join); created rows have no product id.

`before` and `after` of an updated product hold only the columns that change, so a column
the file lacks (NULL in staging, imports.staging.MERGED_VALUES) is never shown as changed.
`after` of a created product holds every column the import writes, as written.
`product_updated_at` is the product's updated_at as the job left it (now(), the
transaction's time, which the merge writes into updated_at); in validate only, the
product's current updated_at.

Other writers: a delete-all on a catalogue that cannot be set aside records every product as
deleted, the whole row (`record_deleted_all`, imports.deleted_products); a revert records its
conflicts (imports.revert).

Rows are deleted with the job's stored files after IMPORT_FILE_RETENTION_DAYS
(`delete_expired`, from the same housekeeping task).
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from acme.lib.batched_delete import DEFAULT_BATCH_SIZE, delete_in_batches
from products.models import Product

from .models import ImportChange
from .staging import DIFFERS, MERGED_VALUES, NEW_VALUES, STAGING_TABLE

CHANGES = ImportChange._meta.db_table
# Every statement inserts a job's changes in SKU order: importchange_job_sku_lower then grows
# at its right edge like importchange_job_kind_id (the ids follow the insert order), instead
# of taking each key at a random leaf. Measured at 470k changed rows (bench/imports_pipeline.py
# conditions, loaded machine): 42-51 s in join order, 28 s sorted, 18-29 s without that
# index; the sort itself ~1.5 s, in memory (the merge's work_mem).
IN_SKU_ORDER = "ORDER BY lower({})"
PRODUCTS = Product._meta.db_table
COLUMNS = "job_id, kind, product_id, sku, before, after, product_updated_at"
CREATED = ImportChange.Kind.CREATED.value
UPDATED = ImportChange.Kind.UPDATED.value
DEACTIVATED = ImportChange.Kind.DEACTIVATED.value
DELETED = ImportChange.Kind.DELETED.value

# The names of the columns an import writes whose value the staged row `s` leaves as it is
# on product `p` (a text[] with NULL for each column that changes; `jsonb - text[]` drops the
# named keys and ignores the NULLs).
_SAME = "ARRAY[{}]::text[]".format(
    ", ".join(
        f"CASE WHEN p.{column} IS NOT DISTINCT FROM {value} THEN '{column}' END"
        for column, value in MERGED_VALUES.items()
    )
)
_OLD = "jsonb_build_object({})".format(", ".join(f"'{c}', p.{c}" for c in MERGED_VALUES))
_NEW = "jsonb_build_object({})".format(
    ", ".join(f"'{c}', {value}" for c, value in MERGED_VALUES.items())
)
# Only the columns that change, old and new values.
BEFORE = f"{_OLD} - same.columns"
AFTER = f"{_NEW} - same.columns"
# What a new product's row gets from staged row `s`.
CREATED_AFTER = "jsonb_build_object({})".format(
    ", ".join(f"'{c}', {value}" for c, value in NEW_VALUES.items())
)


def _changed_rows(*, lock: bool) -> str:
    """The staged rows that change a product: its id, the staged values (as staging's
    columns), the product's sku as it will be, before and after."""
    return f"""
SELECT p.id, s.sku, s.name, s.description, s.active, {BEFORE} AS before, {AFTER} AS after
FROM {STAGING_TABLE} AS s
JOIN {PRODUCTS} AS p ON lower(p.sku) = s.sku_key
CROSS JOIN LATERAL (SELECT {_SAME} AS columns) AS same
WHERE {DIFFERS}
{"FOR UPDATE OF p" if lock else ""}
"""


RECORD_UPDATED = f"""
INSERT INTO {CHANGES} ({COLUMNS})
SELECT %(job)s, '{UPDATED}', changed.id, changed.sku, changed.before, changed.after, now()
FROM ({_changed_rows(lock=False)}) AS changed
{IN_SKU_ORDER.format("changed.sku")}
"""


def _update_changed_recorded(*, lock: bool) -> str:
    """The merge's UPDATE of products that differ, recording each one it writes. The CTE
    `s` carries the staged values under staging's column names, so MERGED_VALUES apply as
    in imports.merge.UPDATE_CHANGED. With `lock`, the rows are locked as they are read."""
    return f"""
WITH s AS MATERIALIZED ({_changed_rows(lock=lock)}),
written AS (
    UPDATE {PRODUCTS} AS p
    SET {", ".join(f"{column} = {value}" for column, value in MERGED_VALUES.items())},
        updated_at = now()
    FROM s
    WHERE p.id = s.id
    RETURNING p.id, p.sku, p.updated_at
)
INSERT INTO {CHANGES} ({COLUMNS})
SELECT %(job)s, '{UPDATED}', written.id, written.sku, s.before, s.after, written.updated_at
FROM written JOIN s ON s.id = written.id
{IN_SKU_ORDER.format("written.sku")}
"""


UPDATE_CHANGED_RECORDED = {lock: _update_changed_recorded(lock=lock) for lock in (False, True)}

# Validate only: both kinds from one join; the statement returns the counts.
RECORD_AND_CLASSIFY = f"""
WITH recorded AS (
    INSERT INTO {CHANGES} ({COLUMNS})
    SELECT %(job)s,
           CASE WHEN p.id IS NULL THEN '{CREATED}' ELSE '{UPDATED}' END,
           p.id, s.sku,
           CASE WHEN p.id IS NOT NULL THEN {BEFORE} END,
           CASE WHEN p.id IS NULL THEN {CREATED_AFTER} ELSE {AFTER} END,
           p.updated_at
    FROM {STAGING_TABLE} AS s
    LEFT JOIN {PRODUCTS} AS p ON lower(p.sku) = s.sku_key
    CROSS JOIN LATERAL (SELECT {_SAME} AS columns) AS same
    WHERE p.id IS NULL OR {DIFFERS}
    {IN_SKU_ORDER.format("s.sku")}
    RETURNING kind
)
SELECT count(*) FILTER (WHERE kind = '{CREATED}'), count(*) FILTER (WHERE kind = '{UPDATED}')
FROM recorded
"""


def recording_created(insert_sql: str) -> str:
    """`insert_sql` (an INSERT of new products from staging, in place or into the rebuilt
    table) as one statement that also records each product it creates; its row count is
    still the products created. Takes the parameter %(job)s."""
    written = ", ".join(f"'{column}', {column}" for column in NEW_VALUES)
    return f"""
WITH created AS ({insert_sql} RETURNING id, {", ".join(NEW_VALUES)}, updated_at)
INSERT INTO {CHANGES} ({COLUMNS})
SELECT %(job)s, '{CREATED}', id, sku, NULL, jsonb_build_object({written}), updated_at
FROM created
{IN_SKU_ORDER.format("sku")}
"""


# Sync mode (imports.sync): `missing` is the SQL of the products the file does not name, each
# row a whole product `p` (FOR UPDATE when it is written). `before` is the whole row, so a
# revert puts it back as it was (with its id, for a deleted one); `product_updated_at` is
# updated_at as the job leaves it (now() for a deactivated product; a deleted one has none).
def deactivate_missing_recorded(missing: str) -> str:
    return f"""
WITH gone AS MATERIALIZED ({missing}),
written AS (
    UPDATE {PRODUCTS} AS p SET active = false, updated_at = now()
    FROM gone WHERE p.id = gone.id
    RETURNING p.id, p.sku, p.updated_at
)
INSERT INTO {CHANGES} ({COLUMNS})
SELECT %(job)s, '{DEACTIVATED}', written.id, written.sku, gone.row,
       jsonb_build_object('active', false), written.updated_at
FROM written JOIN gone ON gone.id = written.id
"""


def delete_missing_recorded(missing: str) -> str:
    return f"""
WITH gone AS MATERIALIZED ({missing}),
deleted AS (
    DELETE FROM {PRODUCTS} AS p USING gone WHERE p.id = gone.id RETURNING p.id
)
INSERT INTO {CHANGES} ({COLUMNS})
SELECT %(job)s, '{DELETED}', gone.id, gone.sku, gone.row, NULL, NULL
FROM deleted JOIN gone ON gone.id = deleted.id
"""


def record_missing(missing: str, *, kind: str) -> str:
    """Validate only: what a sync would do to `missing`, recorded without writing it."""
    after = "jsonb_build_object('active', false)" if kind == DEACTIVATED else "NULL"
    return f"""
INSERT INTO {CHANGES} ({COLUMNS})
SELECT %(job)s, '{kind}', gone.id, gone.sku, gone.row, {after}, gone.updated_at
FROM ({missing}) AS gone
"""


def record_updated(cursor, *, job_id: int) -> int:
    """Record the staged rows that differ from their product (the catalogue is locked
    against writers until commit); returns how many."""
    cursor.execute(RECORD_UPDATED, {"job": job_id})
    return cursor.rowcount


def update_changed_recorded(cursor, *, job_id: int, lock_rows: bool) -> int:
    """The in-place merge's UPDATE, recording what it writes; returns the rows updated.
    `lock_rows` when the catalogue is not locked against writers."""
    cursor.execute(UPDATE_CHANGED_RECORDED[lock_rows], {"job": job_id})
    return cursor.rowcount


def record_and_classify(cursor, *, job_id: int) -> tuple[int, int]:
    """Validate only: record what a merge would do now; returns (new, changed)."""
    cursor.execute(RECORD_AND_CLASSIFY, {"job": job_id})
    new, changed = cursor.fetchone()
    return new, changed


def insert_new(cursor, insert_sql: str, *, job_id: int | None) -> int:
    """Run the merge's INSERT of new products, recording them when `job_id` is given;
    returns the products created."""
    if job_id is None:
        cursor.execute(insert_sql)
    else:
        cursor.execute(recording_created(insert_sql), {"job": job_id})
    return cursor.rowcount


def delete_expired(
    *, retention_days: float | None = None, batch_size: int = DEFAULT_BATCH_SIZE
) -> int:
    """Delete the change sets of jobs finished more than `retention_days` ago
    (IMPORT_FILE_RETENTION_DAYS, as their stored files; 0 keeps them), `batch_size` rows per
    transaction; returns how many rows were deleted."""
    if retention_days is None:
        retention_days = settings.IMPORT_FILE_RETENTION_DAYS
    if retention_days <= 0:
        return 0
    cutoff = timezone.now() - timedelta(days=retention_days)
    expired = ImportChange.objects.filter(job__finished_at__lt=cutoff)
    return delete_in_batches(expired, batch_size=batch_size)


# Every product as a whole row (to_jsonb: every column, id, created_at and updated_at
# included), so a revert puts each back with its id (jsonb_populate_record, imports.revert).
RECORD_DELETED_ALL = f"""
INSERT INTO {CHANGES} ({COLUMNS})
SELECT %s, '{ImportChange.Kind.DELETED}', p.id, p.sku, to_jsonb(p), NULL, p.updated_at
FROM {PRODUCTS} AS p
"""


def record_deleted_all(cursor, *, job_id: int) -> int:
    """Every product, about to be deleted by the delete-all job `job_id`; returns how many.
    The caller holds the lock that keeps the catalogue as it is until it deletes them."""
    cursor.execute(RECORD_DELETED_ALL, [job_id])
    return cursor.rowcount
