"""Benchmark: the import pipeline against the floor (raw COPY) and a common baseline.

For each size, on one database holding the catalogue's real schema and indexes (migrated
with this checkout's migrations):

- floor: raw `COPY` of the file into an unlogged table without indexes;
- baseline: csv module + batched `INSERT ... VALUES ... ON CONFLICT ((lower(sku))) DO UPDATE
  ... WHERE ... IS DISTINCT FROM` of 5,000 rows, one transaction, same scenarios as ours;
- ours: `imports.pipeline.run_import` end to end (file to committed catalogue) for an empty
  catalogue, re-importing the identical file, re-importing with every row changed.

Every import runs in its own subprocess, which reports its peak RSS (ru_maxrss). Between
scenarios (untimed) the catalogue is VACUUM ANALYZEd, as autovacuum would.

    DEBUG=true .venv/bin/python bench/imports_pipeline.py --sizes 50000,500000
    DEBUG=true .venv/bin/python bench/imports_pipeline.py --sizes 2500000 --scenarios empty \\
        --no-baseline

Database: --database-url, default the embedded PostgreSQL's database `acme_bench_imports`
(created and migrated if missing). Generated files are kept in --data-dir.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import bench_db  # the bench helper beside this script

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ("empty", "identical", "changed")
TARGETS = {"empty": 10, "identical": 8, "changed": 15}  # x the floor, at 500k rows
BASELINE_BATCH = 5000


# ---------------------------------------------------------------- children (one import each)


def _django_setup() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "acme.settings_local")
    import django

    django.setup()


def child_pipeline(path: str) -> dict:
    _django_setup()
    from imports.pipeline import ImportOptions, run_import

    started = time.perf_counter()
    with open(path, "rb") as source:
        result = run_import(
            source=source, options=ImportOptions(), bytes_total=os.path.getsize(path)
        )
    return {
        "seconds": time.perf_counter() - started,
        "created": result.created,
        "updated": result.updated,
        "unchanged": result.unchanged,
        "rejected": result.rows_rejected,
        "durations": result.durations,
    }


BASELINE_SQL = """
INSERT INTO products_product AS p (sku, name, description, active, created_at, updated_at)
VALUES {values}
ON CONFLICT ((lower(sku))) DO UPDATE
SET sku = EXCLUDED.sku, name = EXCLUDED.name, description = EXCLUDED.description,
    updated_at = now()
WHERE (p.sku, p.name, p.description) IS DISTINCT FROM
      (EXCLUDED.sku, EXCLUDED.name, EXCLUDED.description)
