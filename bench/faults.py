"""Kill Redis, PostgreSQL or the worker mid-import on a scratch stack and print what happened.

    python bench/faults.py --rows 200000          (`make faults`)

The stack is its own: a Redis and a PostgreSQL started in a temporary directory (unix sockets
only), a real Celery worker and beat as `make run` starts them, and a catalogue of `--rows`
products. Each fault imports a file that changes every product, waits for the moment (the
job's phase, or an idle worker), SIGKILLs the target, starts it again `--down` seconds later
and then records, per row of the table:

- how the job ended (status and the start of its message) and how long after the restart;
- seconds from the restart until PostgreSQL, Redis and a worker all answer (/health/ready);
- whether the next import (the same file again, submitted after the restart) completed.

A worker that died is started again by this script (as `make run` does) and the row says so.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.scratch_servers import ScratchPostgres, ScratchRedis  # noqa: E402

DEFAULT_FAULTS = (
    "redis:idle,redis:parsing,redis:merging,redis:upload,"
    "postgres:parsing,postgres:merging,worker:merging"
)
FINISH_TIMEOUT = 240.0


@dataclass
class Row:
    fault: str
    moment: str
    job: str = ""
    job_seconds: float | None = None
    ready_seconds: float | None = None
    next_import: str = ""
    worker: str = "alive"


class Stack:
    def __init__(self, directory: Path, queue: str) -> None:
        self.directory = directory
        self.redis = ScratchRedis(directory / "redis")
        self.postgres = ScratchPostgres(directory / "postgres")
        self.queue = queue
        self.processes: dict[str, subprocess.Popen] = {}

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "DATABASE_URL": self.postgres.url,
            "REDIS_URL": self.redis.url,
            "CELERY_QUEUE": self.queue,
            "DJANGO_SETTINGS_MODULE": "acme.settings",
            "DEBUG": "true",
            "ACME_VAR_DIR": str(self.directory / "var"),
            "MEDIA_ROOT": str(self.directory / "media"),
            "PYTHONUNBUFFERED": "1",
        }

    def start_servers(self) -> None:
        self.redis.start()
        self.postgres.start()

    def start(self, name: str) -> None:
        python = sys.executable
        commands = {
            "worker": [python, "-m", "celery", "-A", "acme", "worker", "--loglevel=INFO",
                       "--concurrency=2"],
            "beat": [python, "-m", "celery", "-A", "acme", "beat", "--loglevel=INFO",
                     f"--schedule={self.directory / 'beat-schedule'}"],
        }  # fmt: skip
        log = open(self.directory / f"{name}.log", "ab")  # noqa: SIM115 - the child's
        self.processes[name] = subprocess.Popen(
            commands[name], cwd=ROOT, env=self.env(), stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip

    def alive(self, name: str) -> bool:
        process = self.processes.get(name)
        return process is not None and process.poll() is None

    def kill(self, name: str) -> None:
        process = self.processes[name]
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        self.redis.stop()
        self.postgres.stop()


def ready() -> bool:
    """What /health/ready checks, in this process."""
    from django.db import connection

    from acme.lib.health import CHECKS

    try:
        for check in CHECKS.values():
            check()
    except Exception:
        connection.close()
        return False
    return True


def wait_for(check, timeout: float, every: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = check()
        except Exception:
            from django.db import connection

            connection.close()
            value = None
        if value:
            return value
        time.sleep(every)
    return None


def submit(path: Path) -> int:
    from imports import services

    return services.import_job_create_from_path(path=str(path), options={}).pk


def job_state(job_id: int):
    from imports.models import ImportJob

    return ImportJob.objects.values("status", "phase", "error").get(pk=job_id)


def live_phase(job_id: int) -> str:
    """The phase from the live progress in Redis (the row's lags by a heartbeat)."""
    from imports import progress

    try:
        live = progress.read(job_id)
    except Exception:
        live = None
    return (live or {}).get("phase") or job_state(job_id)["phase"]


def finished(job_id: int):
    from imports.models import ImportJob

    state = job_state(job_id)
    return state if state["status"] in ImportJob.FINISHED else None


def describe(state: dict | None) -> str:
    if state is None:
        return f"not finished after {FINISH_TIMEOUT:.0f} s"
    error = state["error"]
    return f"{state['status']}: {error[:70]}" if error else state["status"]


def run_fault(stack: Stack, fault: str, files: list[Path], down: float) -> Row:
    target, moment = fault.split(":")
    row = Row(fault=f"{target} SIGKILL, back after {down:g} s", moment=moment)
    kill = {"redis": stack.redis.kill, "postgres": stack.postgres.kill,
            "worker": lambda: stack.kill("worker")}[target]  # fmt: skip
    restart = {"redis": stack.redis.start, "postgres": stack.postgres.start,
               "worker": lambda: stack.start("worker")}[target]  # fmt: skip
    job_id = None
    if moment == "upload":
        # The broker is down when the job is created and its task sent.
        kill()
        try:
            job_id = submit(files[0])
        except Exception as exc:
            row.job = f"upload refused: {exc.__class__.__name__}"
        time.sleep(down)
    elif moment == "idle":
        kill()
        time.sleep(down)
    else:
        job_id = submit(files[0])
        if not wait_for(lambda: live_phase(job_id) == moment, timeout=FINISH_TIMEOUT,
                        every=0.05):  # fmt: skip
            row.job = f"never reached {moment}: {describe(finished(job_id))}"
            return row
        kill()
        time.sleep(down)
    restart()
    back = time.monotonic()
    # Until the job has ended and the stack answers again (or the time is up), whichever
    # comes first is timed on its own.
    state = None
    deadline = back + FINISH_TIMEOUT
    while time.monotonic() < deadline:
        if job_id is not None and state is None:
            state = wait_for(lambda: finished(job_id), timeout=0.01)
            if state is not None:
                row.job_seconds = time.monotonic() - back
        if row.ready_seconds is None and ready():
            row.ready_seconds = time.monotonic() - back
        if row.ready_seconds is not None and (job_id is None or state is not None):
            break
        time.sleep(0.2)
    if job_id is not None:
        row.job = row.job or describe(state)
    if not stack.alive("worker"):
        row.worker = "died; restarted by the bench"
        stack.start("worker")
    if not stack.alive("beat"):
        row.worker += ", beat died; restarted"
        stack.start("beat")
    next_id = submit(files[1])
    state = wait_for(lambda: finished(next_id), timeout=FINISH_TIMEOUT)
    row.next_import = (
        describe(state)
        if state and state["status"] != "completed"
        else ("completed" if state else describe(None))
    )
    files.reverse()  # the next fault's file changes every product again
    return row


def seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def print_table(rows: list[Row]) -> None:
    print("| fault | moment | how the job ended | s after restart | s until ready | "
          "next import | worker |")  # fmt: skip
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for row in rows:
        print(f"| {row.fault} | {row.moment} | {row.job or '-'} | {seconds(row.job_seconds)} | "
              f"{seconds(row.ready_seconds)} | {row.next_import} | {row.worker} |")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument(
        "--down", type=float, default=3.0, help="seconds a killed server stays down"
    )
    parser.add_argument(
        "--faults",
        default=DEFAULT_FAULTS,
        help="comma-separated target:moment (targets redis, postgres, worker; moments idle, "
        "upload, parsing, validating, loading, merging)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory")
    args = parser.parse_args()

    directory = Path(tempfile.mkdtemp(prefix="acme-faults-"))
    files = []
    for variant in (0, 1):
        path = Path(tempfile.gettempdir()) / f"acme-faults-{args.rows}-v{variant}.csv"
        if not path.exists():
            subprocess.run([sys.executable, str(ROOT / "bench" / "generate_products_csv.py"),
                            "--rows", str(args.rows), "--variant", str(variant), "--out",
                            str(path)], check=True)  # fmt: skip
        files.append(path)

    stack = Stack(directory, queue=f"faults-{os.getpid()}")
    stack.start_servers()
    os.environ.update(stack.env())
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    stack.start("worker")
    stack.start("beat")
    rows = []
    try:
        if not wait_for(ready, timeout=120):
            sys.exit(f"the scratch stack never became ready; see {directory}")
        first = submit(files[1])
        print(f"catalogue: {describe(wait_for(lambda: finished(first), FINISH_TIMEOUT))}",
              flush=True)  # fmt: skip
        for fault in args.faults.split(","):
            row = run_fault(stack, fault.strip(), files, args.down)
            rows.append(row)
            print(f"{row.fault} at {row.moment}: {row.job}", flush=True)
    finally:
        from django.db import connections

        connections.close_all()
        stack.stop()
        print(f"\nrows: {args.rows}, logs in {directory} (kept with --keep)\n")
        print_table(rows)
        if not args.keep:
            shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
