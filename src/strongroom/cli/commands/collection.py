"""``strongroom collection``: declare collections and their personal-data fields."""

from __future__ import annotations

from typing import Annotated

import typer

from strongroom.cli.options import ACTOR, DEFAULT_HOME, Home, Json, open_home
from strongroom.cli.output import emit, listing

app = typer.Typer(help="Collections and their personal-data fields.", no_args_is_help=True)


@app.command("declare")
def collection_declare(
    workspace_id: str,
    name: str,
    personal: Annotated[
        list[str] | None,
        typer.Option(
            "--personal", help="A personal-data field (repeat for more); gets a blind index."
        ),
    ] = None,
    home: Home = DEFAULT_HOME,
    json: Json = False,
) -> None:
    """Declare a collection and which of its fields are personal data."""
    with open_home(home) as sr:
        declared = sr.records.declare_collection(workspace_id, name, personal or [], actor=ACTOR)
    fields = sorted(declared.personal_fields)
    emit(
        json,
        {"collection": declared.name, "personal_fields": fields},
        f"declared collection {declared.name}; personal fields: {', '.join(fields) or 'none'}",
    )


@app.command("list")
def collection_list(workspace_id: str, home: Home = DEFAULT_HOME, json: Json = False) -> None:
    """List a workspace's declared collections and their personal-data fields."""
    with open_home(home) as sr:
        declared = sr.records.collections(workspace_id)
    rows = [{"name": c.name, "personal_fields": sorted(c.personal_fields)} for c in declared]
    emit(json, {"collections": rows}, lambda: listing(rows, "collection"))
