"""The webhooks list's health columns at 10M deliveries: list page and API latency.

    DEBUG=true .venv/bin/python bench/webhooks_health.py [--deliveries 10000000] [--endpoints 50]
        [--requests 60] [--reload]

Steps:
1. A bench database `acme_bench_health` (BENCH_HEALTH_DATABASE) on the app's PostgreSQL server
   (the embedded one under var/postgres by default; BENCH_SERVER_URL for another), migrated.
   When it does not hold --deliveries deliveries (or with --reload): TRUNCATE the webhooks
   tables, create --endpoints endpoints, then with generate_series, a million rows per
   statement: --deliveries finished deliveries spread evenly over the last 30 days (the default
   retention) and endpoints (1 in 47 failed with HTTP 400, response times skewed from 20 ms to
   3 s), one attempt each, and the health rollups those attempts make (one 5-minute bucket
   per endpoint per 5 minutes, as webhooks.health writes them); VACUUM ANALYZE.
2. Check: one endpoint's health read by webhooks.health equals the same figures counted
   from its attempt rows of the window.
   --rebuild-rollups builds the rollups again from the attempts (after changing the bucket).
3. gunicorn (gthread, 2 workers x 4 threads, DEBUG off) on a free loopback port; one client,
   signed in: --requests requests each of the list page and GET /api/webhooks/ with 25 and
   50 endpoints a page; p50/p95 in ms. Also the rollup query alone (in this process).
4. Row counts of the tables involved.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import socket
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import bench_db  # the bench helper beside this script
import psycopg
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BENCH_DATABASE = os.environ.get("BENCH_HEALTH_DATABASE", "acme_bench_health")
USERNAME, PASSWORD = "bench", "bench-password-not-secret"  # noqa: S105 - bench database only
CHUNK = 1_000_000
SPAN = timedelta(days=30)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def redis_url() -> str:
    """BENCH_REDIS_URL, else the embedded Redis's socket (db 7), which `make run` starts."""
    if os.environ.get("BENCH_REDIS_URL"):
        return os.environ["BENCH_REDIS_URL"]
    return f"unix://{ROOT / 'var' / 'redis' / 'redis.sock'}?db=7"


def latency_slots_sql(bounds: tuple[int, ...]) -> str:
    """The count of each webhooks.health latency slot (its columns' order), for a GROUP BY."""
    parts, lower = [], None
    for bound in bounds:
        condition = f"duration_ms <= {bound}"
        if lower is not None:
            condition = f"duration_ms > {lower} AND {condition}"
        parts.append(f"count(*) FILTER (WHERE {condition})")
        lower = bound
    parts.append(f"count(*) FILTER (WHERE duration_ms > {lower})")
    return ", ".join(parts)


def load(url: str, *, deliveries: int, endpoints: int) -> None:
    libpq = bench_db.libpq_url(url)
    with psycopg.connect(libpq, autocommit=True) as conn:
        conn.execute(
            "TRUNCATE webhooks_endpointhealth, webhooks_endpointlastresult, "
            "webhooks_deliveryattempt, webhooks_delivery, webhooks_recovery, "
            "webhooks_webhookendpoint RESTART IDENTITY CASCADE"
        )
        conn.execute(
            """INSERT INTO webhooks_webhookendpoint (url, description, events, enabled, secret,
                   previous_secret, rate_limit, disabled_reason, last_exhausted_error,
                   consecutive_failures, created_at, updated_at)
               SELECT 'https://receiver-' || n || '.example.com/hooks', '',
                   ARRAY['product.updated'], true, 'whsec_' || md5(n::text), '', 600, '', '',
                   0, now(), now()
               FROM generate_series(1, %s) AS n""",
            [endpoints],
        )
        started = time.perf_counter()
        for first in range(1, deliveries + 1, CHUNK):
            last = min(first + CHUNK - 1, deliveries)
            # g -> endpoint (round robin), time (evenly over SPAN up to now), response time
            # (x^4 of a hash in [0, 1): median ~200 ms, p95 ~2.5 s), 1 in 47 failed with HTTP 400.
            conn.execute(
                """INSERT INTO webhooks_delivery (endpoint_id, event_type, payload, msg_id,
                       is_test, status, retries, created_at, completed_at, last_status_code,
                       last_duration_ms, last_error)
                   SELECT 1 + g %% %(endpoints)s, 'product.updated',
                       jsonb_build_object('type', 'product.updated', 'timestamp', t,
                                          'data', jsonb_build_object('id', g)),
                       'msg_' || g, false,
                       CASE WHEN g %% 47 = 0 THEN 'failed' ELSE 'succeeded' END, 0,
                       t - interval '1 second', t,
                       CASE WHEN g %% 47 = 0 THEN 400 ELSE 200 END,
                       (20 + 3000 * power(((g * 2654435761) %% 10007) / 10007.0, 4))::int,
                       CASE WHEN g %% 47 = 0 THEN 'HTTP 400' ELSE '' END
                   FROM generate_series(%(first)s, %(last)s) AS g,
                       LATERAL (SELECT now() - %(span)s * (1 - g::float / %(total)s) AS t)
                           AS at""",
                {
                    "endpoints": endpoints,
                    "first": first,
                    "last": last,
                    "span": SPAN,
                    "total": deliveries,
                },
            )
            conn.execute(
                """INSERT INTO webhooks_deliveryattempt (delivery_id, endpoint_id, attempted_at,
                       status_code, duration_ms, error, success)
                   SELECT id, endpoint_id, completed_at - interval '100 milliseconds',
                       last_status_code, last_duration_ms, last_error, status = 'succeeded'
                   FROM webhooks_delivery WHERE id BETWEEN %s AND %s""",
                [first, last],
            )
            rate = last / (time.perf_counter() - started)
            print(f"  {last:,} deliveries and attempts ({rate:,.0f} a second)", flush=True)
    build_rollups(url)


