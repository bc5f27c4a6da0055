"""Sign-in over real HTTPS on SQLite and PostgreSQL, on an injected clock: a session that
works, five wrong passwords, the sixth attempt refused even with the right password, the
refusal lasting to the end of the window and no longer."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest

from strongroom.clock import FixedClock
from strongroom.domain.access import LOGIN_FAILURES_ALLOWED, LOGIN_WINDOW
from tests.e2e.api_support import LiveServer, backend_settings, live_server

PASSWORD = "correct horse battery"


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def timed(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LiveServer, FixedClock]]:
    clock = FixedClock()
    home = tmp_path_factory.mktemp("sign-in") / "home"
    with live_server(home, clock, **backend_settings(request)) as server:
        yield server, clock


def _sign_in(client: httpx.Client, email: str, password: str) -> httpx.Response:
    return client.post("/v1/sessions", json={"email": email, "password": password})


def test_sign_in_gives_a_session_for_the_users_workspaces(
    timed: tuple[LiveServer, FixedClock],
) -> None:
    live, _clock = timed
    email = f"ada{os.urandom(4).hex()}@acme.example"
    ws = live.sr.workspaces.create("Signed In", email)
    live.sr.access.set_password(email, PASSWORD)
    with live.client() as anonymous:
        session = _sign_in(anonymous, email, PASSWORD)
    assert session.status_code == 201
    assert session.headers["cache-control"] == "no-store"
    with live.client(session.json()["token"]) as client:
        assert [w["id"] for w in client.get("/v1/workspaces").json()["items"]] == [ws.id]
        assert client.get(f"/v1/workspaces/{ws.id}").json()["name"] == "Signed In"


def test_the_sixth_attempt_is_refused_until_the_window_reopens(
    timed: tuple[LiveServer, FixedClock],
) -> None:
    live, clock = timed
    email = f"grace{os.urandom(4).hex()}@acme.example"
    live.sr.workspaces.create("Limited", email)
    live.sr.access.set_password(email, PASSWORD)
    other = f"other{os.urandom(4).hex()}@acme.example"
    live.sr.workspaces.create("Other", other)
    live.sr.access.set_password(other, PASSWORD)
    window = int(LOGIN_WINDOW.total_seconds())
    with live.client() as anonymous:
        assert LOGIN_FAILURES_ALLOWED == 5
        for _ in range(5):
            assert _sign_in(anonymous, email, "wrong password").status_code == 401
            clock.advance(timedelta(seconds=10))  # 40 s from the first to the fifth
        sixth = _sign_in(anonymous, email, PASSWORD)  # the right password, too late
        assert sixth.status_code == 429
        assert sixth.headers["content-type"] == "application/problem+json"
        retry_after = int(sixth.headers["retry-after"])
        assert window - 50 <= retry_after <= window - 50 + 1  # from the first failure
        assert _sign_in(anonymous, other, PASSWORD).status_code == 201  # one email only

        clock.advance(timedelta(seconds=retry_after - 2))  # the window is still open
        assert _sign_in(anonymous, email, PASSWORD).status_code == 429
        clock.advance(timedelta(seconds=2))  # as long as Retry-After said
        allowed = _sign_in(anonymous, email, PASSWORD)
        assert allowed.status_code == 201, allowed.text
    with live.client(allowed.json()["token"]) as client:
        assert client.get("/v1/workspaces").status_code == 200


def test_a_success_clears_the_count(timed: tuple[LiveServer, FixedClock]) -> None:
    live, clock = timed
    email = f"hedy{os.urandom(4).hex()}@acme.example"
    live.sr.workspaces.create("Cleared", email)
    live.sr.access.set_password(email, PASSWORD)
    with live.client() as anonymous:
        for _ in range(4):
            assert _sign_in(anonymous, email, "wrong password").status_code == 401
        assert _sign_in(anonymous, email, PASSWORD).status_code == 201
        clock.advance(timedelta(seconds=1))
        for _ in range(4):  # four more: the earlier four no longer count
            assert _sign_in(anonymous, email, "wrong password").status_code == 401
        assert _sign_in(anonymous, email, PASSWORD).status_code == 201
