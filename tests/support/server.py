"""The site's real web server (the one `make run` starts) in a process of its own."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time

import httpx

from tests.support.worker import BASE_DIR, subprocess_env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class WebServerProcess:
    """`make run`'s web command on a free port, against this test run's database and Redis."""

    def __init__(self, *, name: str = "test", **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = BASE_DIR / "var" / "test-logs" / f"web-{name}-{os.getpid()}.log"
        self.env = env
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> WebServerProcess:
        from acme.management.commands.standalone import web_command

        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")  # noqa: SIM115 - handed to the child process
        self.process = subprocess.Popen(
            web_command(f"127.0.0.1:{self.port}"),
            cwd=BASE_DIR,
            env=subprocess_env(**self.env),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the web server exited early; see {self.log_path}")
            try:
                if httpx.get(f"{self.url}/health", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the web server did not answer in {timeout}s; see {self.log_path}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
