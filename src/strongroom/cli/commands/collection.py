"""``strongroom collection``: declare collections and their personal-data fields."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from strongroom.cli.options import ACTOR, DEFAULT_HOME, Home, Json, open_home
from strongroom.cli.output import emit, listing
from strongroom.domain.model import Collection

app = typer.Typer(help="Collections and their personal-data fields.", no_args_is_help=True)


@app.command("declare")
def collection_declare(
    workspace_id: str,
    name: str,
    personal: Annotated[
        list[str] | None,
        typer.Option(
            "--personal",
            help="A personal field, FIELD or FIELD:KIND (email, phone, name, identifier); "
            "a path may be nested (candidate.email) or in an array (refs[].email). "
            "Without a kind, a field named email, phone or name (or ending _email, _phone, "
            "_name) has that kind; any other is an identifier. Repeat for more.",
        ),
    ] = None,
    file: Annotated[
        list[str] | None,
        typer.Option(
            "--file", help="A field whose value names a file of the project (repeat for more)."
        ),
    ] = None,
    home: Home = DEFAULT_HOME,
    json: Json = False,
) -> None:
    """Declare a collection, its personal fields (blind-indexed) and its file fields."""
    with open_home(home) as sr:
        declared = sr.records.declare_collection(
            workspace_id, name, personal or [], actor=ACTOR, file_fields=file or []
        )
    fields = ", ".join(f.declaration for f in declared.personal) or "none"
    files = f"; file fields: {', '.join(declared.file_fields)}" if declared.file_fields else ""
    emit(
        json,
        declared.as_json(),
        f"declared collection {declared.name}; personal fields: {fields}{files}",
    )


@app.command("list")
def collection_list(workspace_id: str, home: Home = DEFAULT_HOME, json: Json = False) -> None:
    """List a workspace's declared collections, their personal and file fields."""
    with open_home(home) as sr:
        declared = sr.records.collections(workspace_id)
    rows = [
        {
            "name": c.name,
            "personal_fields": [f.declaration for f in c.personal],
            "file_fields": list(c.file_fields),
        }
        for c in declared
    ]
    emit(
        json,
        {"collections": [_listed(c) for c in declared]},
        lambda: listing(rows, "collection"),
    )


def _listed(collection: Collection) -> dict[str, Any]:
    """A collection in `collection list --json`: its name under "name", as it always was."""
    data = collection.as_json()
    return {"name": data.pop("collection"), **data}
