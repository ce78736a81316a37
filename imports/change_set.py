"""An import's change set: the one module that writes ImportChange rows.

Every statement here is set-based (INSERT ... SELECT, or a data-modifying CTE around the
merge's own statement) and runs in the job's own transaction, so the change set commits or
rolls back with the merge it describes. Rows are written only for products a job creates or
updates (or deletes / deactivates, for the kinds that do); an unchanged product gets none.

What the merge roads record (imports.merge, imports.rebuild):

- updated, catalogue locked (a bulk merge holds REBUILD_LOCK_MODE, so nothing changes
  between statements): `record_updated_and_count` is the merge's classifying step itself
  (the same join and predicate, imports.staging.DIFFERS), before the UPDATE or the rebuild;
- updated, catalogue not locked (a small in-place merge, page writes go on):
  `UPDATE_CHANGED_RECORDED` replaces the merge's UPDATE: it locks the rows that differ
  (FOR UPDATE, so `before` is what the UPDATE overwrites, even if a page wrote meanwhile),
  updates exactly those and records exactly those, in one statement;
- created: `recording_created` wraps the merge's INSERT of new SKUs (in place or into the
  rebuilt table) in a CTE, so the new products' ids come from its RETURNING;
- validate only: `record_and_classify` writes both kinds from one join and returns the
  counts (it replaces the classifying join); created rows have no product id.

An updated product's row holds only the columns that change (old_<field>, new_<field>;
NULL for the others), so a column the file lacks (NULL in staging,
imports.staging.MERGED_VALUES) is never shown as changed. A created product's holds every
column the import writes, as written (new_<field>).
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
from django.db import connection
from django.utils import timezone

from acme.lib.batched_delete import DEFAULT_BATCH_SIZE
from products.models import Product

from .models import ImportChange, ImportJob
from .staging import DIFFERS, MERGED_VALUES, NEW_VALUES, STAGING_TABLE

CHANGES = ImportChange._meta.db_table
JOBS = ImportJob._meta.db_table
# Every statement inserts a job's changes in SKU order: importchange_job_kind_sku then grows
# at its right edge (for each kind) instead of taking each key at a random leaf. Measured at
# 470k changed rows (bench/imports_pipeline.py conditions, loaded machine): 42-51 s in join
# order, 28 s sorted, when the table had three indexes; the sort itself ~1.5 s, in memory
# (the merge's work_mem).
IN_SKU_ORDER = "ORDER BY lower({})"
PRODUCTS = Product._meta.db_table
CREATED = ImportChange.Kind.CREATED.value
UPDATED = ImportChange.Kind.UPDATED.value
DEACTIVATED = ImportChange.Kind.DEACTIVATED.value
DELETED = ImportChange.Kind.DELETED.value

# The values of a created or updated product are plain columns (ImportChange explains why):
# old_<field> and new_<field> for each field an import writes, NULL where it does not change.
FIELDS = ImportChange.VALUE_FIELDS
if set(FIELDS) != set(MERGED_VALUES) or set(FIELDS) != set(NEW_VALUES):
    raise RuntimeError("ImportChange.VALUE_FIELDS must name the columns an import writes")
OLD_COLUMNS = ", ".join(f"old_{field}" for field in FIELDS)
NEW_COLUMNS = ", ".join(f"new_{field}" for field in FIELDS)
VALUE_COLUMNS = f"job_id, kind, product_id, sku, {OLD_COLUMNS}, {NEW_COLUMNS}, product_updated_at"
JSON_COLUMNS = "job_id, kind, product_id, sku, before_json, after_json, product_updated_at"


def _old_if_changed(field: str) -> str:
    value = MERGED_VALUES[field]
    return f"CASE WHEN p.{field} IS DISTINCT FROM {value} THEN p.{field} END"


def _new_if_changed(field: str) -> str:
    value = MERGED_VALUES[field]
    return f"CASE WHEN p.{field} IS DISTINCT FROM {value} THEN {value} END"


# Staged row `s` against product `p`: the old and the new value of each field that changes,
# as old_<field>, ..., new_<field>, ... (a column the file lacks is NULL in staging and
# imports.staging.MERGED_VALUES keeps the product's value, so it never shows as changed).
CHANGED_VALUES = ", ".join(
    [f"{_old_if_changed(field)} AS old_{field}" for field in FIELDS]
    + [f"{_new_if_changed(field)} AS new_{field}" for field in FIELDS]
)
# Validate only: the same for a staged row that may have no product (then NULL old values
# and NEW_VALUES as new ones).
CLASSIFIED_VALUES = ", ".join(
    [f"CASE WHEN p.id IS NOT NULL THEN {_old_if_changed(field)} END" for field in FIELDS]
    + [
        f"CASE WHEN p.id IS NULL THEN {NEW_VALUES[field]} ELSE {_new_if_changed(field)} END"
        for field in FIELDS
    ]
)


def _values_of(alias: str) -> str:
    """`alias`.old_<field>, ..., `alias`.new_<field>, ... (a row of CHANGED_VALUES)."""
    return ", ".join(
        [f"{alias}.old_{field}" for field in FIELDS] + [f"{alias}.new_{field}" for field in FIELDS]
    )


def _as_json(alias: str, side: str) -> str:
    return "jsonb_strip_nulls(jsonb_build_object({}))".format(
        ", ".join(f"'{field}', {alias}.{side}_{field}" for field in FIELDS)
    )


def before_sql(alias: str) -> str:
    """SQL: change row `alias`'s `before` as jsonb, as ImportChange.before reads it."""
    return (
        f"coalesce({alias}.before_json, CASE WHEN {alias}.kind = '{UPDATED}' "
        f"THEN {_as_json(alias, 'old')} END)"
    )


