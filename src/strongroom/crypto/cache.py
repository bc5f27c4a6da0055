"""A bounded, time-limited cache of unwrapped keys."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable

from strongroom.clock import Clock
from strongroom.crypto.secret import SecretKey


class KeyCache:
    def __init__(self, clock: Clock, max_entries: int, ttl_seconds: float) -> None:
        self._clock = clock
        self._max = max_entries
        self._ttl = ttl_seconds
        self._items: OrderedDict[Hashable, tuple[float, SecretKey]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def __repr__(self) -> str:
        return f"KeyCache(entries={len(self._items)}, max={self._max}, ttl={self._ttl}s)"

    def get(self, name: Hashable) -> SecretKey | None:
        with self._lock:
            item = self._items.get(name)
            if item is None or self._clock.monotonic() - item[0] > self._ttl:
                if item is not None:
                    del self._items[name]
                self.misses += 1
                return None
            self._items.move_to_end(name)
            self.hits += 1
            return item[1]

    def put(self, name: Hashable, key: SecretKey) -> None:
        with self._lock:
            self._items[name] = (self._clock.monotonic(), key)
            self._items.move_to_end(name)
            while len(self._items) > self._max:
                self._items.popitem(last=False)

    def forget(self, name: Hashable) -> None:
        with self._lock:
            self._items.pop(name, None)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)
