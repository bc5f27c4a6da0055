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

from enum import StrEnum

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
