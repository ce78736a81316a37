"""Webhook test fixtures: real HTTP receivers on 127.0.0.1 that record what they get."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.support.waiting import wait_until

# Worker subprocesses get WEBHOOKS_ALLOW_PRIVATE_TARGETS=true from tests.support.worker, so
# they can reach the loopback receivers below. Tests that check the guard itself run it in
# this process, where the guard stays on unless a test overrides the setting.


class QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        """A client that gave up (the timeout test) is expected; no traceback."""


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float


@dataclass
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b"ok"
    delay: float = 0.0


class Receiver:
    """A threaded HTTP server answering from a script of replies (the last one repeats)."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.replies: list[Reply] = [Reply()]
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):  # noqa: N802 - http.server's naming
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length)
                with receiver._lock:
                    index = len(receiver.requests)
                    receiver.requests.append(
                        Received(
                            method="POST",
                            path=self.path,
                            headers={k.lower(): v for k, v in self.headers.items()},
                            body=body,
                            at=time.time(),
                        )
                    )
                    reply = receiver.replies[min(index, len(receiver.replies) - 1)]
                if reply.delay:
                    time.sleep(reply.delay)
                try:
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.send_header("content-length", str(len(reply.body)))
                    self.end_headers()
                    self.wfile.write(reply.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args):
                pass

        self.server = QuietServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def script(self, *replies: Reply) -> None:
        self.replies = list(replies)

    def wait_for(self, count: int, timeout: float = 20) -> list[Received]:
        """Poll until `count` requests arrived (fails the test on timeout)."""
        return wait_until(
            lambda: self.requests if len(self.requests) >= count else None,
            timeout=timeout,
            what=f"receiver got {len(self.requests)} of {count} requests",
        )


@pytest.fixture
def receiver():
    server = Receiver()
    server.thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()


@pytest.fixture
def allow_private(settings):
    """This process may reach the loopback receiver (the guard is on by default)."""
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = True
    return settings


@pytest.fixture
def make_endpoint(allow_private):
    from webhooks.models import EventType
    from webhooks.services import endpoint_create

    def make(url: str, *, events: list[str] | None = None, **kwargs):
        return endpoint_create(url=url, events=events or list(EventType.values), **kwargs)

    return make
