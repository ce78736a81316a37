"""`make run`: migrate, ensure the admin user, then run web, a worker per queue and beat,
starting again any of them (or an embedded server) that stops on its own."""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from typing import IO, cast

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import connections

from acme.lib import embedded, queues
from acme.lib.admin_user import ADMIN_USERNAME, ensure_admin_user

COLOURS = {
    "web": "\033[36m",
    "worker-imports": "\033[35m",
    "worker-webhooks": "\033[34m",
    "worker-housekeeping": "\033[32m",
    "beat": "\033[33m",
}
RESET = "\033[0m"


class Command(BaseCommand):
    help = (
        "Set everything up and serve the site with a Celery worker per queue and beat; "
        "Ctrl-C stops all."
    )

    def add_arguments(self, parser):
        parser.add_argument("--bind", default=os.environ.get("BIND", "127.0.0.1:8000"))
        parser.add_argument("--no-worker", action="store_true", help="serve the site only")

    def handle(self, *args, bind: str, no_worker: bool, **options):
        call_command("migrate", interactive=False, verbosity=1)
        call_command("collectstatic", interactive=False, verbosity=0)
        created, where = ensure_admin_user(password_file=settings.ACME_ADMIN_PASSWORD_FILE)
        if created:
            self.stdout.write(
                self.style.SUCCESS(f"Created user '{ADMIN_USERNAME}'; its password is in {where}")
            )

        python = sys.executable
        commands = {"web": web_command(bind)}
        if not no_worker:
            # One worker per queue, so a slow kind of work never holds up another.
            for kind, queue in settings.ACME_QUEUES.items():
                commands[f"worker-{kind}"] = [
                    python, "-m", "celery", "-A", "acme", "worker", "--loglevel=INFO",
                    f"--queues={queue}", f"--hostname={kind}@%h",
                    f"--concurrency={queues.LOCAL_CONCURRENCY[kind]}",
                ]  # fmt: skip
            commands["beat"] = [python, "-m", "celery", "-A", "acme", "beat", "--loglevel=INFO",
                                f"--schedule={settings.CELERY_BEAT_SCHEDULE_FILENAME}"]  # fmt: skip
        self.stdout.write(self.style.SUCCESS(f"Serving on http://{bind}/  (Ctrl-C stops)"))
        exit_code = run_together(commands, servers=_embedded_servers())
        if embedded.started_here:
            # Stop the embedded servers this command started; ones that were already
            # running (another shell, a test run) keep running.
            connections.close_all()
            stopped = embedded.stop(settings.VAR_DIR, only=set(embedded.started_here))
            self.stdout.write(f"stopped embedded {', '.join(stopped)}")
        sys.exit(exit_code)


def web_command(bind: str) -> list[str]:
    """The web server: gunicorn with uvicorn workers serving acme/asgi.py (gunicorn.conf.py)."""
    return [sys.executable, "-m", "gunicorn", "acme.asgi:application",
            "--config", "gunicorn.conf.py", "--bind", bind]  # fmt: skip


# A child that exits on its own is started again after RESTART_DELAYS[n] seconds, n being how
# many times in a row it ended within STABLE_SECONDS of its start (a crash loop backs off).
RESTART_DELAYS = (1, 2, 5, 10, 30)
STABLE_SECONDS = 60
# How often the embedded servers this command relies on are checked.
SERVER_CHECK_SECONDS = 2.0


