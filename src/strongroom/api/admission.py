"""Lanes: work that can be held up by a client or by a slow hash runs in threads of its
own, so it never takes the threads every other route shares.

Sync routes (and :func:`~strongroom.api.deps.one_hop`) run in anyio's default pool of 40
threads. An upload whose body stalls, or a sign-in waiting for a password-check slot,
would hold one of those threads for as long as it waits; a few dozen of them would stall
every route of every tenant, ``/health`` included. A lane gives such work:

* its own thread limiter, so it can only ever fill its own threads;
* a bound on the requests admitted, in all (503 with ``Retry-After``: the server is busy
  for everyone) and per key, for uploads the workspace (429: that tenant asks too much,
  whatever number of tokens or sessions it mints). A request
  is admitted or refused at once, in the event loop, before any work; up to ``queue``
  admitted requests wait for a thread as coroutines, never as threads.

The counts are per server process: they bound what one process spends. Limits that must
hold across processes (failed sign-ins) live in the data store.
"""

from __future__ import annotations

import contextlib
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

import anyio
import anyio.to_thread
from fastapi import Request

from strongroom.config import Settings
from strongroom.errors import RateLimited, ServerBusy

T = TypeVar("T")

#: Password checks at once: argon2id takes ~64 MiB and a core each.
PASSWORD_CHECKS = 2
#: What a refused request is told to wait, in seconds: slots free up as work finishes.
RETRY_AFTER_SECONDS = 1


class Lane:
    """Admission and threads for one kind of work (``what``: "uploads", "sign-ins")."""

    def __init__(
        self, what: str, *, threads: int, queue: int = 0, per_key: int = 0, per: str = ""
    ) -> None:
        self.what = what
        self.per = per  # what a key names, for the 429's message ("workspace")
        self._limiter = anyio.CapacityLimiter(threads)
        self._capacity = threads + queue
        self._per_key = per_key  # 0: no per-key bound
        self._lock = threading.Lock()
        self._admitted = 0
        self._by_key: Counter[str] = Counter()

    @property
    def admitted(self) -> int:
        return self._admitted

    @contextlib.contextmanager
    def admit(self, key: str | None = None) -> Iterator[None]:
        """Hold one of the lane's places for the block; RateLimited when ``key`` holds its
        share already, ServerBusy when every place is taken."""
        with self._lock:
            if key is not None and self._per_key and self._by_key[key] >= self._per_key:
                raise RateLimited(
                    f"at most {self._per_key} {self.what} at once per {self.per}; "
                    "wait for one to finish",
                    retry_after=RETRY_AFTER_SECONDS,
                )
            if self._admitted >= self._capacity:
                raise ServerBusy(
                    f"the server is busy with {self.what}; try again shortly",
                    retry_after=RETRY_AFTER_SECONDS,
                )
            self._admitted += 1
            if key is not None:
                self._by_key[key] += 1
        try:
            yield
        finally:
            with self._lock:
                self._admitted -= 1
                if key is not None:
                    self._by_key[key] -= 1
                    if not self._by_key[key]:
                        del self._by_key[key]

    async def run(self, job: Callable[[], T]) -> T:
        """Run ``job`` in one of the lane's threads (waiting, as a coroutine, for one)."""
        return await anyio.to_thread.run_sync(job, limiter=self._limiter)


@dataclass(frozen=True)
class Lanes:
    uploads: Lane
    sign_ins: Lane

    @classmethod
    def of(cls, settings: Settings) -> Lanes:
        return cls(
            uploads=Lane(
                "uploads",
                threads=settings.uploads_max,
                per_key=settings.uploads_per_workspace,
                per="workspace",
            ),
            sign_ins=Lane("sign-ins", threads=PASSWORD_CHECKS, queue=settings.sign_in_queue),
        )


def lanes(request: Request) -> Lanes:
    """The app's lanes (made with the app: api/app.py)."""
    found: Lanes = request.app.state.lanes
    return found
