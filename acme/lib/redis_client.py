"""The process-wide redis-py client for live state (progress, rate limits, locks)."""

from __future__ import annotations

from functools import cache

import redis
from django.conf import settings


@cache
def get_redis() -> redis.Redis:
    return redis.Redis.from_url(
        settings.REDIS_CLIENT_URL,
        decode_responses=True,
        socket_timeout=5,
        socket_connect_timeout=3,
        health_check_interval=30,
        **settings.REDIS_CLIENT_OPTIONS,
    )
