"""The settings and rules behind the hostile-client defences (api/admission.py,
api/server.py, the per-address sign-in limit)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from strongroom.api.admission import Lane
from strongroom.config import load_settings
from strongroom.domain.access import LOGIN_WINDOW, login_retry_after
from strongroom.errors import ConfigurationError, RateLimited, ServerBusy

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("upload_idle_timeout_seconds", "0"),
        ("uploads_per_workspace", "0"),
        ("uploads_max", "100000"),
        ("sign_in_queue", "-1"),
        ("sign_in_failures_per_address", "0"),
        ("header_timeout_seconds", "0"),
        ("tls_handshake_timeout_seconds", "301"),
    ],
)
def test_out_of_range_values_stop_the_start(tmp_path: Path, name: str, value: str) -> None:
    with pytest.raises(ConfigurationError, match=name):
        load_settings(tmp_path, env={}, overrides={name: value})


def test_a_workspace_may_not_have_more_uploads_than_the_server(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="uploads_per_workspace"):
        load_settings(tmp_path, env={}, overrides={"uploads_per_workspace": 9, "uploads_max": 8})


def test_defaults_are_sane(tmp_path: Path) -> None:
    s = load_settings(tmp_path, env={})
    assert 1 <= s.uploads_per_workspace <= s.uploads_max
    assert s.upload_idle_timeout_seconds <= 60
    assert s.header_timeout_seconds <= 30 and s.tls_handshake_timeout_seconds <= 30


def test_the_address_limit_counts_its_own_number_of_failures() -> None:
    failures = [NOW - timedelta(minutes=m) for m in range(10)]
    assert login_retry_after(failures, NOW, allowed=11) == 0
    wait = login_retry_after(failures, NOW, allowed=10)
    assert 0 < wait <= LOGIN_WINDOW.total_seconds()
    assert login_retry_after(failures[:4], NOW) == 0  # the per-email default: 5


def test_a_lane_admits_per_key_then_in_all_and_frees_its_places() -> None:
    lane = Lane("uploads", threads=2, queue=1, per_key=2)
    with lane.admit("a"), lane.admit("a"):
        with pytest.raises(RateLimited):
            lane.admit("a").__enter__()
        with lane.admit("b"), pytest.raises(ServerBusy):
            lane.admit("c").__enter__()
    assert lane.admitted == 0
    with lane.admit("a"), lane.admit("a"):  # the places are free again
        pass
