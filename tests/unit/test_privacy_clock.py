"""The law's clock for privacy requests: month ends, leap years, time zones, CCPA business
days, and the one extension each law allows."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from strongroom.domain.privacy_clock import (
    Law,
    add_business_days,
    add_months,
    days_left,
    deadlines,
    due_instant,
    extend,
    local_date,
    zone,
)
from strongroom.errors import Conflict, InvalidInput

UTC_ZONE = zone("UTC")
BERLIN = zone("Europe/Berlin")
LOS_ANGELES = zone("America/Los_Angeles")


@pytest.mark.parametrize(
    ("received", "due"),
    [
        (date(2026, 1, 15), date(2026, 2, 15)),
        (date(2026, 1, 31), date(2026, 2, 28)),  # no 31 February: the month's last day
        (date(2028, 1, 31), date(2028, 2, 29)),  # a leap year
        (date(2026, 1, 29), date(2026, 2, 28)),
        (date(2026, 3, 31), date(2026, 4, 30)),
        (date(2026, 12, 31), date(2027, 1, 31)),  # across the year
        (date(2026, 2, 28), date(2026, 3, 28)),  # not "the month's end" again
    ],
)
def test_gdpr_is_due_one_calendar_month_after_receipt(received: date, due: date) -> None:
    assert deadlines(Law.GDPR, received).due == due


def test_ccpa_is_due_45_calendar_days_after_receipt_and_confirmed_within_10_business_days() -> None:
    # Friday 2 January 2026: 10 business days later is Friday 16 January.
    d = deadlines(Law.CCPA, date(2026, 1, 2))
    assert d.due == date(2026, 2, 16)
    assert d.confirm_by == date(2026, 1, 16)
    # A named holiday (Monday 12 January) moves the confirmation one business day on.
    held = deadlines(Law.CCPA, date(2026, 1, 2), holidays={date(2026, 1, 12)})
    assert held.confirm_by == date(2026, 1, 19)
    assert held.due == date(2026, 2, 16)  # calendar days: holidays do not move it


def test_business_days_skip_weekends() -> None:
    assert add_business_days(date(2026, 12, 4), 1) == date(2026, 12, 7)  # Friday → Monday
    assert add_business_days(date(2026, 12, 5), 1) == date(2026, 12, 7)  # Saturday → Monday
    assert add_business_days(date(2026, 12, 7), 5) == date(2026, 12, 14)


def test_other_law_takes_the_callers_due_date() -> None:
    assert deadlines(Law.OTHER, date(2026, 1, 1), given_due=date(2026, 1, 20)).due == date(
        2026, 1, 20
    )
    with pytest.raises(InvalidInput, match="needs its due date"):
        deadlines(Law.OTHER, date(2026, 1, 1))
    with pytest.raises(InvalidInput, match="before"):
        deadlines(Law.OTHER, date(2026, 1, 10), given_due=date(2026, 1, 9))
    with pytest.raises(InvalidInput, match="follows from the law"):
        deadlines(Law.GDPR, date(2026, 1, 10), given_due=date(2026, 3, 9))


def test_the_day_of_receipt_is_the_day_in_the_workspaces_zone() -> None:
    late_evening_in_berlin = datetime(2026, 1, 31, 23, 30, tzinfo=BERLIN)
    assert late_evening_in_berlin.astimezone(UTC).date() == date(2026, 1, 31)
    just_after_midnight = datetime(2026, 2, 1, 0, 30, tzinfo=BERLIN)  # 31 Jan 23:30 UTC
    assert local_date(just_after_midnight, UTC_ZONE) == date(2026, 1, 31)
    assert local_date(just_after_midnight, BERLIN) == date(2026, 2, 1)
    assert deadlines(Law.GDPR, local_date(just_after_midnight, BERLIN)).due == date(2026, 3, 1)
    assert deadlines(Law.GDPR, local_date(just_after_midnight, UTC_ZONE)).due == date(2026, 2, 28)


def test_a_request_is_due_until_the_end_of_its_due_date_in_its_zone() -> None:
    due = date(2026, 2, 28)
    end = due_instant(due, LOS_ANGELES)
    assert end == datetime(2026, 3, 1, 8, 0, tzinfo=UTC)  # midnight in Los Angeles (UTC-8)
    assert days_left(due, datetime(2026, 3, 1, 7, 59, tzinfo=UTC), LOS_ANGELES) == 0
    assert days_left(due, datetime(2026, 3, 1, 8, 0, tzinfo=UTC), LOS_ANGELES) == -1
    assert days_left(due, datetime(2026, 2, 18, 12, 0, tzinfo=UTC), LOS_ANGELES) == 10


def test_a_time_without_offset_is_refused() -> None:
    with pytest.raises(InvalidInput, match="offset"):
        local_date(datetime(2026, 1, 1, 12, 0), UTC_ZONE)


def test_unknown_zone_is_refused() -> None:
    with pytest.raises(InvalidInput, match="unknown time zone"):
        zone("Mars/Olympus_Mons")


def _now(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)


def test_gdpr_extension_is_at_most_two_months_once_with_a_reason_before_the_due_date() -> None:
    due = date(2026, 2, 28)
    kw = {"already_extended": False, "reason": "many requests", "tz": UTC_ZONE}
    assert extend(Law.GDPR, due, now=_now(date(2026, 2, 10)), months=2, **kw) == date(2026, 4, 28)
    assert extend(Law.GDPR, due, now=_now(date(2026, 2, 10)), days=30, **kw) == date(2026, 3, 30)
    with pytest.raises(InvalidInput, match="at most 2 months"):
        extend(Law.GDPR, due, now=_now(date(2026, 2, 10)), months=3, **kw)
    with pytest.raises(InvalidInput, match="2026-04-28"):
        extend(Law.GDPR, due, now=_now(date(2026, 2, 10)), days=60, **kw)
    # On the due date itself it is still in time; the day after, too late.
    assert extend(Law.GDPR, due, now=_now(due), months=1, **kw) == date(2026, 3, 28)
    with pytest.raises(Conflict, match="before the due date passes"):
        extend(Law.GDPR, due, now=_now(date(2026, 3, 1)), months=1, **kw)
    with pytest.raises(Conflict, match="one extension"):
        extend(
            Law.GDPR, due, now=_now(date(2026, 2, 10)), months=1, **{**kw, "already_extended": True}
        )
    with pytest.raises(InvalidInput, match="reason"):
        extend(Law.GDPR, due, now=_now(date(2026, 2, 10)), months=1, **{**kw, "reason": "  "})


def test_ccpa_extension_is_at_most_45_days() -> None:
    due = date(2026, 2, 16)
    kw = {
        "already_extended": False,
        "reason": "complex",
        "tz": UTC_ZONE,
        "now": _now(date(2026, 2, 1)),
    }
    assert extend(Law.CCPA, due, days=45, **kw) == date(2026, 4, 2)
    with pytest.raises(InvalidInput, match="at most 45 days"):
        extend(Law.CCPA, due, days=46, **kw)
    with pytest.raises(InvalidInput, match="--days N or --months N"):
        extend(Law.CCPA, due, **kw)
    with pytest.raises(InvalidInput, match="at least one day"):
        extend(Law.CCPA, due, days=0, **kw)


def test_add_months_clamps_every_month_end() -> None:
    for month in range(1, 13):
        start = date(2026, month, 28)
        assert add_months(start, 1).day == 28
    assert add_months(date(2026, 8, 31), 1) == date(2026, 9, 30)
    assert add_months(date(2026, 1, 31), 2) == date(2026, 3, 31)


def test_another_laws_clock_is_at_most_a_year_and_so_is_its_extension() -> None:
    received = date(2026, 1, 1)
    assert deadlines(Law.OTHER, received, given_due=date(2027, 1, 1)).due == date(2027, 1, 1)
    with pytest.raises(InvalidInput, match="at most 365 days after receipt"):
        deadlines(Law.OTHER, received, given_due=date(2027, 1, 2))
    with pytest.raises(InvalidInput, match="at most 365 days after receipt"):
        deadlines(Law.OTHER, date(2026, 1, 1), given_due=date(9999, 12, 31))
    kw = {"already_extended": False, "reason": "r", "tz": UTC_ZONE, "now": _now(received)}
    due = date(2026, 2, 1)
    assert extend(Law.OTHER, due, days=365, **kw) == date(2027, 2, 1)
    with pytest.raises(InvalidInput, match="at most 365 days"):
        extend(Law.OTHER, due, months=13, **kw)
