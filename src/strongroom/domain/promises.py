"""The trust page's promises as checks: what a check found, and how a promise's status
follows from its newest results. Pure: no IO, ``now`` is an argument.

A promise *holds* while its newest check passed and is recent; it is *failing* when the
newest check failed (whatever passed before, however long ago it failed: only a newer
pass clears it), and *stale* when it was never checked or its newest pass is older than
the allowed age: an old pass is never shown as holding.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class PromiseStatus(StrEnum):
    HOLDING = "holding"
    FAILING = "failing"
    STALE = "stale"


@dataclass(frozen=True)
class Verdict:
    """What one check of one promise found, in one line a reader of the trust page can
    follow ("the newest backup was taken 3 hours ago; every backup expires within 60
    days"). ``holds`` False: the promise is broken now."""

    holds: bool
    evidence: str

    @classmethod
    def passed(cls, evidence: str) -> Verdict:
        return cls(True, evidence)

    @classmethod
    def failed(cls, evidence: str) -> Verdict:
        return cls(False, evidence)


def status_of(
    newest_holds: bool | None, checked_at: datetime | None, now: datetime, stale_after: timedelta
) -> PromiseStatus:
    """A promise's status from its newest check (None: never checked)."""
    if newest_holds is False:
        return PromiseStatus.FAILING
    if newest_holds is None or checked_at is None or now - checked_at > stale_after:
        return PromiseStatus.STALE
    return PromiseStatus.HOLDING
