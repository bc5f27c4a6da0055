"""``strongroom keys``: the key hierarchy's status, rotation and policy."""

from __future__ import annotations

from typing import Annotated

import typer

from strongroom.cli.options import ACTOR, DEFAULT_HOME, Home, Json, open_home
from strongroom.cli.output import emit

app = typer.Typer(help="The key hierarchy: status, rotation, policy.", no_args_is_help=True)


@app.command("status")
def keys_status(home: Home = DEFAULT_HOME, json: Json = False) -> None:
    """Root key versions, keystore counts and the key cache."""
    with open_home(home) as sr:
        status = sr.keys.status().as_json()
    emit(json, status)


@app.command("rotate")
def keys_rotate(
    workspace: Annotated[
        str | None,
        typer.Option(help="Rotate this workspace's key; without it, rotate the root key."),
    ] = None,
    home: Home = DEFAULT_HOME,
    json: Json = False,
) -> None:
    """Rotate the root key, or one workspace key, by rewrapping (no data is re-encrypted)."""
    with open_home(home) as sr:
        if workspace:
            result = sr.keys.rotate_workspace(workspace, actor=ACTOR).as_json()
        else:
            result = sr.keys.rotate_root(actor=ACTOR).as_json()
    emit(json, result)


@app.command("policy")
def keys_policy(home: Home = DEFAULT_HOME, json: Json = False) -> None:
    """The cryptography policy the code enforces."""
    with open_home(home) as sr:
        policy = sr.keys.policy()
    emit(json, policy)