def _changed_rows(*, lock: bool) -> str:
    """The staged rows that change a product: its id, the staged values (as staging's
    columns), the product's sku as it will be, the old and new values that change."""
    return f"""
SELECT p.id, s.sku, s.name, s.description, s.active, {CHANGED_VALUES}
FROM {STAGING_TABLE} AS s
JOIN {PRODUCTS} AS p ON lower(p.sku) = s.sku_key
WHERE {DIFFERS}
{"FOR UPDATE OF p" if lock else ""}
"""


RECORD_UPDATED = f"""
INSERT INTO {CHANGES} ({VALUE_COLUMNS})
SELECT %(job)s, '{UPDATED}', changed.id, changed.sku, {_values_of("changed")}, now()
FROM ({_changed_rows(lock=False)}) AS changed
{IN_SKU_ORDER.format("changed.sku")}
"""


# A bulk merge's step 4 (imports.merge) when the job records: the changed products recorded
# by the same join that counts them, under the catalogue lock; returns (new, changed). The
# new SKUs are counted by an anti-join (the index-only probe the merge's INSERT makes).
RECORD_UPDATED_AND_COUNT = f"""
WITH recorded AS ({RECORD_UPDATED} RETURNING 1)
SELECT (SELECT count(*) FROM {STAGING_TABLE} AS s
        WHERE NOT EXISTS (SELECT FROM {PRODUCTS} AS p WHERE lower(p.sku) = s.sku_key)),
       (SELECT count(*) FROM recorded)
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
INSERT INTO {CHANGES} ({VALUE_COLUMNS})
SELECT %(job)s, '{UPDATED}', written.id, written.sku, {_values_of("s")}, written.updated_at
FROM written JOIN s ON s.id = written.id
{IN_SKU_ORDER.format("written.sku")}
"""


UPDATE_CHANGED_RECORDED = {lock: _update_changed_recorded(lock=lock) for lock in (False, True)}

