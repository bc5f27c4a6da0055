"""Subprocessors (GDPR Art. 28(2), SCC Clause 9(a)): what an entry must say, when a change
may take effect, and until when a customer may object. Pure: ``now`` is an argument.

A change (an entry added, replaced or removed) is published as a notice with an
effective *date*. The date starts at 00:00 UTC; the change is in force from then on,
never before. The notice rule: that start lies at least ``notice_days`` whole days after
the notice's publication, so a notice published at 10:00 UTC on 1 March with 30 days
may take effect on 1 April (00:00 UTC on 31 March would be 14 hours short). A workspace
owner may object while the notice is not yet in force.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum

from strongroom.domain.rules import check_name
from strongroom.errors import Conflict, InvalidInput, NotAccepted, NotFound

#: The shortest notice any deployment may give (the contract's choice; never less).
MIN_NOTICE_DAYS = 30
#: The longest text of one field of an entry (an address, a list of data categories).
MAX_FIELD_CHARS = 500
#: The longest reason an owner may give with an objection.
MAX_REASON_CHARS = 2000

#: An entry's fields, in the order the public list shows them, with their words.
FIELDS: dict[str, str] = {
    "legal_name": "legal name",
    "address": "address",
    "contact": "contact",
    "purpose": "purpose",
    "data_categories": "categories of data",
    "location": "location",
    "transfer_mechanism": "transfer mechanism",
}


class NoticeKind(StrEnum):
    ADD = "add"
    REPLACE = "replace"
    REMOVE = "remove"


@dataclass(frozen=True)
class Details:
    """What the public list says of one subprocessor; every field is required."""

    legal_name: str
    address: str
    contact: str
    purpose: str
    data_categories: str
    location: str
    transfer_mechanism: str

    def as_json(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in FIELDS}


def check_details(values: Mapping[str, object]) -> Details:
    """An entry from what an operator typed: each field present, text, 1 to
    MAX_FIELD_CHARS characters, without control, line-break or bidi control characters;
    InvalidInput naming the first missing or bad field."""
    unknown = sorted(set(values) - set(FIELDS))
    if unknown:
        raise NotAccepted(f"unknown field {unknown[0][:40]!r}; an entry has {', '.join(FIELDS)}")
    checked: dict[str, str] = {}
    for name, words in FIELDS.items():
        value = values.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            raise NotAccepted(f"a subprocessor's {words} ({name}) is required", field=name)
        if not isinstance(value, str):
            raise NotAccepted(f"a subprocessor's {words} ({name}) is text", field=name)
        if len(value) > MAX_FIELD_CHARS * 4:  # before the character checks walk it
            raise NotAccepted(f"{name} has at most {MAX_FIELD_CHARS} characters", field=name)
        checked[name] = _field(name, value)
    return Details(**checked)


def _field(name: str, value: str) -> str:
    try:
        text = check_name(name, value)
    except InvalidInput as bad:
        raise NotAccepted(str(bad).replace(" name ", " ", 1), field=name) from None
    if len(text) > MAX_FIELD_CHARS:
        raise NotAccepted(f"{name} has at most {MAX_FIELD_CHARS} characters", field=name)
    if any(c in _NOT_XML for c in text):  # the Atom feed could not hold it
        raise NotAccepted(f"{name} holds a character that is not text (U+FFFE, U+FFFF)")
    return text


#: Characters XML 1.0 cannot carry that check_name lets through (noncharacters).
_NOT_XML = frozenset("\ufffe\uffff")


def check_reason(reason: str) -> str:
    """An objection's reason: optional, one paragraph of plain text."""
    reason = reason.strip()
    if not reason:
        return ""
    if len(reason) > MAX_REASON_CHARS:
        raise NotAccepted(f"a reason has at most {MAX_REASON_CHARS} characters")
    lines = reason.replace("\r\n", "\n").split("\n")
    try:
        for line in lines:
            if line.strip():
                check_name("reason", line.replace("\t", " "))
    except InvalidInput:
        raise NotAccepted(
            "a reason is plain text: no control or bidirectional control characters"
        ) from None
    return "\n".join(line.rstrip() for line in lines)


