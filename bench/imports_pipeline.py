"""Benchmark: the import pipeline against its floors and a common baseline.

For each size, on one database holding the catalogue's real schema and indexes (migrated
with this checkout's migrations):

- COPY floor: raw `COPY` of the file into an unlogged table without indexes (best of 3);
- index floor, the physical floor of a search-ready import: `COPY` of the file into an
  index-less table shaped like the catalogue (`LIKE products_product`), then `CREATE INDEX`
  of each catalogue index, definitions read from the live table's catalog (as
  imports.rebuild reads them), with the settings the rebuild builds them with
  (imports.merge.apply_merge_settings, imports.rebuild.apply_index_build_settings), in one
  transaction as the rebuild does. Timed: the COPY and the index builds. Not timed: keeping
  the last record per lower(sku) between the two (the unique index needs it; the pipeline
  pays for it in its own time). Best of --index-floor-runs;
- baseline: csv module + batched `INSERT ... VALUES ... ON CONFLICT ((lower(sku))) DO UPDATE
  ... WHERE ... IS DISTINCT FROM` of 5,000 rows, one transaction, same scenarios as ours;
- ours: `imports.pipeline.run_import` end to end (file to committed catalogue) for an empty
  catalogue, re-importing the identical file, re-importing with every row changed.

Every import runs in its own subprocess, which reports its peak RSS (ru_maxrss). Between
scenarios (untimed) the catalogue is VACUUM ANALYZEd, as autovacuum would. While each of
our imports runs, the database's size, the WAL directory and the temporary files are
sampled every 0.5 s (the disk an import needs: staging, the rebuild's second copy, WAL).

The targets (TARGETS, BASELINE_SPEEDUP, RSS_GROWTH) are checked and printed per scenario;
with --repeat N each size is measured N times and the medians printed.

    DEBUG=true .venv/bin/python bench/imports_pipeline.py --sizes 500000 --repeat 3
    DEBUG=true .venv/bin/python bench/imports_pipeline.py --sizes 2500000
    DEBUG=true .venv/bin/python bench/imports_pipeline.py --sizes 10000000 --no-baseline

Database: --database-url, default the embedded PostgreSQL's database `acme_bench_imports`
(created and migrated if missing). Generated files are kept in --data-dir.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import statistics
import subprocess
import sys
import threading
import time
from contextlib import nullcontext
from pathlib import Path

import bench_db  # the bench helper beside this script

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ("empty", "identical", "changed")
# The targets (issue #13), at 500k and 2.5M rows: each scenario's time at most this many
# times a floor measured in the same run ("index": COPY + building every catalogue index;
# "copy": raw COPY into an unlogged table without indexes).
TARGETS = {"empty": ("index", 1.25), "identical": ("copy", 6.0), "changed": ("index", 1.25)}
BASELINE_SPEEDUP = 3.0  # every scenario at least this many times faster than the baseline
RSS_GROWTH = 0.10  # peak RSS at any size within this share of the run's smallest size
BASELINE_BATCH = 5000
DISK_SAMPLE_SECONDS = 0.5
STATEMENTS_ENV = "BENCH_IMPORT_STATEMENTS"  # set by --statements for the import's children
STATEMENT_CHARS = 70
NO_CHANGE_SET_ENV = "BENCH_IMPORT_NO_CHANGE_SET"  # set by --no-change-set


# ---------------------------------------------------------------- children (one import each)


def _django_setup() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "acme.settings_local")
    import django

    django.setup()


def child_pipeline(path: str) -> dict:
    """run_import as a job runs it, with the job's id (so the change set is recorded,
    imports.change_set); the job row is created before the clock starts."""
    _django_setup()
    from imports import services
    from imports.pipeline import ImportOptions, run_import

    job_id = None
    if not os.environ.get(NO_CHANGE_SET_ENV):
        job = services.import_job_create_local(path=path, options={}, size=os.path.getsize(path))
        job_id = job.pk

    steps: dict[str, float] = {}  # the merge's steps (what the progress display shows)
    current: list = [None, 0.0]

    def on_progress(progress) -> None:
        now = time.perf_counter()
        if current[0] is not None:
            steps[current[0]] = steps.get(current[0], 0.0) + now - current[1]
        current[:] = [progress.step if progress else None, now]

    statements: dict[str, float] = {}

    def timed(execute, sql, params, many, context):
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            text = " ".join(sql.split())[:STATEMENT_CHARS]
            statements[text] = statements.get(text, 0.0) + time.perf_counter() - began

    from django.db import connection

    wrapper = connection.execute_wrapper(timed) if os.environ.get(STATEMENTS_ENV) else nullcontext()
    started = time.perf_counter()
    with wrapper, open(path, "rb") as source:
        result = run_import(
            source=source,
            options=ImportOptions(),
            bytes_total=os.path.getsize(path),
            on_progress=on_progress,
            job_id=job_id,
        )
    ended = time.perf_counter()
    on_progress(None)  # closes the last step
    return {
        "seconds": ended - started,
        "steps": {step: seconds for step, seconds in steps.items() if step is not None},
        "statements": statements,
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


FLOOR_FILE = "bench_floor_file"
FLOOR_CATALOGUE = "bench_floor_catalogue"


class _RollBack(Exception):
    pass


def child_index_floor(path: str) -> dict:
    """COPY the file into a table shaped like the catalogue, then build each catalogue index
    on it as the rebuild does; rolled back at the end."""
    _django_setup()
    from django.db import connection, transaction

    from imports.merge import PRODUCTS, apply_merge_settings
    from imports.rebuild import INDEXES, apply_index_build_settings, index_on

    figures: dict = {"indexes": {}}
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            apply_merge_settings(cursor)
            cursor.execute(INDEXES)  # the live table's definitions: follows the model
            indexes = cursor.fetchall()
            like = f"(LIKE {PRODUCTS} INCLUDING ALL EXCLUDING INDEXES)"
            cursor.execute(f"CREATE TABLE {FLOOR_FILE} {like}")
            # as a new product gets it (imports.staging.NEW_VALUES; no database default)
            cursor.execute(f"ALTER TABLE {FLOOR_FILE} ALTER active SET DEFAULT true")
            cursor.execute(f"CREATE TABLE {FLOOR_CATALOGUE} {like}")
            started = time.perf_counter()
            copy_sql = (
                f"COPY {FLOOR_FILE} (name, sku, description) FROM STDIN (FORMAT csv, HEADER true)"
            )
            with cursor.cursor.copy(copy_sql) as copy, open(path, "rb") as source:
                while block := source.read(1 << 20):
                    copy.write(block)
            figures["copy"] = time.perf_counter() - started
            # Not timed: the catalogue holds one row per lower(sku), the file's last.
            cursor.execute(
                f"INSERT INTO {FLOOR_CATALOGUE} OVERRIDING SYSTEM VALUE SELECT * FROM ("
                f"SELECT DISTINCT ON (lower(sku)) * FROM {FLOOR_FILE} ORDER BY lower(sku), id DESC"
                f") AS last ORDER BY id"
            )
            figures["rows"] = cursor.rowcount
            cursor.execute(f"DROP TABLE {FLOOR_FILE}")
            apply_index_build_settings(cursor)
            for number, (name, indexdef, constraint, constraintdef) in enumerate(indexes):
                temporary = f"{FLOOR_CATALOGUE}_{number}"
                if constraint is not None:
                    sql = (
                        f"ALTER TABLE {FLOOR_CATALOGUE} ADD CONSTRAINT {temporary} {constraintdef}"
                    )
                else:
                    sql = index_on(indexdef, name=temporary, table=FLOOR_CATALOGUE)
                started = time.perf_counter()
                cursor.execute(sql)
                figures["indexes"][name] = time.perf_counter() - started
            raise _RollBack
    except _RollBack:
        pass
    figures["seconds"] = figures["copy"] + sum(figures["indexes"].values())
    return figures


def run_child(kind: str, path: Path, env: dict) -> dict:
    completed = subprocess.run(
        [sys.executable, __file__, "--child", kind, str(path)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise SystemExit(f"{kind} failed:\n{completed.stderr[-3000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- the driver


def connect(url: str):
    import psycopg

    return psycopg.connect(bench_db.libpq_url(url), autocommit=True)


def ensure_file(data_dir: Path, rows: int, variant: int) -> Path:
    path = data_dir / f"products-{rows}-v{variant}.csv"
    if not path.exists():
        print(f"  generating {path} ...", flush=True)
        partial = path.with_suffix(".partial")
        subprocess.run(
            [
                sys.executable,
                str(ROOT / "bench" / "generate_products_csv.py"),
                "--rows",
                str(rows),
                "--variant",
                str(variant),
                "--out",
                str(partial),
            ],
            check=True,
        )
        partial.rename(path)
    return path


def measure_copy_floor(conn, path: Path, runs: int = 3) -> float:
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


def measure_index_floor(path: Path, env: dict, runs: int) -> dict:
    """The best (lowest total) of `runs` index-inclusive floors, each in its own process."""
    return min(
        (run_child("index_floor", path, env) for _ in range(runs)), key=lambda f: f["seconds"]
    )


class DiskSampler:
    """Peaks of the database's size, the WAL directory and the temporary files while an
    import runs (one query every DISK_SAMPLE_SECONDS on a connection of its own)."""

    QUERY = """
    SELECT pg_database_size(current_database()),
           (SELECT coalesce(sum(size), 0)::bigint FROM pg_ls_waldir()),
           (SELECT coalesce(sum(size), 0)::bigint FROM pg_ls_tmpdir())
    """

    def __init__(self, url: str):
        self.conn = connect(url)
        self.before = self.sample()
        self.peaks = list(self.before)
        self.peak_total = sum(self.before)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self) -> tuple[int, int, int]:
        return self.conn.execute(self.QUERY).fetchone()

    def _run(self) -> None:
        while not self._stop.wait(DISK_SAMPLE_SECONDS):
            values = self.sample()
            self.peaks = [max(a, b) for a, b in zip(self.peaks, values, strict=True)]
            self.peak_total = max(self.peak_total, sum(values))

    def __enter__(self) -> DiskSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.after = self.sample()
        self.conn.close()

    def figures(self) -> dict:
        mb = 1e6
        return {
            "db_before_mb": self.before[0] / mb,
            "db_peak_mb": self.peaks[0] / mb,
            "db_after_mb": self.after[0] / mb,
            "wal_peak_mb": self.peaks[1] / mb,
            "tmp_peak_mb": self.peaks[2] / mb,
            "extra_peak_mb": (self.peak_total - sum(self.before)) / mb,
        }


def reset_catalogue(conn) -> None:
    conn.execute("TRUNCATE products_product RESTART IDENTITY")
    conn.execute("VACUUM ANALYZE products_product")


def settle(conn) -> None:
    # The bench's jobs' change sets are not kept: each import fills an empty change table.
    conn.execute("TRUNCATE imports_importchange")
    conn.execute("VACUUM ANALYZE products_product")
    conn.execute("CHECKPOINT")  # each import starts with the WAL of the previous one recycled


def indexes(conn) -> list[str]:
    rows = conn.execute(
        "SELECT indexdef FROM pg_indexes WHERE tablename = 'products_product' ORDER BY 1"
    ).fetchall()
    return [row[0].split(" ON ", 1)[1] for row in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", nargs=2, metavar=("KIND", "FILE"), help=argparse.SUPPRESS)
    parser.add_argument("--sizes", default="500000")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--repeat", type=int, default=1, help="measure each size N times")
    parser.add_argument(
        "--index-floor-runs", type=int, default=2, help="0: skip the index floor (10M: no target)"
    )
    parser.add_argument(
        "--reference-rss",
        type=float,
        help="peak RSS (MB) of our imports measured at 500k rows in another run, to compare with",
    )
    parser.add_argument(
        "--statements",
        action="store_true",
        help="also time every SQL statement of our imports (where the merge's time goes)",
    )
    parser.add_argument(
        "--no-change-set",
        action="store_true",
        help="run our imports without a job id, so no change set is recorded (its cost)",
    )
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
        child = {
            "pipeline": child_pipeline,
            "baseline": child_baseline,
            "index_floor": child_index_floor,
        }[kind]
        figures = child(path)
        figures["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(figures))
        return

    sys.path.insert(0, str(ROOT))
    url = args.database_url or bench_db.server_url("acme_bench_imports")
    env = {**os.environ, "DATABASE_URL": url, "DEBUG": os.environ.get("DEBUG", "true")}
    if args.statements:
        env[STATEMENTS_ENV] = "1"
    if args.no_change_set:
        env[NO_CHANGE_SET_ENV] = "1"
        print("EXPERIMENT: no change set recorded (run_import without a job id)")
    bench_db.ensure_database(url, env)
    args.data_dir.mkdir(parents=True, exist_ok=True)
    scenarios = [s for s in args.scenarios.split(",") if s]
    conn = connect(url)
    print(
        f"database: {url.split('@')[-1]}  (PostgreSQL {conn.info.server_version});"
        f" {time.strftime('%Y-%m-%d %H:%M:%S %Z')}; load average {load_average()}"
    )
    dropped = drop_indexes(conn, [n for n in args.drop_indexes.split(",") if n])
    try:
        run_sizes(conn, url, args, env, scenarios)
    finally:
        for definition in dropped:
            print(f"recreating: {definition}", flush=True)
            conn.execute(definition)
        conn.close()


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


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


def run_sizes(conn, url, args, env, scenarios) -> None:
    print("catalogue indexes:\n  " + "\n  ".join(indexes(conn)))
    rss: dict[int, float] = {}
    per_row: dict[str, dict[int, float]] = {}
    for rows in (int(size) for size in args.sizes.split(",")):
        print(f"\n== {rows:,} rows", flush=True)
        files = {"original": ensure_file(args.data_dir, rows, 0)}
        if "changed" in scenarios:
            files["changed"] = ensure_file(args.data_dir, rows, 1)
        print(f"  file {files['original'].stat().st_size / 1e6:.0f} MB", flush=True)
        repeats = [
            run_once(conn, url, args, env, scenarios, rows, files) for _ in range(args.repeat)
        ]
        if args.repeat > 1:
            print(f"\n  medians of {args.repeat} runs:")
            print_table(rows, median_run(repeats), scenarios)
        for scenario, figures in median_run(repeats)["results"].items():
            if scenario[0] == "pipeline":
                rss[rows] = max(rss.get(rows, 0), figures["peak_rss_mb"])
                per_row.setdefault(scenario[1], {})[rows] = figures["seconds"] / rows * 1e6
    reference = args.reference_rss or (rss[min(rss)] if len(rss) > 1 else None)
    if reference:
        print(
            f"\n  across sizes: peak RSS (target: within +{RSS_GROWTH:.0%} of {reference:.0f} MB,"
            " the smallest size's or --reference-rss) and microseconds per row (linear:"
            " about constant)"
        )
        for rows, mb in rss.items():
            growth = mb / reference - 1
            verdict = "ok" if growth <= RSS_GROWTH else "MISS"
            us = " ".join(f"{s}={per_row[s][rows]:.1f}" for s in per_row if rows in per_row[s])
            print(f"  {rows:>11,} rows: {mb:6.0f} MB ({growth:+.1%} {verdict}); us/row {us}")


def run_once(conn, url, args, env, scenarios, rows, files) -> dict:
    print(f"  -- load average {load_average()}", flush=True)
    floors = {"copy": measure_copy_floor(conn, files["original"])}
    print(f"  COPY floor (raw COPY, unlogged, no index, best of 3): {floors['copy']:.2f} s")
    floors["index"] = float("nan")  # --index-floor-runs 0: not measured (no target at 10M)
    if args.index_floor_runs:
        index_floor = measure_index_floor(files["original"], env, args.index_floor_runs)
        floors["index"] = index_floor["seconds"]
        print(
            f"  index floor (COPY into a catalogue-shaped table {index_floor['copy']:.2f} s +"
            f" {len(index_floor['indexes'])} indexes on {index_floor['rows']:,} rows"
            f" {sum(index_floor['indexes'].values()):.2f} s, best of {args.index_floor_runs}):"
            f" {floors['index']:.2f} s\n    "
            + " ".join(f"{name}={seconds:.2f}" for name, seconds in index_floor["indexes"].items()),
            flush=True,
        )
    results: dict[tuple[str, str], dict] = {}
    kinds = ["pipeline"] if args.no_baseline else ["baseline", "pipeline"]
    for kind in kinds:
        reset_catalogue(conn)
        settle(conn)
        for scenario in SCENARIOS:
            if scenario not in scenarios:
                continue
            if scenario == "identical" and "empty" not in scenarios:
                run_child(kind, files["original"], env)  # fill the catalogue first
                settle(conn)
            path = files["changed"] if scenario == "changed" else files["original"]
            if kind == "pipeline":
                with DiskSampler(url) as disk:
                    figures = run_child(kind, path, env)
                figures["disk"] = disk.figures()
            else:
                figures = run_child(kind, path, env)
            results[kind, scenario] = figures
            settle(conn)
            print(
                f"  {kind:8} {scenario:9} {figures['seconds']:8.2f} s"
                f"  (load average {load_average()})",
                flush=True,
            )
    run = {"floors": floors, "results": results}
    print_table(rows, run, scenarios)
    return run


def median_run(repeats: list[dict]) -> dict:
    """Each figure's median over the repeats (ratios are taken of the medians)."""
    if len(repeats) == 1:
        return repeats[0]
    floors = {k: statistics.median(r["floors"][k] for r in repeats) for k in repeats[0]["floors"]}
    results = {}
    for key, first in repeats[0]["results"].items():
        figures = dict(first)
        for field in ("seconds", "peak_rss_mb"):
            figures[field] = statistics.median(r["results"][key][field] for r in repeats)
        for part in ("durations", "steps", "statements"):
            if part in first:
                figures[part] = {
                    name: statistics.median(r["results"][key][part].get(name, 0) for r in repeats)
                    for name in first[part]
                }
        results[key] = figures
    return {"floors": floors, "results": results}


