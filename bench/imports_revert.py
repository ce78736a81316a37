"""Benchmark: reverting an import (and a delete-all) against the import itself.

For each size, on the bench database (the catalogue's real schema and indexes):

- empty: import the file into an empty catalogue (every row created), then revert it
  (every product deleted);
- identical: import the same file again (nothing changes; there is nothing to revert: the
  revert is refused at once);
- changed: import the file with every row changed, then revert it (every product restored);
- delete-all: delete the whole catalogue (products.services.products_delete_all: recording
  every row for the revert, then TRUNCATE) against a bare TRUNCATE of the same catalogue
  (rolled back), then revert the delete-all (every product put back with its id).

Each import and revert is a real job run as the worker runs it (imports.execution: claim,
progress, heartbeat, outcome and change set in the job's transaction), in its own
subprocess, which reports its peak RSS (ru_maxrss). Between steps (untimed) the catalogue is
VACUUM ANALYZEd, as autovacuum would.

    DEBUG=true .venv/bin/python bench/imports_revert.py --sizes 500000

Database: --database-url, default the embedded PostgreSQL's database `acme_bench_imports`
(created and migrated if missing; shared with bench/imports_pipeline.py). Generated files are
kept in --data-dir.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import bench_db  # the bench helpers beside this script
import imports_pipeline

ROOT = Path(__file__).resolve().parent.parent


# ---------------------------------------------------------------- children (one job each)


def child(kind: str, argument: str) -> dict:
    imports_pipeline._django_setup()
    from imports import execution, services
    from imports.models import ImportJob
    from products.services import products_delete_all

    started = time.perf_counter()
    if kind == "delete_all":
        deleted = products_delete_all()
        job = ImportJob.objects.filter(kind=ImportJob.Kind.DELETE_ALL).latest("pk")
        return {"seconds": time.perf_counter() - started, "job": job.pk, "deleted": deleted}
    if kind == "import":
        path = argument
        job = ImportJob.objects.create(
            original_name=os.path.basename(path), size=os.path.getsize(path)
        )
        claimed = services.import_job_claim(job_id=job.pk)
        with open(path, "rb") as source:
            done = execution.execute(claimed, source=source)
    else:
        target = ImportJob.objects.get(pk=int(argument))
        job = ImportJob.objects.create(
            kind=ImportJob.Kind.REVERT, reverts=target, original_name=target.original_name, size=0
        )
        done = execution.execute(services.import_job_claim(job_id=job.pk))
    seconds = time.perf_counter() - started
    assert done is not None
    return {
        "seconds": seconds,
        "job": done.pk,
        "status": done.status,
        "error": done.error,
        "counts": {
            name: getattr(done, name)
            for name in ("created", "updated", "unchanged", "restored", "deleted", "conflicts")
        },
        "durations": done.durations,
    }


def run_child(kind: str, argument: str, env: dict) -> dict:
    completed = subprocess.run(
        [sys.executable, __file__, "--child", kind, argument],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise SystemExit(f"{kind} failed:\n{completed.stderr[-3000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- the driver


def bare_truncate_seconds(conn) -> float:
    """What delete-all cost before it was revertible: lock, count, TRUNCATE (rolled back)."""
    started = time.perf_counter()
    conn.execute("BEGIN")
    conn.execute("LOCK TABLE products_product IN ACCESS EXCLUSIVE MODE")
    conn.execute("SELECT count(*) FROM products_product")
    conn.execute("TRUNCATE products_product")
    seconds = time.perf_counter() - started
    conn.execute("ROLLBACK")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", nargs=2, metavar=("KIND", "ARG"), help=argparse.SUPPRESS)
    parser.add_argument("--sizes", default="500000")
    parser.add_argument("--scenarios", default="empty,identical,changed,delete-all")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/acme-bench"))  # noqa: S108
    args = parser.parse_args()

    if args.child:
        figures = child(*args.child)
        figures["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(figures))
        return

    url = args.database_url or bench_db.server_url("acme_bench_imports")
    env = {**os.environ, "DATABASE_URL": url, "DEBUG": os.environ.get("DEBUG", "true")}
    bench_db.ensure_database(url, env)
    args.data_dir.mkdir(parents=True, exist_ok=True)
    conn = imports_pipeline.connect(url)
    print(f"database: {url.split('@')[-1]}  (PostgreSQL {conn.info.server_version})")
    print(f"load average: {os.getloadavg()}")
    try:
        for rows in (int(size) for size in args.sizes.split(",")):
            run_size(conn, args, env, rows)
    finally:
        conn.close()


def run_size(conn, args, env, rows: int) -> None:
    print(f"\n== {rows:,} rows", flush=True)
    original = imports_pipeline.ensure_file(args.data_dir, rows, 0)
    changed = imports_pipeline.ensure_file(args.data_dir, rows, 1)
    imports_pipeline.reset_catalogue(conn)
    table: list[tuple[str, dict, dict | None]] = []

    def step(kind: str, argument: str) -> dict:
        figures = run_child(kind, argument, env)
        imports_pipeline.settle(conn)
        if figures.get("status", "completed") != "completed" and kind == "import":
            raise SystemExit(f"import failed: {figures['error']}")
        return figures

    scenarios = args.scenarios.split(",")
    empty = step("import", str(original))
    if "empty" in scenarios:
        table.append(("empty", empty, step("revert", str(empty["job"]))))
        step("import", str(original))  # fill the catalogue again (untimed)
    if "identical" in scenarios:
        identical = step("import", str(original))
        table.append(("identical", identical, step("revert", str(identical["job"]))))
    if "changed" in scenarios:
        changed_import = step("import", str(changed))
        table.append(("changed", changed_import, step("revert", str(changed_import["job"]))))

    truncate = bare_truncate_seconds(conn)
    delete_all = step("delete_all", "")
    table.append(("delete-all", delete_all, step("revert", str(delete_all["job"]))))

    print(
        f"\n  {'scenario':10} {'import s':>9} {'revert s':>9} {'revert/import':>13}"
        f" {'import RSS':>10} {'revert RSS':>10}  revert outcome"
    )
    for scenario, forward, back in table:
        assert back is not None
        outcome = (
            " ".join(f"{k}={v}" for k, v in back["counts"].items() if v)
            if back["status"] == "completed"
            else f"{back['status']}: {back['error'][:60]}"
        )
        print(
            f"  {scenario:10} {forward['seconds']:9.2f} {back['seconds']:9.2f}"
            f" {back['seconds'] / forward['seconds']:13.2f} {forward['peak_rss_mb']:10.0f}"
            f" {back['peak_rss_mb']:10.0f}  {outcome}",
            flush=True,
        )
    print(f"  delete-all: {delete_all['seconds']:.2f} s recorded and truncated, against a bare"
          f" lock + count + TRUNCATE of {truncate:.2f} s")  # fmt: skip
    print(f"  load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
