"""``strongroom billing``: billing events that move a workspace's plan."""

from __future__ import annotations

from typing import Annotated

import typer

from strongroom.cli.options import ACTOR, DEFAULT_HOME, Home, Json, open_home
from strongroom.cli.output import emit, when

app = typer.Typer(help="Billing events that move a workspace's plan.", no_args_is_help=True)


@app.command("event")
def billing_event(
    workspace_id: str,
    kind: Annotated[str, typer.Argument(help="trial_started, activated, cancelled, reactivated")],
    event_id: Annotated[
        str, typer.Option("--event-id", help="Unique per event; a repeat is ignored.")
    ],
    trial_days: Annotated[
        int | None, typer.Option("--trial-days", min=1, max=365, help="For trial_started.")
    ] = None,
    home: Home = DEFAULT_HOME,
    json: Json = False,
) -> None:
    """Apply a billing event to a workspace's plan (idempotent by event id)."""
    with open_home(home) as sr:
        status = sr.plans.billing_event(workspace_id, kind, event_id, trial_days, actor=ACTOR)
    due = when(status.purge_due_at)
    emit(json, status.as_json(), f"{workspace_id}: {status.state.value}; purge due: {due}")
