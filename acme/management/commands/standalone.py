"""`make run`: migrate, ensure the admin user, then run web, a worker per queue and beat."""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
import time

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
        exit_code = run_together(commands)
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


def run_together(commands: dict[str, list[str]]) -> int:
    """Start every command, prefix and stream their output, stop all when one ends or on Ctrl-C."""
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    processes = {
        name: subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
            start_new_session=True,
        )
        for name, command in commands.items()
    }  # fmt: skip
    selector = selectors.DefaultSelector()
    for name, process in processes.items():
        selector.register(process.stdout, selectors.EVENT_READ, name)

    stopping = False

    def request_stop(signum, frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    width = max(len(name) for name in processes)
    exit_code = 0
    while not stopping:
        _pump(selector, width)
        ended = [name for name, process in processes.items() if process.poll() is not None]
        if ended:
            sys.stdout.write(f"{', '.join(ended)} exited; stopping the rest\n")
            exit_code = 1
            break

    for process in processes.values():
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    # Keep streaming their shutdown logs until they have all exited.
    deadline = time.monotonic() + 15
    while selector.get_map() and time.monotonic() < deadline:
        _pump(selector, width)
    for process in processes.values():
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
    return exit_code


def _pump(selector: selectors.BaseSelector, width: int) -> None:
    """Copy the lines that are ready to stdout, prefixed with their process's name."""
    for key, _ in selector.select(timeout=0.5):
        line = key.fileobj.readline()
        if not line:
            selector.unregister(key.fileobj)
            continue
        prefix = f"{COLOURS.get(key.data, '')}{key.data:<{width}}{RESET} | "
        sys.stdout.write(prefix + line.decode(errors="replace"))
    sys.stdout.flush()
