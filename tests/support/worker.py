"""A real Celery worker process for tests whose behaviour depends on one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.db import connection

from acme.lib import queues

BASE_DIR = Path(__file__).resolve().parents[2]


def database_url_for_subprocess() -> str:
    """The URL of the database this test process uses (the test database, once created)."""
    db = connection.settings_dict
    host = quote(db["HOST"] or "", safe="")
    auth = quote(db["USER"] or "", safe="")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"], safe="")
    url = f"postgres://{auth}@{host}:{db['PORT'] or 5432}/{db['NAME']}"
    options = db.get("OPTIONS") or {}
    if options.get("sslmode"):
        url += f"?sslmode={options['sslmode']}"
    return url


def subprocess_env(**extra: str) -> dict[str, str]:
    """Environment for a child process that must see the same PostgreSQL, Redis and queue."""
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url_for_subprocess(),
        REDIS_URL=settings.REDIS_URL,
        CELERY_QUEUE=settings.CELERY_QUEUE_PREFIX,
        DEBUG="true",
        PYTHONUNBUFFERED="1",
        # Webhook tests deliver to receivers on loopback; the guard itself is tested in-process.
        WEBHOOKS_ALLOW_PRIVATE_TARGETS="true",
    )
    env.update(extra)
    return env


class WorkerProcess:
    """`celery worker` in its own process group, so a test can SIGKILL all of it.

    It consumes the queues of `kinds` (acme.lib.queues; default: all of them), named with
    this test run's prefix (CELERY_QUEUE) unless `env` gives the worker another one.
    """

    def __init__(
        self,
        *,
        concurrency: int = 2,
        name: str = "test",
        beat: bool = False,
        kinds: Sequence[str] = queues.KINDS,
        gossip: bool = False,
        **env: str,
    ):
        self.name = f"{name}-{os.getpid()}-{time.monotonic_ns()}@%h"
        self.log_path = BASE_DIR / "var" / "test-logs" / f"worker-{name}-{os.getpid()}.log"
        self.concurrency = concurrency
        self.beat = beat
        # Gossip and mingle on, as `make run` starts the worker (tests need neither).
        self.gossip = gossip
        self.env = env
        prefix = env.get("CELERY_QUEUE", settings.CELERY_QUEUE_PREFIX)
        self.queues = [queues.queue_name(kind, prefix) for kind in kinds]
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> WorkerProcess:
        from acme.celery import app

        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        command = [
            sys.executable, "-m", "celery", "-A", "acme", "worker",
            "--loglevel=INFO", f"--concurrency={self.concurrency}", "--pool=prefork",
            f"--hostname={self.name}", "--queues", ",".join(self.queues),
        ]  # fmt: skip
        if not self.gossip:
            command += ["--without-gossip", "--without-mingle"]
        if self.beat:
            command += ["--beat", f"--schedule={self.log_path.with_suffix('.beat')}"]
        log = open(self.log_path, "ab")  # noqa: SIM115 - handed to the child process
        self.process = subprocess.Popen(
            command,
            cwd=BASE_DIR,
            env=subprocess_env(**self.env),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        hostname = self.name.replace("%h", "")
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"worker exited early; see {self.log_path}")
            if "REDIS_URL" in self.env:
                # A broker of the test's own: the ping below would go to the suite's.
                log = self.log_path.read_text(errors="replace")
                if any(hostname in line and line.endswith(" ready.") for line in log.splitlines()):
                    return self
                time.sleep(0.2)
                continue
            replies = app.control.ping(timeout=0.5)
            if any(hostname in name for reply in replies for name in reply):
                return self
        self.kill()
        raise RuntimeError(f"worker did not answer a ping in {timeout}s; see {self.log_path}")

    def child_pids(self) -> list[int]:
        import psutil

        return [child.pid for child in psutil.Process(self.process.pid).children(recursive=True)]

    def kill(self) -> None:
        """SIGKILL the worker and its pool children: no cleanup runs."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
