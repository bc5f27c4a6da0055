"""Where a workspace stands with the DPA, as plain dates: pure rules, no store."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from strongroom.config import Settings
from strongroom.domain.agreements import (
    Published,
    Standing,
    Status,
    check_body,
    check_effective,
    check_version,
    first_acceptance_due,
)
from strongroom.domain.agreements import standing as standing_of
from strongroom.errors import ConfigurationError, InvalidInput

V1 = Published("1", date(2026, 1, 1))
V2 = Published("2", date(2026, 3, 1))
V3 = Published("3", date(2026, 4, 1))
AT = datetime(2026, 1, 5, tzinfo=UTC)


def standing(versions: list[Published], accepted: dict[str, datetime], now: datetime) -> Status:
    """The standing of a workspace created at the first version's date, given 30 days."""
    return standing_of(
        versions, accepted, now, created_at=_at("2026-01-01"), first_acceptance_days=30
    )


def _at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=UTC)


def test_standing_follows_the_first_newer_effective_date() -> None:
    assert standing([], {}, AT).standing is Standing.NONE_PUBLISHED
    assert standing([V1], {}, AT).standing is Standing.NOT_ACCEPTED
    assert standing([V1], {"1": AT}, AT).standing is Standing.CURRENT
    due = standing([V1, V2], {"1": AT}, _at("2026-02-28T23:59:59"))
    assert (due.standing, due.current, due.accepted) == (Standing.REACCEPT_DUE, "2", "1")
    assert due.days_left(_at("2026-02-28T23:59:59")) == 1
    assert standing([V1, V2], {"1": AT}, _at("2026-03-01")).standing is Standing.OVERDUE
    # two newer versions: the earlier of their dates ends the old acceptance
    assert standing([V1, V2, V3], {"1": AT}, _at("2026-03-02")).standing is Standing.OVERDUE
    # accepting the newest clears it, whatever came between
    assert standing([V1, V2, V3], {"1": AT, "3": AT}, _at("2026-05-01")).standing is (
        Standing.CURRENT
    )


@pytest.mark.parametrize(
    "raw", [b"", b" \n\t", b"\x00", b"a\x1bb", b"\xef\xbb\xbfwith a BOM", b"\xc3", b"x" * 262145]
)
def test_texts_that_are_refused(raw: bytes) -> None:
    with pytest.raises(InvalidInput):
        check_body(raw)


def test_labels_and_dates() -> None:
    assert check_body("caf\u00e9\r\n\tok".encode()) == "caf\u00e9\r\n\tok"
    for label in ("", "-1", "a b", "a/b", "x" * 65, "v1\n"):
        with pytest.raises(InvalidInput):
            check_version(label)
    assert check_version("2026-01_v1.2") == "2026-01_v1.2"
    with pytest.raises(InvalidInput, match="in the past"):
        check_effective(date(2026, 1, 4), AT)
    # 00:00 UTC today has passed: every earlier acceptance would be overdue at once
    with pytest.raises(InvalidInput, match=r"is today.*choose tomorrow or later"):
        check_effective(date(2026, 1, 5), AT)
    late_evening = datetime(2026, 1, 5, 23, 59, 59, tzinfo=UTC)
    with pytest.raises(InvalidInput, match="is today"):
        check_effective(date(2026, 1, 5), late_evening)
    assert check_effective(date(2026, 1, 6), AT) == date(2026, 1, 6)


def test_a_workspace_that_never_accepted_is_overdue_after_its_first_due_date() -> None:
    created = _at("2026-01-10T08:00:00")
    # created after the version took effect: counted from its creation
    assert first_acceptance_due(created, date(2026, 1, 1), 30) == _at("2026-02-09T08:00:00")
    # created before the version takes effect: counted from the effective date
    assert first_acceptance_due(created, date(2026, 3, 1), 30) == _at("2026-03-31")

    def of(now: str, accepted: dict[str, datetime] | None = None) -> Status:
        return standing_of(
            [V1], accepted or {}, _at(now), created_at=created, first_acceptance_days=30
        )

    waiting = of("2026-02-09T07:59:59")
    assert (waiting.standing, waiting.due_at) == (Standing.NOT_ACCEPTED, _at("2026-02-09T08:00"))
    assert waiting.days_left(_at("2026-02-09T07:59:59")) == 1
    late = of("2026-02-09T08:00:00")
    assert (late.standing, late.accepted, late.current) == (Standing.OVERDUE, None, "1")
    assert of("2027-01-01", {"1": _at("2026-03-01")}).standing is Standing.CURRENT


def test_the_first_acceptance_days_are_validated(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    assert settings.dpa_first_acceptance_days == 30
    settings.validate()
    for days in (0, -1, 366):
        with pytest.raises(ConfigurationError, match="dpa_first_acceptance_days"):
            replace(settings, dpa_first_acceptance_days=days).validate()
    assert replace(settings, dpa_first_acceptance_days=365).validate()
