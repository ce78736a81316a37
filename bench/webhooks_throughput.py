"""Webhook delivery throughput, rate-limit windows and API latency under delivery load.

    DEBUG=true .venv/bin/python bench/webhooks_throughput.py [--events 10000] [--workers 2]
        [--receivers 2] [--window 10] [--bite-events 2000] [--bite-limit 400]

What it does (everything on this machine, loopback only):
1. A bench database `acme_bench_webhooks` (BENCH_WEBHOOKS_DATABASE) on the app's PostgreSQL
   server (the embedded one under var/postgres by default), migrated and emptied; Redis db 9
   (BENCH_REDIS_URL) and queue `acme-bench-webhooks`, so running tests are not disturbed.
2. `--receivers` receiver processes on 127.0.0.1 answering 204; each counts requests per
   endpoint (path) per rate window (`--window` seconds, WEBHOOKS_RATE_LIMIT_WINDOW_SECONDS for
   the workers too) by arrival time and by the signed `webhook-timestamp`, keeps every
   `webhook-id` and a few requests to verify their signatures, and counts TCP connections.
   An API server as `make run` serves it (1 uvicorn process, 4 threads).
3. Baseline: `--probes` sequential PATCH /api/products/<id>/ with no delivery running.
4. Run 1, throughput: `--events` product.created events (emit() in transactions of 200) to 4
   endpoints with a limit that does not bite, emitted before the `--workers` Celery worker
   processes start (`--concurrency` pool processes each, default 1; beat in the first); then
   deliveries/s from the first attempt to the last recorded one, what the receivers got
   (missing and duplicated webhook-ids against the delivery rows, connections, signatures),
   and the PATCH latency measured back to back while the deliveries ran (p95 ratio to idle).
5. Run 2, the limit bites: `--bite-events` events to 4 endpoints limited to `--bite-limit` per
   window: every window's count per endpoint at the receivers (must be <= the limit), and
   that none was lost or duplicated.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import bench_db  # the bench helper beside this script
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BENCH_DATABASE = os.environ.get("BENCH_WEBHOOKS_DATABASE", "acme_bench_webhooks")
BENCH_REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9")
BENCH_QUEUE = "acme-bench-webhooks"
LOG_DIR = ROOT / "var" / "bench-logs"

# A receiver: one asyncio process answering 204 over keep-alive connections, with as little
# work per request as a receiver can do (http.server's parsing cost about as much CPU as the
# worker's sending, on the same two cores). Argument: port [, rate window in seconds].
RECEIVER = r"""
import asyncio, json, sys, time
from collections import defaultdict
WINDOW = int(sys.argv[2]) if len(sys.argv) > 2 else 60
def fresh():
    return {"arrived": defaultdict(lambda: defaultdict(int)),
            "stamped": defaultdict(lambda: defaultdict(int)),
            "ids": defaultdict(list), "samples": defaultdict(list), "connections": 0}
