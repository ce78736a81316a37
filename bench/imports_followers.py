"""Many clients following one import's events stream while others use the products API.

Starts the web server as `make run` does (gunicorn with uvicorn workers serving acme/asgi.py;
`--server wsgi` runs the previous model, gunicorn's threaded workers serving acme/wsgi.py, for
comparison) and one Celery worker against a bench database of their own, then:

1. imports a generated CSV once if the catalogue is empty, so the products API has data;
2. idle baseline: `--clients` API clients request product list pages back to back for
   `--seconds`, and the p50/p95 of their answers is printed;
3. starts an import of a variant of that file (every row changed: the longest kind), opens
   `--followers` event streams on /api/imports/{id}/events/ with a token and at once runs
   the same API clients until the import ends; prints how many followers got
   connected while it ran (and how long until all were), the events they received, how many
   saw the final `done` event, and the API's p50/p95 from the followers' first connection
   to the end of the import.

    python bench/imports_followers.py                         # 200 followers, 300k rows
    python bench/imports_followers.py --server wsgi --followers 32

The bench database (BENCH_FOLLOWERS_DATABASE, default acme_bench_followers) lives on the
app's PostgreSQL server; Redis is the app's, with a queue of its own. The machine is shared:
read the figures as noisy.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import multiprocessing
import os
import random
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import bench_db  # noqa: E402 - bench helpers next to this file
import imports_web_worker  # noqa: E402

DATABASE = os.environ.get("BENCH_FOLLOWERS_DATABASE", "acme_bench_followers")
QUEUE = os.environ.get("BENCH_FOLLOWERS_QUEUE", "acme-bench-followers")
LOG = ROOT / "var" / "bench" / "imports-followers.log"


def child_env(database_url: str, web_threads: int) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": database_url, "CELERY_QUEUE": QUEUE, "DEBUG": "true",
            "PYTHONUNBUFFERED": "1", "LOG_LEVEL": "WARNING",
            "WEB_THREADS": str(web_threads)}  # fmt: skip


def server_command(kind: str, bind: str, workers: int, threads: int) -> list[str]:
    if kind == "asgi":
        from acme.management.commands.standalone import web_command

        return [*web_command(bind), "--workers", str(workers)]
    return [sys.executable, "-m", "gunicorn", "acme.wsgi", "--bind", bind, "--workers",
            str(workers), "--threads", str(threads), "--worker-class", "gthread",
            "--timeout", "600"]  # fmt: skip


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def api_latencies(base: str, token: str, clients: int, until) -> tuple[list[float], list[str]]:
    """Milliseconds of each product list answer, and the errors, from `clients` threads
    requesting back to back until `until()` is true."""
    samples: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def client(number: int) -> None:
        rng = random.Random(number)
        headers = {"Authorization": f"Token {token}"}
        with httpx.Client(base_url=base, headers=headers, timeout=60) as http:
            while not until():
                started = time.perf_counter()
                try:
                    response = http.get("/api/products/", params={"page": rng.randint(1, 20)})
                    response.raise_for_status()
                except httpx.HTTPError as exc:
                    with lock:
                        errors.append(f"{type(exc).__name__}: {exc}")
                    continue
                elapsed = (time.perf_counter() - started) * 1000
                with lock:
                    samples.append(elapsed)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return samples, errors


def describe(result: tuple[list[float], list[str]]) -> str:
    samples, errors = result
    text = (f"p50 {statistics.median(samples):6.1f} ms  p95 {percentile(samples, 0.95):6.1f} ms  "
            f"({len(samples)} answers, {len(errors)} errors)")  # fmt: skip
    return text + (f"; first error: {errors[0]}" if errors else "")


class Followers:
    """`count` event-stream followers on one asyncio loop, in a process of their own (so that
    their parsing does not hold the GIL of the API clients that measure latency)."""

    def __init__(self, url: str, token: str, count: int) -> None:
        self.url, self.token, self.count = url, token, count
        self._connected = multiprocessing.Value("i", 0)
        self._events = multiprocessing.Value("i", 0)
        self._done = multiprocessing.Value("i", 0)
        self._errors = multiprocessing.Value("i", 0)
        self._all_connected_after = multiprocessing.Value("d", -1.0)
        self.first_error = multiprocessing.Array("c", 500)
        self.process = multiprocessing.Process(target=self._run, daemon=True)

    connected = property(lambda self: self._connected.value)
    events = property(lambda self: self._events.value)
    done = property(lambda self: self._done.value)
    errors = property(lambda self: self._errors.value)
    all_connected_after = property(
        lambda self: (
            None if self._all_connected_after.value < 0 else self._all_connected_after.value
        )
    )

    def start(self) -> None:
        self.process.start()

    def join(self, timeout: float) -> None:
        self.process.join(timeout)
        if self.process.is_alive():
            self.process.terminate()

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self.started = time.monotonic()
        limits = httpx.Limits(max_connections=self.count + 10)
        headers = {"Authorization": f"Token {self.token}", "Accept": "text/event-stream"}
        async with httpx.AsyncClient(limits=limits, headers=headers, timeout=None) as http:
            await asyncio.gather(*(self._follow(http) for _ in range(self.count)))

    async def _follow(self, http: httpx.AsyncClient) -> None:
        first = True
        try:
            async with http.stream("GET", self.url) as response:
                response.raise_for_status()
                async for line in response.aiter_lines():
                    if not line.startswith("event:"):
                        continue
                    self._events.value += 1
                    if first:
                        first = False
                        self._connected.value += 1
                        if self._connected.value == self.count:
                            self._all_connected_after.value = time.monotonic() - self.started
                    if line == "event: done":
                        self._done.value += 1
        except (httpx.HTTPError, OSError) as exc:
            if not self._errors.value:
                self.first_error.value = f"{type(exc).__name__}: {exc}"[:499].encode()
            self._errors.value += 1


def wait_for(check, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return False


def job_status(base: str, token: str, job_id: int) -> str:
    """The job's status, or "unanswered" when the server does not answer within 60 s."""
    headers = {"Authorization": f"Token {token}"}
    try:
        response = httpx.get(f"{base}/api/imports/{job_id}/", headers=headers, timeout=60)
        return response.json()["status"]
    except httpx.HTTPError:
        return "unanswered"


