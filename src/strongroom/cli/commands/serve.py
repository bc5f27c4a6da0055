"""``strongroom serve``: the HTTPS API over the home's store and keys."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Annotated

import typer

from strongroom import demo
from strongroom.bootstrap import init_home
from strongroom.cli.options import DEFAULT_HOME, Home, Json, open_home
from strongroom.cli.output import console, emit
from strongroom.config import CONFIG_FILE
from strongroom.errors import ConfigurationError
from strongroom.lifecycle.worker import WorkerThread
from strongroom.observability.logs import logging_config


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
            help="Run the lifecycle worker (purges, exports) inside the server process.",
        ),
    ] = True,
    home: Home = DEFAULT_HOME,
    json: Json = False,
) -> None:
    """Serve the API over HTTPS only (TLS 1.2+, HSTS), with the lifecycle worker;
    Ctrl-C stops it."""
    # Imported here, not at the top: FastAPI and uvicorn would add a third of a second to
    # the start-up of every other command, which never serves.
    from strongroom.api.server import run_server, url_host
    from strongroom.console.app import create_site

    home = home.expanduser()
    if with_demo and not (home / CONFIG_FILE).exists():
        init_home(home)
    with open_home(home, metered=True) as sr:
        token = password = None
        if with_demo:
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
        ca = Path(sr.settings.tls_cert).parent / "ca.pem"
        url = f"https://{url_host(host)}:{port}"

        def started() -> None:
            info = {
                "url": url,
                "console": f"{url}/console/",
                "demo_owner": {"email": demo.OWNER, "password": password} if password else None,
                "ca": str(ca) if ca.exists() else None,
                "token": token,
                "worker": worker,
            }
            lines = [
                f"Strongroom is serving {url}  (Ctrl-C stops it)",
                f"console: {url}/console/",
            ]
            if password:
                lines.append(f"demo owner: {demo.OWNER}  password: {password}")
            if worker:
                lines.append("lifecycle worker: running in this process")
            if ca.exists():
                lines.append(f"CA certificate: {ca}")
            if token:
                lines += [
                    f"owner token (1 day): {token}",
                    f'try: curl --cacert {ca} -H "Authorization: Bearer {token}" '
                    f"{url}/v1/workspaces",
                ]
            emit(json, info, lambda: console.print("\n".join(lines), markup=False, soft_wrap=True))
            if background is not None:  # once listening: the first pass probes this server
                background.start()

        sr.worker.sweep_partial_blobs()  # what uploads killed with the last server left
        background = WorkerThread(sr.worker) if worker else None
        try:
            run_server(
                create_site(sr),
                host=host,
                port=port,
                cert_path=Path(sr.settings.tls_cert),
                key_path=Path(sr.settings.tls_key),
                http_port=http_port,
                on_started=started,
                header_timeout=sr.settings.header_timeout_seconds,
                handshake_timeout=sr.settings.tls_handshake_timeout_seconds,
                max_connections=sr.settings.max_connections,
                max_connections_per_address=sr.settings.max_connections_per_address,
                # stderr, in the log_format setting's format; uvicorn's access log stays
                # off (its lines name raw paths): each request's own line names its route.
                log_config=logging_config(sr.settings.log_format),
            )
        finally:
            if background is not None:
                background.stop()
