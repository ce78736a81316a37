"""A bulk merge: build the merged catalogue beside the live table, then swap it in.

When an import writes a large share of the catalogue (a first load, a re-import in which
most rows changed), maintaining every index row by row costs several times more than
building the indexes once: at 470k rows here, writing them into the live table costs 45-55 s
(each new row version goes into five btrees and three GIN trigram indexes), while copying
the merged rows into a new table costs about 1 s and building all its indexes about 23 s
(16 s of which is the trigram index on description; PostgreSQL 18 builds GIN indexes with
parallel workers). See imports.merge for when this road is taken and bench/README.md for
the figures.

Everything is taken from the live table's catalog, read under the lock, never from a list
of today's columns: a column a later migration adds keeps its values, its default, NOT NULL
and foreign key.

Steps, inside the import's transaction, after imports.merge has taken the merge lock and
the REBUILD_LOCK_MODE lock on the catalogue (writers and DDL such as CREATE INDEX wait until
commit, readers go on reading the live table) and classified the staged rows:

1. Read the catalog: indexes, identity sequences, columns, outgoing foreign keys.
   `CREATE TABLE <catalogue>_next (LIKE <catalogue> INCLUDING ALL EXCLUDING INDEXES)`:
   columns, defaults, NOT NULL and CHECK constraints, identity, generated columns,
   statistics objects, comments; the storage parameters are copied, and its identity
   sequence continues where the live one is.
2. Fill it: every live product with every column, taking the staged values where they
   differ for the columns an import writes (then `updated_at = now()`; unchanged rows keep
   theirs, and every other column keeps its value), then the new SKUs (other columns take
   their defaults).
3. Build every index and constraint-backed index with the live table's own definitions
   (pg_get_indexdef / pg_get_constraintdef) under temporary names, with
   maintenance_work_mem raised for this transaction; add the outgoing foreign keys
   (pg_get_constraintdef); ANALYZE.
4. Swap: take ACCESS EXCLUSIVE on the live table (asking for it with a short lock_timeout
   and retrying, so pages queued behind the request wait at most that long each time),
   DROP it, rename the new table, its indexes, constraints and sequence to the live names.
   Readers blocked by the swap wait for these renames and for the import to record its
   outcome in the same transaction (a few row writes: the rejected-rows report is stored
   before the merge starts), not for the build.

Everything is transactional: if anything fails, the new table is gone and the live one
untouched. Tables this would be unsafe for are left to the row-by-row merge
(`rebuild_blockers` names why): a table not owned by the importing role, with triggers,
rules or views on it, foreign keys pointing at it, row-level security, a publication,
inheritance, a non-default tablespace or replica identity, explicit grants, or a serial
(non-identity) column whose sequence the new table would share.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

from django.db import OperationalError, transaction

from acme.lib import pg_errors
from products.models import Product

from . import change_set
from .staging import DIFFERS, MERGED_VALUES, NEW_VALUES, STAGING_TABLE

PRODUCTS = Product._meta.db_table
NEXT_TABLE = f"{PRODUCTS}_next"
# Held from before the catalog is read until commit. SHARE would keep writers out but not
# CREATE INDEX (which takes SHARE too): an index committed during the rebuild would be lost
# with the swapped-out table. SHARE ROW EXCLUSIVE conflicts with every write and every DDL,
# and still lets readers (and SELECT ... FOR UPDATE) in.
REBUILD_LOCK_MODE = "SHARE ROW EXCLUSIVE"
# How the new table's indexes are built (SET LOCAL: this transaction only, reset after the
# builds). bench/imports_pipeline.py builds its index-inclusive floor with the same settings.
INDEX_BUILD_SETTINGS = ("SET LOCAL maintenance_work_mem = '512MB'",)
INDEX_BUILD_RESET = ("SET LOCAL maintenance_work_mem = DEFAULT",)
# The swap asks for ACCESS EXCLUSIVE at most this long at a time; pages queued behind the
# request wait no longer than that. Between attempts the request steps aside briefly.
SWAP_LOCK_TIMEOUT = "2s"
SWAP_LOCK_ATTEMPTS = 30
SWAP_RETRY_PAUSE_SECONDS = 0.5

BLOCKERS = f"""
SELECT reason FROM (
    -- the new table would belong to the importing role
    SELECT 'the table is owned by another role' AS reason
    FROM pg_class WHERE oid = '{PRODUCTS}'::regclass AND pg_get_userbyid(relowner) <> current_user
    UNION ALL
    SELECT 'it has triggers' FROM pg_trigger
    WHERE tgrelid = '{PRODUCTS}'::regclass AND NOT tgisinternal
    UNION ALL
    SELECT 'foreign keys refer to it' FROM pg_constraint
    WHERE confrelid = '{PRODUCTS}'::regclass AND contype = 'f'
    UNION ALL
    SELECT 'rules or views depend on it'
    FROM pg_depend JOIN pg_rewrite ON pg_rewrite.oid = pg_depend.objid
    WHERE pg_depend.classid = 'pg_rewrite'::regclass
      AND pg_depend.refobjid = '{PRODUCTS}'::regclass
    UNION ALL
    SELECT 'it is in a publication' FROM pg_publication_rel
    WHERE prrelid = '{PRODUCTS}'::regclass
    UNION ALL
    SELECT 'it takes part in inheritance' FROM pg_inherits
    WHERE inhrelid = '{PRODUCTS}'::regclass OR inhparent = '{PRODUCTS}'::regclass
    UNION ALL
    SELECT 'row-level security, a tablespace, a replica identity or grants are set on it'
    FROM pg_class WHERE oid = '{PRODUCTS}'::regclass
      AND (relrowsecurity OR reltablespace <> 0 OR relreplident <> 'd' OR relacl IS NOT NULL)
    UNION ALL
    SELECT 'column ' || attname || ' has grants of its own' FROM pg_attribute
    WHERE attrelid = '{PRODUCTS}'::regclass AND attnum > 0 AND attacl IS NOT NULL
    UNION ALL
    SELECT 'column ' || attname || ' takes its values from a serial sequence'
    FROM pg_attribute
    WHERE attrelid = '{PRODUCTS}'::regclass AND attnum > 0 AND NOT attisdropped
      AND attidentity = ''
      AND pg_get_serial_sequence('{PRODUCTS}', attname) IS NOT NULL
) AS blockers
"""

# Index definitions and, for indexes backing a constraint (the primary key), the constraint.
INDEXES = f"""
SELECT index_class.relname, pg_get_indexdef(index_class.oid),
       con.conname, pg_get_constraintdef(con.oid)
