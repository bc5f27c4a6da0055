"""Agreements (the DPA and the EU Standard Contractual Clauses it incorporates): what a
version may hold, and where a workspace stands with them. Pure: no IO, ``now`` is an
argument.

A version's text is fixed when it is published: its SHA-256 is recorded beside it and the
store refuses any change (triggers, see the 0012 migration). Workspace owners accept DPA
versions; the SCCs are accepted through the DPA version that names them. When a newer DPA
is published, a workspace that accepted an earlier one must accept it by its effective
date; until then the earlier acceptance stays valid, from then on the workspace is overdue.
A workspace that never accepted any version has a first due date too: the later of its
creation and the current version's effective date, plus the deployment's
``dpa_first_acceptance_days``; from then on it is overdue as well.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum

from strongroom.domain.roles import Role
from strongroom.errors import InvalidInput, PermissionDenied

#: The largest text accepted for one version (UTF-8 bytes).
MAX_BODY_BYTES = 256 * 1024
#: The largest acceptance receipt read for verification (JSON bytes).
MAX_RECEIPT_BYTES = 64 * 1024
#: A version label: "2026-01", "v3.1", "1.0-rc1".
_VERSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
#: Characters a legal text has no use for: control characters other than tab and newlines.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class AgreementKind(StrEnum):
    DPA = "dpa"  # the data processing agreement; what owners accept
    SCC = "scc"  # the EU Standard Contractual Clauses, incorporated by a DPA version


class Standing(StrEnum):
    """Where a workspace stands with the DPA."""

    CURRENT = "current"  # it accepted the newest version
    REACCEPT_DUE = "reaccept_due"  # a newer version awaits; the earlier one holds until due
    OVERDUE = "overdue"  # past the date to accept the newest version, without acceptance
    NOT_ACCEPTED = "not_accepted"  # no version accepted yet; due by the first due date
    NONE_PUBLISHED = "none_published"  # there is no DPA to accept


def parse_kind(value: str) -> AgreementKind:
    try:
        return AgreementKind(value)
    except ValueError:
        raise InvalidInput(f"unknown agreement kind {value[:16]!r}; choose dpa or scc") from None


def check_version(label: str) -> str:
    if not _VERSION.fullmatch(label):
        raise InvalidInput(
            "a version label is 1 to 64 letters, digits, dots, dashes or underscores, "
            "starting with a letter or digit"
        )
    return label


def check_body(raw: bytes) -> str:
    """The text of a version from its bytes: UTF-8, bounded, not empty, no control
    characters (which a reader could not see, yet the hash would cover)."""
    if len(raw) > MAX_BODY_BYTES:
        raise InvalidInput(f"an agreement's text is at most {MAX_BODY_BYTES} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput("an agreement's text must be UTF-8") from None
    if not text.strip():
        raise InvalidInput("an agreement's text is empty")
    if _CONTROL.search(text) or text.startswith("\ufeff"):
        raise InvalidInput("an agreement's text holds control characters or a byte-order mark")
    return text


def body_sha256(text: str) -> str:
    """The hash recorded at publication, of the text's UTF-8 bytes, as hex."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def check_effective(effective_on: date, now: datetime) -> date:
    """A new version takes effect tomorrow or later. It takes effect at 00:00 UTC on its
    date, so one dated today (or earlier) would put every workspace that accepted an
    earlier version overdue at once."""
    today = now.astimezone(UTC).date()
    if effective_on < today:
        raise InvalidInput(f"the effective date {effective_on} is in the past")
    if effective_on == today:
        raise InvalidInput(
            f"the effective date {effective_on} is today: a version takes effect at 00:00 UTC "
            "on its date, which has passed, so every workspace that accepted an earlier "
            "version would be overdue at once; choose tomorrow or later"
        )
    return effective_on


def check_may_accept(role: Role | None) -> None:
    """Only a workspace's owners bind it to an agreement."""
    if role is not Role.OWNER:
        raise PermissionDenied("only a workspace owner may accept an agreement")


def check_acceptable(kind: AgreementKind) -> None:
    if kind is not AgreementKind.DPA:
        raise InvalidInput("the SCCs are accepted through the DPA version that incorporates them")


def starts(day: date) -> datetime:
    """The moment a version dated ``day`` takes effect: 00:00 UTC that day."""
    return datetime.combine(day, time(0), tzinfo=UTC)


@dataclass(frozen=True)
class Published:
    """A version as the standing needs it, in publication order."""

    version: str
    effective_on: date


@dataclass(frozen=True)
class Status:
    standing: Standing
    current: str | None  # the newest version
    accepted: str | None  # the newest version this workspace accepted
    accepted_at: datetime | None
    due_at: datetime | None  # accept ``current`` by then (all but current, none_published)

    def days_left(self, now: datetime) -> int | None:
        if self.due_at is None:
            return None
        return max(0, math.ceil((self.due_at - now).total_seconds() / 86400))


def first_acceptance_due(created_at: datetime, effective_on: date, days: int) -> datetime:
    """When a workspace that never accepted any DPA version must have accepted one: the
    later of its creation and the current version's taking effect, plus ``days``."""
    return max(created_at, starts(effective_on)) + timedelta(days=days)


def standing(
    versions: list[Published],
    accepted: dict[str, datetime],
    now: datetime,
    *,
    created_at: datetime,
    first_acceptance_days: int,
) -> Status:
    """Where a workspace stands. ``versions``: the DPA versions, oldest first;
    ``accepted``: the versions this workspace accepted, with when; ``created_at``: when
    the workspace was created (it dates the first acceptance's due date)."""
    if not versions:
        return Status(Standing.NONE_PUBLISHED, None, None, None, None)
    current = versions[-1].version
    taken = [i for i, v in enumerate(versions) if v.version in accepted]
    if not taken:
        first = first_acceptance_due(created_at, versions[-1].effective_on, first_acceptance_days)
        late = Standing.OVERDUE if now >= first else Standing.NOT_ACCEPTED
        return Status(late, current, None, None, first)
    newest = taken[-1]
    label = versions[newest].version
    at = accepted[label]
    if newest == len(versions) - 1:
        return Status(Standing.CURRENT, current, label, at, None)
    # The first newer version to take effect ends the earlier acceptance's validity.
    due = starts(min(v.effective_on for v in versions[newest + 1 :]))
    kind = Standing.OVERDUE if now >= due else Standing.REACCEPT_DUE
    return Status(kind, current, label, at, due)
