"""Server-sent event streams that hold no thread and no database connection while open.

The site is served as an ASGI app (acme/asgi.py). Ordinary views run as before, through a WSGI
bridge with a fixed pool of WEB_THREADS threads. A view marked with `@event_stream` is handed
to `StreamHandler` instead: the view itself (authentication, permission, lookup) runs on the
process's one thread for stream views, then the stream it returns is an async generator that
the event loop drives, so hundreds of followers cost a few sockets, not hundreds of threads.

Only bodiless GET/HEAD requests go that way: Django's ASGI handler reads the whole request
body before any view or middleware can refuse it, while the WSGI side reads it on demand.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from django.core.handlers.asgi import ASGIHandler, ASGIRequest
from django.http import HttpRequest, StreamingHttpResponse
from django.urls import Resolver404, resolve
from rest_framework.renderers import BaseRenderer

SSE_CONTENT_TYPE = "text/event-stream"
# How long a browser waits before reconnecting to a stream that dropped (milliseconds).
RETRY_MILLISECONDS = 2000
# Proxies close connections that stay silent; a comment line this often keeps them open.
KEEPALIVE_SECONDS = 15.0
KEEPALIVE = ": keep-alive\n\n"


class StreamHandler(ASGIHandler):
    """Django's ASGI handler without a new thread for each request's sync code.

    Django's own runs each request's sync parts (middleware, the view) on a thread of its
    own, kept until the response ends: one parked thread and one database connection per
    open stream. Here they all run on one long-lived thread per process, as thread-sensitive
    code does outside a request, so its database connection persists like a WSGI thread's
    (CONN_MAX_AGE) and stream views queue for it briefly when a crowd arrives at once.
    """

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            raise ValueError(f"StreamHandler serves HTTP only, not {scope['type']}")
        await self.handle(scope, receive, send)


def event_stream(view: Callable) -> Callable:
    """Mark a view (a function, or a DRF viewset action) whose answer is an event stream."""
    view.serves_event_stream = True  # type: ignore[attr-defined]  # a marker on a function
    return view


def _is_event_stream_view(view: Callable, method: str) -> bool:
    if getattr(view, "serves_event_stream", False):
        return True
    # A DRF router's view: the viewset class and its {method: action name} map.
    actions = getattr(view, "actions", None) or {}
    handler = getattr(getattr(view, "cls", None), actions.get(method, ""), None)
    return bool(getattr(handler, "serves_event_stream", False))


def is_event_stream_request(scope: dict[str, Any]) -> bool:
    """Whether an ASGI http scope asks for a view marked with `@event_stream`, without a body."""
    method = scope["method"].lower()
    if method not in ("get", "head"):
        return False
    for name, value in scope["headers"]:
        if name == b"transfer-encoding" or (name == b"content-length" and value.strip() != b"0"):
            return False
    path = scope["path"].removeprefix(scope.get("root_path", ""))
    try:
        match = resolve(path)
    except Resolver404:
        return False
    return _is_event_stream_view(match.func, "get")


def format_event(name: str, data: str) -> str:
    return f"event: {name}\ndata: {data}\n\n"


def sse_response(
    request: HttpRequest,
    *,
    sync_events: Callable[[], Iterator[str]],
    async_events: Callable[[], AsyncIterator[str]],
) -> StreamingHttpResponse:
    """A text/event-stream response: on the event loop when the request came through the ASGI
    handler (see is_event_stream_request), else a plain generator (tests, other WSGI servers)."""
    # A DRF view gets DRF's Request, which wraps Django's.
    if isinstance(getattr(request, "_request", request), ASGIRequest):
        content: Iterator[str] | AsyncIterator[str] = async_events()
    else:
        content = sync_events()
    response = StreamingHttpResponse(content, content_type=SSE_CONTENT_TYPE)
    response["Cache-Control"] = "no-store"
    response["X-Accel-Buffering"] = "no"  # let nginx pass events through unbuffered
    return response


class EventStreamRenderer(BaseRenderer):
    """Lets a client that accepts only text/event-stream (an EventSource) reach a DRF stream
    action; a refusal (401/403/404) reaches it as one `error` event."""

    media_type = SSE_CONTENT_TYPE
    format = "event-stream"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        return format_event("error", json.dumps(data)).encode()