def upload(base: str, token: str, path: Path) -> int:
    headers = {"Authorization": f"Token {token}"}
    with path.open("rb") as handle:
        response = httpx.post(f"{base}/api/imports/", headers=headers, timeout=600,
                              files={"file": (path.name, handle, "text/csv")})  # fmt: skip
    response.raise_for_status()
    return response.json()["id"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--followers", type=int, default=200)
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--clients", type=int, default=4, help="concurrent products API clients")
    parser.add_argument("--seconds", type=float, default=15, help="idle baseline duration")
    parser.add_argument("--server", choices=["asgi", "wsgi"], default="asgi")
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--web-threads", type=int, default=4)
    parser.add_argument("--max-seconds", type=float, default=600,
                        help="stop waiting for the import after this long")  # fmt: skip
    args = parser.parse_args()

    # Ctrl-C or a kill still stops the server and the worker (the finally below).
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(1))
    database_url = bench_db.ensure_database(bench_db.server_url(DATABASE))
    path = imports_web_worker.csv_file(args.rows)
    token = imports_web_worker.api_token(database_url)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    port = imports_web_worker.free_port()
    base = f"http://127.0.0.1:{port}"
    env = child_env(database_url, args.web_threads)
    LOG.parent.mkdir(parents=True, exist_ok=True)
    logs = LOG.open("wb")
    command = server_command(args.server, f"127.0.0.1:{port}", args.web_workers, args.web_threads)
    web = subprocess.Popen(command, cwd=ROOT, env=env, stdout=logs, stderr=subprocess.STDOUT)
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "acme", "worker", "--concurrency=1",
         "--pool=prefork", "--loglevel=WARNING", f"--hostname=followers-{os.getpid()}@%h",
         "--without-gossip", "--without-mingle"],
        cwd=ROOT, env=env, stdout=logs, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        if not wait_for(lambda: _answers(f"{base}/health"), 90):
            raise SystemExit(f"the web server did not start; see {LOG}")
        print(f"server: {args.server} ({' '.join(command[2:4])}), {args.web_workers} processes "
              f"x {args.web_threads} threads; 1 Celery worker; {args.clients} API clients; "
              f"file {args.rows:,} rows; load average {os.getloadavg()[0]:.1f}",
              flush=True)  # fmt: skip

        from products.models import Product

        if not Product.objects.exists():
            print("loading the catalogue ...", flush=True)
            job_id = upload(base, token, path)
            wait_for(lambda: job_status(base, token, job_id) in ("completed", "failed"), 600)
        print(f"catalogue: {Product.objects.count():,} products", flush=True)

        deadline = time.monotonic() + args.seconds
        idle = api_latencies(base, token, args.clients, lambda: time.monotonic() > deadline)
        print(f"idle baseline      products API {describe(idle)}", flush=True)

        from django.db import connections

        from imports.models import ImportJob

        # Alternate two variants, so that each run changes every row (the longest import).
        changed = imports_web_worker.csv_file(args.rows, variant=1 + ImportJob.objects.count() % 2)
        job_id = upload(base, token, changed)
        followers = Followers(f"{base}/api/imports/{job_id}/events/", token, args.followers)
        finished = threading.Event()

        def watch() -> None:
            ended = ("completed", "failed", "cancelled")
            wait_for(lambda: job_status(base, token, job_id) in ended, args.max_seconds)
            finished.set()

        connections.close_all()  # the forked follower process must not share them
        followers.start()
        threading.Thread(target=watch, daemon=True).start()
        during = api_latencies(base, token, args.clients, finished.is_set)
        connected_during = followers.connected
        followers.join(timeout=120)
        within = (f"all within {followers.all_connected_after:.1f} s"
                  if followers.all_connected_after is not None else "not all")  # fmt: skip
        print(f"followers          {connected_during} of {args.followers} connected while the "
              f"import ran ({within}); {followers.events:,} events received; {followers.done} "
              f"saw `done`; {followers.errors} errors", flush=True)  # fmt: skip
        if followers.errors:
            print(f"                   first error: {followers.first_error.value.decode()}")
        print(f"during the import  products API {describe(during)} "
              f"(import {job_status(base, token, job_id)}); load average "
              f"{os.getloadavg()[0]:.1f}", flush=True)  # fmt: skip
    finally:
        for process in (web, worker):
            process.terminate()
        for process in (web, worker):
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


if __name__ == "__main__":
    main()
