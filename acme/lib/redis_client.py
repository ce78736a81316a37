"""The process-wide redis-py clients for live state (progress, rate limits, locks): a blocking
one, and an asyncio one per event loop for code that runs on the loop (event streams)."""

from __future__ import annotations

import asyncio
import weakref
from functools import cache

import redis
import redis.asyncio
from django.conf import settings

# Event streams poll on one event loop per web process; commands wait for a free connection
# beyond this many rather than opening one per open stream.
ASYNC_MAX_CONNECTIONS = 16

_async_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, redis.asyncio.Redis] = (
    weakref.WeakKeyDictionary()
)


def _options() -> dict:
    return dict(
        decode_responses=True,
        socket_timeout=5,
        socket_connect_timeout=3,
        health_check_interval=30,
        **settings.REDIS_CLIENT_OPTIONS,
    )


@cache
def get_redis() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_CLIENT_URL, **_options())


def get_async_redis() -> redis.asyncio.Redis:
    """The client for the running event loop (an asyncio connection belongs to one loop)."""
    loop = asyncio.get_running_loop()
    client = _async_clients.get(loop)
    if client is None:
        pool = redis.asyncio.BlockingConnectionPool.from_url(
            settings.REDIS_CLIENT_URL, max_connections=ASYNC_MAX_CONNECTIONS, timeout=5,
            **_options(),
        )  # fmt: skip
        client = _async_clients[loop] = redis.asyncio.Redis(connection_pool=pool)
    return client
