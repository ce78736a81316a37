"""Taking an import (or a delete-all) back: what a revert job runs, and whether a job can be.

A revert job (ImportJob.Kind.REVERT, `reverts` = the job it takes back) is queued by
imports.services.import_job_revert and run by the worker through imports.execution like an
import: the same claim, heartbeat, progress, cancel and time limit, and its outcome (counts,
status, one `import.reverted` event) commits in the same transaction as its writes.

Steps of `run_revert`, in that transaction:

1. lock as a merge does: the merge's advisory lock (imports and reverts take turns), then
   imports.rebuild.REBUILD_LOCK_MODE on the catalogue (page and API writes wait, or say
   "catalogue busy"; readers go on), so what step 2 finds stays true until commit. The
   reverted job's row is locked too, and a revert that completed meanwhile refuses this one.
2. plan: one join of the reverted job's change set (imports.models.ImportChange) with the
   catalogue into a temporary table. Each change gets the product now (by id) and a conflict
   when the product moved on since the import:
   - created / updated / deactivated: the product is gone, or its updated_at differs from
     the one the import left (ImportChange.product_updated_at): a page, the API or a later
     import changed it;
   - deleted (delete-all, sync mode): a product with its id is back, or another product now
     has its SKU (in any case).
   A change is acted on when it has no conflict, or when the revert is forced ("Revert
   anyway") and the product is there to overwrite (a product gone stays gone, and a SKU now
   used by another product is never taken from it).
3. record the conflicts as ImportChange rows of the revert job (kind "conflict"): `before`
   what the revert would restore (null: it would delete the product), `after` the product
   now (null: it is gone; another product's id: that product holds the SKU now).
4. write, in place: DELETE the products the import created; UPDATE the ones it updated (only
   the fields it changed: `jsonb_populate_record(product, before)`) or deactivated (`active`
   only), with updated_at = now(); INSERT the deleted ones back with their ids and every
   column as it was. When the rows to write are a large share of the catalogue, the same
   plan is applied by building the catalogue anew and swapping it in (imports.rebuild, as a
   bulk import does): a revert then costs no more than the import it takes back.
5. counts from the database's row counts: restored (updated, reactivated or put back),
   deleted, conflicts.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone

from products.models import Product

from . import change_set, deleted_products
from .merge import MERGE_LOCK_KEY, apply_merge_settings, flush_gin_pending_lists, wants_rebuild
from .models import ImportChange, ImportJob
from .pipeline import ImportCancelled, ImportFailed, ImportResult, Progress
from .rebuild import COLUMNS, NEXT_TABLE, REBUILD_LOCK_MODE, rebuild_blockers, rebuild_catalogue

PRODUCTS = Product._meta.db_table
CHANGES = ImportChange._meta.db_table
JOBS = ImportJob._meta.db_table
PLAN_TABLE = "revert_plan"
# Never taken from the change set when restoring an updated product: they are not values an
# import writes (updated_at becomes now(), as for any write).
NOT_RESTORED = ("id", "created_at", "updated_at")
# The kinds of change a revert takes back (a revert's own rows are conflicts: not revertible).
REVERTIBLE_KINDS = (
    ImportChange.Kind.CREATED,
    ImportChange.Kind.UPDATED,
    ImportChange.Kind.DELETED,
    ImportChange.Kind.DEACTIVATED,
)
REVERTIBLE_JOB_KINDS = (ImportJob.Kind.IMPORT, ImportJob.Kind.DELETE_ALL)

K = ImportChange.Kind

# Step 2. `conflict`: why the product cannot simply be taken back (NULL: it can); `act`:
# whether the revert writes it; `patch`: the values an updated or deactivated product gets
# back (for a deleted one, `before` is the whole row).
PLAN = f"""
CREATE TEMPORARY TABLE {PLAN_TABLE} ON COMMIT DROP AS
SELECT change_id, kind, product_id, sku, before, patch, conflict,
       conflict IS NULL OR (%(force)s AND conflict = 'changed') AS act
