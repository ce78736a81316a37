"""Sync mode: after the merge, the products the file does not name are deactivated or, chosen
explicitly, deleted, so the catalogue holds what the file holds.

Opt-in per import (or per saved source). Runs in the import's transaction, right after the
merge (imports.pipeline), under the merge's advisory lock: set-based, one statement. A
product is "in the file" when a valid record names its SKU (any letter case: the staging
table's sku_key). A sync refuses a file with rejected records (imports.pipeline): a rejected
record's product is not in the staging table and would be deactivated or deleted.

- deactivate: the active products not in the file get active = false (and updated_at now);
  products already inactive are not written and not counted;
- delete: the products not in the file are deleted.

Each product written is recorded in the job's change set (imports.change_set:
kind deactivated or deleted, `before` the whole row), so a revert of the job (imports.revert)
reactivates or restores them. Validate only counts (and records) what a sync would do, and
writes nothing: the counts are shown before a sync that would empty most of the catalogue is
run for real.
"""

from __future__ import annotations

from products.models import Product

from . import change_set
from .models import ImportJob
from .staging import STAGING_TABLE

PRODUCTS = Product._meta.db_table
SyncMode = ImportJob.Sync


def _missing(mode: str, *, lock: bool) -> str:
    """The products a sync in `mode` would write: id, sku, updated_at and the whole row."""
    only_active = "AND p.active" if mode == SyncMode.DEACTIVATE else ""
    return f"""
SELECT p.id, p.sku, p.updated_at, to_jsonb(p) AS row
FROM {PRODUCTS} AS p
WHERE NOT EXISTS (SELECT FROM {STAGING_TABLE} AS s WHERE s.sku_key = lower(p.sku)) {only_active}
{"FOR UPDATE OF p" if lock else ""}
"""


def sync_catalogue(cursor, *, mode: str, job_id: int | None) -> int:
    """Deactivate or delete the products the staged file does not name; returns how many.
    With `job_id`, each one is recorded in that job's change set."""
    if mode == SyncMode.DEACTIVATE:
        if job_id is None:
            cursor.execute(
                f"UPDATE {PRODUCTS} AS p SET active = false, updated_at = now() "
                f"FROM ({_missing(mode, lock=True)}) AS gone WHERE p.id = gone.id"
            )
        else:
            sql = change_set.deactivate_missing_recorded(_missing(mode, lock=True))
            cursor.execute(sql, {"job": job_id})
    elif mode == SyncMode.DELETE:
        if job_id is None:
            cursor.execute(
                f"DELETE FROM {PRODUCTS} AS p "
                f"USING ({_missing(mode, lock=True)}) AS gone WHERE p.id = gone.id"
            )
        else:
            cursor.execute(change_set.delete_missing_recorded(_missing(mode, lock=True)),
                           {"job": job_id})  # fmt: skip
    else:
        raise ValueError(f"unknown sync mode {mode!r}")
    return cursor.rowcount


def count_missing(cursor, *, mode: str, job_id: int | None) -> int:
    """Validate only: how many products a sync in `mode` would write (recorded in the job's
    change set with `job_id`); nothing is written to the catalogue."""
    if job_id is None:
        cursor.execute(f"SELECT count(*) FROM ({_missing(mode, lock=False)}) AS gone")
        return cursor.fetchone()[0]
    kind = change_set.DEACTIVATED if mode == SyncMode.DEACTIVATE else change_set.DELETED
    cursor.execute(change_set.record_missing(_missing(mode, lock=False), kind=kind),
                   {"job": job_id})  # fmt: skip
    return cursor.rowcount
