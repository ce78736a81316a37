"""An import's live progress as server-sent events, for the page and the API.

A `progress` event whenever the state changes, a keep-alive comment when nothing changed for
a while, then one `done` event with the final state, and the stream ends (an `error` event if
the job is deleted meanwhile). State comes from imports/progress.py.

Served on the event loop when the request came through the ASGI handler (see
acme.lib.event_streams): there one watcher per job and process polls the state and wakes
the job's followers when it changes, so 200 followers cost one poll, not 200. Elsewhere
(tests, a plain WSGI server) each stream polls on its own thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import json
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from asgiref.sync import sync_to_async
from django.db import close_old_connections
from django.http import HttpRequest, StreamingHttpResponse

from acme.lib.event_streams import (
    KEEPALIVE,
    KEEPALIVE_SECONDS,
    RETRY_MILLISECONDS,
    format_event,
    sse_response,
)
from imports import progress

logger = logging.getLogger(__name__)

# Live state changes at most every progress.MIN_WRITE_INTERVAL_SECONDS.
POLL_SECONDS = 0.5
# A job without live state (not started by a worker yet, or its key expired) is read from
# its row: less often.
ROW_POLL_SECONDS = 3.0
# A stream ends after this long even if the job never does; an EventSource reconnects.
MAX_SECONDS = 6 * 3600
DELETED = format_event("error", json.dumps({"error": "the import was deleted"}))

AddLinks = Callable[[dict[str, Any]], dict[str, Any]]


class _Feed:
    """What to send for each state seen: the part both kinds of stream share."""

    def __init__(self, add_links: AddLinks) -> None:
        self.add_links = add_links
        self.started = self.last_sent = time.monotonic()
        self.last_data: str | None = None
        self.ended = False

    def expired(self) -> bool:
        return time.monotonic() - self.started >= MAX_SECONDS

    def chunk(self, state: dict[str, Any] | None) -> str | None:
        """The text to send for `state` (None: nothing); sets `ended` on the last one."""
        if state is None:
            self.ended = True
            return DELETED
        data = json.dumps(self.add_links(dict(state)))
        if state["finished"]:
            self.ended = True
            return format_event("done", data)
        now = time.monotonic()
        if data != self.last_data:
            self.last_data, self.last_sent = data, now
            return format_event("progress", data)
        if now - self.last_sent >= KEEPALIVE_SECONDS - 1:  # a wait may wake a little early
            self.last_sent = now
            return KEEPALIVE
        return None


def _pause(state: dict[str, Any] | None) -> float:
    return POLL_SECONDS if state and state["live"] else ROW_POLL_SECONDS


def _sync_events(job_id: int, add_links: AddLinks) -> Iterator[str]:
    feed = _Feed(add_links)
    yield f"retry: {RETRY_MILLISECONDS}\n\n"
    while not feed.expired():
        state = progress.snapshot(job_id)
        chunk = feed.chunk(state)
        if chunk:
            yield chunk
        if feed.ended:
            return
        time.sleep(_pause(state))


def _row_state(job_id: int) -> dict[str, Any] | None:
    # Outside any request: recycle the thread's connection as a request would.
    close_old_connections()
    return progress.snapshot(job_id, confirm=True)


class _JobWatch:
    """Polls one job's state for every follower on this event loop; `version` counts changes."""

    def __init__(self, job_id: int) -> None:
        self.job_id = job_id
        self.state: dict[str, Any] | None = None
        self.version = 0
        self.followers = 0
        self.changed = asyncio.Condition()
        # A context of its own: the task must not run in (and outlive) the request context
        # of the follower that happened to start it.
        self.task = asyncio.get_running_loop().create_task(
            self._poll(), context=contextvars.Context()
        )

    async def _poll(self) -> None:
        last: object = ...
        while True:
            try:
                state = await progress.live_snapshot_async(self.job_id)
                if state is None:
                    # On the process's thread for stream views (this task's context has no
                    # request's thread): its database connection serves both.
                    state = await sync_to_async(_row_state)(self.job_id)
            except Exception:  # Redis or PostgreSQL hiccup: followers keep their last state
                logger.warning("import %s: live state unreadable", self.job_id, exc_info=True)
                await asyncio.sleep(ROW_POLL_SECONDS)
                continue
            if state != last:
                last = self.state = state
                async with self.changed:
                    self.version += 1
                    self.changed.notify_all()
            if state is None or state["finished"]:
                return
            await asyncio.sleep(_pause(state))

    async def wait(self, seen: int, timeout: float) -> None:
        """Until the state changes after version `seen`, or `timeout` seconds."""
        async with self.changed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait_for(lambda: self.version != seen), timeout)


_watches: dict[tuple[int, int], _JobWatch] = {}


@contextlib.asynccontextmanager
async def _watching(job_id: int) -> AsyncIterator[_JobWatch]:
    key = (id(asyncio.get_running_loop()), job_id)
    watch = _watches.get(key)
    if watch is None:
        watch = _watches[key] = _JobWatch(job_id)
    watch.followers += 1
    try:
        yield watch
    finally:
        watch.followers -= 1
        if not watch.followers:  # the last follower left (or disconnected)
            del _watches[key]
            watch.task.cancel()


async def _async_events(job_id: int, add_links: AddLinks) -> AsyncIterator[str]:
    feed = _Feed(add_links)
    yield f"retry: {RETRY_MILLISECONDS}\n\n"
    async with _watching(job_id) as watch:
        seen = 0
        while not feed.expired():
            if watch.version:
                seen = watch.version
                chunk = feed.chunk(watch.state)
                if chunk:
                    yield chunk
                if feed.ended:
                    return
            await watch.wait(seen, KEEPALIVE_SECONDS)


def job_event_stream(request: HttpRequest, job_id: int, *, add_links: AddLinks
                     ) -> StreamingHttpResponse:  # fmt: skip
    """The stream of job `job_id`; `add_links` adds the caller's URLs to each state."""
    return sse_response(
        request,
        sync_events=lambda: _sync_events(job_id, add_links),
        async_events=lambda: _async_events(job_id, add_links),
    )
