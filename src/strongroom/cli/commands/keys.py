"""``strongroom keys``: the key hierarchy's status, rotation and policy."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from strongroom.cli.options import ACTOR, DEFAULT_HOME, Home, Json, open_home
from strongroom.cli.output import emit
from strongroom.errors import InvalidInput

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
    root: Annotated[
        bool,
        typer.Option(
            "--root",
            help="Run a shred epoch: a new root version, every key rewrapped, a keystore "
            "backup, every older root version destroyed (the default without --workspace).",
        ),
    ] = False,
    home: Home = DEFAULT_HOME,
    json: Json = False,
) -> None:
    """Rotate the root key (a shred epoch), or one workspace key, by rewrapping (no data
    is re-encrypted)."""
    if workspace and root:
        raise InvalidInput("give --root or --workspace, not both")
    with open_home(home) as sr:
        if workspace:
            emit(json, sr.keys.rotate_workspace(workspace, actor=ACTOR).as_json())
            return
        epoch = sr.shred_epochs.run(actor=ACTOR).as_json()
    emit(json, epoch, _epoch_text(epoch))


def _epoch_text(epoch: dict[str, Any]) -> str:
    destroyed = epoch["destroyed_versions"]
    return "\n".join(
        [
            f"root key version {epoch['root_version']} made; "
            f"{epoch['rewrapped_keys']} keys rewrapped under it",
            "root versions destroyed in the KMS: "
            + (", ".join(str(v) for v in destroyed) if destroyed else "none (none older)"),
            f"keystore backup taken: {epoch['keystore_backup_id']}",
            f"backups rewrapped: {len(epoch['rewrapped_backups'])}; older keystore backups "
            f"deleted: {len(epoch['retired_keystore_backups'])}",
        ]
    )


@app.command("policy")
def keys_policy(home: Home = DEFAULT_HOME, json: Json = False) -> None:
    """The cryptography policy the code enforces."""
    with open_home(home) as sr:
        policy = sr.keys.policy()
    emit(json, policy)
