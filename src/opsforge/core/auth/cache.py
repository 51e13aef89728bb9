"""A tiny thread-safe TTL map for credential lookups."""

from __future__ import annotations

import threading
from collections.abc import Callable

__all__ = ["TTLCache"]


class TTLCache:
    """A tiny thread-safe TTL map."""

    def __init__(self, ttl_s: float, clock: Callable[[], float]) -> None:
        self._ttl_s = ttl_s
        self._clock = clock
        self._data: dict[str, tuple[float, object]] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> object | None:
        with self._lock:
            hit = self._data.get(key)
            if hit is None or hit[0] < self._clock():
                self._data.pop(key, None)
                return None
            return hit[1]

    def put(self, key: str, value: object) -> None:
        with self._lock:
            if len(self._data) > 10_000:
                self._data.clear()
            self._data[key] = (self._clock() + self._ttl_s, value)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