FROM pg_index
JOIN pg_class AS index_class ON index_class.oid = pg_index.indexrelid
LEFT JOIN pg_constraint AS con
       ON con.conindid = pg_index.indexrelid AND con.conrelid = pg_index.indrelid
WHERE pg_index.indrelid = '{PRODUCTS}'::regclass
ORDER BY index_class.relname
"""

IDENTITY_SEQUENCES = f"""
SELECT attname, pg_get_serial_sequence('{PRODUCTS}', attname)
FROM pg_attribute
WHERE attrelid = '{PRODUCTS}'::regclass AND attnum > 0 AND NOT attisdropped
  AND attidentity <> ''
"""

# The live table's columns, in order: name (quoted), whether it is an identity ALWAYS column
# (generated columns are computed by the new table itself).
COLUMNS = f"""
SELECT quote_ident(attname), attidentity = 'a'
FROM pg_attribute
WHERE attrelid = '{PRODUCTS}'::regclass AND attnum > 0 AND NOT attisdropped
  AND attgenerated = ''
ORDER BY attnum
"""

# Outgoing foreign keys (LIKE does not copy them).
FOREIGN_KEYS = f"""
SELECT conname, pg_get_constraintdef(oid)
FROM pg_constraint
WHERE conrelid = '{PRODUCTS}'::regclass AND contype = 'f'
ORDER BY conname
"""


def copy_existing_sql(columns: list[tuple[str, bool]]) -> str:
    """Every live product into the new table, every column the live table has: the staged
    values where they differ (imports.staging.DIFFERS) for the columns an import writes,
    `updated_at = now()` for those rows, and every other column (id, created_at, columns a
    later migration added) as it is."""
    values = []
    for column, _ in columns:
        if column in MERGED_VALUES:
            values.append(f"CASE WHEN changed THEN {MERGED_VALUES[column]} ELSE p.{column} END")
        elif column == "updated_at":
            values.append("CASE WHEN changed THEN now() ELSE p.updated_at END")
        else:
            values.append(f"p.{column}")
    overriding = " OVERRIDING SYSTEM VALUE" if any(always for _, always in columns) else ""
    return f"""
