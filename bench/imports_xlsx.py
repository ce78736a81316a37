"""Benchmark: importing an .xlsx workbook beside the same rows as CSV.

For each size, the same rows (bench/generate_products_csv.py's) as a CSV and as a workbook
(bench/generate_products_xlsx.py, openpyxl write-only), each imported end to end with
`imports.pipeline.run_import` into an empty catalogue, in a subprocess of its own that
reports its peak RSS (ru_maxrss). Prints seconds, rows/s and peak RSS per format and size,
with the load average before each run (the machine is shared: times are noisy, RSS is not).

    DEBUG=true .venv/bin/python bench/imports_xlsx.py --sizes 50000,500000

Database: --database-url, default the embedded PostgreSQL's database `acme_bench_xlsx`
(created and migrated if missing). Generated files are kept in --data-dir.
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

import bench_db  # the bench helper beside this script

ROOT = Path(__file__).resolve().parent.parent
FORMATS = ("csv", "xlsx")


def child_import(path: str) -> dict:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "acme.settings_local")
    import django

    django.setup()
    from imports.pipeline import ImportOptions, run_import
    from imports.uploads import file_format

    started = time.perf_counter()
    with open(path, "rb") as source:
        result = run_import(
            source=source,
            options=ImportOptions(file_format=file_format(path)),
            bytes_total=os.path.getsize(path),
        )
    return {
        "seconds": time.perf_counter() - started,
        "rows": result.rows_read,
        "created": result.created,
        "rejected": result.rows_rejected,
        "durations": result.durations,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def ensure_file(data_dir: Path, rows: int, fmt: str) -> Path:
    path = data_dir / f"products-{rows}-v0.{fmt}"
    if not path.exists():
        print(f"  generating {path} ...", flush=True)
        partial = path.with_name(path.name + ".partial")
        script = "generate_products_csv.py" if fmt == "csv" else "generate_products_xlsx.py"
        subprocess.run(
            [sys.executable, str(ROOT / "bench" / script), "--rows", str(rows),
             "--out", str(partial)],
            check=True,
        )  # fmt: skip
        partial.rename(path)
    return path


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", metavar="FILE", help=argparse.SUPPRESS)
    parser.add_argument("--sizes", default="50000,500000")
    parser.add_argument("--formats", default=",".join(FORMATS))
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/acme-bench"))  # noqa: S108
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child_import(args.child)))
        return

    url = args.database_url or bench_db.server_url("acme_bench_xlsx")
    env = {**os.environ, "DATABASE_URL": url, "DEBUG": os.environ.get("DEBUG", "true")}
    bench_db.ensure_database(url, env)
    args.data_dir.mkdir(parents=True, exist_ok=True)
    import psycopg

    conn = psycopg.connect(bench_db.libpq_url(url), autocommit=True)
    print(f"database: {url.split('@')[-1]}; {time.strftime('%Y-%m-%d %H:%M:%S %Z')}")
    print(f"{'rows':>9} {'format':>6} {'seconds':>8} {'rows/s':>8} {'RSS MB':>7}  load average")
    for rows in (int(size) for size in args.sizes.split(",")):
        for fmt in args.formats.split(","):
            path = ensure_file(args.data_dir, rows, fmt)
            conn.execute("TRUNCATE products_product RESTART IDENTITY")
            conn.execute("VACUUM ANALYZE products_product")
            conn.execute("CHECKPOINT")
            load = load_average()
            completed = subprocess.run(
                [sys.executable, __file__, "--child", str(path)],
                env=env, capture_output=True, text=True, check=False,
            )  # fmt: skip
            if completed.returncode != 0:
                raise SystemExit(f"{fmt} import failed:\n{completed.stderr[-3000:]}")
            figures = json.loads(completed.stdout.strip().splitlines()[-1])
            phases = ", ".join(f"{k} {v:.1f}" for k, v in figures["durations"].items())
            print(
                f"{rows:>9,} {fmt:>6} {figures['seconds']:8.1f}"
                f" {figures['rows'] / figures['seconds']:8,.0f} {figures['peak_rss_mb']:7.0f}"
                f"  {load}  ({phases}; {figures['created']:,} created)",
                flush=True,
            )
    conn.close()


if __name__ == "__main__":
    main()
