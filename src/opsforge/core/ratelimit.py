"""Per-caller rate limits: a token bucket, in memory or in Redis.

A bucket holds up to ``burst`` tokens and refills at ``rate_per_s``; a request takes one token
or is refused with the time until one is back (``Retry-After``). With ``redis_url`` configured
the bucket lives in Redis and is updated atomically by one Lua script (using the server's
clock), so every API process shares it; otherwise each process keeps its own buckets.

If Redis does not answer, requests are let through (fail open) and a warning is logged:
an outage of the limiter must not become an outage of the API.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from opsforge.core.config import Settings
from opsforge.core.logging import get_logger

__all__ = [
    "MemoryRateLimiter",
    "RateDecision",
    "RateLimiter",
    "RedisRateLimiter",
    "build_rate_limiter",
]

_log = get_logger(__name__)


@dataclass(frozen=True)
class RateDecision:
    """Outcome of one :meth:`RateLimiter.hit`.

    Attributes
    ----------
    allowed
        The request may proceed.
    remaining
        Whole tokens left after this request.
    retry_after_s
        When refused, how long until a token is back. [s]
    limit
        Bucket size (the burst).
    """

    allowed: bool
    remaining: int
    retry_after_s: float
    limit: int

    @property
    def retry_after_header(self) -> str:
        """``Retry-After`` value: whole seconds, at least 1."""
        return str(max(1, math.ceil(self.retry_after_s)))


class RateLimiter(Protocol):
    """Takes a token from the bucket ``key``."""

    def hit(self, key: str, cost: float = 1.0) -> RateDecision: ...


class MemoryRateLimiter:
    """Token buckets in this process.

    Parameters
    ----------
    rate_per_s
        Refill rate. [1/s]
    burst
        Bucket size.
    clock
        Monotonic clock. [s]
    """

    def __init__(
        self, rate_per_s: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate_per_s = rate_per_s
        self.burst = burst
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, cost: float = 1.0) -> RateDecision:
        now = self._clock()
        with self._lock:
            tokens, stamp = self._buckets.get(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + max(0.0, now - stamp) * self.rate_per_s)
            if tokens >= cost:
                tokens -= cost
                allowed, retry = True, 0.0
            else:
                allowed, retry = False, (cost - tokens) / self.rate_per_s
            self._buckets[key] = (tokens, now)
            if len(self._buckets) > 100_000:  # forget full buckets of idle callers
                full = [k for k, (t, _) in self._buckets.items() if t >= self.burst]
                for k in full:
                    del self._buckets[k]
        return RateDecision(allowed, int(tokens), retry, self.burst)


_LUA_TOKEN_BUCKET = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil or ts == nil then
  tokens = burst
  ts = now
end
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate)
local allowed = 0
local retry = 0
if tokens >= cost then
  tokens = tokens - cost
  allowed = 1
else
  retry = (cost - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return {allowed, tostring(tokens), tostring(retry)}
"""


class RedisRateLimiter:
    """Token buckets in Redis, shared by every process (atomic Lua script).

    Parameters
    ----------
    client
        A ``redis.Redis`` client.
    rate_per_s, burst
        As :class:`MemoryRateLimiter`.
    prefix
        Key prefix of the buckets.
    """

    def __init__(
        self, client: Any, rate_per_s: float, burst: int, prefix: str = "opsforge:rl:"
    ) -> None:
        self.client = client
        self.rate_per_s = rate_per_s
        self.burst = burst
        self.prefix = prefix
        self._script = client.register_script(_LUA_TOKEN_BUCKET)
        self._last_warning = 0.0

    def hit(self, key: str, cost: float = 1.0) -> RateDecision:
        import redis

        try:
            allowed, tokens, retry = self._script(
                keys=[self.prefix + key], args=[self.rate_per_s, self.burst, cost]
            )
        except redis.RedisError as exc:
            now = time.monotonic()
            if now - self._last_warning > 60:
                self._last_warning = now
                _log.warning("rate_limiter_unavailable", error=exc.__class__.__name__)
            return RateDecision(True, self.burst, 0.0, self.burst)
        return RateDecision(bool(int(allowed)), int(float(tokens)), float(retry), self.burst)


def build_rate_limiter(settings: Settings) -> RateLimiter:
    """Redis buckets when ``redis_url`` is set, else in-process buckets."""
    rate_per_s = settings.api.rate_limit_per_minute / 60.0
    burst = settings.api.rate_limit_burst
    if settings.redis_url:
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        client = redis.Redis.from_url(
            settings.redis_url,
            socket_timeout=0.5,
            socket_connect_timeout=0.5,
            retry=Retry(NoBackoff(), 0),
        )
        return RedisRateLimiter(client, rate_per_s, burst)
    return MemoryRateLimiter(rate_per_s, burst)
