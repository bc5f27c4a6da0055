"""A promise's status follows its newest check: failing wins, old passes go stale."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from strongroom.domain.promises import PromiseStatus, status_of

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def test_a_recent_pass_holds() -> None:
    assert status_of(True, NOW - HOUR, NOW, 2 * HOUR) is PromiseStatus.HOLDING


def test_a_recent_failure_is_failing() -> None:
    assert status_of(False, NOW - HOUR, NOW, 2 * HOUR) is PromiseStatus.FAILING


def test_an_old_failure_stays_failing_until_a_newer_pass() -> None:
    assert status_of(False, NOW - 30 * HOUR, NOW, 2 * HOUR) is PromiseStatus.FAILING


def test_a_pass_older_than_the_allowed_age_is_stale_not_holding() -> None:
    assert status_of(True, NOW - 3 * HOUR, NOW, 2 * HOUR) is PromiseStatus.STALE


def test_never_checked_is_stale() -> None:
    assert status_of(None, None, NOW, 2 * HOUR) is PromiseStatus.STALE
