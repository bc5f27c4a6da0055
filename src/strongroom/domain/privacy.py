"""Privacy requests: what a data subject asks of a workspace, the states a request moves
through and what may be done to it in each. Pure: callers pass states and get decisions.

    received ──verify──▶ verified ──start──▶ in_progress ──complete──▶ completed
        │                   │                    │
        └───────────────────┴───reject───────────┴──▶ rejected (with a reason)

Work on the subject's data (export, correction, erasure) starts a verified request (it
moves to ``in_progress``). Locating and restricting may run before verification: the first
shows the workspace's own people where the subject's data is, the second only protects it.
A closed request (completed or rejected) changes no more.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from strongroom.errors import Conflict, InvalidInput


class RequestType(StrEnum):
    ACCESS = "access"  # GDPR Art. 15, CCPA right to know
    PORTABILITY = "portability"  # GDPR Art. 20
    CORRECTION = "correction"  # GDPR Art. 16, CCPA right to correct
    RESTRICTION = "restriction"  # GDPR Art. 18
    DELETION = "deletion"  # GDPR Art. 17, CCPA right to delete


class RequestState(StrEnum):
    RECEIVED = "received"
    VERIFIED = "verified"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    REJECTED = "rejected"


CLOSED = frozenset({RequestState.COMPLETED, RequestState.REJECTED})


class Work(StrEnum):
    """What can be done with a request."""

    VERIFY = "verify"
    LOCATE = "locate"
    EXPORT = "export"
    CORRECT = "correct"
    RESTRICT = "restrict"
    LIFT = "lift"
    ERASE = "erase"
    EXTEND = "extend"
    REJECT = "reject"
    COMPLETE = "complete"


#: The work each type of request is for (locate, extend, reject, complete: every type).
_WORK_OF_TYPE: dict[RequestType, frozenset[Work]] = {
    RequestType.ACCESS: frozenset({Work.EXPORT}),
    RequestType.PORTABILITY: frozenset({Work.EXPORT}),
    RequestType.CORRECTION: frozenset({Work.CORRECT}),
    RequestType.RESTRICTION: frozenset({Work.RESTRICT, Work.LIFT}),
    RequestType.DELETION: frozenset({Work.ERASE}),
}
_ANY_TYPE = frozenset({Work.VERIFY, Work.LOCATE, Work.EXTEND, Work.REJECT, Work.COMPLETE})
#: Work that reads or changes the subject's data: only on a verified request.
NEEDS_VERIFICATION = frozenset({Work.EXPORT, Work.CORRECT, Work.ERASE})
#: Work that is allowed on a closed request: reading where the data is; lifting a
#: restriction (a restriction outlives the request that set it, until lifted).
_AFTER_CLOSE = frozenset({Work.LOCATE, Work.LIFT})


def parse_type(value: str) -> RequestType:
    try:
        return RequestType(value)
    except ValueError:
        names = ", ".join(t.value for t in RequestType)
        raise InvalidInput(f"unknown request type {value[:32]!r}; choose one of {names}") from None


def check_work(kind: RequestType, state: RequestState, work: Work) -> RequestState:
    """Raise unless ``work`` may be done on a request of ``kind`` in ``state``; return the
    state the request is in once the work is done."""
    if work not in _ANY_TYPE and work not in _WORK_OF_TYPE[kind]:
        raise Conflict(f"a {kind.value} request cannot {work.value}")
    if state in CLOSED and work not in _AFTER_CLOSE:
        raise Conflict(f"this request is {state.value}; it changes no more")
    if work is Work.VERIFY:
        if state is not RequestState.RECEIVED:
            raise Conflict(f"this request is already {state.value.replace('_', ' ')}")
        return RequestState.VERIFIED
    if work in NEEDS_VERIFICATION and state is RequestState.RECEIVED:
        raise Conflict(
            f"verify the subject's identity before this request's {work.value} "
            "(privacy verify): nothing was changed"
        )
    if work is Work.REJECT:
        return RequestState.REJECTED
    if work is Work.COMPLETE:
        if state is RequestState.RECEIVED and kind is not RequestType.RESTRICTION:
            raise Conflict("an unverified request cannot be completed; verify or reject it")
        return RequestState.COMPLETED
    if work in NEEDS_VERIFICATION:
        return RequestState.IN_PROGRESS
    return state


@dataclass(frozen=True)
class Identifier:
    """One of the subject's identifiers, as given (canonical forms are for the index)."""

    kind: str  # a PersonalKind value
    value: str


