"""``strongroom hold``: set and clear legal holds, which block purges while set."""

from __future__ import annotations

from typing import Annotated

import typer

from strongroom.cli.options import ACTOR, DEFAULT_HOME, Home, Json, open_home
from strongroom.cli.output import emit, plural

app = typer.Typer(help="Legal holds: block purges while set.", no_args_is_help=True)


@app.command("set")
def hold_set(
    workspace_id: str,
    reason: Annotated[str, typer.Option("--reason", help="Why (kept encrypted).")],
    project_id: Annotated[str | None, typer.Argument(help="Only this project.")] = None,
    home: Home = DEFAULT_HOME,
    json: Json = False,
) -> None:
    """Block every purge of the workspace (or one project) until cleared."""
    with open_home(home) as sr:
        hold_id = sr.plans.set_hold(workspace_id, project_id, reason, actor=ACTOR)
    emit(json, {"id": hold_id}, f"hold {hold_id} set")


@app.command("clear")
def hold_clear(
    workspace_id: str,
    reason: Annotated[str, typer.Option("--reason", help="Why it is cleared (kept encrypted).")],
    project_id: Annotated[str | None, typer.Argument(help="Only this project's hold.")] = None,
    home: Home = DEFAULT_HOME,
    json: Json = False,
) -> None:
    """Clear a hold; overdue purges run on the next worker pass."""
    with open_home(home) as sr:
        cleared = sr.plans.clear_hold(workspace_id, project_id, reason, actor=ACTOR)
    emit(
        json,
        {"cleared": cleared},
        "\n".join([f"cleared {plural(len(cleared), 'hold')}", *cleared]),
    )
