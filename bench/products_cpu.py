"""CPU per request of the products list page and API, app and database apart, at 500k products.

    DEBUG=true .venv/bin/python bench/products_cpu.py [--database acme_bench] [--requests 20]

Wall-clock latency on a shared 2-core machine says more about the neighbours than about the
code; CPU time does not (much). Each scenario of bench/products_latency.py is requested
--requests times in this process through Django's test client (the whole stack: middleware,
session, view or DRF, template or JSON), with production settings (DEBUG off, cached
templates). Per request it reads this thread's CPU time (time.thread_time) and the PostgreSQL
backend's CPU time (/proc/<backend pid>/schedstat, nanoseconds; the server runs on this
machine), and prints per scenario: wall p50/p95, mean app and database CPU.

What a figure implies on a quiet 2-core machine: 16 clients back to back keep both cores
busy once CPU per request x 16 exceeds the wall time of one request, so a request waits for
the others' CPU: mean latency ~ 16 x (app + db CPU) / 2 cores, p95 about 1.5x that. The last
lines print that estimate for the mix of page-1 scenarios, the mix the 16-client run uses.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import bench_db  # noqa: E402
from products_latency import USERNAME, percentile, pick_terms, scenarios  # noqa: E402

CORES = 2
CLIENTS = 16


def setup_django(database_url: str) -> None:
    os.environ.update(
        DJANGO_SETTINGS_MODULE="acme.settings",
        DEBUG="false",
        SECRET_KEY="bench-only-" + "x" * 50,
        DATABASE_URL=database_url,
        REDIS_URL=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/2"),
        ALLOWED_HOSTS="testserver",
        SECURE_SSL_REDIRECT="false",
        LOG_LEVEL="WARNING",
    )
    import django

    django.setup()


def backend_cpu_ns(pid: int) -> int:
    with open(f"/proc/{pid}/schedstat") as handle:
        return int(handle.read().split()[0])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", default=os.environ.get("BENCH_DATABASE", "acme_bench"))
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--only", default="", help="scenarios whose label contains this")
    args = parser.parse_args()
    url = bench_db.server_url(args.database)
    setup_django(url)

    from django.contrib.auth.models import User
    from django.db import connection
    from django.test import Client

    user, _ = User.objects.get_or_create(username=USERNAME)
    user.is_staff = user.is_superuser = True
    user.save()
    client = Client()
    client.force_login(user)
    terms = pick_terms(bench_db.libpq_url(url))
    total = _count(connection)
    cases = [
        case for case in scenarios(terms, last_page=math.ceil(total / 25)) if args.only in case[0]
    ]
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    print(
        f"{args.database}: {total:,} products; terms {terms}; load average {os.getloadavg()[0]:.1f}"
    )
    print(f"\n{args.requests} requests each, one client, in-process (ms)")
    header = f"{'scenario':32} {'kind':4} {'p50':>7} {'p95':>7} {'app CPU':>8} {'db CPU':>7}"
    print(header)
    page_one: list[float] = []
    for label, params in cases:
        for kind, path in (("page", "/products/"), ("API", "/api/products/")):
            for _ in range(3):
                _get(client, path, params)
            walls, app, db = [], [], []
            for _ in range(args.requests):
                cpu, db_before, started = (
                    time.thread_time(),
                    backend_cpu_ns(backend),
                    time.perf_counter(),
                )
                _get(client, path, params)
                walls.append((time.perf_counter() - started) * 1000)
                app.append((time.thread_time() - cpu) * 1000)
                db.append((backend_cpu_ns(backend) - db_before) / 1e6)
            app_ms, db_ms = statistics.mean(app), statistics.mean(db)
            if "page" not in params:
                page_one.append(app_ms + db_ms)
            print(
                f"{label:32} {kind:4} {statistics.median(walls):7.1f} "
                f"{percentile(walls, 0.95):7.1f} {app_ms:8.1f} {db_ms:7.1f}"
            )
    if page_one:
        mean_cpu = statistics.mean(page_one)
        print(
            f"\npage-1 mix: {mean_cpu:.1f} ms CPU per request (app + db); on a quiet "
            f"{CORES}-core machine {CLIENTS} clients back to back: at most "
            f"{CORES * 1000 / mean_cpu:.0f} req/s, "
            f"mean latency ~{CLIENTS * mean_cpu / CORES:.0f} ms, "
            f"p95 ~{1.5 * CLIENTS * mean_cpu / CORES:.0f} ms (target 250)"
        )


def _get(client, path: str, params: dict) -> None:
    response = client.get(path, params)
    if response.status_code != 200:
        raise RuntimeError(f"{path} {params} answered {response.status_code}")


def _count(connection) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM products_product")
        return cursor.fetchone()[0]


if __name__ == "__main__":
    main()
