"""The promise checks' settings: the trust page's defaults, and refusals that say what to
change."""

from __future__ import annotations

from pathlib import Path

import pytest

from strongroom.config import Settings, load_settings
from strongroom.errors import ConfigurationError


def test_defaults(tmp_path: Path) -> None:
    s = load_settings(tmp_path, env={})
    assert (s.promise_check_minutes, s.promise_stale_minutes, s.promise_history_days) == (
        15,
        60,
        90,
    )
    assert (s.backup_every_hours, s.backup_drill_every_days, s.certificate_min_days) == (24, 7, 14)


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("promise_check_minutes", 0, "between 1 and 1440"),
        ("promise_stale_minutes", 10, "at least promise_check_minutes"),
        ("promise_history_days", 0, "between 1 and 3650"),
        ("backup_every_hours", -1, "between 0 and 168"),
        ("backup_drill_every_days", 8, "between 1 and 7"),
        ("certificate_min_days", 0, "between 1 and 365"),
    ],
)
def test_refusals(tmp_path: Path, name: str, value: int, says: str) -> None:
    with pytest.raises(ConfigurationError, match=says):
        Settings(home=tmp_path, **{name: value}).validate()  # type: ignore[arg-type]


def test_read_from_the_environment(tmp_path: Path) -> None:
    s = load_settings(tmp_path, env={"STRONGROOM_BACKUP_EVERY_HOURS": "0"})
    assert s.backup_every_hours == 0