# the notice rule ---------------------------------------------------------------------------
def takes_effect_at(effective: date) -> datetime:
    """The instant a change dated ``effective`` is in force: that day's 00:00 UTC."""
    return datetime.combine(effective, time(0), tzinfo=UTC)


def earliest_effective(published_at: datetime, notice_days: int) -> date:
    """The first date a notice published at ``published_at`` may take effect on."""
    # in UTC first: an aware datetime in a zone with summer time adds days on the wall
    # clock, so 30 days across a change of the clocks would be an hour short or long
    due = published_at.astimezone(UTC) + timedelta(days=notice_days)
    first = due.date()
    return first if takes_effect_at(first) >= due else first + timedelta(days=1)


def check_effective(effective: date, published_at: datetime, notice_days: int) -> date:
    """``effective`` if it gives at least ``notice_days`` days' notice, else InvalidInput
    with the earliest allowed date."""
    if notice_days < MIN_NOTICE_DAYS:
        raise NotAccepted(f"a notice period is at least {MIN_NOTICE_DAYS} days")
    earliest = earliest_effective(published_at, notice_days)
    if effective < earliest:
        raise NotAccepted(
            f"a change needs {notice_days} days' notice: the earliest effective date is "
            f"{earliest.isoformat()}, not {effective.isoformat()}"
        )
    return effective


def in_force(effective: date, now: datetime) -> bool:
    return now >= takes_effect_at(effective)


def check_objection_open(effective: date, now: datetime) -> None:
    """Objections are taken until the change takes effect; Conflict after."""
    if in_force(effective, now):
        raise Conflict(f"the change took effect on {effective.isoformat()}; objections closed then")


# the list ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Change:
    """One published change of one subprocessor (a notice, as the list needs it)."""

    subprocessor_id: str
    kind: NoticeKind
    effective: date
    seq: int  # the order of publication (1, 2, …): of two changes of one date, the later wins
    details: Details | None  # None for a removal


def current_list(changes: Iterable[Change], now: datetime) -> dict[str, Details]:
    """Each subprocessor in force at ``now`` with its details in force: the latest change
    already in force decides (a removal drops it)."""
    latest: dict[str, Change] = {}
    for change in changes:
        if not in_force(change.effective, now):
            continue
        seen = latest.get(change.subprocessor_id)
        if seen is None or _order(change) > _order(seen):
            latest[change.subprocessor_id] = change
    return {
        sid: change.details
        for sid, change in latest.items()
        if change.kind is not NoticeKind.REMOVE and change.details is not None
    }


def _order(change: Change) -> tuple[date, int]:
    return (change.effective, change.seq)


def check_change(kind: NoticeKind, subprocessor_id: str, changes: Iterable[Change]) -> None:
    """A replacement or removal needs an entry that exists and is not (to be) removed."""
    own = [c for c in changes if c.subprocessor_id == subprocessor_id]
    if not own:
        raise NotFound(f"no subprocessor {subprocessor_id}", subprocessor_id=subprocessor_id)
    if kind is not NoticeKind.ADD and any(c.kind is NoticeKind.REMOVE for c in own):
        raise Conflict(
            f"subprocessor {subprocessor_id} is removed (or its removal is announced)",
            subprocessor_id=subprocessor_id,
        )


# mailing notices -------------------------------------------------------------------------
#: The longest wait between two tries of one failed delivery.
MAX_RETRY_WAIT = timedelta(hours=6)


def retry_due(state: str, attempts: int, updated_at: datetime, now: datetime) -> bool:
    """Whether a delivery is to be tried now: a pending one at once, a failed one after a
    wait that doubles with each attempt (1, 2, 4 … minutes, at most MAX_RETRY_WAIT)."""
    if state != "failed":
        return True
    wait = min(timedelta(minutes=2 ** min(max(attempts - 1, 0), 20)), MAX_RETRY_WAIT)
    return now >= updated_at + wait
