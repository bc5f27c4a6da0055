"""Where a workspace stands with the DPA, as plain dates: pure rules, no store."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from strongroom.domain.agreements import (
    Published,
    Standing,
    check_body,
    check_effective,
    check_version,
    standing,
)
from strongroom.errors import InvalidInput

V1 = Published("1", date(2026, 1, 1))
V2 = Published("2", date(2026, 3, 1))
V3 = Published("3", date(2026, 4, 1))
AT = datetime(2026, 1, 5, tzinfo=UTC)


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
    with pytest.raises(InvalidInput):
        check_effective(date(2026, 1, 4), AT)
    assert check_effective(date(2026, 1, 5), AT) == date(2026, 1, 5)
