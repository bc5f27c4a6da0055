"""`/health` warns 30 days before the server's certificate expires, and not before.

The server's clock is a FixedClock moved to a known distance from the certificate's real
expiry, so the boundary is checked exactly, with no waiting."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from strongroom.clock import FixedClock
from strongroom.tls.certificates import certificate_expiry
from tests.e2e.api_support import LiveServer, live_server


@pytest.fixture(scope="module")
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, clock: FixedClock) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("health") / "home", clock=clock) as server:
        yield server


def _health_at(live: LiveServer, clock: FixedClock, moment: datetime) -> dict[str, Any]:
    clock.advance(moment - clock.now())
    with live.client() as client:
        response = client.get("/health")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def _expiry(live: LiveServer) -> datetime:
    return certificate_expiry(live.ca.parent / "server.pem")


@pytest.mark.parametrize(
    "before", [timedelta(days=31), timedelta(days=30, minutes=1), timedelta(days=90)]
)
def test_no_warning_more_than_30_days_before(
    live: LiveServer, clock: FixedClock, before: timedelta
) -> None:
    expires = _expiry(live)
    health = _health_at(live, clock, expires - before)
    assert health["status"] == "ok" and "warnings" not in health
    assert datetime.fromisoformat(health["certificate_expires_at"]) == expires


@pytest.mark.parametrize("before", [timedelta(days=30), timedelta(days=29), timedelta(hours=1)])
def test_a_warning_from_30_days_before(
    live: LiveServer, clock: FixedClock, before: timedelta
) -> None:
    expires = _expiry(live)
    health = _health_at(live, clock, expires - before)
    assert health["status"] == "warning"
    [warning] = health["warnings"]
    assert "server.pem" in warning and "renew" in warning
    assert str(live.ca.parent) not in warning  # the file's name, never where it lives
    assert expires.strftime("%Y-%m-%d") in warning


def test_an_expired_certificate_is_named_expired(live: LiveServer, clock: FixedClock) -> None:
    health = _health_at(live, clock, _expiry(live) + timedelta(minutes=1))
    assert health["status"] == "warning" and "expired" in health["warnings"][0]
