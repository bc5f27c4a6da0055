"""A live HTTPS server over a home opened as ``strongroom serve`` opens it: the root key
and the key cache metered for GET /metrics, the console mounted."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from strongroom import init_home, open_strongroom
from strongroom.api.server import ServerThread
from strongroom.clock import FixedClock
from strongroom.console.app import create_site
from tests.e2e.api_support import LiveServer


@contextmanager
def metered_server(
    home: Path, clock: FixedClock | None = None, **settings: str
) -> Iterator[LiveServer]:
    """The API with the console, over a home opened as ``strongroom serve`` opens it
    (root key and key cache metered)."""
    init_home(home, **settings)
    sr = open_strongroom(home, clock=clock, metered=True)
    try:
        tls = home / "tls"
        with ServerThread(
            create_site(sr), cert_path=tls / "server.pem", key_path=tls / "server-key.pem"
        ) as server:
            yield LiveServer(sr, server.url, tls / "ca.pem")
    finally:
        sr.close()
