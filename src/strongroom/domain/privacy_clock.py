"""When a privacy request is due, from the law it is made under. Pure: every function takes
the dates it needs; nothing here reads a clock.

Dates are calendar dates in the workspace's time zone: a request received at 23:30 in
Berlin on 31 January is received on 31 January there, whatever UTC says. A request is
due by the END of its due date in that zone (``due_instant``), so "due 28 February" holds
until midnight at the start of 1 March, local time.

- GDPR (Art. 12(3)): one calendar month after the day of receipt; when that month has no
  such day, its last day (31 January → 28 or 29 February). One extension of at most two
  further months, with a reason, made before the original due date passes.
- CCPA (Cal. Code Regs. tit. 11, §7021): receipt confirmed within 10 business days; the
  response due 45 calendar days after receipt, whatever the time spent verifying. One
  extension of at most 45 further days, with notice, made before the original due date.
  Business days are Monday to Friday, less the holidays the deployment names.
- other: the due date the caller gives, at most 365 days after receipt; one extension of at
  most 365 days, with a reason, before it passes.
"""

from __future__ import annotations

import calendar
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from strongroom.errors import Conflict, InvalidInput

GDPR_MONTHS = 1
GDPR_MAX_EXTENSION_MONTHS = 2
CCPA_DAYS = 45
CCPA_MAX_EXTENSION_DAYS = 45
CCPA_CONFIRM_BUSINESS_DAYS = 10
#: The longest clock of a request under another law, and of its extension (no privacy law
#: we know of gives a year).
OTHER_MAX_DAYS = 365


class Law(StrEnum):
    GDPR = "gdpr"
    CCPA = "ccpa"
    OTHER = "other"


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            f"unknown time zone {name[:64]!r} (an IANA name such as Europe/Berlin)"
        ) from None


def local_date(instant: datetime, tz: ZoneInfo) -> date:
    if instant.tzinfo is None:
        raise InvalidInput("a time needs its offset (for example 2026-01-31T09:00:00+00:00)")
    return instant.astimezone(tz).date()


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, or that month's last day if it has no such day."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def add_business_days(day: date, n: int, holidays: Collection[date] = ()) -> date:
    """The ``n``-th business day after ``day`` (Monday to Friday, not a holiday)."""
    current, left = day, n
    while left > 0:
        current += timedelta(days=1)
        if current.weekday() < 5 and current not in holidays:
            left -= 1
    return current


def due_instant(due: date, tz: ZoneInfo) -> datetime:
    """The first instant past the due date in ``tz``: the request is late from then on."""
    return datetime.combine(due + timedelta(days=1), time(0), tzinfo=tz)


def days_left(due: date, now: datetime, tz: ZoneInfo) -> int:
    """Whole days from today (in ``tz``) to the due date: 0 on the due date, negative after."""
    return (due - local_date(now, tz)).days


@dataclass(frozen=True)
class Deadlines:
    received: date
    due: date
    confirm_by: date | None  # CCPA: confirm receipt by this day


def deadlines(
    law: Law,
    received: date,
    *,
    given_due: date | None = None,
    holidays: Collection[date] = (),
) -> Deadlines:
    if law is Law.GDPR:
        if given_due is not None:
            raise InvalidInput("a GDPR request's due date follows from the law; do not give one")
        return Deadlines(received, add_months(received, GDPR_MONTHS), None)
    if law is Law.CCPA:
        if given_due is not None:
            raise InvalidInput("a CCPA request's due date follows from the law; do not give one")
        confirm = add_business_days(received, CCPA_CONFIRM_BUSINESS_DAYS, holidays)
        return Deadlines(received, received + timedelta(days=CCPA_DAYS), confirm)
    if given_due is None:
        raise InvalidInput("a request under another law needs its due date (--due)")
    if given_due < received:
        raise InvalidInput("the due date cannot come before the request was received")
    if (given_due - received).days > OTHER_MAX_DAYS:
        raise InvalidInput(f"the due date is at most {OTHER_MAX_DAYS} days after receipt")
    return Deadlines(received, given_due, None)


_NAMES = {Law.GDPR: "the GDPR", Law.CCPA: "the CCPA", Law.OTHER: "a request under another law"}


def latest_extension(law: Law, original_due: date) -> date:
    """The latest date an extension may move the due date to."""
    if law is Law.GDPR:
        return add_months(original_due, GDPR_MAX_EXTENSION_MONTHS)
    if law is Law.CCPA:
        return original_due + timedelta(days=CCPA_MAX_EXTENSION_DAYS)
    return original_due + timedelta(days=OTHER_MAX_DAYS)


def extend(
    law: Law,
    original_due: date,
    *,
    already_extended: bool,
    reason: str,
    now: datetime,
    tz: ZoneInfo,
    days: int | None = None,
    months: int | None = None,
) -> date:
    """The new due date of a request extended at ``now``; refused unless the law allows it."""
    if already_extended:
        raise Conflict("this request was already extended once; the law allows one extension")
    if not reason.strip():
        raise InvalidInput("an extension needs its reason (it is told to the data subject)")
    if (days is None) == (months is None):
        raise InvalidInput("give the extension as --days N or --months N")
    if now >= due_instant(original_due, tz):
        raise Conflict(
            f"the request was due {original_due.isoformat()}; an extension must be made "
            "before the due date passes"
        )
    if months is not None:
        if months < 1:
            raise InvalidInput("an extension is at least one month (or give --days)")
        new_due = add_months(original_due, months)
    else:
        assert days is not None
        if days < 1:
            raise InvalidInput("an extension is at least one day")
        new_due = original_due + timedelta(days=days)
    cap = latest_extension(law, original_due)
    if new_due > cap:
        limit = {
            Law.GDPR: f"{GDPR_MAX_EXTENSION_MONTHS} months",
            Law.CCPA: f"{CCPA_MAX_EXTENSION_DAYS} days",
            Law.OTHER: f"{OTHER_MAX_DAYS} days",
        }[law]
        raise InvalidInput(
            f"{_NAMES[law]} allows an extension of at most {limit}: "
            f"to {cap.isoformat()} at the latest"
        )
    return new_due
