"""`make run` is `manage.py standalone`: site + worker + beat up, all gone after Ctrl-C."""

import signal
import socket
import subprocess
import sys
import time

import psutil
import pytest
import requests
from django.contrib.auth.models import User

from tests.support.worker import BASE_DIR, subprocess_env


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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
            except requests.ConnectionError:
                pass
            time.sleep(0.5)
        assert ready is not None and ready.status_code == 200, ready and ready.text
        assert ready.json()["checks"]["worker"] == "ok"
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
