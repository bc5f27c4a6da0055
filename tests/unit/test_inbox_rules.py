"""The inbox's rules with dates in them: the first-response clock in plain UTC hours, the
warning an hour before, the breach at the due time, and what a request may hold."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from strongroom.domain import inbox as rules
from strongroom.domain.inbox import ClockState
from strongroom.errors import InvalidInput

RECEIVED = datetime(2026, 3, 28, 9, 30, tzinfo=UTC)


def test_the_reply_is_due_24_calendar_hours_after_receipt() -> None:
    assert rules.due_at(RECEIVED, 24) == datetime(2026, 3, 29, 9, 30, tzinfo=UTC)


def test_a_daylight_saving_night_changes_nothing_the_clock_counts_utc_hours() -> None:
    # Europe moves its clocks on 29 March 2026 at 01:00 UTC: still exactly 24 hours.
    due = rules.due_at(RECEIVED, 24)
    assert (due - RECEIVED).total_seconds() == 24 * 3600
    # A Saturday receipt is due on Sunday: calendar hours, not business hours.
    assert rules.due_at(datetime(2026, 12, 5, 18, 0, tzinfo=UTC), 24).weekday() == 6


def test_the_clock_runs_then_warns_an_hour_before_then_breaches_at_the_due_time() -> None:
    due = rules.due_at(RECEIVED, 24)
    assert rules.clock_state(due, None, due - timedelta(hours=1, seconds=1)) is ClockState.RUNNING
    assert rules.clock_state(due, None, due - timedelta(hours=1)) is ClockState.WARNING
    assert rules.clock_state(due, None, due - timedelta(seconds=1)) is ClockState.WARNING
    assert rules.clock_state(due, None, due) is ClockState.BREACHED


def test_a_sent_reply_stops_the_clock_in_time_or_late() -> None:
    due = rules.due_at(RECEIVED, 24)
    later = due + timedelta(days=3)
    assert rules.clock_state(due, due - timedelta(hours=2), later) is ClockState.ANSWERED
    assert rules.clock_state(due, due + timedelta(minutes=5), later) is ClockState.ANSWERED_LATE


def test_the_worker_warns_once_and_records_a_breach_once() -> None:
    due = rules.due_at(RECEIVED, 24)
    before = due - timedelta(hours=2)
    assert not rules.needs_warning(due, None, None, before)
    assert rules.needs_warning(due, None, None, due - timedelta(minutes=59))
    assert not rules.needs_warning(due, None, due - timedelta(minutes=59), due)
    assert not rules.needs_warning(due, due - timedelta(hours=3), None, due)
    assert not rules.needs_breach(due, None, None, due - timedelta(seconds=1))
    assert rules.needs_breach(due, None, None, due)
    assert not rules.needs_breach(due, None, due, due + timedelta(hours=1))
    assert not rules.needs_breach(due, due - timedelta(hours=1), None, due + timedelta(hours=1))


@pytest.mark.parametrize(
    ("delta", "words"),
    [
        (timedelta(hours=23, minutes=59), "23 hours left"),
        (timedelta(minutes=40, seconds=10), "40 minutes left"),
        (timedelta(minutes=1), "1 minute left"),
        (timedelta(hours=-3), "3 hours overdue"),
        (timedelta(days=-3), "3 days overdue"),
    ],
)
def test_time_left_in_words(delta: timedelta, words: str) -> None:
    assert rules.time_left(RECEIVED + delta, RECEIVED) == words


def test_a_submission_is_checked_and_tidied() -> None:
    s = rules.check_submission("security", " a@example.org ", " Hello ", "line 1\r\nline 2\t!")
    assert (s.kind, s.email, s.subject, s.body) == (
        "security",
        "a@example.org",
        "Hello",
        "line 1\nline 2\t!",
    )


@pytest.mark.parametrize(
    ("kind", "email", "subject", "body", "field"),
    [
        ("sales", "a@example.org", "s", "b", "kind"),
        ("support", "not-an-email", "s", "b", "email"),
        ("support", "a@example.org\r\nBcc: x@evil.test", "s", "b", "email"),
        ("support", "<a@example.org>", "s", "b", "email"),
        ("support", "a@example.org", "hi\r\nBcc: x@evil.test", "b", "subject"),
        ("support", "a@example.org", "invoice\u202etxt.exe", "b", "subject"),
        ("support", "a@example.org", "x" * 201, "b", "subject"),
        ("support", "a@example.org", "   ", "b", "subject"),
        ("support", "a@example.org", "s", "x" * 20_001, "body"),
        ("support", "a@example.org", "s", "nul \x00 inside", "body"),
        ("support", "a@example.org", "s", "bell \x07", "body"),
        ("support", "a@example.org", "s", "rtl \u2067 isolate", "body"),
        ("support", "a@example.org", "s", "lone \ud800 surrogate", "body"),
        ("support", "a@example.org", "s", "", "body"),
    ],
)
def test_hostile_or_oversize_input_is_refused_by_field(
    kind: str, email: str, subject: str, body: str, field: str
) -> None:
    with pytest.raises(InvalidInput):
        rules.check_submission(kind, email, subject, body)
    assert list(rules.field_errors(kind, email, subject, body)) == [field]


def test_the_verdict_fails_while_a_request_is_overdue_and_counts_what_it_saw() -> None:
    holding = rules.response_verdict(24, open_requests=2, overdue=0, breaches_recent=1)
    assert holding.holds
    assert "2 open requests, 1 breach of the 24-hour first response" in holding.evidence
    failing = rules.response_verdict(24, open_requests=2, overdue=1, breaches_recent=1)
    assert not failing.holds
    assert failing.evidence.startswith("1 request past the 24-hour deadline")
