"""Merging the staging table into the catalogue (see imports.pipeline for the whole flow).

Runs inside the import's transaction, after every valid record is in the staging table:

1. `drop_superseded`: for each lower(sku), delete every staged record but the one with the
   highest record number (the last valid record in the file wins). A hash aggregate finds
   the repeated SKUs, a hash join deletes their earlier records.
2. `ANALYZE` the staging table's key, so the planner picks hash joins for big files and index
   lookups on `lower(sku)` for small ones.
3. `pg_advisory_xact_lock(MERGE_LOCK_KEY)`: merges serialize. Two imports parse and load
   concurrently, then merge one after the other, so they never deadlock on each other's rows
   and the later commit wins. The lock is released with the transaction.
4. `CLASSIFY`: one read-only join counts the staged SKUs that are new and those whose values
   differ, so the statements below run only when they have work (an identical re-import
   costs this one join and writes nothing). Under a bulk merge's lock, an import that
   records its change set counts with the statement that records the changed products
   (imports.change_set.record_updated_and_count): one join instead of two.
5. `UPDATE ... FROM staging` the existing products whose values differ (`IS DISTINCT FROM`):
   unchanged rows are neither written nor locked and keep their `updated_at`; changed rows
   get `updated_at = now()`. Its row count is "updated".
6. `INSERT ... SELECT ... WHERE NOT EXISTS` the SKUs the catalogue does not have, as a plain
   INSERT (no ON CONFLICT: no speculative insertion per row) inside a savepoint.
7. unchanged = staged SKUs - created - updated, all from the database's row counts.
8. `flush_gin_pending_lists` when rows were written and the import commits.

A bulk merge takes another road (imports.rebuild): when the staged file holds at least
settings.IMPORT_REBUILD_MIN_ROWS records, step 3 also takes a SHARE ROW EXCLUSIVE lock on the
catalogue (imports.rebuild.REBUILD_LOCK_MODE: page and API writes, CREATE INDEX and any other
DDL wait until the import commits, or give up after products.services' lock_timeout; reads go
on), then checks that the table is safe to rebuild. If the rows to write (new +
changed) are at least REBUILD_MIN_SHARE of the resulting catalogue, steps 5-6 are replaced
by building the merged catalogue in a new table with fresh indexes and swapping it in: at
that share, building every index once is cheaper than maintaining them row by row (figures
beside REBUILD_MIN_SHARE). With writers held off, the CLASSIFY counts are exact and are
the counts reported. Readers are never blocked by the build, only by the swap itself.

Validate only (`classify_staged`) stops after step 4: its counts come from the CLASSIFY
join, and nothing is written to (or locked in) the catalogue, so a dry run costs no
catalogue writes, WAL or index bloat.

Writers outside the lock (pages, the API) can still create or delete a product between
steps 4 and 6. A product created meanwhile makes step 6 fail on the unique index (it is
rolled back to its savepoint); one deleted meanwhile makes step 5 update fewer rows than
counted. Either way steps 4-6 run again (at most MERGE_ATTEMPTS times): the new product
is then updated, the deleted one created again. Rows updated in an earlier round now
equal the file and are not counted twice.

A value the file does not give (a missing column, an empty active cell; see
imports.csv_records.COLUMNS) is NULL in staging: an existing product keeps its stored value
and a new one gets the default (imports.staging.MERGED_VALUES and NEW_VALUES).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction

from products.models import Product

from . import change_set
from .rebuild import REBUILD_LOCK_MODE, rebuild_blockers, rebuild_catalogue
from .staging import DIFFERS, MERGED_VALUES, NEW_VALUES, STAGING_TABLE

# An arbitrary constant shared by every import: "the catalogue merge" lock.
MERGE_LOCK_KEY = 0x61636D65_696D7074  # b"acmeimpt"
MERGE_ATTEMPTS = 3
# Rebuild (imports.rebuild) when the rows to write are at least this share of the catalogue
# after the merge. Measured at 470k rows (bench/imports_pipeline.py, PostgreSQL 18, 2 cores):
# writing rows into the live table with its indexes costs ~110 us per row (all changed: 55 s);
# rebuilding costs ~50 us per catalogue row (24 s), whatever share changed: break-even ~45%.
REBUILD_MIN_SHARE = 0.4

# Hash joins and sorts of a few hundred thousand staged rows stay in memory; only for this
# transaction (SET LOCAL), so the server's defaults are untouched for everything else.
MERGE_SETTINGS = (
    "SET LOCAL work_mem = '256MB'",
    # GIN (trigram) inserts go to each index's pending list; a bigger list is merged into
    # the index in fewer, larger, sorted batches.
    "SET LOCAL gin_pending_list_limit = '64MB'",
)

PRODUCTS = Product._meta.db_table

# Hash-aggregate the SKUs that occur more than once (few), then delete their earlier records.
DROP_SUPERSEDED = f"""
DELETE FROM {STAGING_TABLE} AS staged
USING (
    SELECT sku_key, max(record_no) AS last_record_no
    FROM {STAGING_TABLE}
    GROUP BY sku_key
    HAVING count(*) > 1
) AS repeated
WHERE staged.sku_key = repeated.sku_key AND staged.record_no < repeated.last_record_no
"""

# One read-only join tells which statements below have work to do, so an identical
# re-import costs a single join and writes nothing.
CLASSIFY = f"""
SELECT count(*) FILTER (WHERE p.id IS NULL),
       count(*) FILTER (WHERE p.id IS NOT NULL AND {DIFFERS})