FROM (
    SELECT c.id AS change_id, c.kind, c.product_id, c.sku, c.before,
           CASE c.kind
               WHEN '{K.UPDATED}' THEN c.before - ARRAY{list(NOT_RESTORED)}
               WHEN '{K.DEACTIVATED}' THEN jsonb_build_object('active', c.before -> 'active')
           END AS patch,
           CASE
               WHEN c.kind = '{K.DELETED}' THEN
                   CASE
                       WHEN p.id IS NOT NULL THEN 'present'
                       WHEN EXISTS (SELECT FROM {PRODUCTS} AS q WHERE lower(q.sku) = lower(c.sku))
                           THEN 'sku_taken'
                   END
               WHEN p.id IS NULL THEN 'gone'
               WHEN p.updated_at IS DISTINCT FROM c.product_updated_at THEN 'changed'
           END AS conflict
    FROM (SELECT *, {change_set.before_sql("stored")} AS before
          FROM {CHANGES} AS stored) AS c
    LEFT JOIN {PRODUCTS} AS p ON p.id = c.product_id
    WHERE c.job_id = %(job)s AND c.kind IN ({", ".join(f"'{kind}'" for kind in REVERTIBLE_KINDS)})
) AS planned
"""

PLAN_COUNTS = f"""
SELECT count(*) FILTER (WHERE act AND kind IN ('{K.UPDATED}', '{K.DEACTIVATED}')),
       count(*) FILTER (WHERE act AND kind = '{K.DELETED}'),
       count(*) FILTER (WHERE act AND kind = '{K.CREATED}'),
       count(*) FILTER (WHERE conflict IS NOT NULL)
FROM {PLAN_TABLE}
"""

# Step 3: the product now, for each conflict (the fields the revert would restore; the whole
# row for a product the import created; the product holding the SKU of a deleted one).
RECORD_CONFLICTS = f"""
INSERT INTO {CHANGES} ({change_set.JSON_COLUMNS})
SELECT %(revert_job)s, '{K.CONFLICT}', r.product_id, r.sku,
       CASE WHEN r.kind = '{K.DELETED}' THEN r.before ELSE r.patch END,
       CASE
           WHEN r.kind = '{K.DELETED}' THEN (
               SELECT to_jsonb(q) FROM {PRODUCTS} AS q
               WHERE q.id = r.product_id OR lower(q.sku) = lower(r.sku)
               ORDER BY q.id = r.product_id DESC LIMIT 1)
           WHEN p.id IS NULL THEN NULL
           WHEN r.kind = '{K.CREATED}' THEN to_jsonb(p)
           ELSE (SELECT jsonb_object_agg(key, to_jsonb(p) -> key)
                 FROM jsonb_object_keys(r.patch) AS key)
       END,
       p.updated_at
FROM {PLAN_TABLE} AS r
LEFT JOIN {PRODUCTS} AS p ON p.id = r.product_id
WHERE r.conflict IS NOT NULL
ORDER BY r.change_id
"""

DELETE_CREATED = f"""
DELETE FROM {PRODUCTS} AS p USING {PLAN_TABLE} AS r
WHERE r.act AND r.kind = '{K.CREATED}' AND p.id = r.product_id
"""


def _restore_updated_sql(columns: list[str]) -> str:
    restored = [column for column in columns if column not in NOT_RESTORED]
    return f"""
UPDATE {PRODUCTS} AS p
SET ({", ".join(restored)}) = (
        SELECT {", ".join(f"x.{column}" for column in restored)}
        FROM jsonb_populate_record(p, r.patch) AS x
    ),
    updated_at = now()
