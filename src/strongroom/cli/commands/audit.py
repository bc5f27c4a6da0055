"""``strongroom audit``: verify the hash-chained audit log and list its events."""

from __future__ import annotations

from typing import Annotated

import typer

from strongroom.cli.options import DEFAULT_HOME, Home, Json, open_home
from strongroom.cli.output import emit, listing, plural, say

app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)


@app.command("verify")
def audit_verify(home: Home = DEFAULT_HOME, json: Json = False) -> None:
    """Check the audit hash chain; exit 1 naming the first bad position."""
    with open_home(home) as sr:
        count = sr.audit.verify()
    emit(json, {"ok": True, "events": count}, f"audit chain verified: {plural(count, 'event')}")


@app.command("events")
def audit_events(
    workspace: Annotated[str | None, typer.Option(help="Only this workspace.")] = None,
    after: Annotated[int, typer.Option(help="Events after this sequence number.")] = 0,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 100,
    home: Home = DEFAULT_HOME,
    json: Json = False,
) -> None:
    """List audit events, oldest first."""
    with open_home(home) as sr:
        events = sr.audit.events(workspace, after, limit)
    rows = [e.as_json() for e in events]
    next_after = events[-1].seq if len(events) == limit else None

    def human() -> None:
        listing(
            [
                {
                    "seq": r["seq"],
                    "at": r["at"],
                    "actor": r["actor"],
                    "action": r["action"],
                    "workspace": r["workspace_id"],
                }
                for r in rows
            ],
            "event",
        )
        if next_after is not None:
            say(f"more: add --after {next_after}")

    emit(json, {"events": rows, "next_after": next_after}, human)