# Validate only: both kinds from one join; the statement returns the counts.
RECORD_AND_CLASSIFY = f"""
WITH recorded AS (
    INSERT INTO {CHANGES} ({VALUE_COLUMNS})
    SELECT %(job)s,
           CASE WHEN p.id IS NULL THEN '{CREATED}' ELSE '{UPDATED}' END,
           p.id, s.sku, {CLASSIFIED_VALUES},
           p.updated_at
    FROM {STAGING_TABLE} AS s
    LEFT JOIN {PRODUCTS} AS p ON lower(p.sku) = s.sku_key
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
    return f"""
WITH created AS ({insert_sql} RETURNING id, {", ".join(FIELDS)}, updated_at)
INSERT INTO {CHANGES} (job_id, kind, product_id, sku, {NEW_COLUMNS}, product_updated_at)
SELECT %(job)s, '{CREATED}', id, sku, {", ".join(FIELDS)}, updated_at
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
INSERT INTO {CHANGES} ({JSON_COLUMNS})
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
INSERT INTO {CHANGES} ({JSON_COLUMNS})
SELECT %(job)s, '{DELETED}', gone.id, gone.sku, gone.row, NULL, NULL
FROM deleted JOIN gone ON gone.id = deleted.id
"""


def record_missing(missing: str, *, kind: str) -> str:
    """Validate only: what a sync would do to `missing`, recorded without writing it."""
    after = "jsonb_build_object('active', false)" if kind == DEACTIVATED else "NULL"
    return f"""
INSERT INTO {CHANGES} ({JSON_COLUMNS})
SELECT %(job)s, '{kind}', gone.id, gone.sku, gone.row, {after}, gone.updated_at
FROM ({missing}) AS gone
"""


def record_updated_and_count(cursor, *, job_id: int) -> tuple[int, int]:
    """Record the staged rows that differ from their product and count them and the new
    SKUs (the catalogue is locked against writers until commit); returns (new, changed)."""
    cursor.execute(RECORD_UPDATED_AND_COUNT, {"job": job_id})
    new, changed = cursor.fetchone()
    return new, changed


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


# Jobs past the retention whose change set is not deleted yet (one probe of the index each).
EXPIRED_JOBS = f"""
SELECT j.id FROM {JOBS} AS j
WHERE j.finished_at < %s AND EXISTS (SELECT FROM {CHANGES} AS c WHERE c.job_id = j.id)
ORDER BY j.id
"""
# Up to %s change rows of job %s, found through importchange_job_kind_sku and deleted by
# their row address (there is no primary key index: ImportChange); rows another transaction
# holds are left to the next sweep.
DELETE_A_BATCH = f"""
DELETE FROM {CHANGES} WHERE ctid = ANY(ARRAY(
    SELECT ctid FROM {CHANGES} WHERE job_id = %s LIMIT %s FOR UPDATE SKIP LOCKED
))
"""


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
    with connection.cursor() as cursor:
        cursor.execute(EXPIRED_JOBS, [cutoff])
        jobs = [job for (job,) in cursor.fetchall()]
        deleted = 0
        for job in jobs:
            while True:  # each batch in a transaction of its own (autocommit)
                cursor.execute(DELETE_A_BATCH, [job, batch_size])
                deleted += cursor.rowcount
                if cursor.rowcount < batch_size:
                    break
    return deleted


# Every product as a whole row (to_jsonb: every column, id, created_at and updated_at
# included), so a revert puts each back with its id (jsonb_populate_record, imports.revert).
RECORD_DELETED_ALL = f"""
INSERT INTO {CHANGES} ({JSON_COLUMNS})
SELECT %s, '{ImportChange.Kind.DELETED}', p.id, p.sku, to_jsonb(p), NULL, p.updated_at
FROM {PRODUCTS} AS p
"""


def record_deleted_all(cursor, *, job_id: int) -> int:
    """Every product, about to be deleted by the delete-all job `job_id`; returns how many.
    The caller holds the lock that keeps the catalogue as it is until it deletes them."""
    cursor.execute(RECORD_DELETED_ALL, [job_id])
    return cursor.rowcount
