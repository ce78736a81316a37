"""Per-endpoint rate limit shared by every worker process and host: one atomic Lua script.

A fixed window of WEBHOOKS_RATE_LIMIT_WINDOW_SECONDS (a minute; shorter only for benchmarks and
tests) aligned on Redis' own clock (so hosts with skewed clocks agree), counted in one hash per
endpoint: `acme:webhooks:rate:<endpoint id>` = {w: window index, n: count}. A request over the
limit is not counted; the delivery waits for the endpoint's drain (webhooks.drain). A worker
sending a batch takes the slots of one endpoint's deliveries in one call (`acquire(wanted=n)`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.conf import settings
from redis.commands.core import Script

from acme.lib.redis_client import get_redis

KEY_PREFIX = "acme:webhooks:rate:"

# A window grants no slot in its last SLOT_MARGIN_SECONDS (`acquire` waits for the next
# one), and a granted slot is used only until that long before its window ends
# (`Decision.slots_until`): the request must reach the
# receiver inside the window that counted it, and a busy machine can pause a sending thread
# between the check and the request for a while (at load 8 on 2 cores a 10 s window once let
# 401 requests of a 400 limit arrive in the next one: bench/webhooks_throughput.py).
SLOT_MARGIN_SECONDS = 0.25

# KEYS[1] = the endpoint's hash; ARGV[1] = limit per window; ARGV[2] = window in seconds;
# ARGV[3] = slots wanted; ARGV[4] = SLOT_MARGIN_SECONDS in ms. Grants as many as the window
# has left, up to that many, unless the window ends within the margin.
# Returns {slots granted, count in this window after them, milliseconds until the next window}.
_ACQUIRE = """
local limit = tonumber(ARGV[1])
local window_ms = tonumber(ARGV[2]) * 1000
local wanted = tonumber(ARGV[3])
local margin_ms = tonumber(ARGV[4])
local t = redis.call('TIME')
local now_ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local current = math.floor(now_ms / window_ms)
local wait_ms = (current + 1) * window_ms - now_ms
local stored = tonumber(redis.call('HGET', KEYS[1], 'w') or '-1')
local count = 0
if stored == current then
  count = tonumber(redis.call('HGET', KEYS[1], 'n') or '0')
end
local granted = math.min(wanted, limit - count)
if wait_ms <= margin_ms then
  granted = 0
end
if granted <= 0 then
  return {0, count, wait_ms}
end
if stored == current then
  redis.call('HINCRBY', KEYS[1], 'n', granted)
else
  redis.call('HSET', KEYS[1], 'w', current, 'n', granted)
end
redis.call('PEXPIRE', KEYS[1], window_ms * 2)
return {granted, count + granted, wait_ms}
"""


@dataclass(frozen=True)
class Decision:
    # Slots granted in the current window (0 to the number wanted).
    granted: int
    count: int
    # Seconds until the next window opens (when a refused request may try again).
    retry_in: float

    @property
    def allowed(self) -> bool:
        return self.granted > 0

    def slots_until(self, asked_at: float) -> float:
        """Until when (a time.monotonic() reading) the granted slots may be used, given
        `asked_at`, read just before the call: never after the window ends by Redis' clock,
        and SLOT_MARGIN_SECONDS before that."""
        return asked_at + self.retry_in - SLOT_MARGIN_SECONDS


# KEYS[1] = the endpoint's hash; ARGV[1] = window in seconds; ARGV[2] = slots. Gives back
# slots taken in the current window and not used (a drain that found fewer deliveries).
_RELEASE = """
local window_ms = tonumber(ARGV[1]) * 1000
local slots = tonumber(ARGV[2])
local t = redis.call('TIME')
local current = math.floor((tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)) / window_ms)
if tonumber(redis.call('HGET', KEYS[1], 'w') or '-1') == current then
  local count = tonumber(redis.call('HGET', KEYS[1], 'n') or '0')
  redis.call('HSET', KEYS[1], 'n', math.max(count - slots, 0))
end
return 0
"""

_scripts: dict[str, Script] = {}


def _run(source: str, *, keys: list[str], args: list) -> list:
    script = _scripts.get(source)
    if script is None:
        script = _scripts[source] = get_redis().register_script(source)
    return script(keys=keys, args=args)


def window() -> int:
    return settings.WEBHOOKS_RATE_LIMIT_WINDOW_SECONDS


def acquire(
    *, endpoint_id: int, limit: int, wanted: int = 1, window_seconds: int | None = None
) -> Decision:
    """Take up to `wanted` slots of the endpoint's current window, as many as are left.

    One atomic script call whatever `wanted` is, so a worker sending a batch pays one Redis
    round trip per endpoint, and the window's count never exceeds the limit: a slot is
    counted when granted, and each granted slot is one delivery sent at once (webhooks.claims).
    In a window's last SLOT_MARGIN_SECONDS the slots are the next window's: the call waits for
    it (at most that long).
    """
    limit, wanted = max(int(limit), 0), max(int(wanted), 0)
    args = [limit, window_seconds or window(), wanted, int(SLOT_MARGIN_SECONDS * 1000)]
    while True:
        granted, count, wait_ms = _run(_ACQUIRE, keys=[f"{KEY_PREFIX}{endpoint_id}"], args=args)
        decision = Decision(granted=int(granted), count=int(count), retry_in=int(wait_ms) / 1000)
        if decision.allowed or not wanted or decision.count >= limit:
            return decision
        # The window ends within the margin and has slots left: the next one's, in a moment
        # (sending the deliveries to the endpoint's drain instead made each window's end a
        # backlog, and the drain sends one delivery after another).
        time.sleep(decision.retry_in)


def release(*, endpoint_id: int, slots: int = 1, window_seconds: int | None = None) -> None:
    """Give back slots taken in the current window and not used."""
    _run(
        _RELEASE,
        keys=[f"{KEY_PREFIX}{endpoint_id}"],
        args=[window_seconds or window(), max(int(slots), 0)],
    )