FROM {STAGING_TABLE} AS s
LEFT JOIN {PRODUCTS} AS p ON lower(p.sku) = s.sku_key
"""

UPDATE_CHANGED = f"""
UPDATE {PRODUCTS} AS p
SET {", ".join(f"{column} = {value}" for column, value in MERGED_VALUES.items())},
    updated_at = now()
FROM {STAGING_TABLE} AS s
WHERE lower(p.sku) = s.sku_key AND {DIFFERS}
"""

# A plain INSERT (no speculative insertion per row, unlike ON CONFLICT).
INSERT_NEW = f"""
INSERT INTO {PRODUCTS} AS p ({", ".join(NEW_VALUES)}, created_at, updated_at)
SELECT {", ".join(NEW_VALUES.values())}, now(), now()
FROM {STAGING_TABLE} AS s
WHERE NOT EXISTS (SELECT FROM {PRODUCTS} AS e WHERE lower(e.sku) = s.sku_key)
"""


@dataclass
class MergeCounts:
    created: int
    updated: int
    unchanged: int
    rebuilt: bool = False  # built in a new table (imports.rebuild): its indexes are fresh


GIN_INDEXES = f"""
SELECT index_class.oid::regclass::text
FROM pg_index
JOIN pg_class AS index_class ON index_class.oid = pg_index.indexrelid
JOIN pg_am ON pg_am.oid = index_class.relam
WHERE pg_index.indrelid = '{PRODUCTS}'::regclass AND pg_am.amname = 'gin'
  -- gin_clean_pending_list needs the index's owner (as VACUUM does); others skip it
  AND pg_has_role(index_class.relowner, 'USAGE')
