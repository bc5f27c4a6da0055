"""Staff under confidentiality, and break-glass grants: pure rules, no IO, no clock.

An operator (one of the SaaS's staff) is a person with recorded confidentiality
agreements; without a current one they cannot ask for access. A break-glass grant lets one
operator read one workspace (or one project of it) for a reason and a ticket, for at most
``MAX_GRANT_HOURS``. It is asked for (pending), then approved or refused by an owner (or,
where the deployment allows, approved by the operator in an emergency, which mails the
owners), and ends by itself at ``expires_at``, or at once when revoked::

    pending ──approve──▶ approved ──(expires_at passes)──▶ expired
       │                    │
       └──refuse──▶ refused └──revoke──▶ revoked      (revoke also withdraws a pending one)

A grant only ever reads (:data:`GRANT_ACTIONS`): never writes, deletes, exports, privacy
requests, members, tokens or keys. :func:`check_grant_allows` is asked by the one role
check (domain/access.py) for every request a grant token makes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from strongroom.domain.roles import Action
from strongroom.domain.rules import check_text
from strongroom.errors import Conflict, InvalidInput, PermissionDenied

#: The longest a grant may last, whatever the deployment sets (the grant_max_hours
#: setting may only lower it).
MAX_GRANT_HOURS = 24
#: What a grant's token may do: read, and nothing else, ever.
GRANT_ACTIONS = frozenset({Action.READ})
MAX_REASON_CHARS = 2000
MAX_TICKET_CHARS = 200
_VERSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_NO_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")


class GrantState(StrEnum):
    """What is stored: the decision so far. (Expiry is not stored: see :func:`status`.)"""

    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"
    REVOKED = "revoked"


class GrantStatus(StrEnum):
    """What a grant is now, as the customer is shown it."""

    PENDING = "pending"
    ACTIVE = "active"
    REFUSED = "refused"
    REVOKED = "revoked"
    EXPIRED = "expired"

    @property
    def ended(self) -> bool:
        return self in {GrantStatus.REFUSED, GrantStatus.REVOKED, GrantStatus.EXPIRED}


class Decision(StrEnum):
    APPROVE = "approve"
    REFUSE = "refuse"
    REVOKE = "revoke"


@dataclass(frozen=True)
class Agreement:
    """One confidentiality agreement an operator signed."""

    version: str
    signed_on: date


# operators and their agreements ------------------------------------------------------
def check_agreement_version(label: str) -> str:
    if not _VERSION.fullmatch(label):
        raise InvalidInput(
            "an agreement version is 1 to 64 letters, digits, dots, dashes or underscores, "
            "starting with a letter or digit"
        )
    return label


def check_signed_on(signed_on: date, today: date) -> date:
    """An agreement is recorded once signed: a date after ``today`` is refused."""
    if signed_on > today:
        raise InvalidInput(f"the signing date {signed_on.isoformat()} is in the future")
    return signed_on


def version_key(label: str) -> tuple[tuple[int, int, str], ...]:
    """Order of version labels: numbers as numbers (``2026-10`` after ``2026-9``), the rest
    as text; a number sorts before text at the same place."""
    parts = re.findall(r"\d+|\D+", label)
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts)


def current_agreement(agreements: Iterable[Agreement]) -> Agreement | None:
    """The operator's current agreement: the latest signed (by date; on one day, the later
    version)."""
    return max(agreements, key=lambda a: (a.signed_on, version_key(a.version)), default=None)


def agreement_in_force(agreements: Iterable[Agreement], required_version: str) -> bool:
    """Whether an operator may ask for access: they signed an agreement and, when the
    deployment names a ``required_version`` (staff_agreement_version), their current one
    is that version or a later one."""
    current = current_agreement(agreements)
    if current is None:
        return False
    return not required_version or version_key(current.version) >= version_key(required_version)


# requests --------------------------------------------------------------------------
def check_max_hours(max_hours: int) -> int:
    if not 1 <= max_hours <= MAX_GRANT_HOURS:
        raise InvalidInput(f"grant_max_hours must be between 1 and {MAX_GRANT_HOURS}")
    return max_hours


def check_hours(hours: int, max_hours: int) -> int:
    """A grant lasts 1 to ``max_hours`` whole hours (never more than MAX_GRANT_HOURS)."""
    limit = min(max_hours, MAX_GRANT_HOURS)
    if not 1 <= hours <= limit:
        raise InvalidInput(f"a grant lasts 1 to {limit} hours, not {hours}")
    return hours


def _one_line(kind: str, text: str, limit: int, lines: bool) -> str:
    text = check_text(kind, text).strip()
    if not text:
        raise InvalidInput(f"a grant needs a {kind}")
    if len(text) > limit:
        raise InvalidInput(f"a grant's {kind} has at most {limit} characters")
    if _NO_CONTROL.search(text) or (not lines and "\n" in text) or "\r" in text:
        raise InvalidInput(f"a grant's {kind} cannot contain control characters")
    return text


def check_reason(reason: str) -> str:
    """Why the operator needs to look: not empty, at most MAX_REASON_CHARS (lines allowed)."""
    return _one_line("reason", reason, MAX_REASON_CHARS, lines=True)


def check_ticket(ticket: str) -> str:
    """The support ticket the grant serves: one line, not empty."""
    return _one_line("ticket", ticket, MAX_TICKET_CHARS, lines=False)


# the grant's life ------------------------------------------------------------------
def expires_at(approved_at: datetime, hours: int) -> datetime:
    return approved_at + timedelta(hours=hours)


def status(state: GrantState, ends_at: datetime | None, now: datetime) -> GrantStatus:
    """What a grant is at ``now``: an approved grant is active until ``ends_at`` (its end
    is checked at every request: nothing needs to run for it to end)."""
    if state is GrantState.APPROVED:
        if ends_at is None or ends_at <= now:
            return GrantStatus.EXPIRED
        return GrantStatus.ACTIVE
    return GrantStatus(state.value)


def check_decision(grant_id: str, current: GrantStatus, decision: Decision) -> GrantState:
    """The state a decision moves a grant to; Conflict when its status does not allow it
    (only a pending grant is approved or refused; an ended one cannot be revoked)."""
    if decision is Decision.REVOKE:
        if current.ended:
            raise Conflict(f"grant {grant_id} has ended ({current.value})", grant_id=grant_id)
        return GrantState.REVOKED
    if current is not GrantStatus.PENDING:
        raise Conflict(
            f"grant {grant_id} is {current.value}: only a pending grant is "
            f"{'approved' if decision is Decision.APPROVE else 'refused'}",
            grant_id=grant_id,
        )
    return GrantState.APPROVED if decision is Decision.APPROVE else GrantState.REFUSED


def check_self_approval(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied(
            "this deployment does not allow emergency self-approval (grant_self_approval); "
            "a workspace owner must approve the grant"
        )


def check_token_issuable(grant_id: str, current: GrantStatus, issued: bool) -> None:
    """A grant's token is issued once, and only while the grant is active."""
    if current is not GrantStatus.ACTIVE:
        raise Conflict(
            f"grant {grant_id} is {current.value}: a token is issued only for an active grant",
            grant_id=grant_id,
        )
    if issued:
        raise Conflict(
            f"grant {grant_id}'s token was already issued (shown once)", grant_id=grant_id
        )


def check_grant_allows(
    grant_project: str | None, action: Action, project_id: str | None, safe: bool
) -> None:
    """Refuse anything but a read, by a request that changes nothing (``safe``: GET or
    HEAD; a route that is gated by ``read`` but writes, such as accepting the DPA, is
    refused too), and (for a grant of one project) anything outside that project, a
    request that names no project included."""
    if action not in GRANT_ACTIONS or not safe:
        raise PermissionDenied("a break-glass grant only reads: it may not do that")
    if grant_project is not None and project_id != grant_project:
        raise PermissionDenied(f"this break-glass grant covers project {grant_project} only")
