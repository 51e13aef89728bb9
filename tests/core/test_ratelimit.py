"""Token-bucket rate limits in memory and in Redis (skipped when Redis does not answer)."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator

import pytest

from opsforge.core.config import load_settings
from opsforge.core.ratelimit import (
    MemoryRateLimiter,
    RateLimiter,
    RedisRateLimiter,
    build_rate_limiter,
)

REDIS_URL = "redis://127.0.0.1:6379/15"


def _redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


class FakeClock:
    def __init__(self) -> None:
        self.now_s = 0.0

    def __call__(self) -> float:
        return self.now_s


def test_memory_bucket_burst_refill_and_retry_after() -> None:
    clock = FakeClock()
    limiter = MemoryRateLimiter(rate_per_s=2.0, burst=3, clock=clock)
    assert [limiter.hit("k").allowed for _ in range(3)] == [True, True, True]
    refused = limiter.hit("k")
    assert not refused.allowed
    assert refused.retry_after_s == pytest.approx(0.5)
    assert refused.retry_after_header == "1"
    assert limiter.hit("other").allowed  # buckets are per key
    clock.now_s += 0.5
    assert limiter.hit("k").allowed
    assert not limiter.hit("k").allowed
    clock.now_s += 100.0
    assert limiter.hit("k").remaining == 2  # refilled to the burst, not beyond


@pytest.fixture
def redis_limiter() -> Iterator[RedisRateLimiter]:
    if not _redis_up():
        pytest.skip("Redis does not answer on 127.0.0.1:6379")
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    prefix = f"opsforge-test:{uuid.uuid4().hex}:"
    yield RedisRateLimiter(client, rate_per_s=0.5, burst=3, prefix=prefix)
    for key in client.scan_iter(prefix + "*"):
        client.delete(key)
    client.close()


@pytest.mark.redis
def test_redis_bucket_shared_and_refused(redis_limiter: RedisRateLimiter) -> None:
    other = RedisRateLimiter(
        redis_limiter.client, rate_per_s=0.5, burst=3, prefix=redis_limiter.prefix
    )
    decisions = [redis_limiter.hit("k"), other.hit("k"), redis_limiter.hit("k"), other.hit("k")]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert 0.0 < decisions[-1].retry_after_s <= 2.0
    assert decisions[-1].retry_after_header in {"1", "2"}
    assert redis_limiter.hit("another").allowed


def test_redis_down_fails_open() -> None:
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    client = redis.Redis(
        host="127.0.0.1", port=1, socket_connect_timeout=0.2, retry=Retry(NoBackoff(), 0)
    )
    limiter = RedisRateLimiter(client, rate_per_s=1.0, burst=1)
    assert all(limiter.hit("k").allowed for _ in range(3))


def test_build_picks_backend() -> None:
    memory: RateLimiter = build_rate_limiter(load_settings())
    assert isinstance(memory, MemoryRateLimiter)
    assert memory.rate_per_s == pytest.approx(10.0)
    assert memory.burst == 100
    redis_backed = build_rate_limiter(load_settings(redis_url=REDIS_URL))
    assert isinstance(redis_backed, RedisRateLimiter)