def build_rollups(url: str) -> None:
    """The health rollups the attempt rows make, as webhooks.health writes them; VACUUM."""
    from webhooks.health import BUCKET, LATENCY_BOUNDS_MS, LATENCY_COLUMNS

    with psycopg.connect(bench_db.libpq_url(url), autocommit=True) as conn:
        conn.execute("TRUNCATE webhooks_endpointhealth, webhooks_endpointlastresult")
        started = time.perf_counter()
        conn.execute(
            f"""INSERT INTO webhooks_endpointhealth (endpoint_id, bucket_start, attempts,
                    attempts_failed, deliveries_succeeded, deliveries_failed,
                    {", ".join(LATENCY_COLUMNS)})
                SELECT endpoint_id, bucket, count(*), count(*) FILTER (WHERE NOT success),
                    count(*) FILTER (WHERE success), count(*) FILTER (WHERE NOT success),
                    {latency_slots_sql(LATENCY_BOUNDS_MS)}
                FROM (SELECT *, date_bin(%s, attempted_at, '2000-01-01 00:00:00+00') AS bucket
                      FROM webhooks_deliveryattempt) AS a
                GROUP BY endpoint_id, bucket""",
            [BUCKET],
        )
        conn.execute(
            """INSERT INTO webhooks_endpointlastresult (endpoint_id, last_success_at,
                   last_failure_at, last_failure_error)
               SELECT endpoint_id, max(attempted_at) FILTER (WHERE success),
                   max(attempted_at) FILTER (WHERE NOT success), 'HTTP 400'
               FROM webhooks_deliveryattempt GROUP BY endpoint_id"""
        )
        print(f"  rollups built in {time.perf_counter() - started:.1f} s", flush=True)
        started = time.perf_counter()
        conn.execute("VACUUM ANALYZE")
        print(f"  VACUUM ANALYZE {time.perf_counter() - started:.1f} s", flush=True)