INSERT INTO {NEXT_TABLE} ({", ".join(column for column, _ in columns)}){overriding}
SELECT {", ".join(values)}
FROM {PRODUCTS} AS p
LEFT JOIN {STAGING_TABLE} AS s ON s.sku_key = lower(p.sku)
CROSS JOIN LATERAL (SELECT s.record_no IS NOT NULL AND {DIFFERS} AS changed) AS classified
"""


# The staged SKUs the live catalogue lacks, ids from the new table's sequence; columns an
# import does not write take their defaults, as in the in-place merge's INSERT.
COPY_NEW = f"""
INSERT INTO {NEXT_TABLE} ({", ".join(NEW_VALUES)}, created_at, updated_at)
SELECT {", ".join(NEW_VALUES.values())}, now(), now()
FROM {STAGING_TABLE} AS s
WHERE NOT EXISTS (SELECT FROM {PRODUCTS} AS p WHERE lower(p.sku) = s.sku_key)
ORDER BY s.record_no
"""

CREATE_INDEX = re.compile(r"^(CREATE (?:UNIQUE )?INDEX )(\S+)( ON )(?:ONLY )?(\S+)( USING .*)$")


def rebuild_blockers(cursor) -> list[str]:
    """Why the catalogue cannot be rebuilt and swapped safely ([] when it can)."""
    cursor.execute(BLOCKERS)
    return [reason for (reason,) in cursor.fetchall()]


def rebuild_catalogue(
    cursor,
    *,
    on_step: Callable[[str], None],
    new: int = 0,
    job_id: int | None = None,
    fill: Callable[[Any, list[tuple[str, bool]]], int] | None = None,
    keep_as: str | None = None,
) -> int:
    """Steps 1-4 above; returns how many new products were created (or what `fill`
    returns). The caller holds the merge lock and a REBUILD_LOCK_MODE lock on the catalogue,
    and classified `new` staged SKUs as new under it: with none, step 2's INSERT of new SKUs
    (an anti-join of the staging table against the catalogue, ~0.5 s of CPU at 500k rows)
    is not run. `fill`, when given, writes step 2 into NEXT_TABLE instead, given the live
    table's columns (a revert fills it with its own plan, imports.revert). With `keep_as`,
    the live table is kept under that name instead of dropped (a delete-all swaps in an
    empty catalogue, imports.deleted_products).

    `on_step` hears each step, for the progress display; with `job_id` the new products are
    recorded as created in that job's change set (the caller records the updated ones)."""
    # The catalog is read under the caller's lock, which keeps DDL out until commit.
    cursor.execute(INDEXES)
    indexes = cursor.fetchall()
    cursor.execute(IDENTITY_SEQUENCES)
    sequences = cursor.fetchall()
    cursor.execute(COLUMNS)
    columns = cursor.fetchall()
    cursor.execute(FOREIGN_KEYS)
    foreign_keys = cursor.fetchall()

    on_step("writing the merged catalogue into a new table")
    _create_next_table(cursor, sequences)
    if fill is None:
        cursor.execute(copy_existing_sql(columns))
        filled = change_set.insert_new(cursor, COPY_NEW, job_id=job_id) if new else 0
    else:
        filled = fill(cursor, columns)
    renames = _build_indexes(cursor, indexes, on_step)
    renames += _add_foreign_keys(cursor, foreign_keys, on_step)
    cursor.execute(f"ANALYZE {NEXT_TABLE}")
    on_step("switching to the new catalogue")
    _swap(cursor, renames, sequences, keep_as)
    return filled


def _create_next_table(cursor, sequences) -> None:
    cursor.execute(f"DROP TABLE IF EXISTS {NEXT_TABLE}")
    cursor.execute(f"CREATE TABLE {NEXT_TABLE} (LIKE {PRODUCTS} INCLUDING ALL EXCLUDING INDEXES)")
    cursor.execute(
        "SELECT array_to_string(reloptions, ', ') FROM pg_class WHERE oid = %s::regclass",
        [PRODUCTS],
    )
    (options,) = cursor.fetchone()
    if options:
        cursor.execute(f"ALTER TABLE {NEXT_TABLE} SET ({options})")
    # The new identity sequence continues where the live one is: ids are never reused.
    for column, live_sequence in sequences:
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence(%s, %s), last_value, is_called) "
            f"FROM {live_sequence}",
            [NEXT_TABLE, column],
        )


def index_label(indexdef: str) -> str:
    """What an index is for, in words: "search on description", "unique sku", "name, id"."""
    match = CREATE_INDEX.match(indexdef)
    using, _, condition = (match[5] if match else indexdef).partition(" WHERE ")
    columns = re.search(r"\((.*)\)", using)
    text = columns[1] if columns else using
    for noise in ("lower(", "::text", "gin_trgm_ops", "(", ")"):
        text = text.replace(noise, "")
    text = " ".join(text.split())
    if "gin_trgm_ops" in using:
        text = f"search on {text}"
    elif indexdef.startswith("CREATE UNIQUE"):
        text = f"unique {text}"
    return f"{text} where {condition.strip('() ')}" if condition else text


def index_on(indexdef: str, *, name: str, table: str) -> str:
    """The live index definition `indexdef` (pg_get_indexdef) as `name` on `table`."""
    match = CREATE_INDEX.match(indexdef)
    if match is None:
        raise RuntimeError(f"unexpected index definition: {indexdef}")
    return f"{match[1]}{name}{match[3]}{table}{match[5]}"


def apply_index_build_settings(cursor) -> None:
    for statement in INDEX_BUILD_SETTINGS:
        cursor.execute(statement)