def print_table(rows: int, run: dict, scenarios: list[str]) -> None:
    floors, results = run["floors"], run["results"]
    print(
        f"\n  {'scenario':9} {'seconds':>8} {'rows/s':>9} {'x floor':>12} {'target':>8}"
        f" {'baseline s':>10} {'x faster':>8} {'target':>7} {'RSS MB':>7} {'base RSS':>8}"
        "  phases / counts"
    )
    for scenario in scenarios:
        ours = results.get(("pipeline", scenario))
        if not ours:
            continue
        base = results.get(("baseline", scenario))
        floor_kind, limit = TARGETS[scenario]
        ratio = ours["seconds"] / floors[floor_kind]
        speedup = base["seconds"] / ours["seconds"] if base else float("nan")
        speed_verdict = "-"
        if base:
            speed_verdict = (
                f">={BASELINE_SPEEDUP:g} {'ok' if speedup >= BASELINE_SPEEDUP else 'MISS'}"
            )
        phases = " ".join(f"{k[:5]}={v:.1f}" for k, v in ours["durations"].items())
        counts = f"c={ours['created']} u={ours['updated']} n={ours['unchanged']}"
        print(
            f"  {scenario:9} {ours['seconds']:8.2f} {rows / ours['seconds']:9.0f}"
            f" {ratio:6.2f} {floor_kind:>5} {'<=' + format(limit, 'g'):>5}"
            f" {'ok' if ratio <= limit else 'MISS' if ratio > limit else '-':>2}"
            f" {base['seconds'] if base else float('nan'):10.2f} {speedup:8.1f}"
            f" {speed_verdict:>7}"
            f" {ours['peak_rss_mb']:7.0f} {base['peak_rss_mb'] if base else float('nan'):8.0f}"
            f"  {phases}  {counts}"
        )
        if ours.get("steps"):
            print(
                f"  {'':9} merge steps: "
                + "; ".join(f"{step} {seconds:.2f}" for step, seconds in ours["steps"].items())
            )
        slowest = sorted(ours.get("statements", {}).items(), key=lambda item: -item[1])[:8]
        for statement, seconds in slowest:
            print(f"  {'':9} {seconds:6.2f} s  {statement}")
        if "disk" in ours:
            disk = ours["disk"]
            print(
                f"  {'':9} disk: database {disk['db_before_mb']:.0f} MB before, peak"
                f" {disk['db_peak_mb']:.0f}, after {disk['db_after_mb']:.0f}; WAL peak"
                f" {disk['wal_peak_mb']:.0f} MB; temporary files peak {disk['tmp_peak_mb']:.0f} MB;"
                f" all three peak {disk['extra_peak_mb']:+.0f} MB over before"
            )


if __name__ == "__main__":
    main()
