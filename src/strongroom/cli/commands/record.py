"""``strongroom record``: put, update, get, list and find records; move one to the trash
and back."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from strongroom.cli.options import ACTOR, DEFAULT_HOME, Home, Json, open_home
from strongroom.cli.output import console, emit, listing, plural, say, to_json
from strongroom.cli.trashing import emit_deleted, emit_restored, restore_by_subject
from strongroom.domain.lifecycle import TrashKind
from strongroom.domain.rules import parse_document

app = typer.Typer(help="Records: JSON documents, sealed one by one.", no_args_is_help=True)


def _document(text: str, limit: int) -> dict[str, Any]:
    """The JSON object given as an argument, or on stdin for "-"."""
    raw: str | bytes = sys.stdin.buffer.read(limit * 4 + 1) if text == "-" else text
    return parse_document(raw, limit)


@app.command("put")
def record_put(
    workspace_id: str,
    project_id: str,
    collection: str,
    document: Annotated[str, typer.Argument(help="A JSON object, or - for stdin.")],
    home: Home = DEFAULT_HOME,
    json: Json = False,
) -> None:
    """Store a new record."""
    with open_home(home) as sr:
        parsed = _document(document, sr.settings.record_max_bytes)
        record = sr.records.put(workspace_id, project_id, collection, parsed, actor=ACTOR)
    emit(json, {"id": record.id}, f"stored record {record.id}")


@app.command("update")
def record_update(
    workspace_id: str,
    project_id: str,
    record_id: str,
    document: Annotated[str, typer.Argument(help="A JSON object, or -.")],
    home: Home = DEFAULT_HOME,
    json: Json = False,
) -> None:
    """Replace a record's document."""
    with open_home(home) as sr:
        parsed = _document(document, sr.settings.record_max_bytes)
        record = sr.records.update(workspace_id, project_id, record_id, parsed, actor=ACTOR)
    emit(json, {"id": record.id, "updated_at": record.updated_at}, f"updated record {record.id}")


@app.command("get")
def record_get(
    workspace_id: str,
    project_id: str,
    record_id: str,
    home: Home = DEFAULT_HOME,
    json: Json = False,
) -> None:
    """Print a record's document."""
    with open_home(home) as sr:
        record = sr.records.get(workspace_id, project_id, record_id, actor=ACTOR)
    emit(json, record.document, lambda: console.print_json(to_json(record.document)))


@app.command("list")
def record_list(
    workspace_id: str,
    project_id: str,
    collection: Annotated[
        str | None, typer.Argument(help="Only this collection (default: every collection).")
    ] = None,
    cursor: Annotated[str | None, typer.Option(help="Continue after this record id.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 100,
    home: Home = DEFAULT_HOME,
    json: Json = False,
) -> None:
    """List the records of a project (or of one collection), a page at a time."""
    with open_home(home) as sr:
        page = sr.records.list(workspace_id, project_id, collection, cursor, limit, actor=ACTOR)
    rows = [{"id": r.id, "collection": r.collection, "document": r.document} for r in page.items]

    def human() -> None:
        listing(rows, "record")
        if page.next_cursor:
            say(f"more: add --cursor {page.next_cursor}")

    emit(json, {"records": rows, "next_cursor": page.next_cursor}, human)


@app.command("find")
def record_find(
    workspace_id: str, field: str, value: str, home: Home = DEFAULT_HOME, json: Json = False
) -> None:
    """Find records by a declared personal-data field (blind index; nothing is decrypted)."""
    with open_home(home) as sr:
        found = sr.records.find(workspace_id, field, value)
    emit(
        json,
        {"record_ids": found},
        "\n".join([f"{plural(len(found), 'record')} with {field} = {value}", *found]),
    )


@app.command("delete")
def record_delete(
    workspace_id: str,
    project_id: str,
    record_id: str,
    home: Home = DEFAULT_HOME,
    json: Json = False,
) -> None:
    """Move a record to the trash."""
    with open_home(home) as sr:
        emit_deleted(json, sr.records.delete(workspace_id, project_id, record_id, actor=ACTOR))


@app.command("restore")
def record_restore(
    workspace_id: str,
    project_id: str,
    record_id: str,
    home: Home = DEFAULT_HOME,
    json: Json = False,
) -> None:
    """Bring a record back from the trash."""
    with open_home(home) as sr:
        emit_restored(
            json, restore_by_subject(sr, workspace_id, TrashKind.RECORD, record_id, project_id)
        )
