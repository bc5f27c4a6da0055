"""``strongroom trash``: list what is in the trash, purge an entry now."""

from __future__ import annotations

import json as json_lib
from typing import Annotated

import typer

from strongroom.bootstrap import Strongroom
from strongroom.cli.options import ACTOR, DEFAULT_HOME, Home, Json, open_home
from strongroom.cli.output import emit, listing, say
from strongroom.cli.trashing import entry_json
from strongroom.errors import InvalidInput

app = typer.Typer(help="The trash: deleted projects, records and files.", no_args_is_help=True)


@app.command("list")
def trash_list(
    workspace_id: str,
    cursor: Annotated[str | None, typer.Option(help="Continue after this entry id.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 100,
    home: Home = DEFAULT_HOME,
    json: Json = False,
) -> None:
    """List what is in the trash, with each entry's restore deadline."""
    with open_home(home) as sr:
        page = sr.trash.list(workspace_id, cursor, limit)
    data = {"entries": [entry_json(e) for e in page.items], "next_cursor": page.next_cursor}
    rows = [
        {
            "entry": e.id,
            "kind": e.kind.value,
            "id": e.subject_id,
            "deleted_at": e.deleted_at,
            "by": e.deleted_by,
            "restore_until": e.restore_until,
        }
        for e in page.items
    ]

    def human() -> None:
        listing(rows, "trash entry", "trash entries")
        if page.next_cursor:
            say(f"more: add --cursor {page.next_cursor}")

    emit(json, data, human)


@app.command("purge")
def trash_purge(
    workspace_id: str,
    entry_id: str,
    confirm: Annotated[
        bool, typer.Option("--confirm", help="Required: the entry cannot come back.")
    ] = False,
    home: Home = DEFAULT_HOME,
    json: Json = False,
) -> None:
    """Delete a trash entry forever, now (owners' "delete forever")."""
    if not confirm:
        raise InvalidInput("purging cannot be undone: add --confirm to delete the entry forever")
    with open_home(home) as sr:
        deadline_id = sr.trash.purge_now(workspace_id, entry_id, actor=ACTOR)
        report = sr.worker.run_once(only=deadline_id)
        done = deadline_id in report.done
        certificate = _certificate_of(sr, entry_id) if done else None
    emit(
        json,
        {"entry_id": entry_id, "purged": done, "certificate_id": certificate},
        f"purged {entry_id}; certificate {certificate}"
        if done
        else f"purge of {entry_id} scheduled (held or busy); run: strongroom lifecycle run",
    )


def _certificate_of(sr: Strongroom, entry_id: str) -> str | None:
    with sr.ctx.store.read() as uow:
        finished = uow.deadlines.finished_for(entry_id)
    for row in finished:
        value = json_lib.loads(row.progress).get("certificate_id")
        if value:
            return str(value)
    return None
