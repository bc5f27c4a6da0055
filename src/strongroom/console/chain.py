"""The audit chain's verdict for console pages. Verifying walks the whole deployment's
chain, so any workspace's admin could make every page pay for it: one walk at a time per
process, and a verdict reused for a minute (the worker and `strongroom audit verify` stay
the authoritative, uncached checks)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

from strongroom.errors import AuditChainBroken

REUSED_SECONDS = 60.0
T = TypeVar("T")

_walk = threading.Lock()
_last: tuple[float, str | None] | None = None  # (when, None if intact else the reason)


def one_walk_at_a_time(check: Callable[[], T]) -> T:
    """Run ``check`` (anything that walks the chain) while no other walk runs."""
    with _walk:
        return check()


def broken_reason(verify: Callable[[], object]) -> str | None:
    """None if the chain verifies, else why not (AuditChainBroken's reason); a verdict
    younger than REUSED_SECONDS is reused."""
    global _last
    with _walk:
        now = time.monotonic()
        if _last is not None and now - _last[0] < REUSED_SECONDS:
            return _last[1]
        try:
            verify()
            reason = None
        except AuditChainBroken as broken:
            reason = broken.reason or "order"
        _last = (time.monotonic(), reason)
        return reason


def forget() -> None:
    """Drop the reused verdict (tests that tamper with the chain)."""
    global _last
    with _walk:
        _last = None