FROM {PLAN_TABLE} AS r
WHERE r.act AND r.kind IN ('{K.UPDATED}', '{K.DEACTIVATED}') AND p.id = r.product_id
"""


def _put_back_deleted_sql(table: str, columns: list[tuple[str, bool]]) -> str:
    """The deleted products back into `table` with their ids and every column as it was."""
    names = [column for column, _ in columns]
    overriding = " OVERRIDING SYSTEM VALUE" if any(always for _, always in columns) else ""
    return f"""
INSERT INTO {table} ({", ".join(names)}){overriding}
SELECT {", ".join(f"x.{column}" for column in names)}
FROM {PLAN_TABLE} AS r
CROSS JOIN LATERAL jsonb_populate_record(NULL::{PRODUCTS}, r.before) AS x
WHERE r.act AND r.kind = '{K.DELETED}'
ORDER BY r.product_id
"""


def _copy_reverted_sql(columns: list[tuple[str, bool]]) -> str:
    """The rebuild's fill: every live product but those the revert deletes, with the planned
    values where the revert restores them."""
    values = []
    for column, _ in columns:
        if column == "updated_at":
            values.append("CASE WHEN restore THEN now() ELSE p.updated_at END")
        elif column in NOT_RESTORED:
            values.append(f"p.{column}")
        else:
            values.append(f"CASE WHEN restore THEN x.{column} ELSE p.{column} END")
    overriding = " OVERRIDING SYSTEM VALUE" if any(always for _, always in columns) else ""
    return f"""
INSERT INTO {NEXT_TABLE} ({", ".join(column for column, _ in columns)}){overriding}
SELECT {", ".join(values)}
FROM {PRODUCTS} AS p
LEFT JOIN {PLAN_TABLE} AS r
       ON r.product_id = p.id AND r.act AND r.kind <> '{K.DELETED}'
CROSS JOIN LATERAL (SELECT r.kind IN ('{K.UPDATED}', '{K.DEACTIVATED}') AS restore) AS planned
CROSS JOIN LATERAL jsonb_populate_record(p, r.patch) AS x
WHERE r.kind IS DISTINCT FROM '{K.CREATED}'
"""


def revert_refusal(job: ImportJob, *, running: ImportJob | None = None) -> str | None:
    """Why `job` cannot be reverted now (None: it can). Reads only; the revert job `running`
    checks again under its locks (itself not counted as an earlier revert)."""
    if job.kind not in REVERTIBLE_JOB_KINDS:
        return "A revert cannot be reverted; import the file again instead."
    if job.validate_only:
        return "A validation changed nothing; there is nothing to revert."
    if job.status != ImportJob.Status.COMPLETED:
        return f"Only completed imports can be reverted; this one is {job.status}."
    retention = settings.IMPORT_FILE_RETENTION_DAYS
    if (
        retention > 0
        and job.finished_at
        and job.finished_at < timezone.now() - timedelta(days=retention)
    ):
        return (
            f"This import finished more than {retention:g} days ago "
            "(IMPORT_FILE_RETENTION_DAYS); its changes are no longer kept."
        )
    archived = deleted_products.archive_of(job) is not None
    if not archived and not job.changes.filter(kind__in=REVERTIBLE_KINDS).exists():
        if job.created or job.updated or job.deleted:
            return "This import's changes were not recorded; it cannot be reverted."
        return "This import changed nothing; there is nothing to revert."
    # A revert that left conflicts as they were may be followed by one that overwrites them
    # ("Revert anyway"); any other revert, queued, running or done, is the revert.
    others = job.reverted_by.exclude(
        status__in=(ImportJob.Status.FAILED, ImportJob.Status.CANCELLED)
    ).exclude(status=ImportJob.Status.COMPLETED, force=False, conflicts__gt=0)
    if running is not None:
        others = others.exclude(pk=running.pk)
    other_revert = others.order_by("pk").first()
    if other_revert is not None:
        return f"This import is already reverted by #{other_revert.pk} ({other_revert.status})."
    return None


# Completed jobs after this one whose change sets touch the same SKUs, with how many.
LATER_JOBS_TOUCHING = f"""
SELECT later.id, count(*)
FROM {JOBS} AS later
JOIN {CHANGES} AS later_change
  ON later_change.job_id = later.id
 AND later_change.kind IN ({", ".join(f"'{kind}'" for kind in REVERTIBLE_KINDS)})
