"""`make run` supervises what it starts: a worker killed by the kernel comes back, and so
does an embedded Redis that dies; Ctrl-C still stops everything."""

import os
import signal
import subprocess
import sys
import threading

import psutil
import pytest
import requests

from tests.acme.test_standalone_serves_site_with_worker_and_stops_on_ctrl_c import _free_port
from tests.support.waiting import wait_until
from tests.support.worker import BASE_DIR, subprocess_env


def _ready(port: int) -> bool:
    try:
        return requests.get(f"http://127.0.0.1:{port}/health/ready", timeout=5).status_code == 200
    except requests.RequestException:  # down, or waiting for a server that is down
        return False


def _imports_worker(process: subprocess.Popen) -> psutil.Process | None:
    for child in psutil.Process(process.pid).children():
        if "--hostname=imports@%h" in child.cmdline():
            return child
    return None


@pytest.mark.django_db(transaction=True)
def test_standalone_restarts_a_killed_worker_and_a_dead_embedded_redis(tmp_path_factory):
    port = _free_port()
    var_dir = tmp_path_factory.mktemp("var")
    env = subprocess_env(ACME_ADMIN_PASSWORD="a-long-local-password", ACME_VAR_DIR=str(var_dir))
    del env["REDIS_URL"]  # an embedded Redis of this run's own, under var_dir
    process = subprocess.Popen(
        [sys.executable, "manage.py", "standalone", "--bind", f"127.0.0.1:{port}"],
        cwd=BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    lines: list[str] = []
    reader = threading.Thread(
        target=lambda: lines.extend(line.decode(errors="replace") for line in process.stdout),
        daemon=True,
    )
    reader.start()
    output = lambda: "".join(lines)  # noqa: E731
    try:
        wait_until(lambda: _ready(port), timeout=120, every=0.5, what="the site to be ready")

        first = _imports_worker(process)
        os.killpg(first.pid, signal.SIGKILL)
        wait_until(lambda: "worker-imports exited with code" in output(),
                   what="the exit to be noticed")  # fmt: skip
        wait_until(lambda: (w := _imports_worker(process)) and w.pid != first.pid,
                   what="a new imports worker")  # fmt: skip
        wait_until(lambda: _ready(port), timeout=90, every=0.5, what="ready with the new worker")

        redis_pid = int((var_dir / "redis" / "redis.pid").read_text())
        os.kill(redis_pid, signal.SIGKILL)
        wait_until(lambda: "embedded redis was down; started it again" in output(),
                   what="the embedded Redis to be started again")  # fmt: skip
        assert int((var_dir / "redis" / "redis.pid").read_text()) != redis_pid
        wait_until(lambda: _ready(port), timeout=90, every=0.5, what="ready after Redis returned")
        children = psutil.Process(process.pid).children(recursive=True)
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)
        reader.join(timeout=10)
    assert process.returncode == 0, output()
    assert "worker-imports restarted" in output()
    assert all(not child.is_running() for child in children), output()
    assert "stopped embedded redis" in output()
