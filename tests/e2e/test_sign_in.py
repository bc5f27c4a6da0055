"""Sign-in over the real API: the failed-attempt window is 15 minutes (not more), a session
lasts 12 hours (not more), and parallel guesses on PostgreSQL cannot outrun the limit.

The server's clock is a FixedClock, so time passes exactly when a test says."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from strongroom.clock import FixedClock
from tests.conftest import PostgresServer
from tests.e2e.api_support import LiveServer, live_server

PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, clock: FixedClock) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("sign-in") / "home", clock=clock) as server:
        yield server


def _user(live: LiveServer) -> str:
    email = f"ada{os.urandom(4).hex()}@acme.example"
    live.sr.workspaces.create("Signed In", email)
    live.sr.access.set_password(email, PASSWORD)
    return email


def _sign_in(client: httpx.Client, email: str, password: str = PASSWORD) -> httpx.Response:
    return client.post("/v1/sessions", json={"email": email, "password": password})


def test_failed_sign_ins_are_forgotten_after_15_minutes(
    live: LiveServer, clock: FixedClock
) -> None:
    email = _user(live)
    with live.client() as anonymous:
        for _ in range(5):
            assert _sign_in(anonymous, email, "wrong guess").status_code == 401
        limited = _sign_in(anonymous, email)
        assert limited.status_code == 429
        # The wait named to the user is at most the window, never days.
        assert 0 < int(limited.headers["retry-after"]) <= 15 * 60 + 1
        clock.advance(timedelta(minutes=14, seconds=58))
        assert _sign_in(anonymous, email).status_code == 429  # still inside the window
        clock.advance(timedelta(seconds=3))  # 15 minutes and a second after the failures
        assert _sign_in(anonymous, email).status_code == 201


def test_the_wait_named_is_the_wait_needed(live: LiveServer, clock: FixedClock) -> None:
    """Retry-After says when the oldest counted failure leaves the window: waiting that long
    lets the user in, waiting a little less does not."""
    email = _user(live)
    with live.client() as anonymous:
        for _ in range(4):
            assert _sign_in(anonymous, email, "wrong guess").status_code == 401
        clock.advance(timedelta(minutes=10))
        assert _sign_in(anonymous, email, "wrong guess").status_code == 401
        limited = _sign_in(anonymous, email)
        assert limited.status_code == 429
        wait = int(limited.headers["retry-after"])
        assert 5 * 60 - 5 <= wait <= 5 * 60 + 1  # the first four fail out after 5 more minutes
        clock.advance(timedelta(seconds=wait - 3))
        assert _sign_in(anonymous, email).status_code == 429
        clock.advance(timedelta(seconds=3))
        assert _sign_in(anonymous, email).status_code == 201


def test_a_session_lasts_12_hours(live: LiveServer, clock: FixedClock) -> None:
    email = _user(live)
    with live.client() as anonymous:
        signed_in = _sign_in(anonymous, email)
    assert signed_in.status_code == 201
    token = signed_in.json()["token"]
    with live.client(token) as session:
        clock.advance(timedelta(hours=11, minutes=59))
        assert session.get("/v1/workspaces").status_code == 200
        clock.advance(timedelta(minutes=1))  # 12 hours after sign-in
        expired = session.get("/v1/workspaces")
        assert expired.status_code == 401
        assert expired.headers["content-type"] == "application/problem+json"
        clock.advance(timedelta(hours=1))
        assert session.get("/v1/workspaces").status_code == 401


@pytest.mark.postgres
def test_parallel_wrong_passwords_on_postgres_cannot_outrun_the_limit(
    tmp_path: Path, postgres: PostgresServer
) -> None:
    """Twenty-four guesses sent at once to a server on PostgreSQL, where (unlike SQLite)
    two sign-in transactions really run side by side: exactly five are judged, the rest
    are refused without looking at the password."""
    data, keys = postgres.fresh_pair()
    with live_server(tmp_path / "home", database_url=data, keystore_url=keys) as live:
        email = _user(live)
        guesses = 24
        start = threading.Barrier(guesses)
        clients = [live.client() for _ in range(guesses)]
        try:
            for client in clients:  # connected and through TLS before the race starts
                assert client.get("/health").status_code == 200

            def attempt(client: httpx.Client) -> int:
                start.wait(timeout=300)  # generous: a loaded machine starts threads late
                return _sign_in(client, email, "a guess").status_code

            with ThreadPoolExecutor(max_workers=guesses) as pool:
                statuses = list(pool.map(attempt, clients))
        finally:
            for client in clients:
                client.close()
        judged, refused = statuses.count(401), statuses.count(429)
        assert (judged, refused) == (5, guesses - 5), statuses
        with live.client() as anonymous:  # and the right password waits too
            assert _sign_in(anonymous, email).status_code == 429
