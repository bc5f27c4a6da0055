"""When the next shred epoch is due (domain/shred_epochs.py): pure date rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from strongroom.domain.shred_epochs import MARGIN, next_epoch_due, unrecoverable_by

DAY = timedelta(days=1)
WINDOW = timedelta(days=60)
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_an_epoch_comes_a_period_after_the_last() -> None:
    assert next_epoch_due(T0, DAY, [], WINDOW, T0 + timedelta(hours=3)) == T0 + DAY


def test_no_epoch_yet_is_due_now() -> None:
    assert next_epoch_due(None, DAY, [], WINDOW, T0) == T0


def test_a_shred_whose_window_closes_first_brings_the_epoch_forward() -> None:
    deleted = T0 - WINDOW + timedelta(hours=5)  # its window closes 5 hours after T0
    due = next_epoch_due(T0, DAY, [(deleted, T0 + timedelta(hours=1))], WINDOW, T0)
    assert due == deleted + WINDOW - MARGIN == T0 + timedelta(hours=4)


def test_a_shred_before_the_last_epoch_is_already_covered() -> None:
    deleted = T0 - WINDOW
    assert next_epoch_due(T0, DAY, [(deleted, T0 - DAY)], WINDOW, T0) == T0 + DAY


def test_the_certificate_date_is_the_next_epoch_and_inside_the_window() -> None:
    deleted = T0 - timedelta(days=30)
    now = T0 + timedelta(hours=2)
    by = unrecoverable_by(T0, DAY, deleted, WINDOW, now)
    assert by == T0 + DAY and by <= deleted + WINDOW


def test_an_overdue_epoch_counts_as_now() -> None:
    now = T0 + timedelta(days=3)
    assert unrecoverable_by(T0, DAY, T0, WINDOW, now) == now


def test_a_deletion_wait_brings_the_epoch_forward_and_the_certificate_date_back() -> None:
    wait = timedelta(days=7)
    deleted = T0 - WINDOW + timedelta(days=8)  # its window closes 8 days after T0
    due = next_epoch_due(T0, DAY, [(deleted, T0)], WINDOW, T0, wait)
    assert due == deleted + WINDOW - wait - MARGIN == T0 + DAY - MARGIN
    by = unrecoverable_by(T0, DAY, deleted, WINDOW, T0 + timedelta(hours=2), wait)
    assert by == due + wait and by <= deleted + WINDOW
    # a deletion from a month ago: the daily epoch, then AWS's 7 days
    recent = T0 - timedelta(days=30)
    assert unrecoverable_by(T0, DAY, recent, WINDOW, T0, wait) == T0 + DAY + wait