"""


def child_baseline(path: str) -> dict:
    """The common approach: parse with csv, upsert 5,000 rows per INSERT ... VALUES."""
    _django_setup()
    from django.db import connection, transaction

    def flush(cursor, batch: dict) -> None:
        if not batch:
            return
        values = ",".join(["(%s, %s, %s, true, now(), now())"] * len(batch))
        params = [value for row in batch.values() for value in row]
        cursor.execute(BASELINE_SQL.format(values=values), params)
        batch.clear()

    started = time.perf_counter()
    with open(path, newline="", encoding="utf-8") as handle, transaction.atomic():
        reader = csv.DictReader(handle)
        with connection.cursor() as cursor:
            batch: dict[str, tuple] = {}  # one row per SKU per statement (ON CONFLICT needs it)
            for row in reader:
                sku, name = row["sku"].strip(), row["name"].strip()
                if not sku or not name:
                    continue
                batch[sku.lower()] = (sku, name, row["description"])
                if len(batch) >= BASELINE_BATCH:
                    flush(cursor, batch)
            flush(cursor, batch)
    return {"seconds": time.perf_counter() - started}


def run_child(kind: str, path: Path, env: dict) -> dict:
    completed = subprocess.run(
        [sys.executable, __file__, "--child", kind, str(path)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise SystemExit(f"{kind} import failed:\n{completed.stderr[-3000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- the driver


def connect(url: str):
    import psycopg

    return psycopg.connect(bench_db.libpq_url(url), autocommit=True)


def ensure_file(data_dir: Path, rows: int, variant: int) -> Path:
    path = data_dir / f"products-{rows}-v{variant}.csv"
    if not path.exists():
        print(f"  generating {path} ...", flush=True)
        subprocess.run(
            [
                sys.executable,
                str(ROOT / "bench" / "generate_products_csv.py"),
                "--rows",
                str(rows),
                "--variant",
                str(variant),
                "--out",
                str(path),
            ],
            check=True,
        )
    return path


def measure_floor(conn, path: Path, runs: int = 3) -> float:
    """Best of `runs` (the machine is shared: the minimum is the least disturbed run)."""
    best = float("inf")
    for _ in range(runs):
        conn.execute("DROP TABLE IF EXISTS bench_floor")
        conn.execute("CREATE UNLOGGED TABLE bench_floor (name text, sku text, description text)")
        started = time.perf_counter()
        copy_sql = "COPY bench_floor FROM STDIN (FORMAT csv, HEADER true)"
        with conn.cursor() as cursor, path.open("rb") as source, cursor.copy(copy_sql) as copy:
            while block := source.read(1 << 20):
                copy.write(block)
        best = min(best, time.perf_counter() - started)
        conn.execute("DROP TABLE bench_floor")
    return best


def reset_catalogue(conn) -> None:
    conn.execute("TRUNCATE products_product RESTART IDENTITY")
    conn.execute("VACUUM ANALYZE products_product")


def settle(conn) -> None:
    conn.execute("VACUUM ANALYZE products_product")


def indexes(conn) -> list[str]:
    rows = conn.execute(
        "SELECT indexdef FROM pg_indexes WHERE tablename = 'products_product' ORDER BY 1"
    ).fetchall()
    return [row[0].split(" ON ", 1)[1] for row in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", nargs=2, metavar=("KIND", "FILE"), help=argparse.SUPPRESS)
    parser.add_argument("--sizes", default="50000,500000")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    parser.add_argument(
        "--drop-indexes",
        default="",
        help="comma-separated catalogue index names to drop for this run (an experiment on "
        "the bench database only; they are recreated at the end)",
    )
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/acme-bench"))  # noqa: S108
    args = parser.parse_args()

    if args.child:
        kind, path = args.child
        figures = child_pipeline(path) if kind == "pipeline" else child_baseline(path)
        figures["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(figures))
        return

    sys.path.insert(0, str(ROOT))
    url = args.database_url or bench_db.server_url("acme_bench_imports")
    env = {**os.environ, "DATABASE_URL": url, "DEBUG": os.environ.get("DEBUG", "true")}
    bench_db.ensure_database(url, env)
    args.data_dir.mkdir(parents=True, exist_ok=True)
    scenarios = [s for s in args.scenarios.split(",") if s]
    conn = connect(url)
    print(f"database: {url.split('@')[-1]}  (PostgreSQL {conn.info.server_version})")
    dropped = drop_indexes(conn, [n for n in args.drop_indexes.split(",") if n])
    try:
        run_sizes(conn, args, env, scenarios)
    finally:
        for definition in dropped:
            print(f"recreating: {definition}", flush=True)
            conn.execute(definition)
        conn.close()


def drop_indexes(conn, names: list[str]) -> list[str]:
    definitions = []
    for name in names:
        row = conn.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = %s", [name]
        ).fetchone()
        if row is None:
            raise SystemExit(f"no index named {name}")
        definitions.append(row[0])
        conn.execute(f'DROP INDEX "{name}"')
        print(f"EXPERIMENT: dropped {name} for this run", flush=True)
    return definitions


def run_sizes(conn, args, env, scenarios) -> None:
    print("catalogue indexes:\n  " + "\n  ".join(indexes(conn)))

    for rows in (int(size) for size in args.sizes.split(",")):
        print(f"\n== {rows:,} rows", flush=True)
        files = {"original": ensure_file(args.data_dir, rows, 0)}
        if "changed" in scenarios:
            files["changed"] = ensure_file(args.data_dir, rows, 1)
        size_mb = files["original"].stat().st_size / 1e6
        floor = measure_floor(conn, files["original"])
        print(
            f"  file {size_mb:.0f} MB; floor (raw COPY, unlogged, no index, best of 3):"
            f" {floor:.2f} s"
        )

        results: dict[tuple[str, str], dict] = {}
        kinds = ["pipeline"] if args.no_baseline else ["baseline", "pipeline"]
        for kind in kinds:
            reset_catalogue(conn)
            for scenario in SCENARIOS:
                if scenario not in scenarios:
                    continue
                if scenario == "identical" and "empty" not in scenarios:
                    run_child(kind, files["original"], env)  # fill the catalogue first
                    settle(conn)
                path = files["changed"] if scenario == "changed" else files["original"]
                figures = run_child(kind, path, env)
                results[kind, scenario] = figures
                settle(conn)
                print(f"  {kind:8} {scenario:9} {figures['seconds']:8.2f} s", flush=True)

        print(
            f"\n  {'scenario':9} {'seconds':>8} {'rows/s':>9} {'x floor':>8} {'target':>7}"
            f" {'baseline s':>10} {'x faster':>8} {'RSS MB':>7} {'base RSS':>8}  phases / counts"
        )
        for scenario in scenarios:
            ours = results.get(("pipeline", scenario))
            if not ours:
                continue
            base = results.get(("baseline", scenario))
            phases = " ".join(f"{k[:5]}={v:.1f}" for k, v in ours["durations"].items())
            counts = f"c={ours['created']} u={ours['updated']} n={ours['unchanged']}"
            print(
                f"  {scenario:9} {ours['seconds']:8.2f} {rows / ours['seconds']:9.0f}"
                f" {ours['seconds'] / floor:8.1f} {'<=' + str(TARGETS[scenario]):>7}"
                f" {base['seconds'] if base else float('nan'):10.2f}"
                f" {(base['seconds'] / ours['seconds']) if base else float('nan'):8.1f}"
                f" {ours['peak_rss_mb']:7.0f} {base['peak_rss_mb'] if base else float('nan'):8.0f}"
                f"  {phases}  {counts}"
            )


if __name__ == "__main__":
    main()
