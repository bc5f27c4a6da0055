"""The request inbox's rules: what a request may hold, and its first-response clock.
Pure: no IO, ``now`` is an argument.

The clock starts when a request is received and is due ``response_hours`` calendar hours
later (UTC arithmetic: no time zone, no daylight-saving jump, no business hours). Only a
reply that the SMTP server took stops it; notes, reassignment and a reply that was not
sent leave it running. An hour before it is due the operators are warned; once it is due
without a reply, a breach is recorded. A late reply still stops the clock, and the breach
stays on record.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from strongroom.domain.promises import Verdict
from strongroom.domain.rules import check_email, check_text
from strongroom.errors import InvalidInput

#: The warning comes this long before the response is due.
WARNING_BEFORE = timedelta(hours=1)
#: The promise check's look-back for breaches.
BREACH_LOOKBACK = timedelta(days=30)
MAX_SUBJECT_CHARS = 200
MAX_BODY_CHARS = 20_000
MAX_NOTE_CHARS = 20_000
MAX_EMAIL_CHARS = 254  # RFC 5321's path limit, less its angle brackets

#: Bidirectional overrides and isolates: text holding them can show as other text.
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")
#: Control characters (C0, DEL, C1), line and paragraph separators.
_CONTROL = frozenset({"Cc", "Zl", "Zp"})


class RequestKind(StrEnum):
    SUPPORT = "support"
    SECURITY = "security"
    PRIVACY = "privacy"


class ClockState(StrEnum):
    RUNNING = "running"  # due later than an hour from now
    WARNING = "warning"  # due within the hour
    BREACHED = "breached"  # due passed, no reply sent
    ANSWERED = "answered"  # a reply was sent in time
    ANSWERED_LATE = "answered late"  # a reply was sent, after the due time


class EntryKind(StrEnum):
    REPLY = "reply"
    NOTE = "note"
    ASSIGN = "assign"


@dataclass(frozen=True)
class Submission:
    """A request as the public typed it, checked."""

    kind: RequestKind
    email: str
    subject: str
    body: str


def check_kind(value: str) -> RequestKind:
    try:
        return RequestKind(value)
    except ValueError:
        kinds = ", ".join(k.value for k in RequestKind)
        raise InvalidInput(f"kind must be one of {kinds}") from None


def _refuse_hidden(field: str, text: str, allow_newlines: bool) -> None:
    for c in text:
        if allow_newlines and c in "\n\t":
            continue
        if unicodedata.category(c) in _CONTROL:
            raise InvalidInput(f"the {field} cannot contain control or line-break characters")
        if c in _BIDI:
            raise InvalidInput(f"the {field} cannot contain bidirectional control characters")


def check_line(field: str, text: str, max_chars: int) -> str:
    """One line of text (a subject): 1 to ``max_chars`` characters, nothing hidden."""
    text = check_text(field, text).strip()
    if not text:
        raise InvalidInput(f"the {field} cannot be empty")
    if len(text) > max_chars:
        raise InvalidInput(f"the {field} has at most {max_chars} characters")
    _refuse_hidden(field, text, allow_newlines=False)
    return text


def check_message(field: str, text: str, max_chars: int) -> str:
    """Text of many lines (a body, a reply, a note): line ends made ``\\n``, tabs kept,
    no other control or bidi character; 1 to ``max_chars`` characters."""
    text = check_text(field, text).replace("\r\n", "\n").strip()
    if not text:
        raise InvalidInput(f"the {field} cannot be empty")
    if len(text) > max_chars:
        raise InvalidInput(f"the {field} has at most {max_chars} characters")
    _refuse_hidden(field, text, allow_newlines=True)
    return text


def check_requester(email: str) -> str:
    if len(email) > MAX_EMAIL_CHARS:
        raise InvalidInput(f"an email address has at most {MAX_EMAIL_CHARS} characters")
    email = check_email(email)
    _refuse_hidden("email address", email, allow_newlines=False)
    if any(c in email for c in "<>,;\"'\\()[]"):
        raise InvalidInput("not an email address")
    return email


def check_submission(kind: str, email: str, subject: str, body: str) -> Submission:
    """Everything the public form or API sent, checked; InvalidInput names the first field
    that is wrong (see :func:`field_errors` for all of them)."""
    return Submission(
        check_kind(kind),
        check_requester(email),
        check_line("subject", subject, MAX_SUBJECT_CHARS),
        check_message("message", body, MAX_BODY_CHARS),
    )


def field_errors(kind: str, email: str, subject: str, body: str) -> dict[str, str]:
    """Each field that is wrong, with why (the form shows each next to its field)."""
    checks: dict[str, Callable[[], object]] = {
        "kind": lambda: check_kind(kind),
        "email": lambda: check_requester(email),
        "subject": lambda: check_line("subject", subject, MAX_SUBJECT_CHARS),
        "body": lambda: check_message("message", body, MAX_BODY_CHARS),
    }
    errors: dict[str, str] = {}
    for name, check in checks.items():
        try:
            check()
        except InvalidInput as bad:
            errors[name] = str(bad)
    return errors


# the first-response clock ----------------------------------------------------------------
def due_at(received_at: datetime, response_hours: int) -> datetime:
    """When the first response is due: calendar hours after receipt, in UTC."""
    return received_at + timedelta(hours=response_hours)


def warn_at(due: datetime) -> datetime:
    return due - WARNING_BEFORE


def clock_state(due: datetime, answered_at: datetime | None, now: datetime) -> ClockState:
    if answered_at is not None:
        return ClockState.ANSWERED if answered_at <= due else ClockState.ANSWERED_LATE
    if now >= due:
        return ClockState.BREACHED
    if now >= warn_at(due):
        return ClockState.WARNING
    return ClockState.RUNNING


def needs_warning(
    due: datetime, answered_at: datetime | None, warned_at: datetime | None, now: datetime
) -> bool:
    """Whether the worker should warn now: unanswered, within the last hour, not warned."""
    return answered_at is None and warned_at is None and warn_at(due) <= now


def needs_breach(
    due: datetime, answered_at: datetime | None, breached_at: datetime | None, now: datetime
) -> bool:
    """Whether the worker should record a breach now: unanswered, due, not yet recorded."""
    return answered_at is None and breached_at is None and due <= now


def time_left(due: datetime, now: datetime) -> str:
    """``5 hours left``, ``40 minutes left``, ``3 hours overdue``: the clock in words."""
    seconds = (due - now).total_seconds()
    minutes = int(abs(seconds) // 60)
    if minutes < 60:
        amount = f"{minutes} minute{'s' if minutes != 1 else ''}"
    elif minutes < 48 * 60:
        hours = minutes // 60
        amount = f"{hours} hour{'s' if hours != 1 else ''}"
    else:
        amount = f"{minutes // 1440} days"
    return f"{amount} left" if seconds > 0 else f"{amount} overdue"


# the trust page's promise ----------------------------------------------------------------
def response_verdict(
    response_hours: int, open_requests: int, overdue: int, breaches_recent: int
) -> Verdict:
    """ "Contact answered within N hours": failing while a request is past its deadline
    without a sent reply."""
    counts = (
        f"{open_requests} open request{'s' if open_requests != 1 else ''}, "
        f"{breaches_recent} breach{'es' if breaches_recent != 1 else ''} of the "
        f"{response_hours}-hour first response in the last 30 days"
    )
    if overdue:
        return Verdict.failed(
            f"{overdue} request{'s' if overdue != 1 else ''} past the {response_hours}-hour "
            f"deadline without a reply sent; {counts}"
        )
    return Verdict.passed(f"no request past its deadline without a reply sent; {counts}")
