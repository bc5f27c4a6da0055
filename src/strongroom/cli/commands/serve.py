"""``strongroom serve``: the HTTPS API over the home's store and keys; with ``--workers N``,
N API processes on one port (api/processes.py supervises them)."""

from __future__ import annotations

import logging.config
import os
import secrets
import shutil
import socket
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from strongroom import demo
from strongroom.bootstrap import Strongroom, init_home
from strongroom.cli.options import DEFAULT_HOME, Home, Json, open_home
from strongroom.cli.output import console, emit
from strongroom.config import CONFIG_FILE
from strongroom.errors import ConfigurationError
from strongroom.lifecycle.worker import WorkerThread
from strongroom.observability.instruments import MULTIPROCESS_DIR
from strongroom.observability.logs import logging_config

if TYPE_CHECKING:
    from strongroom.config import Settings


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="HTTPS port.")] = 8443,
    http_port: Annotated[
        int | None,
        typer.Option(
            min=0, max=65535, help="Also listen for plain HTTP here, only to redirect to HTTPS."
        ),
    ] = None,
    with_demo: Annotated[
        bool,
        typer.Option(
            "--demo",
            help="Initialise a new home with the sample workspace and print an owner token for it.",
        ),
    ] = False,
    worker: Annotated[
        bool,
        typer.Option(
            "--worker/--no-worker",
            help="Run the lifecycle worker (purges, exports) inside the server process "
            "(with --workers N: inside the first API process only).",
        ),
    ] = True,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            min=1,
            max=64,
            help="API processes serving the port (1: this process serves; N: a supervisor "
            "starts N and replaces one that ends). Run them on PostgreSQL.",
        ),
    ] = 1,
    socket_fd: Annotated[int | None, typer.Option(hidden=True)] = None,
    redirect_fd: Annotated[int | None, typer.Option(hidden=True)] = None,
    ready_fd: Annotated[int | None, typer.Option(hidden=True)] = None,
    home: Home = DEFAULT_HOME,
    json: Json = False,
) -> None:
    """Serve the API over HTTPS only (TLS 1.2+, HSTS), with the lifecycle worker;
    Ctrl-C stops it."""
    home = home.expanduser()
    if with_demo and not (home / CONFIG_FILE).exists():
        init_home(home)
    if socket_fd is not None:  # an API process of `serve --workers N`
        if ready_fd is None:
            raise ConfigurationError("--socket-fd is for the API processes of --workers")
        _serve_supervised(home, host, socket_fd, redirect_fd, ready_fd, worker=worker)
    elif workers > 1:
        _serve_many(
            home, host, port, http_port, workers, with_demo=with_demo, worker=worker, json=json
        )
    else:
        _serve_one(home, host, port, http_port, with_demo=with_demo, worker=worker, json=json)


def _serve_one(
    home: Path,
    host: str,
    port: int,
    http_port: int | None,
    *,
    with_demo: bool,
    worker: bool,
    json: bool,
) -> None:
    """One process: this one serves (and runs the worker with --worker)."""
    # Imported here, not at the top: FastAPI and uvicorn would add a third of a second to
    # the start-up of every other command, which never serves.
    from strongroom.api.server import run_server, url_host
    from strongroom.console.app import create_site

    with open_home(home, metered=True) as sr:
        token, password = _demo_credentials(sr) if with_demo else (None, None)
        url = f"https://{url_host(host)}:{port}"

        def started() -> None:
            _announce(json, sr.settings, url, token, password, worker, [os.getpid()])
            if background is not None:  # once listening: the first pass probes this server
                background.start()

        sr.worker.sweep_partial_blobs()  # what uploads killed with the last server left
        background = WorkerThread(sr.worker) if worker else None
        try:
            run_server(
                create_site(sr),
                host=host,
                port=port,
                http_port=http_port,
                on_started=started,
                **_server_settings(sr.settings),
            )
        finally:
            if background is not None:
                background.stop()


def _serve_many(
    home: Path,
    host: str,
    port: int,
    http_port: int | None,
    workers: int,
    *,
    with_demo: bool,
    worker: bool,
    json: bool,
) -> None:
    """The supervisor: prepares the home, binds the port(s) and keeps ``workers`` API
    processes serving them. It holds no database connection while they run."""
    from strongroom.api.processes import ApiProcesses, listening_socket
    from strongroom.api.server import bind_socket, url_host

    with open_home(home) as sr:
        token, password = _demo_credentials(sr) if with_demo else (None, None)
        # What uploads killed with the last server left: here, once, never by an API
        # process (a replacement would delete its siblings' uploads in flight).
        sr.worker.sweep_partial_blobs()
        settings = sr.settings
    logging.config.dictConfig(logging_config(settings.log_format))
    # One HTTPS socket per API process, on one port (SO_REUSEPORT); the redirect
    # listener's one socket is shared.
    first = listening_socket(bind_socket(host, port, reuse_port=True))
    https_port = first.getsockname()[1]
    https = [first] + [
        listening_socket(bind_socket(host, https_port, reuse_port=True)) for _ in range(workers - 1)
    ]
    redirect = None if http_port is None else listening_socket(bind_socket(host, http_port))
    sockets = [[sock] if redirect is None else [sock, redirect] for sock in https]
    url = f"https://{url_host(host)}:{https_port}"

    def command(slot: int, ready: int) -> list[str]:
        argv = [sys.executable, "-m", "strongroom.cli.main", "serve", "--home", str(home)]
        argv += ["--host", host, "--socket-fd", str(https[slot].fileno())]
        argv += ["--ready-fd", str(ready)]
        if redirect is not None:
            argv += ["--redirect-fd", str(redirect.fileno())]
        # The lifecycle worker runs in slot 0 only (and in its replacement).
        return [*argv, "--worker" if worker and slot == 0 else "--no-worker"]

    def started(pids: list[int]) -> None:
        _announce(json, settings, url, token, password, worker, pids)

    # One /metrics for the N processes: unless the operator named a folder shared with other
    # processes (docs/operations.md "Metrics and logs"), the API processes add up their
    # counters through a fresh folder of their own, removed when they stop.
    own_metrics = None
    if not os.environ.get(MULTIPROCESS_DIR):
        own_metrics = tempfile.mkdtemp(prefix="strongroom-metrics-")
        os.environ[MULTIPROCESS_DIR] = own_metrics  # the API processes inherit it
    try:
        ApiProcesses(command, sockets).run(started)
    finally:
        for sock in [*https, *([redirect] if redirect is not None else [])]:
            sock.close()
        if own_metrics is not None:
            shutil.rmtree(own_metrics, ignore_errors=True)
            del os.environ[MULTIPROCESS_DIR]