"""


def wants_rebuild(cursor, *, new: int, changed: int) -> bool:
    """Whether new + changed rows are at least REBUILD_MIN_SHARE of the merged catalogue
    (the live catalogue counted only up to the bound that decides it)."""
    to_write = new + changed
    if to_write < settings.IMPORT_REBUILD_MIN_ROWS:
        return False
    # to_write >= share * (existing + new)  <=>  existing <= to_write / share - new
    bound = int(to_write / REBUILD_MIN_SHARE) - new
    if bound < 0:
        return False
    cursor.execute(
        f"SELECT count(*) FROM (SELECT FROM {PRODUCTS} LIMIT %s) AS bounded", [bound + 1]
    )
    return cursor.fetchone()[0] <= bound


def flush_gin_pending_lists(cursor) -> None:
    """Merge what the import left in the GIN indexes' pending lists into the indexes.

    Searches scan a pending list linearly; with the larger list the merge allows, leaving it
    to autovacuum would make searches right after an import slower (the products pages'
    latency targets hold "after an import"). The work is the same either way, done now.
    """
    cursor.execute(GIN_INDEXES)
    for (index,) in cursor.fetchall():
        cursor.execute("SELECT gin_clean_pending_list(%s::regclass)", [index])


def apply_merge_settings(cursor) -> None:
    for statement in MERGE_SETTINGS:
        cursor.execute(statement)


def drop_superseded(cursor) -> int:
    """Keep the last valid record per lower(sku); return how many earlier ones were dropped."""
    cursor.execute(DROP_SUPERSEDED)
    return cursor.rowcount


def analyze_staging(cursor) -> None:
    # The row count (any ANALYZE sets it) and the key's statistics are what the plans
    # depend on; the other columns' statistics (samples of long texts sorted) would cost
    # about as much again (~0.1 s of CPU at 500k rows) and inform no plan.
    cursor.execute(f"ANALYZE {STAGING_TABLE} (sku_key)")


def classify_staged(cursor, *, staged: int, job_id: int | None = None) -> MergeCounts:
    """Validate only: steps 3-4 above and nothing else; the catalogue is only read.

    The counts are those steps 5-7 would produce: after step 1 each lower(sku) is staged
    once and lower(sku) is unique in the catalogue, so the INSERT would add exactly the
    staged rows without a match and the UPDATE would write exactly the matched rows that
    differ, with the same predicates as CLASSIFY. The lock is the merge's own, so the
    counts are taken against the catalogue as a real import starting now would find it
    (after any merge in progress has committed); it is held only for this one join.
    """
    cursor.execute("SELECT pg_advisory_xact_lock(%s)", [MERGE_LOCK_KEY])
    if job_id is None:
        new, changed = _classify(cursor)
    else:  # the same join, recording the change set (imports.change_set)
        new, changed = change_set.record_and_classify(cursor, job_id=job_id)
    return MergeCounts(created=new, updated=changed, unchanged=staged - new - changed)


def merge_into_catalogue(
    cursor,
    *,
    staged: int,
    on_step: Callable[[str], None] = lambda text: None,
    job_id: int | None = None,
) -> MergeCounts:
    """Steps 3-7 above; `staged` is the number of rows left in staging after step 1.

    `on_step` hears what the merge is doing, for the progress display. With `job_id`, the
    products created and updated are recorded as that job's change set (imports.change_set)
    by the statements that write them."""
    on_step("waiting for other imports to finish merging")
    cursor.execute("SELECT pg_advisory_xact_lock(%s)", [MERGE_LOCK_KEY])
    classified = None
    if staged >= settings.IMPORT_REBUILD_MIN_ROWS and not rebuild_blockers(cursor):
        # Writers and DDL wait from here to commit, so the counts below stay exact and the
        # catalog the rebuild reads stays true until its swap; the blockers are read again
        # under the lock (a trigger created meanwhile).
        on_step("waiting for catalogue edits in progress to finish")
        cursor.execute(f"LOCK TABLE {PRODUCTS} IN {REBUILD_LOCK_MODE} MODE")
        on_step(f"comparing {staged:,} products with the catalogue")
        if job_id is None:
            classified = new, changed = _classify(cursor)
        else:  # the same join records the changed products (nothing moves until commit)
            classified = new, changed = change_set.record_updated_and_count(cursor, job_id=job_id)
        if wants_rebuild(cursor, new=new, changed=changed) and not rebuild_blockers(cursor):
            created = rebuild_catalogue(cursor, on_step=on_step, new=new, job_id=job_id)
            if created != new:
                raise RuntimeError(
                    f"the rebuild created {created} products, {new} were classified new"
                )
            unchanged = staged - new - changed
            return MergeCounts(created=new, updated=changed, unchanged=unchanged, rebuilt=True)
    return _merge_in_place(
        cursor,
        staged=staged,
        classified=classified,
        on_step=on_step,
        job_id=job_id,
        updates_recorded=classified is not None and job_id is not None,
    )


def _classify(cursor) -> tuple[int, int]:
    """(new, changed) staged SKUs."""
    cursor.execute(CLASSIFY)
    new, changed = cursor.fetchone()
    return new, changed


def _merge_in_place(
    cursor,
    *,
    staged: int,
    classified: tuple[int, int] | None,
    on_step: Callable[[str], None],
    job_id: int | None,
    updates_recorded: bool = False,
) -> MergeCounts:
    """Steps 4-7. `classified`: the counts of step 4, taken by the caller under the
    catalogue lock (nothing changes between statements); `updates_recorded`: the caller's
    step 4 also recorded the changed products (change_set.record_updated_and_count), so
    the first round's UPDATE records nothing more."""
    catalogue_locked = classified is not None
    created = updated = 0
    for attempt in range(1, MERGE_ATTEMPTS + 1):
        if classified is None:  # the first round may come classified by the caller
            on_step(f"comparing {staged:,} products with the catalogue")
            classified = _classify(cursor)
        (new, changed), classified = classified, None
        # Only the first round's were recorded: a later round (a product deleted meanwhile)
        # finds only rows no earlier round updated, and records those as it updates them.
        recorded, updates_recorded = updates_recorded, False
        updated_now = 0
        if changed:
            on_step(f"updating {changed:,} changed products")
            if job_id is None or recorded:
                cursor.execute(UPDATE_CHANGED)
                updated_now = cursor.rowcount
            else:
                updated_now = change_set.update_changed_recorded(
                    cursor, job_id=job_id, lock_rows=not catalogue_locked
                )
            updated += updated_now
        try:
            if new:
                on_step(f"adding {new:,} new products")
                with transaction.atomic():  # a savepoint, so the merge can go on after a failure
                    created = change_set.insert_new(cursor, INSERT_NEW, job_id=job_id)
        except IntegrityError:
            if attempt == MERGE_ATTEMPTS:
                raise
            continue  # a product was created outside the lock meanwhile: classify again
        if updated_now == changed:
            break
        # else a product to update was deleted meanwhile: classify again, it is new now
    return MergeCounts(created=created, updated=updated, unchanged=staged - created - updated)
