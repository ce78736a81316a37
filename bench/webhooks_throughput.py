"""Webhook delivery throughput, rate-limit windows and API latency under delivery load.

    DEBUG=true .venv/bin/python bench/webhooks_throughput.py [--events 10000] [--workers 2]

What it does (everything on this machine, loopback only):
1. A bench database `acme_bench_webhooks` (BENCH_WEBHOOKS_DATABASE) on the app's PostgreSQL
   server (the embedded one under var/postgres by default), migrated and emptied; Redis db 9
   (BENCH_REDIS_URL) and queue `acme-bench-webhooks`, so running tests are not disturbed.
2. A receiver process on 127.0.0.1 answering 204 and counting requests per endpoint (path) per
   rate window (minute, same clock as the limiter's windows); an API server (gunicorn, 1 process,
   4 threads) and N Celery worker processes (`--concurrency` pool processes each, default 1;
   beat in the first).
3. Baseline: `--probes` sequential PATCH /api/products/<id>/ with no delivery running.
4. Throughput: `--events` product.created events (emit() in transactions of 200) to 4 endpoints
   with a high limit; reports deliveries/s from the first emit to the last delivery, and the
   PATCH latency again while those deliveries run.
5. Limit bites: `--bite-events` events to 4 endpoints limited to `--bite-limit`/min; reports the
   largest number any endpoint got in one window (must be <= the limit) and that none was lost.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import bench_db  # the bench helper beside this script
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BENCH_DATABASE = os.environ.get("BENCH_WEBHOOKS_DATABASE", "acme_bench_webhooks")
BENCH_REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9")
BENCH_QUEUE = "acme-bench-webhooks"
LOG_DIR = ROOT / "var" / "bench-logs"

RECEIVER = r"""
import json, sys, threading, time
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
counts = defaultdict(lambda: defaultdict(int))
lock = threading.Lock()
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length") or 0))
        window = int(time.time() // 60)
        with lock:
            counts[self.path][window] += 1
        self.send_response(204); self.send_header("content-length", "0"); self.end_headers()
    def do_GET(self):
        with lock:
            body = json.dumps({p: dict(w) for p, w in counts.items()}).encode()
        self.send_response(200); self.send_header("content-length", str(len(body)))
        self.end_headers(); self.wfile.write(body)
    def log_message(self, *a): pass
class S(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256
server = S(("127.0.0.1", int(sys.argv[1])), H)
server.serve_forever()
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ensure_database() -> str:
    return bench_db.ensure_database(bench_db.server_url(BENCH_DATABASE))


class Processes:
    def __init__(self) -> None:
        self.started: list[subprocess.Popen] = []
        LOG_DIR.mkdir(parents=True, exist_ok=True)

    def start(self, name: str, command: list[str]) -> subprocess.Popen:
        log = open(LOG_DIR / f"webhooks-{name}.log", "wb")  # noqa: SIM115 - child's stdout
        process = subprocess.Popen(
            command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.started.append(process)
        return process

    def stop_all(self) -> None:
        for process in self.started:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.started:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


def wait_http(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=1)
            return
        except requests.RequestException:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer")


def latency_probe(api: str, token: str, product_id: int, count: int) -> list[float]:
    """`count` sequential PATCHes of one product through the API; milliseconds each."""
    session = requests.Session()
    session.headers["Authorization"] = f"Token {token}"
    timings = []
    for number in range(count):
        started = time.perf_counter()
        response = session.patch(
            f"{api}/api/products/{product_id}/", json={"name": f"Probe {number}"}, timeout=30
        )
        timings.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
    return timings


def describe(timings: list[float]) -> str:
    ordered = sorted(timings)
    p95 = ordered[max(0, round(len(ordered) * 0.95) - 1)]
    return (
        f"p50 {statistics.median(ordered):6.1f} ms  p95 {p95:6.1f} ms  max {ordered[-1]:6.1f} ms"
        f"  (n={len(ordered)})"
    )


def emit_events(count: int, *, batch: int = 200) -> float:
    from django.db import transaction

    from webhooks.events import emit

    started = time.perf_counter()
    for first in range(0, count, batch):
        with transaction.atomic():
            for number in range(first, min(first + batch, count)):
                emit("product.created", {"id": number, "sku": f"BENCH-{number}", "name": "Bench"})
    return time.perf_counter() - started


def wait_settled(total: int, *, timeout: float) -> float:
    """Poll until `total` deliveries are final; returns the time of the last completion."""
    from django.db.models import Max

    from webhooks.models import Delivery

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        final = Delivery.objects.filter(status__in=["succeeded", "failed"]).count()
        if final >= total:
            last = Delivery.objects.aggregate(last=Max("completed_at"))["last"]
            return last.timestamp()
        time.sleep(0.5)
    raise RuntimeError(f"only {final} of {total} deliveries final after {timeout}s")


def reset(receiver_url: str) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE webhooks_deliveryattempt, webhooks_delivery, webhooks_webhookendpoint"
        )
    from acme.lib.redis_client import get_redis

    for key in get_redis().scan_iter(match="acme:webhooks:*"):
        get_redis().delete(key)


def make_endpoints(receiver_url: str, run: str, limit: int) -> list:
    from webhooks.models import WebhookEndpoint

    return [
        WebhookEndpoint.objects.create(
            url=f"{receiver_url}/{run}/{number}", events=["product.created"], rate_limit=limit
        )
        for number in range(4)
    ]


def windows(receiver_url: str, run: str) -> dict[str, dict[str, int]]:
    stats = requests.get(f"{receiver_url}/stats", timeout=5).json()
    return {path: counts for path, counts in stats.items() if path.startswith(f"/{run}/")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=1, help="pool processes per worker")
    parser.add_argument("--limit", type=int, default=1_000_000, help="per-minute limit, run 1")
    parser.add_argument("--bite-events", type=int, default=300)
    parser.add_argument("--bite-limit", type=int, default=200)
    parser.add_argument("--probes", type=int, default=100)
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)

    url = ensure_database()
    os.environ.update(
        DATABASE_URL=url,
        REDIS_URL=BENCH_REDIS_URL,
        CELERY_QUEUE=BENCH_QUEUE,
        DEBUG="true",
        WEBHOOKS_ALLOW_PRIVATE_TARGETS="true",
        DJANGO_SETTINGS_MODULE="acme.settings",
        LOG_LEVEL="WARNING",
    )
    import django

    django.setup()
    from django.contrib.auth.models import User
    from rest_framework.authtoken.models import Token

    from acme.celery import app
    from products.models import Product

    processes = Processes()
    receiver_port, api_port = free_port(), free_port()
    receiver_url = f"http://127.0.0.1:{receiver_port}"
    api = f"http://127.0.0.1:{api_port}"
    try:
        app.control.purge()
        reset(receiver_url)
        processes.start("receiver", [sys.executable, "-c", RECEIVER, str(receiver_port)])
        processes.start(
            "api",
            [sys.executable, "-m", "gunicorn", "acme.wsgi", "-b", f"127.0.0.1:{api_port}",
             "-w", "1", "--threads", "4", "--log-level", "warning"],
        )  # fmt: skip
        for number in range(args.workers):
            command = [sys.executable, "-m", "celery", "-A", "acme", "worker",
                       "--loglevel=WARNING", f"--concurrency={args.concurrency}", "--pool=prefork",
                       f"--hostname=bench{number}@%h", "--without-gossip",
                       "--without-mingle"]  # fmt: skip
            if number == 0:
                command += ["--beat", f"--schedule={LOG_DIR / 'webhooks-beat'}"]
            processes.start(f"worker{number}", command)
        wait_http(f"{receiver_url}/stats")
        wait_http(f"{api}/health")
        deadline = time.monotonic() + 60
        while len(app.control.ping(timeout=0.5)) < args.workers:
            if time.monotonic() > deadline:
                raise RuntimeError("workers did not start")

        user, _ = User.objects.get_or_create(username="bench", defaults={"is_superuser": True})
        user.is_superuser = user.is_staff = True
        user.save()
        token, _ = Token.objects.get_or_create(user=user)
        product, _ = Product.objects.get_or_create(sku="BENCH-PROBE", defaults={"name": "Probe"})

        print(f"bench database {BENCH_DATABASE}, redis {BENCH_REDIS_URL}, queue {BENCH_QUEUE}")
        print(
            f"{args.workers} worker processes (concurrency {args.concurrency} each), "
            "receiver and API on loopback"
        )
        latency_probe(api, token.key, product.id, 10)  # warm up
        idle = latency_probe(api, token.key, product.id, args.probes)
        print(f"\nAPI PATCH latency, no deliveries running:     {describe(idle)}")

        # --- Run 1: throughput with a limit that does not bite --------------------------
        make_endpoints(receiver_url, "fast", args.limit)
        total = args.events * 4
        started = time.time()
        emit_seconds = emit_events(args.events)
        busy = latency_probe(api, token.key, product.id, args.probes)
        from webhooks.models import Delivery

        still_running = Delivery.objects.exclude(status__in=["succeeded", "failed"]).count()
        last = wait_settled(total, timeout=3600)
        elapsed = last - started
        failed = Delivery.objects.filter(status="failed").count()
        per_window = windows(receiver_url, "fast")
        largest = max(max(counts.values()) for counts in per_window.values())
        received = sum(sum(counts.values()) for counts in per_window.values())
        print(f"API PATCH latency, while deliveries run:       {describe(busy)}")
        print(f"  ({still_running} deliveries still unsent when the probe ended)")
        print(
            f"\nRun 1: {args.events} events x 4 endpoints = {total} deliveries, "
            f"limit {args.limit}/min"
        )
        print(
            f"  emit(): {emit_seconds:.1f} s for {args.events} events "
            f"({args.events / emit_seconds:.0f} events/s, in transactions of 200)"
        )
        print(
            f"  all delivered in {elapsed:.1f} s from the first emit: "
            f"{total / elapsed:.0f} deliveries/s"
        )
        print(f"  receiver got {received}, failed {failed}")
        print(
            f"  largest count for one endpoint in one minute window: {largest} (limit {args.limit})"
        )

        # --- Run 2: the limit bites ---------------------------------------------------
        if args.bite_events <= 0:
            return
        reset(receiver_url)
        make_endpoints(receiver_url, "bite", args.bite_limit)
        total = args.bite_events * 4
        started = time.time()
        emit_events(args.bite_events)
        last = wait_settled(total, timeout=900)
        per_window = windows(receiver_url, "bite")
        largest = max(max(counts.values()) for counts in per_window.values())
        received = sum(sum(counts.values()) for counts in per_window.values())
        print(f"\nRun 2: {args.bite_events} events x 4 endpoints, limit {args.bite_limit}/min each")
        print(f"  all {received} of {total} delivered in {last - started:.1f} s (none dropped)")
        for path, counts in sorted(per_window.items()):
            shown = ", ".join(f"{counts[w]}" for w in sorted(counts))
            print(f"  {path}: per minute window {shown}")
        print(
            f"  largest count for one endpoint in one window: {largest} (limit {args.bite_limit})"
        )
        assert largest <= args.bite_limit, "rate limit exceeded"
    finally:
        processes.stop_all()
        app.control.purge()


if __name__ == "__main__":
    main()