state = fresh()
NO_CONTENT = b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n"
def post(path, headers, body):
    # Per rate window: by arrival here, and by the signed webhook-timestamp (the second the
    # worker started the attempt).
    state["arrived"][path][int(time.time() // WINDOW)] += 1
    state["stamped"][path][int(headers.get("webhook-timestamp") or 0) // WINDOW] += 1
    state["ids"][path].append(headers.get("webhook-id", ""))
    if len(state["samples"][path]) < 5:
        state["samples"][path].append({"headers": headers, "body": body.decode()})
async def handle(reader, writer):
    global state
    state["connections"] += 1
    try:
        while True:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
            method, path, _ = head[0].split(" ", 2)
            headers = {}
            for line in head[1:]:
                if line:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
            length = int(headers.get("content-length") or 0)
            body = await reader.readexactly(length) if length else b""
            if method == "POST":
                post(path, headers, body)
                writer.write(NO_CONTENT)
            elif method == "GET":
                data = json.dumps(state).encode()
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                             b"content-length: %d\r\n\r\n%s" % (len(data), data))
            else:  # DELETE: start counting afresh
                state = fresh()
                writer.write(NO_CONTENT)
            await writer.drain()
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, ValueError):
        pass
    finally:
        writer.close()
async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", int(sys.argv[1]), backlog=256)
    await server.serve_forever()
asyncio.run(main())
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
        self.named: dict[str, subprocess.Popen] = {}
        LOG_DIR.mkdir(parents=True, exist_ok=True)

    def start(self, name: str, command: list[str]) -> subprocess.Popen:
        log = open(LOG_DIR / f"webhooks-{name}.log", "wb")  # noqa: SIM115 - child's stdout
        process = subprocess.Popen(
            command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.started.append(process)
        self.named[name] = process
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


class LatencyProbe:
    """Sequential PATCHes of one product through the API, milliseconds each: `count` of them,
    or (`background`) as many as fit until stopped."""

    def __init__(self, api: str, token: str, product_id: int) -> None:
        self.url = f"{api}/api/products/{product_id}/"
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Token {token}"
        self.timings: list[float] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run(self, count: int) -> list[float]:
        timings = []
        for number in range(count):
            timings.append(self._one(number))
        return timings

    def _one(self, number: int) -> float:
        started = time.perf_counter()
        response = self.session.patch(self.url, json={"name": f"Probe {number}"}, timeout=30)
        elapsed = (time.perf_counter() - started) * 1000
        response.raise_for_status()
        return elapsed

    def background(self) -> None:
        def loop() -> None:
            number = 0
            while not self._stop.is_set():
                self.timings.append(self._one(number))
                number += 1

        self._thread = threading.Thread(target=loop, daemon=True)
        self._thread.start()

    def stop(self) -> list[float]:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=60)
        return self.timings


def percentile(ordered: list[float], share: float) -> float:
    return ordered[max(0, round(len(ordered) * share) - 1)]


def describe(timings: list[float]) -> str:
    ordered = sorted(timings)
    return (
        f"p50 {statistics.median(ordered):6.1f} ms  p95 {percentile(ordered, 0.95):6.1f} ms"
        f"  max {ordered[-1]:6.1f} ms  (n={len(ordered)})"
    )


def load() -> str:
    return "load average " + " / ".join(f"{value:.1f}" for value in os.getloadavg())


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
    final = 0
    while time.monotonic() < deadline:
        final = Delivery.objects.filter(status__in=["succeeded", "failed"]).count()
        if final >= total:
            last = Delivery.objects.aggregate(last=Max("completed_at"))["last"]
            return last.timestamp()
        time.sleep(0.5)
    raise RuntimeError(f"only {final} of {total} deliveries final after {timeout}s")


def reset(receiver_urls: list[str]) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        # Endpoints and every table that refers to them (deliveries, attempts, health...).
        cursor.execute("TRUNCATE webhooks_webhookendpoint CASCADE")
    from acme.lib.redis_client import get_redis

    for key in get_redis().scan_iter(match="acme:webhooks:*"):
        get_redis().delete(key)
    for url in receiver_urls:
        requests.delete(f"{url}/", timeout=5)


def make_endpoints(receiver_urls: list[str], run: str, limit: int) -> list:
    """Four endpoints, spread over the receivers."""
    from webhooks.models import WebhookEndpoint

    return [
        WebhookEndpoint.objects.create(
            url=f"{receiver_urls[number % len(receiver_urls)]}/{run}/{number}",
            events=["product.created"],
            rate_limit=limit,
        )
        for number in range(4)
    ]


class Received:
    """What the receivers counted, merged."""

    def __init__(self, receiver_urls: list[str]) -> None:
        self.arrived: dict[str, dict[str, int]] = {}
        self.stamped: dict[str, dict[str, int]] = {}
        self.ids: dict[str, list[str]] = {}
        self.samples: dict[str, list[dict]] = {}
        self.connections = 0
        for url in receiver_urls:
            state = requests.get(f"{url}/stats", timeout=30).json()
            self.arrived.update(state["arrived"])
            self.stamped.update(state["stamped"])
            self.ids.update(state["ids"])
            self.samples.update(state["samples"])
            self.connections += state["connections"]

    @property
    def total(self) -> int:
        return sum(len(ids) for ids in self.ids.values())

    def largest(self, counts: dict[str, dict[str, int]]) -> int:
        return max((max(windows.values()) for windows in counts.values()), default=0)


def check_receivers(received: Received, endpoints: list) -> tuple[int, int, int]:
    """(missing, duplicates, signatures checked) for the deliveries of `endpoints`."""
    from standardwebhooks.webhooks import Webhook

    from webhooks.models import Delivery

    expected = set(Delivery.objects.filter(endpoint__in=endpoints).values_list("msg_id", flat=True))
    got = [msg_id for ids in received.ids.values() for msg_id in ids]
    missing = len(expected - set(got))
    duplicates = len(got) - len(set(got))
    checked = 0
    for endpoint in endpoints:
        path = "/" + endpoint.url.split("/", 3)[3]
        for sample in received.samples.get(path, []):
            # The stock verifier's signature check; its 5-minute freshness check would refuse
            # the first samples of a long run, checked only after it ended.
            headers = {name.lower(): value for name, value in sample["headers"].items()}
            signed_at = datetime.fromtimestamp(int(headers["webhook-timestamp"]), tz=UTC)
            body = sample["body"] if isinstance(sample["body"], str) else sample["body"].decode()
            expected = Webhook(endpoint.secret).sign(headers["webhook-id"], signed_at, body)
            if expected not in headers["webhook-signature"].split(" "):
                raise SystemExit(f"bad signature on {path}: {headers['webhook-id']}")
            checked += 1
    return missing, duplicates, checked


def start_stack(args, processes: Processes) -> tuple[list[str], str]:
    from acme.management.commands.standalone import web_command

    receiver_urls = []
    for number in range(args.receivers):
        port = free_port()
        receiver_urls.append(f"http://127.0.0.1:{port}")
        processes.start(
            f"receiver{number}", [sys.executable, "-c", RECEIVER, str(port), str(args.window)]
        )
    api_port = free_port()
    api = f"http://127.0.0.1:{api_port}"
    # As `make run` serves (gunicorn.conf.py: uvicorn workers, WEB_THREADS threads each).
    os.environ.update(WEB_THREADS="4")
    processes.start(
        "api", [*web_command(f"127.0.0.1:{api_port}"), "--workers", "1", "--log-level", "warning"]
    )
    for url in receiver_urls:
        wait_http(f"{url}/stats")
    wait_http(f"{api}/health")
    return receiver_urls, api


def start_workers(args, processes: Processes) -> None:
    from acme.celery import app

    for number in range(args.workers):
        command = [sys.executable, "-m", "celery", "-A", "acme", "worker",
                   "--loglevel=WARNING", f"--concurrency={args.concurrency}", "--pool=prefork",
                   f"--hostname=bench{number}@%h", "--without-gossip",
                   "--without-mingle"]  # fmt: skip
        if number == 0:
            command += ["--beat", f"--schedule={LOG_DIR / 'webhooks-beat'}"]
        processes.start(f"worker{number}", command)
    deadline = time.monotonic() + 60
    while len(app.control.ping(timeout=0.5)) < args.workers:
        if time.monotonic() > deadline:
            raise RuntimeError("workers did not start")


class CpuMeter:
    """CPU seconds (user + system, exited children included) of the workers, the receivers
    and the embedded PostgreSQL, between `start` and `stop`: what a delivery costs the
    machine, whatever else runs on it."""

    def __init__(self, processes: Processes) -> None:
        self.processes = processes
        self.before: dict[str, float] = {}

    def _roots(self) -> dict[str, list[int]]:
        roots: dict[str, list[int]] = {"workers": [], "receivers": []}
        for name, process in self.processes.named.items():
            if name.startswith("worker"):
                roots["workers"].append(process.pid)
            elif name.startswith("receiver"):
                roots["receivers"].append(process.pid)
        postmaster = ROOT / "var" / "postgres" / "postmaster.pid"
        if postmaster.exists() and not os.environ.get("BENCH_SERVER_URL"):
            roots["PostgreSQL"] = [int(postmaster.read_text().split()[0])]
        return roots

    def _read(self) -> dict[str, float]:
        import psutil

        totals: dict[str, float] = {}
        for group, pids in self._roots().items():
            total = 0.0
            for pid in pids:
                try:
                    root = psutil.Process(pid)
                    family = [root, *root.children(recursive=True)]
                except psutil.Error:
                    continue
                for process in family:
                    try:
                        times = process.cpu_times()
                    except psutil.Error:
                        continue
                    total += times.user + times.system + times.children_user
                    total += times.children_system
            totals[group] = total
        return totals

    def start(self) -> None:
        self.before = self._read()

    def per_delivery(self, deliveries: int) -> str:
        after = self._read()
        spent = {group: after[group] - self.before.get(group, 0.0) for group in after}
        total = sum(spent.values())
        parts = ", ".join(
            f"{group} {seconds * 1000 / deliveries:.2f}" for group, seconds in spent.items()
        )
        return (
            f"CPU per delivery (ms): {parts}; together {total * 1000 / deliveries:.2f}, so two "
            f"idle cores would carry about {2 * deliveries / total:.0f} deliveries/s"
        )


def run_throughput(args, processes: Processes, receiver_urls, probe, idle) -> None:
    from webhooks.models import Delivery, DeliveryAttempt

    endpoints = make_endpoints(receiver_urls, "fast", args.limit)
    total = args.events * 4
    print(f"\nRun 1: {args.events} events x 4 endpoints = {total} deliveries, "
          f"limit {args.limit} per {args.window} s window ({load()})")  # fmt: skip
    emit_seconds = emit_events(args.events)
    print(f"  emit(): {emit_seconds:.1f} s for {args.events} events "
          f"({args.events / emit_seconds:.0f} events/s, in transactions of 200), "
          "before the workers start")  # fmt: skip
    meter = CpuMeter(processes)
    meter.start()  # (workers not started yet: their start-up is counted too)
    probe.background()
    start_workers(args, processes)
    last = wait_settled(total, timeout=3600)
    busy = probe.stop()
    first = DeliveryAttempt.objects.order_by("attempted_at").first().attempted_at.timestamp()
    elapsed = last - first
    print(f"  all {total} final {elapsed:.1f} s after the first attempt: "
          f"{total / elapsed:.0f} deliveries/s ({load()})")  # fmt: skip
    received = Received(receiver_urls)
    missing, duplicates, checked = check_receivers(received, endpoints)
    failed = Delivery.objects.filter(status="failed").count()
    attempts = DeliveryAttempt.objects.count()
    print(f"  receivers got {received.total} requests on {received.connections} connections; "
          f"missing {missing}, duplicates {duplicates}; {attempts} attempts logged, "
          f"{failed} failed; {checked} sampled signatures verified")  # fmt: skip
    print(f"  largest count for one endpoint in one window: {received.largest(received.arrived)}"
          f" by arrival (limit {args.limit})")  # fmt: skip
    print(f"  {meter.per_delivery(total)}")
    print(f"\nAPI PATCH latency, no deliveries running:  {describe(idle)}")
    print(f"API PATCH latency, while deliveries run:    {describe(busy)}")
    ratio = percentile(sorted(busy), 0.95) / percentile(sorted(idle), 0.95)
    print(f"  p95 during / idle: {ratio:.2f} (target <= 1.5)")


def run_bite(args, receiver_urls: list[str]) -> None:
    from webhooks.models import Delivery

    reset(receiver_urls)
    endpoints = make_endpoints(receiver_urls, "bite", args.bite_limit)
    total = args.bite_events * 4
    print(f"\nRun 2: {args.bite_events} events x 4 endpoints, limit {args.bite_limit} per "
          f"{args.window} s window each ({load()})")  # fmt: skip
    started = time.time()
    emit_events(args.bite_events)
    last = wait_settled(total, timeout=3600)
    received = Received(receiver_urls)
    missing, duplicates, checked = check_receivers(received, endpoints)
    failed = Delivery.objects.filter(status="failed").count()
    print(f"  {received.total} of {total} received in {last - started:.1f} s; missing {missing},"
          f" duplicates {duplicates}, failed {failed}; {checked} signatures verified")  # fmt: skip
    for path, counts in sorted(received.arrived.items()):
        shown = ", ".join(f"{counts[w]}" for w in sorted(counts, key=int))
        stamped = received.stamped[path]
        by_stamp = ", ".join(f"{stamped[w]}" for w in sorted(stamped, key=int))
        print(f"  {path}: per window by arrival {shown}; by webhook-timestamp {by_stamp}")
    by_arrival, by_stamp = received.largest(received.arrived), received.largest(received.stamped)
    print(f"  largest count for one endpoint in one window: {by_arrival} by arrival, "
          f"{by_stamp} by webhook-timestamp (limit {args.bite_limit}) ({load()})")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=1, help="pool processes per worker")
    parser.add_argument("--receivers", type=int, default=2, help="receiver processes")
    parser.add_argument("--window", type=int, default=10, help="rate window in seconds")
    parser.add_argument("--limit", type=int, default=1_000_000, help="limit per window, run 1")
    parser.add_argument("--bite-events", type=int, default=2_000)
    parser.add_argument("--bite-limit", type=int, default=400)
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
        WEBHOOKS_RATE_LIMIT_WINDOW_SECONDS=str(args.window),
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
    try:
        app.control.purge()
        reset([])
        receiver_urls, api = start_stack(args, processes)
        user, _ = User.objects.get_or_create(username="bench", defaults={"is_superuser": True})
        user.is_superuser = user.is_staff = True
        user.save()
        token, _ = Token.objects.get_or_create(user=user)
        product, _ = Product.objects.get_or_create(sku="BENCH-PROBE", defaults={"name": "Probe"})

        print(f"bench database {BENCH_DATABASE}, redis {BENCH_REDIS_URL}, queue {BENCH_QUEUE}")
        print(f"{args.workers} worker processes (concurrency {args.concurrency} each), "
              f"{args.receivers} receivers and the API (1 process) on loopback")  # fmt: skip
        probe = LatencyProbe(api, token.key, product.id)
        probe.run(10)  # warm up
        idle = probe.run(args.probes)
        run_throughput(args, processes, receiver_urls, probe, idle)
        if args.bite_events > 0:
            run_bite(args, receiver_urls)
    finally:
        processes.stop_all()
        app.control.purge()


if __name__ == "__main__":
    main()