def _build_indexes(cursor, indexes, on_step) -> list[tuple[str, str, bool]]:
    """Build the live table's indexes on the new one; return (temporary, live, is_constraint)
    names for the swap."""
    apply_index_build_settings(cursor)
    renames = []
    for number, (name, indexdef, constraint, constraintdef) in enumerate(indexes):
        on_step(f"building index {number + 1} of {len(indexes)} ({index_label(indexdef)})")
        temporary = f"{NEXT_TABLE}_rebuild_{number}"
        if constraint is not None:
            cursor.execute(f"ALTER TABLE {NEXT_TABLE} ADD CONSTRAINT {temporary} {constraintdef}")
            renames.append((temporary, constraint, True))
            continue
        cursor.execute(index_on(indexdef, name=temporary, table=NEXT_TABLE))
        renames.append((temporary, name, False))
    for statement in INDEX_BUILD_RESET:
        cursor.execute(statement)
    return renames


def _add_foreign_keys(cursor, foreign_keys, on_step) -> list[tuple[str, str, bool]]:
    """The live table's outgoing foreign keys on the new table (checked against its rows)."""
    renames = []
    for number, (name, definition) in enumerate(foreign_keys):
        on_step(f"checking foreign key {number + 1} of {len(foreign_keys)} ({name})")
        temporary = f"{NEXT_TABLE}_fk_{number}"
        cursor.execute(f"ALTER TABLE {NEXT_TABLE} ADD CONSTRAINT {temporary} {definition}")
        renames.append((temporary, name, True))
    return renames


def _swap(cursor, renames, sequences, keep_as: str | None = None) -> None:
    lock_for_swap(cursor)
    if keep_as is None:
        cursor.execute(f"DROP TABLE {PRODUCTS}")
    else:
        _set_aside(cursor, keep_as, sequences)
    cursor.execute(f"ALTER TABLE {NEXT_TABLE} RENAME TO {PRODUCTS}")
    for temporary, live, is_constraint in renames:
        if is_constraint:
            cursor.execute(f"ALTER TABLE {PRODUCTS} RENAME CONSTRAINT {temporary} TO {live}")
        else:
            cursor.execute(f"ALTER INDEX {temporary} RENAME TO {live}")
    for column, live_sequence in sequences:
        cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [PRODUCTS, column])
        (new_sequence,) = cursor.fetchone()
        live_name = live_sequence.rsplit(".", 1)[-1]
        cursor.execute(f"ALTER SEQUENCE {new_sequence} RENAME TO {live_name}")


def _set_aside(cursor, name: str, sequences) -> None:
    """Keep the live table as `name` (a delete-all's deleted products, imports.revert puts
    them back): rename it, its indexes, the constraints backed by indexes and its identity
    sequences, so the new table can take the live names. Catalog changes only."""
    cursor.execute(INDEXES)
    for number, (index, _, constraint, _) in enumerate(cursor.fetchall()):
        if constraint is not None:  # renaming the constraint renames its index
            cursor.execute(
                f"ALTER TABLE {PRODUCTS} RENAME CONSTRAINT {constraint} TO {name}_c{number}"
            )
        else:
            cursor.execute(f"ALTER INDEX {index} RENAME TO {name}_i{number}")
    for column, live_sequence in sequences:
        cursor.execute(f"ALTER SEQUENCE {live_sequence} RENAME TO {name}_{column}_seq")
    cursor.execute(f"ALTER TABLE {PRODUCTS} RENAME TO {name}")


def lock_for_swap(cursor) -> None:
    """ACCESS EXCLUSIVE on the live table, never making readers queue for long behind us.

    While a lock request waits, every later request for the table queues behind it; asking
    with a short lock_timeout and stepping aside between attempts bounds that stall. After
    the attempts, wait as long as it takes (product writes give up after their own
    lock_timeout, see products.services, so a write holding a read lock cannot hold us).
    """
    for _ in range(SWAP_LOCK_ATTEMPTS):
        try:
            with transaction.atomic():  # a savepoint: a timeout undoes only this request
                cursor.execute(f"SET LOCAL lock_timeout = '{SWAP_LOCK_TIMEOUT}'")
                cursor.execute(f"LOCK TABLE {PRODUCTS} IN ACCESS EXCLUSIVE MODE")
        except OperationalError as error:
            # lock_not_available, or deadlock_detected (a writer holding a read lock waits
            # for our REBUILD_LOCK_MODE lock): step aside and ask again.
            if not pg_errors.is_lock_conflict(error):
                raise
            time.sleep(SWAP_RETRY_PAUSE_SECONDS)
            continue
        cursor.execute("SET LOCAL lock_timeout = DEFAULT")
        return
    cursor.execute("SET LOCAL lock_timeout = DEFAULT")
    cursor.execute(f"LOCK TABLE {PRODUCTS} IN ACCESS EXCLUSIVE MODE")
