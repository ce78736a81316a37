"""The import through the web upload and the Celery worker, end to end.

Starts gunicorn and one Celery worker against a bench database of their own, uploads a
generated CSV with an HTTP multipart POST to /api/imports/ (the same upload path as the
page), polls the job until it finishes, and prints seconds, rows/s, where the time went
(upload, queue wait, the worker's phases) and the peak RSS of the importing worker process.

    python bench/imports_web_worker.py                       # 500k rows: empty, identical
    python bench/imports_web_worker.py --scenarios empty,identical,changed
    python bench/imports_web_worker.py --rows 50000 --scenarios empty

Scenarios, in the order given: `empty` truncates the catalogue first; `identical`
re-imports the same file; `changed` imports a variant of it with every row changed.
The file comes from bench/generate_products_csv.py (multi-line quoted descriptions, ~6%
repeated SKUs). The bench database (BENCH_JOBS_DATABASE, default acme_bench_jobs) lives on
the app's PostgreSQL server; Redis is the app's, with a queue of its own. The machine is
shared: run it when nothing else is busy and read the figures as noisy.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import psycopg
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import bench_db  # noqa: E402 - bench helper next to this file

DATABASE = os.environ.get("BENCH_JOBS_DATABASE", "acme_bench_jobs")
QUEUE = os.environ.get("BENCH_JOBS_QUEUE", "acme-bench-jobs")
WORK_DIR = ROOT / "var" / "bench"


def ensure_database() -> str:
    url = bench_db.server_url(DATABASE)
    return bench_db.ensure_database(url, child_env(url))


def child_env(database_url: str) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": database_url, "CELERY_QUEUE": QUEUE, "DEBUG": "true",
            "PYTHONUNBUFFERED": "1", "LOG_LEVEL": "WARNING"}  # fmt: skip


def csv_file(rows: int, variant: int = 0) -> Path:
    """The generated file (cached under var/bench); a variant has the same SKUs with every
    name and description changed."""
    WORK_DIR.mkdir(parents=True, exist_ok=True)
    path = WORK_DIR / f"products-{rows}{f'-v{variant}' if variant else ''}.csv"
    if not path.exists():
        print(f"generating {path.name} ...", flush=True)
        subprocess.run([sys.executable, str(ROOT / "bench" / "generate_products_csv.py"),
                        "--rows", str(rows), "--variant", str(variant), "--out", str(path)],
                       check=True)  # fmt: skip
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def api_token(database_url: str) -> str:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "acme.settings_local")
    os.environ.setdefault("DEBUG", "true")
    import django

    django.setup()
    from django.contrib.auth.models import User
    from rest_framework.authtoken.models import Token

    defaults = {"is_superuser": True, "is_staff": True}
    user, _ = User.objects.get_or_create(username="bench", defaults=defaults)
    return Token.objects.get_or_create(user=user)[0].key


class PeakRss(threading.Thread):
    """Samples the RSS of each process under `root` (the worker's pool children)."""

    def __init__(self, root: psutil.Process) -> None:
        super().__init__(daemon=True)
        self.root = root
        self.peak = 0
        self.running = True

    def run(self) -> None:
        while self.running:
            try:
                for child in self.root.children(recursive=True):
                    self.peak = max(self.peak, child.memory_info().rss)
            except psutil.Error:
                pass
            time.sleep(0.05)


def truncate(database_url: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("TRUNCATE products_product RESTART IDENTITY")


def run_once(base: str, token: str, path: Path, worker: psutil.Process) -> dict:
    headers = {"Authorization": f"Token {token}"}
    sampler = PeakRss(worker)
    sampler.start()
    started = time.perf_counter()
    with path.open("rb") as handle:
        response = requests.post(f"{base}/api/imports/", headers=headers, timeout=600,
                                 files={"file": (path.name, handle, "text/csv")})  # fmt: skip
    uploaded = time.perf_counter()
    response.raise_for_status()
    job_id = response.json()["id"]
    while True:
        job = requests.get(f"{base}/api/imports/{job_id}/", headers=headers, timeout=30).json()
        if job["status"] in ("completed", "failed", "cancelled"):
            break
        time.sleep(0.1)
    finished = time.perf_counter()
    sampler.running = False
    sampler.join()
    remove_stored_upload(job_id)
    if job["status"] != "completed":
        raise SystemExit(f"import {job_id} {job['status']}: {job['error']}")
    return {"job": job, "upload": uploaded - started, "total": finished - started,
            "peak_rss": sampler.peak}  # fmt: skip


def remove_stored_upload(job_id: int) -> None:
    """The bench's uploads are 100 MB each: do not leave them in MEDIA_ROOT."""
    from imports.models import ImportJob

    job = ImportJob.objects.get(pk=job_id)
    if job.file:
        job.file.delete(save=False)


def seconds_between(job: dict, start: str, end: str) -> float:
    from datetime import datetime

    return (datetime.fromisoformat(job[end]) - datetime.fromisoformat(job[start])).total_seconds()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=500_000)
    parser.add_argument("--scenarios", default="empty,identical")
    parser.add_argument("--gunicorn-workers", type=int, default=2)
    args = parser.parse_args()

    database_url = ensure_database()
    path = csv_file(args.rows)
    token = api_token(database_url)
    port = free_port()
    env = child_env(database_url)
    logs = (WORK_DIR / "web-worker.log").open("ab")
    web = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "acme.wsgi", "-b", f"127.0.0.1:{port}",
         "-w", str(args.gunicorn_workers), "--timeout", "600"],
        cwd=ROOT, env=env, stdout=logs, stderr=subprocess.STDOUT,
    )  # fmt: skip
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "acme", "worker", "--concurrency=1",
         "--pool=prefork", "--loglevel=WARNING", f"--hostname=bench-{os.getpid()}@%h",
         "--without-gossip", "--without-mingle"],
        cwd=ROOT, env=env, stdout=logs, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(f"{base}/health", timeout=10)
                break
            except requests.RequestException:
                if time.monotonic() > deadline:
                    raise SystemExit(
                        "gunicorn did not start; see var/bench/web-worker.log"
                    ) from None
                time.sleep(0.2)
        time.sleep(2)  # let the worker connect to the broker

        size_mb = path.stat().st_size / 1e6
        print(f"file: {path.name}, {args.rows:,} rows, {size_mb:.1f} MB; "
              f"gunicorn x{args.gunicorn_workers}, 1 Celery worker process")  # fmt: skip
        print(f"{'scenario':<10} {'total s':>8} {'rows/s':>9} {'upload s':>9} {'queue s':>8} "
              f"{'worker s':>9}  {'phases (s)':<44} peak RSS")  # fmt: skip
        for scenario in args.scenarios.split(","):
            source = path
            if scenario == "empty":
                truncate(database_url)
            elif scenario == "changed":
                source = csv_file(args.rows, variant=1)
            elif scenario != "identical":
                raise SystemExit(f"unknown scenario {scenario!r}")
            result = run_once(base, token, source, psutil.Process(worker.pid))
            job = result["job"]
            queued = seconds_between(job, "created_at", "started_at")
            working = seconds_between(job, "started_at", "finished_at")
            durations = job["durations"]
            from imports.models import ImportJob

            phases = " ".join(
                f"{name[:5]} {durations[name]:.2f}"
                for name in ImportJob.Phase.values
                if name in durations
            )
            rate = job["rows_read"] / result["total"]
            print(
                f"{scenario:<10} {result['total']:>8.2f} {rate:>9,.0f} "
                f"{result['upload']:>9.2f} {queued:>8.2f} {working:>9.2f}  {phases:<44} "
                f"{result['peak_rss'] / 2**20:>5.0f} MB   "
                f"(created {job['created']:,}, updated {job['updated']:,}, "
                f"unchanged {job['unchanged']:,}, rejected {job['rows_rejected']:,})",
                flush=True,
            )
    finally:
        for process in (web, worker):
            process.terminate()
        for process in (web, worker):
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


if __name__ == "__main__":
    main()