def _serve_supervised(
    home: Path, host: str, socket_fd: int, redirect_fd: int | None, ready_fd: int, *, worker: bool
) -> None:
    """An API process of ``serve --workers N``: serves the inherited sockets, says its pid
    on ``ready_fd`` once listening, stops when its supervisor goes."""
    from strongroom.api.server import run_server
    from strongroom.console.app import create_site

    parent = os.getppid()
    https = socket.socket(fileno=socket_fd)
    redirect = None if redirect_fd is None else socket.socket(fileno=redirect_fd)
    with open_home(home, metered=True) as sr:

        def started() -> None:
            with os.fdopen(ready_fd, "w") as ready:
                ready.write(f"{os.getpid()}\n")
            if background is not None:
                background.start()

        background = WorkerThread(sr.worker) if worker else None
        try:
            run_server(
                create_site(sr),
                host=host,
                port=https.getsockname()[1],
                https_socket=https,
                http_socket=redirect,
                parent_pid=parent,
                on_started=started,
                **_server_settings(sr.settings),
            )
        finally:
            if background is not None:
                background.stop()


def _server_settings(settings: Settings) -> dict[str, Any]:
    return {
        "cert_path": Path(settings.tls_cert),
        "key_path": Path(settings.tls_key),
        "header_timeout": settings.header_timeout_seconds,
        "handshake_timeout": settings.tls_handshake_timeout_seconds,
        "max_connections": settings.max_connections,
        "max_connections_per_address": settings.max_connections_per_address,
        # stderr, in the log_format setting's format; uvicorn's access log stays off (its
        # lines name raw paths): each request's own line names its route.
        "log_config": logging_config(settings.log_format),
    }


def _demo_credentials(sr: Strongroom) -> tuple[str, str]:
    """The sample workspace's owner token and a new password for its owner."""
    if sr.settings.environment == "production":
        raise ConfigurationError("--demo is for development homes, not production")
    # Only the sample workspace gets a printed token, never a real customer's.
    sample = [w for w in sr.workspaces.list() if w.name == demo.WORKSPACE]
    workspace_id = sample[0].id if sample else demo.load_sample(sr).workspace_id
    demo.accept_sample_agreements(sr, workspace_id, actor="serve --demo")
    token = sr.access.create_token(workspace_id, "owner", 1, actor="serve --demo").token
    # A new password for the sample owner at each start, shown once: the console's
    # sign-in (a development home only, checked above).
    password = secrets.token_urlsafe(12)
    sr.access.set_password(demo.OWNER, password, actor="serve --demo")
    return token, password


def _announce(
    json: bool,
    settings: Settings,
    url: str,
    token: str | None,
    password: str | None,
    worker: bool,
    pids: list[int],
) -> None:
    """The started line: where to connect, and which processes serve (pid: this process;
    processes: the API processes, this one alone without --workers)."""
    ca = Path(settings.tls_cert).parent / "ca.pem"
    info = {
        "url": url,
        "console": f"{url}/console/",
        "demo_owner": {"email": demo.OWNER, "password": password} if password else None,
        "ca": str(ca) if ca.exists() else None,
        "token": token,
        "worker": worker,
        "pid": os.getpid(),
        "processes": pids,
    }
    lines = [
        f"Strongroom is serving {url}  (Ctrl-C stops it)",
        f"console: {url}/console/",
    ]
    if len(pids) > 1 or pids != [os.getpid()]:
        lines.append(f"API processes: {', '.join(map(str, pids))} (supervisor {os.getpid()})")
    if password:
        lines.append(f"demo owner: {demo.OWNER}  password: {password}")
    if worker:
        where = "this process" if pids == [os.getpid()] else f"API process {pids[0]}"
        lines.append(f"lifecycle worker: running in {where}")
    if ca.exists():
        lines.append(f"CA certificate: {ca}")
    if token:
        lines += [
            f"owner token (1 day): {token}",
            f'try: curl --cacert {ca} -H "Authorization: Bearer {token}" {url}/v1/workspaces',
        ]
    emit(json, info, lambda: console.print("\n".join(lines), markup=False, soft_wrap=True))
