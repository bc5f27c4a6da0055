"""A bounded, time-limited cache of keys: unwrapped data and workspace keys (SecretKey),
and per-write derived keys (ready AES-GCM contexts) of recently read objects."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from strongroom.clock import Clock

T = TypeVar("T")


class KeyCache(Generic[T]):
    def __init__(self, clock: Clock, max_entries: int, ttl_seconds: float) -> None:
        self._clock = clock
        self.max_entries = max_entries
        self.ttl_seconds = ttl_seconds
        self._items: OrderedDict[Hashable, tuple[float, T]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def __repr__(self) -> str:
        return (
            f"KeyCache(entries={len(self._items)}, max={self.max_entries}, ttl={self.ttl_seconds}s)"
        )

    def get(self, name: Hashable) -> T | None:
        with self._lock:
            item = self._items.get(name)
            if item is not None and self._clock.monotonic() - item[0] <= self.ttl_seconds:
                self._items.move_to_end(name)  # the hit first: every read's case
                self.hits += 1
                return item[1]
            if item is not None:  # expired
                del self._items[name]
            self.misses += 1
            return None

    def put(self, name: Hashable, key: T, stamp: float | None = None) -> None:
        """Cache ``key``; it expires ttl_seconds after ``stamp`` (default: now). A key
        derived from a cached key passes the parent's stamp, so it never outlives it."""
        with self._lock:
            self._items[name] = (self._clock.monotonic() if stamp is None else stamp, key)
            self._items.move_to_end(name)
            while len(self._items) > self.max_entries:
                self._items.popitem(last=False)

    def forget(self, name: Hashable) -> None:
        with self._lock:
            self._items.pop(name, None)

    def stamp(self, name: Hashable) -> float | None:
        """When ``name`` was cached (monotonic seconds), or None."""
        with self._lock:
            item = self._items.get(name)
            return None if item is None else item[0]

    def forget_where(self, matches: Callable[[Hashable], bool]) -> None:
        with self._lock:
            for name in [n for n in self._items if matches(n)]:
                del self._items[name]

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)