WHERE later.status = '{ImportJob.Status.COMPLETED}' AND NOT later.validate_only
  AND later.kind IN ({", ".join(f"'{kind}'" for kind in REVERTIBLE_JOB_KINDS)})
  AND later.finished_at > %(finished_at)s AND later.id <> %(job)s
  AND EXISTS (SELECT FROM {CHANGES} AS c
              WHERE c.job_id = %(job)s AND lower(c.sku) = lower(later_change.sku)
                AND c.kind IN ({", ".join(f"'{kind}'" for kind in REVERTIBLE_KINDS)}))
GROUP BY later.id
ORDER BY later.id
"""


LATER_JOBS_TOUCHING_ARCHIVE = LATER_JOBS_TOUCHING.replace(
    f"""EXISTS (SELECT FROM {CHANGES} AS c
              WHERE c.job_id = %(job)s AND lower(c.sku) = lower(later_change.sku)
                AND c.kind IN ({", ".join(f"'{kind}'" for kind in REVERTIBLE_KINDS)}))""",
    "EXISTS (SELECT FROM {archive} AS a WHERE lower(a.sku) = lower(later_change.sku))",
)


def later_jobs_touching(job: ImportJob) -> list[dict[str, int]]:
    """The completed imports (and delete-alls) after `job` that changed products `job`
    changed: [{"id", "products"}]. Reverting `job` leaves those products as they are
    (conflicts) unless forced; the page and the API say so before the revert is queued."""
    if (
        not ImportJob.objects.filter(
            status=ImportJob.Status.COMPLETED,
            validate_only=False,
            kind__in=REVERTIBLE_JOB_KINDS,
            finished_at__gt=job.finished_at,
        )
        .exclude(pk=job.pk)
        .exists()
    ):
        return []
    archive = deleted_products.archive_of(job)
    sql = LATER_JOBS_TOUCHING
    if archive is not None:  # a delete-all's products are in its kept table
        sql = LATER_JOBS_TOUCHING_ARCHIVE.format(archive=archive)
    with connection.cursor() as cursor:
        cursor.execute(sql, {"job": job.pk, "finished_at": job.finished_at})
        return [{"id": later_id, "products": count} for later_id, count in cursor.fetchall()]


def run_revert(
    *,
    job: ImportJob,
    on_progress: Callable[[Progress], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
) -> ImportResult:
    """Steps 1-5 above for the claimed revert job `job`, in the caller's transaction."""
    result = ImportResult()
    steps = _Steps(result, on_progress, should_cancel)
    if job.reverts_id is None:
        raise ImportFailed("the import to revert was deleted")
    with connection.cursor() as cursor:
        steps.enter(ImportJob.Phase.LOADING, "waiting for imports in progress to finish merging")
        apply_merge_settings(cursor)
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [MERGE_LOCK_KEY])
        steps.step("waiting for catalogue edits in progress to finish")
        cursor.execute(f"LOCK TABLE {PRODUCTS} IN {REBUILD_LOCK_MODE} MODE")
        target = ImportJob.objects.select_for_update().get(pk=job.reverts_id)
        refusal = revert_refusal(target, running=job)
        if refusal is not None:
            raise ImportFailed(refusal)

        cursor.execute(COLUMNS)
        columns = [(name, always) for name, always in cursor.fetchall()]
        archive = deleted_products.archive_of(target)
        if archive is not None:
            _put_back_archive(cursor, job, archive, columns, steps, result)
            steps.close()
            return result

        steps.step("comparing the import's changes with the catalogue")
        cursor.execute(f"DROP TABLE IF EXISTS {PLAN_TABLE}")
        cursor.execute(PLAN, {"job": target.pk, "force": job.force})
        cursor.execute(f"ANALYZE {PLAN_TABLE}")
        cursor.execute(PLAN_COUNTS)
        restore, put_back, delete, conflicts = cursor.fetchone()
        steps.records(restore + put_back + delete + conflicts)
        if conflicts:
            steps.step(f"recording {conflicts:,} products changed since the import")
            cursor.execute(RECORD_CONFLICTS, {"revert_job": job.pk})
        result.conflicts = conflicts

        steps.enter(ImportJob.Phase.MERGING)
        to_write = restore + put_back
        if _rebuilds(cursor, new=put_back, changed=restore + delete):
            result.restored, result.deleted = _rebuild(cursor, columns, steps, put_back)
        else:
            result.restored, result.deleted = _in_place(cursor, columns, steps, restore, delete,
                                                        put_back)  # fmt: skip
            if to_write:
                steps.step("bringing the search indexes up to date")
                flush_gin_pending_lists(cursor)
        if (result.restored, result.deleted) != (restore + put_back, delete):
            raise RuntimeError(
                f"the revert wrote {result.restored} and deleted {result.deleted} products; "
                f"it planned {restore + put_back} and {delete}"
            )
        cursor.execute(f"DROP TABLE IF EXISTS {PLAN_TABLE}")
    steps.close()
    return result


