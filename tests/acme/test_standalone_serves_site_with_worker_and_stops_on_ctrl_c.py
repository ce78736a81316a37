"""`make run` is `manage.py standalone`: site + worker + beat up, all gone after Ctrl-C."""

import signal
import socket
import subprocess
import sys
import time

import psutil
import pytest
import requests
from django.conf import settings
from django.contrib.auth.models import User

from acme.celery import app
from tests.support.waiting import wait_until
from tests.support.worker import BASE_DIR, subprocess_env


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _queues_by_worker(kinds: set[str]) -> dict[str, list[str]] | None:
    """{"imports@": [queue names], ...} for the standalone's workers, once all answer."""
    replies = app.control.inspect(timeout=1).active_queues() or {}
    found = {
        hostname.split("@")[0] + "@": sorted(queue["name"] for queue in queues)
        for hostname, queues in replies.items()
        if hostname.split("@")[0] in kinds
    }
    return found if len(found) == len(kinds) else None


@pytest.mark.django_db(transaction=True)
def test_standalone_serves_site_and_worker_then_stops_everything_on_ctrl_c():
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "manage.py", "standalone", "--bind", f"127.0.0.1:{port}"],
        cwd=BASE_DIR,
        env=subprocess_env(ACME_ADMIN_PASSWORD="a-long-local-password"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        ready = None
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and process.poll() is None:
            try:
                ready = requests.get(f"http://127.0.0.1:{port}/health/ready", timeout=5)
                if ready.status_code == 200:
                    break
            except (requests.ConnectionError, requests.Timeout):
                pass  # still starting (five processes start at once on a busy machine)
            time.sleep(0.5)
        assert ready is not None and ready.status_code == 200, ready and ready.text
        assert ready.json() == {"status": "ok"}  # 200: PostgreSQL, Redis and the worker answer
        # One worker per queue (imports, webhooks, housekeeping), each on its own queue only.
        consumed = wait_until(
            lambda: _queues_by_worker(set(settings.ACME_QUEUES)),
            timeout=30,
            what="a worker per queue",
        )
        assert consumed == {f"{kind}@": [queue] for kind, queue in settings.ACME_QUEUES.items()}
        # Static files come from whitenoise under gunicorn.
        css = requests.get(f"http://127.0.0.1:{port}/static/css/app.css", timeout=5)
        assert css.status_code == 200
        assert "--primary" in css.text
        assert User.objects.filter(username="admin", is_superuser=True).exists()
        children = psutil.Process(process.pid).children(recursive=True)
        assert len(children) >= 3  # gunicorn, worker, beat (and their own children)
    finally:
        process.send_signal(signal.SIGINT)
        output = process.communicate(timeout=60)[0].decode()
    assert process.returncode == 0, output
    assert "Serving on" in output
    assert all(not child.is_running() for child in children), output