def check(endpoint_id: int) -> None:
    """webhooks.health's figures for one endpoint against its attempt rows of the window."""
    from django.db import connection
    from django.utils import timezone

    from webhooks import health

    now = timezone.now()
    got = health.for_endpoints([endpoint_id], now=now)[endpoint_id]
    since = now - health.WINDOW - health.BUCKET
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT count(*), count(*) FILTER (WHERE NOT success),
                   max(attempted_at) FILTER (WHERE success)
               FROM webhooks_deliveryattempt
               WHERE endpoint_id = %s
                 AND date_bin(%s, attempted_at, '2000-01-01 00:00:00+00') > %s""",
            [endpoint_id, health.BUCKET, since],
        )
        attempts, failed, last_success = cursor.fetchone()
    same = (got.attempts, got.attempts_failed, got.last_success_at) == (
        attempts,
        failed,
        last_success,
    )
    print(
        f"check, endpoint {endpoint_id}: rollups say {got.attempts:,} attempts, "
        f"{got.attempts_failed:,} failed, p50 {got.p50_ms} ms, p95 {got.p95_ms} ms; "
        f"the attempt rows say {attempts:,}, {failed:,}: {'same' if same else 'DIFFERENT'}"
    )


def server_env(url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": url,
        "REDIS_URL": redis_url(),
        "DEBUG": "false",
        "SECRET_KEY": "bench-only-" + "x" * 50,
        "SECURE_SSL_REDIRECT": "false",
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        "SECURE_HSTS_SECONDS": "0",
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "acme.settings",
    }


def start_server(env: dict[str, str]) -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "acme.wsgi:application", "--bind",
         f"127.0.0.1:{port}", "--worker-class", "gthread", "--workers", "2", "--threads", "4",
         "--log-level", "warning", "--access-logfile", "/dev/null"],
        cwd=ROOT, env=env, start_new_session=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            requests.get(f"{base}/health", timeout=1)
            return process, base
        except requests.RequestException:
            time.sleep(0.3)
    os.killpg(process.pid, 15)
    raise RuntimeError("gunicorn did not start")


def login(base: str) -> requests.Session:
    session = requests.Session()
    page = session.get(f"{base}/accounts/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    response = session.post(
        f"{base}/accounts/login/",
        data={"username": USERNAME, "password": PASSWORD, "csrfmiddlewaretoken": token},
        headers={"Referer": f"{base}/accounts/login/"},
    )
    response.raise_for_status()
    assert "/accounts/login/" not in response.url, "bench login failed"
    return session


def timed(session: requests.Session, url: str, count: int) -> list[float]:
    for _ in range(3):  # warm up
        session.get(url).raise_for_status()
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        response = session.get(url)
        samples.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deliveries", type=int, default=10_000_000)
    parser.add_argument("--endpoints", type=int, default=50)
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--skip-server", action="store_true", help="the query alone, no gunicorn")
    parser.add_argument("--reload", action="store_true", help="load the rows even if present")
    parser.add_argument(
        "--rebuild-rollups", action="store_true", help="build the rollups again from the attempts"
    )
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]

    url = bench_db.ensure_database(bench_db.server_url(BENCH_DATABASE))
    os.environ.update(server_env(url), DEBUG="true")
    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.db import connection

    from webhooks import health
    from webhooks.models import Delivery, WebhookEndpoint

    present = Delivery.objects.count()
    if args.reload or present != args.deliveries:
        print(f"loading {args.deliveries:,} deliveries to {args.endpoints} endpoints")
        connection.close()
        load(url, deliveries=args.deliveries, endpoints=args.endpoints)
    else:
        print(f"bench database {BENCH_DATABASE} already holds {present:,} deliveries")
        if args.rebuild_rollups:
            connection.close()
            build_rollups(url)
    user, _ = User.objects.get_or_create(username=USERNAME)
    user.is_staff = user.is_superuser = True
    user.set_password(PASSWORD)
    user.save()
    first_endpoint = WebhookEndpoint.objects.order_by("id").values_list("id", flat=True)[0]
    check(first_endpoint)

    ids = list(WebhookEndpoint.objects.order_by("url", "id").values_list("id", flat=True))
    for size in (25, 50):
        samples = []
        for _ in range(args.requests):
            started = time.perf_counter()
            health.for_endpoints(ids[:size])
            samples.append((time.perf_counter() - started) * 1000)
        print(
            f"rollup query alone, {size} endpoints: p50 {statistics.median(samples):.1f} ms, "
            f"p95 {percentile(samples, 0.95):.1f} ms"
        )
    connection.close()

    if args.skip_server:
        return
    env = server_env(url)
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=ROOT, env=env, check=True,
    )  # fmt: skip
    process, base = start_server(env)
    try:
        session = login(base)
        print(f"\nsingle client, {args.requests} requests each (ms), load {os.getloadavg()}")
        print(f"{'request':40} {'p50':>8} {'p95':>8}")
        for label, path in (
            ("list page, 25 a page", "/webhooks/"),
            ("list page, 50 a page", "/webhooks/?page_size=50"),
            ("API, 25 a page", "/api/webhooks/"),
            ("API, 50 a page", "/api/webhooks/?page_size=50"),
        ):
            samples = timed(session, base + path, args.requests)
            print(f"{label:40} {statistics.median(samples):8.1f} {percentile(samples, 0.95):8.1f}")
    finally:
        os.killpg(process.pid, 15)
        process.wait(timeout=20)

    with psycopg.connect(bench_db.libpq_url(url)) as conn:
        print("\nrows:")
        for table in (
            "webhooks_webhookendpoint",
            "webhooks_delivery",
            "webhooks_deliveryattempt",
            "webhooks_endpointhealth",
            "webhooks_endpointlastresult",
        ):
            count = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608
            size = conn.execute("SELECT pg_size_pretty(pg_total_relation_size(%s))", [table])
            print(f"  {table:28} {count:>12,}  {size.fetchone()[0]:>10}")
    print(f"load average at the end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