def _rebuilds(cursor, *, new: int, changed: int) -> bool:
    """Whether to apply the revert by a rebuild: as an import decides (imports.merge), by the
    share of the catalogue it writes (deleting a row counts as writing it: a rebuild skips
    it for free), on a table that is safe to rebuild."""
    if new + changed < settings.IMPORT_REBUILD_MIN_ROWS or rebuild_blockers(cursor):
        return False
    return wants_rebuild(cursor, new=new, changed=changed)


def _in_place(cursor, columns, steps, restore: int, delete: int, put_back: int) -> tuple[int, int]:
    restored = deleted = 0
    if delete:
        steps.step(f"deleting {delete:,} products the import created")
        cursor.execute(DELETE_CREATED)
        deleted = cursor.rowcount
    if restore:
        steps.step(f"restoring {restore:,} products the import changed")
        cursor.execute(_restore_updated_sql([column for column, _ in columns]))
        restored += cursor.rowcount
    if put_back:
        steps.step(f"putting back {put_back:,} deleted products")
        cursor.execute(_put_back_deleted_sql(PRODUCTS, columns))
        restored += cursor.rowcount
    return restored, deleted


def _rebuild(cursor, columns, steps, put_back: int) -> tuple[int, int]:
    """The plan applied by building the catalogue anew (imports.rebuild); returns (restored,
    deleted) as the database counted them."""
    counted: dict[str, int] = {}

    def fill(cursor, _columns) -> int:
        cursor.execute(f"SELECT count(*) FROM {PRODUCTS}")
        (before,) = cursor.fetchone()
        cursor.execute(_copy_reverted_sql(columns))
        kept = cursor.rowcount
        cursor.execute(
            f"SELECT count(*) FROM {PLAN_TABLE} "
            f"WHERE act AND kind IN ('{K.UPDATED}', '{K.DEACTIVATED}')"
        )
        (restored,) = cursor.fetchone()
        cursor.execute(_put_back_deleted_sql(NEXT_TABLE, columns))
        counted["restored"] = restored + cursor.rowcount
        counted["deleted"] = before - kept
        return counted["restored"]

    rebuild_catalogue(cursor, on_step=steps.step, fill=fill)
    return counted["restored"], counted["deleted"]


