"""Products list page and API latency while a 500k import merges, against the same idle.

    DEBUG=true .venv/bin/python bench/products_during_import.py [--database acme_bench_csv]
        [--rows 500000] [--clients 4] [--idle-seconds 20]

Steps:
1. The bench database (default acme_bench_csv) is filled, if it holds fewer than --rows x 0.9
   products, by importing bench/generate_products_csv.py's file (variant 0) with
   `manage.py import_products`.
2. gunicorn (as in bench/products_latency.py) serves it; --clients clients request the page-1
   scenarios of products_latency.py back to back, pages and API alternately.
3. Idle: --idle-seconds of that. Then the same while `manage.py import_products` imports a file
   of the same SKUs with every name and description changed (the next --variant), which the
   pipeline merges by rebuilding the catalogue in a new table and swapping it in. Every answer
   is tagged with the import's phase when it was asked (read from imports_importjob).
4. Prints p50/p95 idle, during the merge, and their ratio (target: p95 during the merge <= 2x
   idle), per kind (page, API), with the load average.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import bench_db  # noqa: E402
from products_latency import (  # noqa: E402
    PASSWORD,
    USERNAME,
    Server,
    login,
    manage,
    percentile,
    pick_terms,
    scenarios,
    server_env,
    timed_get,
)

# Generated files are kept for the next run (~100 MB each); var/ is this checkout's own.
CSV_DIR = Path(os.environ.get("BENCH_CSV_DIR") or ROOT / "var" / "bench")


def csv_file(rows: int, variant: int) -> Path:
    CSV_DIR.mkdir(parents=True, exist_ok=True)
    path = CSV_DIR / f"acme-bench-products-{rows}-v{variant}.csv"
    if not path.exists():
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


def import_command(path: Path) -> list[str]:
    return [sys.executable, str(ROOT / "manage.py"), "import_products", str(path)]


def current_phase(url: str) -> str:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT status, phase FROM imports_importjob ORDER BY id DESC LIMIT 1"
        ).fetchone()
    return row[1] if row and row[0] == "running" else "idle"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", default="acme_bench_csv")
    parser.add_argument("--rows", type=int, default=500_000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--idle-seconds", type=float, default=20)
    args = parser.parse_args()

    url = bench_db.ensure_database(bench_db.server_url(args.database))
    pg_url = bench_db.libpq_url(url)
    env = server_env(url)
    import_env = {**env, "DEBUG": "true"}
    with psycopg.connect(pg_url) as conn:
        loaded = conn.execute("SELECT count(*) FROM products_product").fetchone()[0]
        variant = conn.execute("SELECT count(*) FROM imports_importjob").fetchone()[0]
    if loaded < args.rows * 0.9:
        print(f"importing {args.rows:,} rows (variant 0) into {args.database}")
        subprocess.run(
            import_command(csv_file(args.rows, 0)),
            cwd=ROOT,
            env=import_env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        variant += 1
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE products_product")
    changed = csv_file(args.rows, variant)
    manage(env, "collectstatic", "--noinput", "-v", "0")
    manage(
        env,
        "shell",
        "-c",
        (
            "from django.contrib.auth.models import User; "
            f"u, _ = User.objects.get_or_create(username='{USERNAME}'); "
            f"u.is_staff = u.is_superuser = True; u.set_password('{PASSWORD}'); u.save()"
        ),
    )
    cases = [case for case in scenarios(pick_terms(pg_url), last_page=1) if "page" not in case[1]]

    phase = {"now": "idle"}
    samples: list[tuple[str, str, float]] = []  # (phase, kind, ms)
    lock = threading.Lock()
    stop = threading.Event()

    def watch_phase() -> None:
        while not stop.is_set():
            phase["now"] = current_phase(pg_url)
            time.sleep(0.2)

    server = Server(env)
    try:
        cookies = login(server.base).cookies

        def client(number: int) -> None:
            session = requests.Session()
            session.cookies.update(cookies)
            index = number
            while not stop.is_set():
                _, params = cases[index % len(cases)]
                kind, path = ("page", "/products/") if index % 2 == 0 else ("API", "/api/products/")
                asked_in = phase["now"]
                try:
                    elapsed = timed_get(session, server.base + path, params)
                except Exception as error:  # reported, the run goes on
                    print("  error:", error)
                    continue
                with lock:
                    samples.append((asked_in, kind, elapsed))
                index += 1

        threads = [threading.Thread(target=watch_phase)] + [
            threading.Thread(target=client, args=(n,)) for n in range(args.clients)
        ]
        for thread in threads:
            thread.start()
        time.sleep(args.idle_seconds)
        load_idle = os.getloadavg()[0]
        started = time.perf_counter()
        subprocess.run(
            import_command(changed),
            cwd=ROOT,
            env=import_env,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        took = time.perf_counter() - started
        load_import = os.getloadavg()[0]
        stop.set()
        for thread in threads:
            thread.join()
    finally:
        server.stop()

    print(
        f"\n{args.database}: {args.clients} clients over {len(cases)} page-1 scenarios; import of "
        f"{changed.name} (every row changed) took {took:.1f} s; load average {load_idle:.1f} "
        f"idle, {load_import:.1f} at the import's end"
    )
    print(f"{'kind':5} {'phase':11} {'answers':>8} {'p50 ms':>8} {'p95 ms':>8} {'p95 / idle':>11}")
    for kind in ("page", "API"):
        idle = [ms for asked, k, ms in samples if k == kind and asked == "idle"]
        idle_p95 = percentile(idle, 0.95) if idle else float("nan")
        for name in ("idle", "parsing", "validating", "loading", "merging"):
            values = [ms for asked, k, ms in samples if k == kind and asked == name]
            if not values:
                continue
            p95 = percentile(values, 0.95)
            verdict = ""
            if name == "merging":
                verdict = " ok" if p95 <= 2 * idle_p95 else " MISS (target 2x)"
            print(
                f"{kind:5} {name:11} {len(values):8} {statistics.median(values):8.1f} "
                f"{p95:8.1f} {p95 / idle_p95:10.2f}x{verdict}"
            )


if __name__ == "__main__":
    main()
