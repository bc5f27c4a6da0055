"""The notice rule, the objection window and an entry's fields, with dates in them; the
notice rule under hypothesis (any publication instant, any offset, any period ≥ 30)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from strongroom.domain import subprocessors as rules
from strongroom.domain.subprocessors import Change, NoticeKind
from strongroom.errors import Conflict, InvalidInput

DETAILS = {name: f"{words} of the entry" for name, words in rules.FIELDS.items()}


def test_thirty_days_from_mid_morning_is_the_day_after_next_midnight() -> None:
    published = datetime(2027, 3, 1, 10, 0, tzinfo=UTC)
    assert rules.earliest_effective(published, 30) == date(2027, 4, 1)
    with pytest.raises(InvalidInput, match="earliest effective date is 2027-04-01"):
        rules.check_effective(date(2027, 3, 31), published, 30)
    assert rules.check_effective(date(2027, 4, 1), published, 30) == date(2027, 4, 1)


def test_published_exactly_at_midnight_utc_may_take_effect_thirty_days_later() -> None:
    published = datetime(2027, 3, 1, tzinfo=UTC)
    assert rules.earliest_effective(published, 30) == date(2027, 3, 31)


def test_a_publication_late_in_the_evening_west_of_utc_counts_in_utc() -> None:
    # 23:30 in New York on 1 March is 04:30 UTC on 2 March
    published = datetime(2027, 3, 1, 23, 30, tzinfo=timezone(timedelta(hours=-5)))
    assert rules.earliest_effective(published, 30) == date(2027, 4, 2)


def test_a_period_under_thirty_days_is_never_used() -> None:
    with pytest.raises(InvalidInput, match="at least 30"):
        rules.check_effective(date(2030, 1, 1), datetime(2027, 1, 1, tzinfo=UTC), 29)


@given(
    published=st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.timezones()
    ),
    days=st.integers(min_value=30, max_value=400),
)
def test_the_earliest_date_is_the_first_that_gives_the_full_notice(
    published: datetime, days: int
) -> None:
    earliest = rules.earliest_effective(published, days)
    starts = rules.takes_effect_at(earliest)
    assert starts - published >= timedelta(days=days)
    assert starts - published < timedelta(days=days + 1)
    assert rules.check_effective(earliest, published, days) == earliest
    with pytest.raises(InvalidInput):
        rules.check_effective(earliest - timedelta(days=1), published, days)
    just_short = published.astimezone(UTC) + timedelta(days=days, seconds=-1)
    assert not rules.in_force(earliest, just_short)


def test_thirty_days_across_a_change_of_the_clocks_are_thirty_whole_days() -> None:
    from zoneinfo import ZoneInfo

    # 01:30 in Berlin on 1 March is 00:30 UTC; summer time starts on 28 March, so the
    # wall clock's "31 March, 01:30" would be 23:30 UTC on 30 March: half an hour short
    published = datetime(2027, 3, 1, 1, 30, tzinfo=ZoneInfo("Europe/Berlin"))
    earliest = rules.earliest_effective(published, 30)
    assert rules.takes_effect_at(earliest) - published >= timedelta(days=30)
    assert earliest == date(2027, 4, 1)


def test_objections_close_at_midnight_utc_of_the_effective_date() -> None:
    effective = date(2027, 4, 1)
    rules.check_objection_open(effective, datetime(2027, 3, 31, 23, 59, 59, tzinfo=UTC))
    with pytest.raises(Conflict, match="took effect on 2027-04-01"):
        rules.check_objection_open(effective, datetime(2027, 4, 1, tzinfo=UTC))


@pytest.mark.parametrize("field", list(rules.FIELDS))
def test_every_field_is_required_and_named_when_missing(field: str) -> None:
    with pytest.raises(InvalidInput, match=field):
        rules.check_details({k: v for k, v in DETAILS.items() if k != field})
    with pytest.raises(InvalidInput, match=field):
        rules.check_details({**DETAILS, field: "   "})


@pytest.mark.parametrize("bad", ["a\nb", "a\x00b", "a\u202eb", "x" * 501, 7])
def test_hostile_text_in_a_field_is_refused(bad: object) -> None:
    with pytest.raises(InvalidInput, match="purpose"):
        rules.check_details({**DETAILS, "purpose": bad})


def test_an_unknown_field_is_refused() -> None:
    with pytest.raises(InvalidInput, match="unknown field"):
        rules.check_details({**DETAILS, "notes": "x"})


def test_the_list_follows_changes_in_force() -> None:
    a = rules.check_details(DETAILS)
    b = rules.check_details({**DETAILS, "legal_name": "B"})
    changes = [
        Change("sub_1", NoticeKind.ADD, date(2027, 2, 1), 1, a),
        Change("sub_1", NoticeKind.REPLACE, date(2027, 3, 1), 2, b),
        Change("sub_1", NoticeKind.REMOVE, date(2027, 4, 1), 3, None),
        Change("sub_1", NoticeKind.REPLACE, date(2027, 3, 1), 0, a),  # older, same date: loses
    ]
    assert rules.current_list(changes, datetime(2027, 1, 31, tzinfo=UTC)) == {}
    assert rules.current_list(changes, datetime(2027, 2, 1, tzinfo=UTC)) == {"sub_1": a}
    assert rules.current_list(changes, datetime(2027, 3, 15, tzinfo=UTC)) == {"sub_1": b}
    assert rules.current_list(changes, datetime(2027, 4, 1, tzinfo=UTC)) == {}


def test_a_failed_delivery_waits_longer_each_time() -> None:
    t = datetime(2027, 1, 1, tzinfo=UTC)
    assert rules.retry_due("pending", 0, t, t)
    assert not rules.retry_due("failed", 1, t, t + timedelta(seconds=59))
    assert rules.retry_due("failed", 1, t, t + timedelta(minutes=1))
    assert not rules.retry_due("failed", 3, t, t + timedelta(minutes=3))
    assert rules.retry_due("failed", 30, t, t + rules.MAX_RETRY_WAIT)


def test_a_reason_may_span_lines_but_holds_no_control_characters() -> None:
    assert rules.check_reason("  first line\r\nsecond line  ") == "first line\nsecond line"
    assert rules.check_reason("   ") == ""
    for bad in ("a\x00b", "a\u202eb", "a\x1bb"):
        with pytest.raises(InvalidInput, match="plain text"):
            rules.check_reason(bad)


def test_a_field_the_feed_could_not_carry_is_refused() -> None:
    with pytest.raises(InvalidInput, match="location"):
        rules.check_details({**DETAILS, "location": "Mars\uffff"})
