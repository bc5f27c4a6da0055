"""A live HTTPS server whose ``public_url`` is its own address, so that the promise
checks probe it (the TLS and certificate promises look at ``public_url``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from starlette.types import ASGIApp

from strongroom import init_home, open_strongroom
from strongroom.api.server import ServerThread
from strongroom.bootstrap import Strongroom
from strongroom.clock import Clock
from strongroom.console.app import create_site
from strongroom.demo import SAMPLE_DPA, SAMPLE_DPA_VERSION, SAMPLE_SCC, SAMPLE_SCC_VERSION
from tests.e2e.api_support import LiveServer
from tests.ports import free_port


@contextmanager
def serve_home(
    home: Path, clock: Clock | None = None, app: Callable[[Strongroom], ASGIApp] = create_site
) -> Iterator[LiveServer]:
    """Serve an initialised home on the port its ``public_url`` names."""
    sr = open_strongroom(home, clock=clock)
    try:
        port = int(sr.settings.public_url.rsplit(":", 1)[1])
        tls = home / "tls"
        with ServerThread(
            app(sr), cert_path=tls / "server.pem", key_path=tls / "server-key.pem", port=port
        ) as server:
            yield LiveServer(sr, server.url, tls / "ca.pem")
    finally:
        sr.close()


@contextmanager
def trust_server(home: Path, clock: Clock | None = None, **settings: str) -> Iterator[LiveServer]:
    """A new home (``settings`` as for ``init``) served at its ``public_url``."""
    settings.setdefault("public_url", f"https://127.0.0.1:{free_port()}")
    init_home(home, **settings)
    with serve_home(home, clock) as server:
        publish_sample_agreements(server.sr)
        yield server


def publish_sample_agreements(sr: Strongroom) -> None:
    """The demo's sample SCC and DPA, as an operator publishes them: a deployment with no
    DPA published breaks its "DPA with the SCCs" promise."""
    today = sr.ctx.clock.now().date() + timedelta(days=1)  # versions take effect after today
    sr.agreements.publish("scc", SAMPLE_SCC_VERSION, SAMPLE_SCC.encode(), today, actor="test")
    sr.agreements.publish(
        "dpa", SAMPLE_DPA_VERSION, SAMPLE_DPA.encode(), today, SAMPLE_SCC_VERSION, actor="test"
    )