def _put_back_archive(cursor, job: ImportJob, archive: str, columns, steps, result) -> None:
    """A delete-all kept as a table (imports.deleted_products): record as conflicts the kept
    products whose SKU another product has now (never taken from it, forced or not), put the
    others back with every column as it was (in place, or by a rebuild for many), drop the
    table."""
    cursor.execute(
        "SELECT quote_ident(attname) FROM pg_attribute WHERE attrelid = %s::regclass "
        "AND attnum > 0 AND NOT attisdropped",
        [archive],
    )
    kept = {name for (name,) in cursor.fetchall()}
    columns = [(name, always) for name, always in columns if name in kept]
    names = ", ".join(name for name, _ in columns)
    overriding = " OVERRIDING SYSTEM VALUE" if any(always for _, always in columns) else ""
    steps.step("comparing the deleted products with the catalogue")
    cursor.execute(
        f"""
        INSERT INTO {CHANGES} ({change_set.JSON_COLUMNS})
        SELECT %s, '{K.CONFLICT}', a.id, a.sku, to_jsonb(a), to_jsonb(q), q.updated_at
        FROM {archive} AS a JOIN {PRODUCTS} AS q ON lower(q.sku) = lower(a.sku)
        ORDER BY a.id
        """,
        [job.pk],
    )
    result.conflicts = cursor.rowcount
    cursor.execute(f"SELECT count(*) FROM {archive}")
    (total,) = cursor.fetchone()
    put_back = total - result.conflicts
    steps.records(total)
    missing = f"""
        INSERT INTO {{table}} ({names}){overriding}
        SELECT {", ".join(f"a.{name}" for name, _ in columns)} FROM {archive} AS a
        WHERE NOT EXISTS (SELECT FROM {PRODUCTS} AS q WHERE lower(q.sku) = lower(a.sku))
        ORDER BY a.id
    """

    steps.enter(ImportJob.Phase.MERGING)
    swapped = deleted_products.swap_back(cursor, archive)
    if swapped is not None:
        steps.step("putting the kept catalogue back")
        result.restored = swapped
    elif _rebuilds(cursor, new=put_back, changed=0):

        def fill(cursor, live_columns) -> int:
            cursor.execute(
                f"INSERT INTO {NEXT_TABLE} ({', '.join(name for name, _ in live_columns)})"
                f"{overriding} SELECT {', '.join(name for name, _ in live_columns)} "
                f"FROM {PRODUCTS}"
            )
            cursor.execute(missing.format(table=NEXT_TABLE))
            return cursor.rowcount

        result.restored = rebuild_catalogue(cursor, on_step=steps.step, fill=fill)
    else:
        steps.step(f"putting back {put_back:,} deleted products")
        cursor.execute(missing.format(table=PRODUCTS))
        result.restored = cursor.rowcount
        if result.restored:
            steps.step("bringing the search indexes up to date")
            flush_gin_pending_lists(cursor)
    if result.restored != put_back:
        raise RuntimeError(f"the revert put back {result.restored} products; planned {put_back}")
    if swapped is None:
        cursor.execute(f"DROP TABLE {archive}")


class _Steps:
    """The revert's phases and steps as the import's progress (imports.progress), its phase
    durations, and a cancel check before each step."""

    def __init__(self, result: ImportResult, on_progress, should_cancel) -> None:
        self.result = result
        self.on_progress = on_progress
        self.should_cancel = should_cancel
        self.phase: str | None = None
        self.started = 0.0
        self.count = 0

    def enter(self, phase: str, step: str | None = None) -> None:
        self.close()
        self.phase = str(phase)
        self.started = _now()
        self.step(step)

    def records(self, count: int) -> None:
        self.count = count

    def step(self, text: str | None) -> None:
        if self.should_cancel is not None and self.should_cancel():
            raise ImportCancelled("the revert was cancelled")
        if self.on_progress is not None and self.phase is not None:
            self.on_progress(Progress(self.phase, self.count, 0, None, text))

    def close(self) -> None:
        if self.phase is not None:
            elapsed = _now() - self.started
            self.result.durations[self.phase] = self.result.durations.get(self.phase, 0) + elapsed
            self.phase = None


def _now() -> float:
    return time.monotonic()