@dataclass(frozen=True)
class PrivacyRequest:
    """A request as its workspace's owners and admins see it."""

    id: str
    workspace_id: str
    type: RequestType
    law: str
    state: RequestState
    channel: str
    time_zone: str
    received_at: datetime
    received_on: date
    due: date
    original_due: date
    confirm_by: date | None
    days_left: int
    extended_at: datetime | None = None
    extension_reason: str | None = None
    verified_at: datetime | None = None
    verified_by: str | None = None
    verification_method: str | None = None
    closed_at: datetime | None = None
    outcome_reason: str | None = None
    identifiers: tuple[Identifier, ...] = ()
    notes: str = ""

    @property
    def overdue(self) -> bool:
        return self.state not in CLOSED and self.days_left < 0

    def as_json(self, *, subject: bool = True) -> dict[str, Any]:
        """JSON for the CLI and the API; ``subject=False`` leaves out who the subject is
        (lists show when requests are due, not whom they are about)."""
        out: dict[str, Any] = {
            "id": self.id,
            "workspace_id": self.workspace_id,
            "type": self.type.value,
            "law": self.law,
            "state": self.state.value,
            "channel": self.channel,
            "time_zone": self.time_zone,
            "received_at": self.received_at.isoformat(),
            "received_on": self.received_on.isoformat(),
            "due": self.due.isoformat(),
            "original_due": self.original_due.isoformat(),
            "confirm_by": self.confirm_by.isoformat() if self.confirm_by else None,
            "days_left": self.days_left,
            "overdue": self.overdue,
            "extended_at": _iso(self.extended_at),
            "verified_at": _iso(self.verified_at),
            "closed_at": _iso(self.closed_at),
        }
        if subject:
            out |= {
                "extension_reason": self.extension_reason,
                "verified_by": self.verified_by,
                "verification_method": self.verification_method,
                "outcome_reason": self.outcome_reason,
                "identifiers": [{"kind": i.kind, "value": i.value} for i in self.identifiers],
                "notes": self.notes,
            }
        return out


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


@dataclass(frozen=True)
class Answered:
    """One request, as the yearly report counts it."""

    type: RequestType
    state: RequestState
    days_to_respond: int | None  # closed: calendar days from receipt to the answer


def report(requests: list[Answered]) -> dict[str, dict[str, Any]]:
    """Counts per request type in the manner of CCPA §7102: received, completed, refused
    (in whole: rejected), still open, and the median and mean calendar days to respond."""
    out: dict[str, dict[str, Any]] = {}
    for kind in RequestType:
        mine = [r for r in requests if r.type is kind]
        days = sorted(r.days_to_respond for r in mine if r.days_to_respond is not None)
        out[kind.value] = {
            "received": len(mine),
            "completed": sum(r.state is RequestState.COMPLETED for r in mine),
            "refused": sum(r.state is RequestState.REJECTED for r in mine),
            "open": sum(r.state not in CLOSED for r in mine),
            "median_days": _median(days),
            "mean_days": round(sum(days) / len(days), 1) if days else None,
        }
    return out


def _median(values: list[int]) -> float | None:
    if not values:
        return None
    middle = len(values) // 2
    if len(values) % 2:
        return float(values[middle])
    return (values[middle - 1] + values[middle]) / 2


@dataclass(frozen=True)
class Match:
    """A record of the subject's, found through the blind index."""

    project_id: str
    collection: str
    record_id: str
    fields: tuple[str, ...]  # the personal fields that matched, by path
    trashed: bool  # the record (or its project) is in the trash
    restricted: bool = False  # a request restricted it (GDPR Art. 18)

    def as_json(self) -> dict[str, Any]:
        return {
            "project_id": self.project_id,
            "collection": self.collection,
            "record_id": self.record_id,
            "fields": list(self.fields),
            "trashed": self.trashed,
            "restricted": self.restricted,
        }