class Child:
    """One supervised command: its process, and when it may be started again."""

    def __init__(self, name: str, command: list[str], env: dict[str, str]) -> None:
        self.name = name
        self.command = command
        self.env = env
        self.process: subprocess.Popen | None = None
        self.started_at = 0.0
        self.quick_exits = 0
        self.restart_at: float | None = None

    def start(self, selector: selectors.BaseSelector) -> subprocess.Popen:
        self.process = subprocess.Popen(
            self.command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=self.env,
            start_new_session=True,
        )  # fmt: skip
        self.started_at = time.monotonic()
        self.restart_at = None
        assert self.process.stdout is not None  # stdout=PIPE
        selector.register(self.process.stdout, selectors.EVENT_READ, self.name)
        return self.process

    def exited(self) -> int | None:
        """The exit code if the process ended and no restart is scheduled yet."""
        if self.process is None or self.restart_at is not None:
            return None
        return self.process.poll()

    def schedule_restart(self) -> float:
        if time.monotonic() - self.started_at >= STABLE_SECONDS:
            self.quick_exits = 0
        delay = RESTART_DELAYS[min(self.quick_exits, len(RESTART_DELAYS) - 1)]
        self.quick_exits += 1
        self.restart_at = time.monotonic() + delay
        return delay


def _embedded_servers() -> dict[str, Callable[[], bool]]:
    """The embedded servers in use (DATABASE_URL / REDIS_URL unset), to start again if they die."""
    servers: dict[str, Callable[[], bool]] = {}
    if "postgres" in embedded.used_here:
        servers["postgres"] = lambda: embedded.revive_postgres(settings.VAR_DIR)
    if "redis" in embedded.used_here:
        servers["redis"] = lambda: embedded.revive_redis(settings.VAR_DIR)
    return servers


def run_together(
    commands: dict[str, list[str]],
    servers: dict[str, Callable[[], bool]] | None = None,
) -> int:
    """Start every command and stream their prefixed output until Ctrl-C (or SIGTERM).

    A command that exits on its own is started again with backoff, and a line says so.
    `servers` maps a name to a function that starts that server again if it is down and
    returns whether it had to (the embedded PostgreSQL and Redis).
    """
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    selector = selectors.DefaultSelector()
    children = [Child(name, command, env) for name, command in commands.items()]
    for child in children:
        child.start(selector)

    stopping = False

    def request_stop(signum, frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    width = max(len(name) for name in commands)
    next_server_check = time.monotonic() + SERVER_CHECK_SECONDS
    while not stopping:
        _pump(selector, width)
        now = time.monotonic()
        if servers and now >= next_server_check:
            next_server_check = now + SERVER_CHECK_SECONDS
            _revive_servers(servers)
        for child in children:
            code = child.exited()
            if code is not None:
                delay = child.schedule_restart()
                _say(f"{child.name} exited with code {code}; restarting it in {delay} s")
            elif child.restart_at is not None and now >= child.restart_at and not stopping:
                process = child.start(selector)
                _say(f"{child.name} restarted (pid {process.pid})")

    running = [child.process for child in children if child.process is not None]
    for process in running:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    # Keep streaming their shutdown logs until they have all exited.
    deadline = time.monotonic() + 15
    while selector.get_map() and time.monotonic() < deadline:
        _pump(selector, width)
    for process in running:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
    return 0


def _revive_servers(servers: dict[str, Callable[[], bool]]) -> None:
    for name, revive in servers.items():
        try:
            if revive():
                _say(f"embedded {name} was down; started it again")
        except Exception as exc:  # the next check tries again; the children keep retrying
            _say(f"embedded {name} is down and did not start ({exc}); trying again")


def _say(text: str) -> None:
    sys.stdout.write(f"{time.strftime('%H:%M:%S')} standalone | {text}\n")
    sys.stdout.flush()


def _pump(selector: selectors.BaseSelector, width: int) -> None:
    """Copy the lines that are ready to stdout, prefixed with their process's name."""
    for key, _ in selector.select(timeout=0.5):
        line = cast(IO[bytes], key.fileobj).readline()  # only process pipes are registered
        if not line:
            selector.unregister(key.fileobj)
            continue
        prefix = f"{COLOURS.get(key.data, '')}{key.data:<{width}}{RESET} | "
        sys.stdout.write(prefix + line.decode(errors="replace"))
    sys.stdout.flush()
