"""A real Strongroom HTTPS server for API tests: a fresh home, the app, a thread."""

from __future__ import annotations

import ssl
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from starlette.types import ASGIApp

from strongroom import init_home, open_strongroom
from strongroom.api.app import create_app
from strongroom.api.server import ServerThread
from strongroom.bootstrap import Strongroom
from strongroom.clock import Clock
from tests.conftest import PostgresServer


@dataclass
class LiveServer:
    sr: Strongroom
    url: str
    ca: Path

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(
            base_url=self.url,
            verify=ssl.create_default_context(cafile=self.ca),
            headers=headers,
            timeout=30,
        )


@contextmanager
def live_server(
    home: Path,
    clock: Clock | None = None,
    app: Callable[[Strongroom], ASGIApp] = create_app,
    **settings: str,
) -> Iterator[LiveServer]:
    """``clock`` (e.g. a FixedClock) is the server's and ``sr``'s, so a test can make time
    pass; TLS certificates are made with the real time either way. ``app``: what is served
    (the API; console/app.create_site for the API with the console)."""
    init_home(home, **settings)
    sr = open_strongroom(home, clock=clock)
    try:
        tls = home / "tls"
        with ServerThread(
            app(sr),
            cert_path=tls / "server.pem",
            key_path=tls / "server-key.pem",
            max_connections=sr.settings.max_connections,
            max_connections_per_address=sr.settings.max_connections_per_address,
        ) as server:
            yield LiveServer(sr, server.url, tls / "ca.pem")
    finally:
        sr.close()


def backend_settings(request: pytest.FixtureRequest) -> dict[str, str]:
    """For a fixture parametrized ``["sqlite", "postgres"]`` (like conftest's ``backend``,
    but usable at module scope): {} for SQLite, fresh database URLs for PostgreSQL."""
    if request.param == "sqlite":
        return {}
    server: PostgresServer = request.getfixturevalue("postgres")
    data, keys = server.fresh_pair()
    return {"database_url": data, "keystore_url": keys}
