"""Per-endpoint rate limit shared by every worker process and host: one atomic Lua script.

A fixed window of WINDOW_SECONDS aligned on Redis' own clock (so hosts with skewed clocks agree),
counted in one hash per endpoint: `acme:webhooks:rate:<endpoint id>` = {w: window index, n: count}.
A request over the limit is not counted; the caller reschedules it for the next window.
"""

from __future__ import annotations

from dataclasses import dataclass

from acme.lib.redis_client import get_redis

WINDOW_SECONDS = 60
KEY_PREFIX = "acme:webhooks:rate:"

# KEYS[1] = the endpoint's hash; ARGV[1] = limit per window; ARGV[2] = window in seconds.
# Returns {allowed (0/1), count in this window, milliseconds until the next window}.
_ACQUIRE = """
local limit = tonumber(ARGV[1])
local window_ms = tonumber(ARGV[2]) * 1000
local t = redis.call('TIME')
local now_ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local current = math.floor(now_ms / window_ms)
local wait_ms = (current + 1) * window_ms - now_ms
local stored = tonumber(redis.call('HGET', KEYS[1], 'w') or '-1')
local count = 0
if stored == current then
  count = tonumber(redis.call('HGET', KEYS[1], 'n') or '0')
end
if count >= limit then
  return {0, count, wait_ms}
end
if stored == current then
  redis.call('HINCRBY', KEYS[1], 'n', 1)
else
  redis.call('HSET', KEYS[1], 'w', current, 'n', 1)
end
redis.call('PEXPIRE', KEYS[1], window_ms * 2)
return {1, count + 1, wait_ms}
"""


@dataclass(frozen=True)
class Decision:
    allowed: bool
    count: int
    # Seconds until the next window opens (when a refused request may try again).
    retry_in: float


_script = None


def acquire(*, endpoint_id: int, limit: int, window_seconds: int = WINDOW_SECONDS) -> Decision:
    """Take one slot of the endpoint's current window, if one is left."""
    global _script
    if _script is None:
        _script = get_redis().register_script(_ACQUIRE)
    allowed, count, wait_ms = _script(
        keys=[f"{KEY_PREFIX}{endpoint_id}"], args=[max(int(limit), 0), window_seconds]
    )
    return Decision(allowed=bool(allowed), count=int(count), retry_in=int(wait_ms) / 1000)
