"""The pure date rules of backup retention (backup/restorable.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from strongroom.backup.restorable import keystore_expiry, needs_renewal, restorable_until

DAY = timedelta(days=1)
T0 = datetime(2026, 1, 1, tzinfo=UTC)
WINDOW = 60 * DAY


def test_a_keystore_backup_goes_by_the_deletion_plus_window_of_a_key_destroyed_after_it() -> None:
    taken, by_age = T0 + 20 * DAY, T0 + 80 * DAY
    destroyed_after = (T0, T0 + 30 * DAY)  # deleted day 0, purged day 30
    destroyed_before = (T0 - 50 * DAY, T0 + 10 * DAY)  # purged before it was taken
    assert keystore_expiry(taken, by_age, [], WINDOW) == by_age
    assert keystore_expiry(taken, by_age, [destroyed_before], WINDOW) == by_age
    assert keystore_expiry(taken, by_age, [destroyed_after], WINDOW) == T0 + 60 * DAY
    late = (T0 + 25 * DAY, T0 + 40 * DAY)  # its deadline (day 85) is after the age limit
    assert keystore_expiry(taken, by_age, [late], WINDOW) == by_age


def test_a_data_backup_restores_until_the_last_keystore_backup_taken_at_or_after_it() -> None:
    taken, expires = T0, T0 + 60 * DAY
    older = (T0 - DAY, T0 + 100 * DAY)  # taken before: cannot open keys made since
    assert restorable_until(taken, expires, [older]) is None
    assert restorable_until(taken, expires, [(T0, T0 + 30 * DAY)]) == T0 + 30 * DAY
    both = [(T0, T0 + 30 * DAY), (T0 + 10 * DAY, T0 + 70 * DAY)]
    assert restorable_until(taken, expires, both) == expires  # capped at its own expiry


def test_renewal_is_needed_exactly_when_a_data_backup_would_outlive_its_keystore_backups() -> None:
    data = [(T0, T0 + 60 * DAY)]
    assert not needs_renewal(data, [(T0, T0 + 60 * DAY)])
    assert needs_renewal(data, [(T0, T0 + 60 * DAY - timedelta(seconds=1))])
    assert needs_renewal(data, [])
    assert not needs_renewal([], [])
