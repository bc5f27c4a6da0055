"""PostgreSQL restarted under load (issue 15, item 5): while clients write records
through `strongroom serve --workers 2`, the test stops its own PostgreSQL server (never the
shared one), then starts it again. While it is down every request is answered 503
problem+json within the client's bound (never 500, never a hang); once it is back, writes
succeed again without restarting Strongroom (the same API processes); and every write
that was acknowledged (201) reads back afterwards."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from strongroom import init_home, open_strongroom
from tests.conftest import need_service
from tests.e2e.nodes_support import Serving, serve
from tests.postgres_server_support import OwnPostgres, postgres_binaries

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

WRITERS = 4
BOUND = 15.0  # seconds a request may take before it counts as a hang


@pytest.fixture(scope="module")
def own_postgres() -> Iterator[OwnPostgres]:
    if postgres_binaries() is None:
        need_service("PostgreSQL's binaries (/usr/lib/postgresql/*/bin) are not installed")
    with OwnPostgres() as pg:
        yield pg


class Load:
    """``WRITERS`` threads writing records as fast as answers come; every answer kept."""

    def __init__(self, serving: Serving, token: str, path: str) -> None:
        self.serving, self.token, self.path = serving, token, path
        self.acknowledged: dict[str, dict[str, int]] = {}
        self.unavailable = 0
        self.wrong: list[str] = []
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._write, args=(n,)) for n in range(WRITERS)]

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(BOUND * 2)

    def _write(self, n: int) -> None:
        with self.serving.client(self.token, timeout=BOUND) as client:
            i = 0
            while not self.stop.is_set():
                document = {"writer": n, "i": i}
                i += 1
                try:
                    r = client.post(self.path, json={"collection": "notes", "document": document})
                except httpx.HTTPError as e:  # a hang past the bound, or a dropped connection
                    with self.lock:
                        self.wrong.append(f"{type(e).__name__}: {e}")
                    continue
                with self.lock:
                    if r.status_code == 201:
                        self.acknowledged[r.json()["id"]] = document
                    elif r.status_code == 503 and r.headers["content-type"].startswith(
                        "application/problem+json"
                    ):
                        self.unavailable += 1
                        time.sleep(0.05)  # a client backing off, as Retry-After asks
                    else:
                        self.wrong.append(f"{r.status_code} {r.text[:300]}")

    def wait_for(self, what: str, condition: object, within: float = 60.0) -> None:
        deadline = time.monotonic() + within
        while not condition():  # type: ignore[operator]
            assert not self.wrong, self.wrong[:5]
            assert time.monotonic() < deadline, f"no {what} within {within} s"
            time.sleep(0.05)


def test_a_postgres_restart_under_load_is_503_then_recovers_losing_nothing(
    own_postgres: OwnPostgres, tmp_path: Path
) -> None:
    pg = own_postgres
    home = tmp_path / "home"
    init_home(
        home,
        database_url=pg.create_database("restart_data"),
        keystore_url=pg.create_database("restart_keys"),
    )
    with open_strongroom(home) as sr:
        ws = sr.workspaces.create("Restart Co", "owner@restart.example")
        project = sr.projects.create(ws.id, "P")
        token = sr.access.create_token(ws.id, "owner", 1).token
    serving = serve(home, workers=2, extra=["--no-worker"])
    try:
        api = serving.api_pids()
        path = f"/v1/workspaces/{ws.id}/projects/{project.id}/records"
        with Load(serving, token, path) as load:
            for mode in ("fast", "immediate"):  # a clean stop, then a crash
                before = len(load.acknowledged)
                load.wait_for("writes", lambda b=before: len(load.acknowledged) >= b + 10)
                pg.stop(mode)
                down = load.unavailable
                load.wait_for("503s", lambda d=down: load.unavailable >= d + WRITERS)
                pg.start()
                after = len(load.acknowledged)
                load.wait_for("writes again", lambda a=after: len(load.acknowledged) >= a + 10)
        assert not load.wrong, load.wrong[:5]
        assert serving.api_pids() == api, "the API processes were restarted"
        assert "unexpected error" not in serving.log()  # no 500 anywhere
        with serving.client(token) as client:
            for record_id, document in load.acknowledged.items():
                r = client.get(f"{path}/{record_id}")
                assert r.status_code == 200, (record_id, r.text)
                assert r.json()["document"] == document
    finally:
        serving.stop()
