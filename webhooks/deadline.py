"""A hard wall-clock deadline for one delivery attempt: connect, send, headers and body.

Socket timeouts bound each read, not the whole answer: a receiver sending a byte every few
seconds would hold a worker for as long as it likes. So each attempt runs under a `Deadline`:
every socket the attempt uses (a new connection right after its TCP connect, before TLS, or a
kept-alive one when it is reused) is registered with it, and when the time is up the
process's watchdog thread (one for all attempts) shuts those sockets down. A blocked read or
write then returns at once, whatever phase it is in, and the caller sees `expired`.

The sockets are registered by connection classes installed on the session's adapters
(`install`); they only act inside `with Deadline(...)`, on the thread that opened it.
"""

from __future__ import annotations

import contextlib
import contextvars
import heapq
import itertools
import os
import socket
import threading
import time
from types import TracebackType

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

_current: contextvars.ContextVar[Deadline | None] = contextvars.ContextVar(
    "webhook_attempt_deadline", default=None
)


class Deadline:
    """`with Deadline(seconds):` the sockets opened or reused inside are shut down when
    `seconds` have passed; `expired` says whether that happened."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expired = False
        self.ends_at = 0.0
        self._finished = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._token: contextvars.Token | None = None

    def __enter__(self) -> Deadline:
        self._token = _current.set(self)
        self.ends_at = time.monotonic() + self.seconds
        _watchdog.watch(self)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._token is not None:
            _current.reset(self._token)
        with self._lock:
            self._finished = True
            for sock in self._sockets:
                sock.close()
            self._sockets.clear()

    @property
    def finished(self) -> bool:
        return self._finished

    def watch(self, sock: socket.socket) -> None:
        """Shut `sock`'s connection down at the deadline (at once if it has passed).

        A duplicate of the descriptor is kept: TLS takes the original socket object over,
        but shutting down any descriptor of a connection ends it for all of them.
        """
        try:
            duplicate = sock.dup()
        except OSError:
            return
        with self._lock:
            self._sockets.append(duplicate)
            if self.expired:
                _shut(duplicate)

    def expire(self) -> None:
        with self._lock:
            if self._finished:
                return
            self.expired = True
            for sock in self._sockets:
                _shut(sock)


class _Watchdog:
    """One thread per process that expires the deadlines whose time has come: attempts run
    on many threads at once (webhooks.sender), and a timer thread started per attempt cost
    more than the attempt's own work on a busy machine. Deadlines that finished in time
    are dropped when they reach the front of the queue."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._queue: list[tuple[float, int, Deadline]] = []
        self._order = itertools.count()
        self._pid = 0

    def watch(self, deadline: Deadline) -> None:
        with self._condition:
            if self._pid != os.getpid():  # first use in this process (threads do not fork)
                self._queue.clear()
                self._pid = os.getpid()
                threading.Thread(target=self._run, name="webhook-deadlines", daemon=True).start()
            heapq.heappush(self._queue, (deadline.ends_at, next(self._order), deadline))
            if self._queue[0][2] is deadline:
                self._condition.notify()

    def _run(self) -> None:
        with self._condition:
            while True:
                while self._queue and self._queue[0][2].finished:
                    heapq.heappop(self._queue)
                if not self._queue:
                    self._condition.wait()
                    continue
                wait = self._queue[0][0] - time.monotonic()
                if wait > 0:
                    self._condition.wait(wait)
                    continue
                heapq.heappop(self._queue)[2].expire()


_watchdog = _Watchdog()


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed by its owner
        sock.shutdown(socket.SHUT_RDWR)


class _WatchedConnection:
    """Registers its socket with the current attempt's Deadline."""

    def _new_conn(self) -> socket.socket:
        # The one place the TCP socket exists before TLS wraps it: the handshake is
        # bounded too.
        sock = super()._new_conn()  # type: ignore[misc]
        deadline = _current.get()
        if deadline is not None:
            deadline.watch(sock)
        return sock

    def request(self, *args, **kwargs) -> None:
        deadline = _current.get()
        if deadline is not None and self.sock is not None:  # type: ignore[attr-defined]
            deadline.watch(self.sock)  # type: ignore[attr-defined]  # a kept-alive connection
        return super().request(*args, **kwargs)  # type: ignore[misc]


class WatchedHTTPConnection(_WatchedConnection, HTTPConnection):
    pass


class WatchedHTTPSConnection(_WatchedConnection, HTTPSConnection):
    pass


class WatchedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = WatchedHTTPConnection


class WatchedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = WatchedHTTPSConnection


def install(session: requests.Session) -> requests.Session:
    """Make every adapter of `session` open connections that a Deadline can end."""
    for adapter in session.adapters.values():
        if not isinstance(adapter, HTTPAdapter):
            raise TypeError(f"{adapter!r} is not an HTTPAdapter: its connections cannot be watched")
        adapter.poolmanager.pool_classes_by_scheme = {
            "http": WatchedHTTPConnectionPool,
            "https": WatchedHTTPSConnectionPool,
        }
    return session
