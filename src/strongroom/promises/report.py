"""The trust report: the one object both the public page (/trust) and its JSON
(/trust.json) render, so the two can never disagree. Claims come from the live settings
when the report is built; statuses from the newest stored checks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from strongroom.domain.promises import PromiseStatus


@dataclass(frozen=True)
class PromiseView:
    id: str
    title: str
    claim: str
    status: PromiseStatus
    #: The newest check (None: never checked), and what it found.
    checked_at: datetime | None
    evidence: str
    last_passed_at: datetime | None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "claim": self.claim,
            "status": self.status.value,
            "checked_at": _iso(self.checked_at),
            "last_passed_at": _iso(self.last_passed_at),
            "evidence": self.evidence,
        }


@dataclass(frozen=True)
class TrustReport:
    generated_at: datetime
    public_url: str
    stale_after_minutes: int
    promises: tuple[PromiseView, ...]
    crypto_policy: dict[str, Any]

    @property
    def all_holding(self) -> bool:
        return all(p.status is PromiseStatus.HOLDING for p in self.promises)

    def counts(self) -> dict[str, int]:
        return {s.value: sum(p.status is s for p in self.promises) for s in PromiseStatus}

    def as_json(self) -> dict[str, Any]:
        return {
            "generated_at": self.generated_at.isoformat(),
            "public_url": self.public_url,
            "all_holding": self.all_holding,
            "counts": self.counts(),
            "stale_after_minutes": self.stale_after_minutes,
            "promises": [p.as_json() for p in self.promises],
            "crypto_policy": self.crypto_policy,
        }


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()
