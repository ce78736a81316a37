"""Webhook test fixtures: real HTTP receivers on 127.0.0.1 that record what they get."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
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
        # TCP connections accepted (a kept-alive connection carries many requests).
        self.connections = 0
        # Called with the request's index (0-based) before it is answered, if set.
        self.on_request: Callable[[int], None] | None = None
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self):
                super().setup()
                with receiver._lock:
                    receiver.connections += 1

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
                if receiver.on_request is not None:
                    # Before answering: the sender is still waiting for this request.
                    receiver.on_request(index)
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
    """Create endpoints (a transactional test's are deleted before the flush by
    tests/conftest.py's `_endpoints_deleted_before_the_flush`)."""
    from webhooks.models import EventType
    from webhooks.services import endpoint_create

    def make(url: str, *, events: list[str] | None = None, **kwargs):
        return endpoint_create(url=url, events=events or list(EventType.values), **kwargs)

    return make


class DripReceiver:
    """A receiver that answers one byte at a time, `every` seconds apart, for `seconds`:
    the status line and headers (`phase="headers"`) or, after prompt headers, the body
    (`phase="body"`). It notes whether the client hung up before the answer was complete."""

    def __init__(self, *, phase: str, every: float = 0.25, seconds: float = 15) -> None:
        self.phase = phase
        self.every = every
        self.length = int(seconds / every)
        self.connections = 0
        self.hung_up_early = 0
        self.completed = 0
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):  # noqa: N802 - http.server's naming
                self.rfile.read(int(self.headers.get("content-length") or 0))
                with receiver._lock:
                    receiver.connections += 1
                body = b"x" * receiver.length
                head = f"HTTP/1.1 200 OK\r\ncontent-length: {len(body)}\r\n"
                head += "x-padding: " + "p" * receiver.length + "\r\n\r\n"
                if receiver.phase == "headers":
                    prompt, dripped = b"", head.encode() + body
                else:
                    prompt, dripped = head.encode(), body
                try:
                    self.wfile.write(prompt)
                    self.wfile.flush()
                    for index in range(len(dripped)):
                        self.wfile.write(dripped[index : index + 1])
                        self.wfile.flush()
                        if index < receiver.length:
                            time.sleep(receiver.every)
                except (BrokenPipeError, ConnectionResetError):
                    with receiver._lock:
                        receiver.hung_up_early += 1
                    self.close_connection = True
                    return
                with receiver._lock:
                    receiver.completed += 1

            def log_message(self, *args):
                pass

        self.server = QuietServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"


@pytest.fixture
def drip_receiver():
    """make(phase=...) starts a DripReceiver; all are shut down after the test."""
    started: list[DripReceiver] = []

    def make(**kwargs) -> DripReceiver:
        server = DripReceiver(**kwargs)
        server.thread.start()
        started.append(server)
        return server

    yield make
    for server in started:
        server.server.shutdown()
        server.server.server_close()
