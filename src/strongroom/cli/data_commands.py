"""Commands over customer data: workspaces, projects, collections, records and files."""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, BinaryIO

import typer

from strongroom.bootstrap import Strongroom
from strongroom.cli.common import ACTOR, DEFAULT_HOME, Home, Json, open_home
from strongroom.cli.output import (
    console,
    emit,
    listing,
    plural,
    progress_bar,
    say,
    show,
    to_json,
)
from strongroom.domain.model import WorkspaceState
from strongroom.domain.rules import parse_document
from strongroom.durable_file import WRITE_BUFFER_BYTES
from strongroom.errors import InvalidInput, NotFound

workspace_app = typer.Typer(help="Workspaces (customers) and their members.", no_args_is_help=True)
project_app = typer.Typer(help="Projects: containers of records and files.", no_args_is_help=True)
collection_app = typer.Typer(
    help="Collections and their personal-data fields.", no_args_is_help=True
)
record_app = typer.Typer(help="Records: JSON documents, sealed one by one.", no_args_is_help=True)
file_app = typer.Typer(help="Files: binary attachments, streamed.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(workspace_app, name="workspace")
    app.add_typer(project_app, name="project")
    app.add_typer(collection_app, name="collection")
    app.add_typer(record_app, name="record")
    app.add_typer(file_app, name="file")


# workspaces ---------------------------------------------------------------------------
@workspace_app.command("create")
def workspace_create(
    name: str,
    owner: Annotated[str, typer.Option("--owner", help="Email of the owner.")],
    home: Home = DEFAULT_HOME,
    json: Json = False,
) -> None:
    """Create a workspace with its keys and an owner."""
    with open_home(home) as sr:
        ws = sr.workspaces.create(name, owner, actor=ACTOR)
    emit(json, {"id": ws.id, "state": ws.state.value}, f"created workspace {ws.id}")


@workspace_app.command("list")
def workspace_list(home: Home = DEFAULT_HOME, json: Json = False) -> None:
    """List workspaces."""
    with open_home(home) as sr:
        items = sr.workspaces.list(actor=ACTOR)
    rows = [
        {"id": w.id, "name": w.name, "state": w.state.value, "created_at": w.created_at}
        for w in items
    ]
    emit(json, {"workspaces": rows}, lambda: listing(rows, "workspace"))


@workspace_app.command("show")
def workspace_show(workspace_id: str, home: Home = DEFAULT_HOME, json: Json = False) -> None:
    """Show a workspace: its plan state and deadlines, holds, members and projects. A
    deleted workspace whose purge waits (a legal hold) shows its state, holds and due time."""
    with open_home(home) as sr:
        plan = sr.plans.status(workspace_id, closed_too=True)
        if plan.state == WorkspaceState.CLOSED:
            data: dict[str, Any] = {"id": workspace_id, **plan.as_json()}
        else:
            data = _workspace_details(sr, workspace_id, plan.as_json())
    data.pop("workspace_id", None)
    emit(json, data, lambda: show(data))


def _workspace_details(sr: Strongroom, workspace_id: str, plan: dict[str, Any]) -> dict[str, Any]:
    ws = sr.workspaces.get(workspace_id, actor=ACTOR)
    members = sr.workspaces.members(workspace_id, actor=ACTOR)
    projects = sr.projects.list(workspace_id, actor=ACTOR)
    trash = sr.trash.list(workspace_id).items
    return {
        "id": ws.id,
        "name": ws.name,
        "created_at": ws.created_at,
        **plan,
        "trash_deadlines": [
            {
                "entry_id": e.id,
                "kind": e.kind.value,
                "subject_id": e.subject_id,
                "restore_until": e.restore_until,
            }
            for e in trash
        ],
        "members": [
            {"user_id": m.user_id, "email": m.email, "role": m.role.value} for m in members
        ],
        "projects": [{"id": p.id, "name": p.name} for p in projects],
    }


@workspace_app.command("add-member")
def workspace_add_member(
    workspace_id: str,
    email: str,
    role: Annotated[str, typer.Option("--role", help="owner, admin, member or viewer")] = "member",
    home: Home = DEFAULT_HOME,
    json: Json = False,
) -> None:
    """Add a member with a role."""
    with open_home(home) as sr:
        member = sr.workspaces.add_member(workspace_id, email, role, actor=ACTOR)
    emit(
        json,
        {"user_id": member.user_id, "role": member.role.value},
        f"added {member.user_id} as {member.role.value}",
    )


# projects -----------------------------------------------------------------------------
@project_app.command("create")
def project_create(
    workspace_id: str, name: str, home: Home = DEFAULT_HOME, json: Json = False
) -> None:
    """Create a project with its own data key."""
    with open_home(home) as sr:
        project = sr.projects.create(workspace_id, name, actor=ACTOR)
    emit(json, {"id": project.id}, f"created project {project.id}")


@project_app.command("list")
def project_list(workspace_id: str, home: Home = DEFAULT_HOME, json: Json = False) -> None:
    """List the projects of a workspace."""
    with open_home(home) as sr:
        items = sr.projects.list(workspace_id, actor=ACTOR)
    rows = [{"id": p.id, "name": p.name, "created_at": p.created_at} for p in items]
    emit(json, {"projects": rows}, lambda: listing(rows, "project"))


# collections --------------------------------------------------------------------------
@collection_app.command("declare")
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


@collection_app.command("list")
def collection_list(workspace_id: str, home: Home = DEFAULT_HOME, json: Json = False) -> None:
    """List a workspace's declared collections and their personal-data fields."""
    with open_home(home) as sr:
        declared = sr.records.collections(workspace_id)
    rows = [{"name": c.name, "personal_fields": sorted(c.personal_fields)} for c in declared]
    emit(json, {"collections": rows}, lambda: listing(rows, "collection"))


# records ------------------------------------------------------------------------------
def _document(text: str, limit: int) -> dict[str, Any]:
    """The JSON object given as an argument, or on stdin for "-"."""
    raw: str | bytes = sys.stdin.buffer.read(limit * 4 + 1) if text == "-" else text
    return parse_document(raw, limit)


@record_app.command("put")
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
        record_id = sr.records.put(workspace_id, project_id, collection, parsed, actor=ACTOR)
    emit(json, {"id": record_id}, f"stored record {record_id}")


@record_app.command("update")
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


@record_app.command("get")
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


@record_app.command("list")
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


@record_app.command("find")
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


# files --------------------------------------------------------------------------------
@file_app.command("put")
def file_put(
    workspace_id: str,
    project_id: str,
    path: Annotated[Path, typer.Argument(help="The file to store.")],
    name: Annotated[str | None, typer.Option(help="Name to store (default: the file's).")] = None,
    home: Home = DEFAULT_HOME,
    json: Json = False,
) -> None:
    """Encrypt a file into the blob store."""
    if not path.is_file():
        raise InvalidInput(f"no such file: {path}")
    with (
        open_home(home) as sr,
        open(path, "rb") as source,
        progress_bar("encrypting", path.stat().st_size, not json) as advance,
    ):
        stored = sr.files.put(
            workspace_id, project_id, name or path.name, source, actor=ACTOR, on_progress=advance
        )
    emit(json, {"id": stored.id, "size": stored.size}, f"stored file {stored.id}")


@file_app.command("get")
def file_get(
    workspace_id: str,
    project_id: str,
    file_id: str,
    output: Annotated[
        Path, typer.Option("-o", "--output", help="Where to write the file; - for stdout.")
    ],
    home: Home = DEFAULT_HOME,
    json: Json = False,
) -> None:
    """Decrypt a file; nothing is written unless every segment authenticates (to stdout,
    a segment that fails stops the output before its end, with exit status 2)."""
    if str(output) == STDOUT:
        if json:
            raise InvalidInput("--json cannot be used with -o -: stdout carries the file")
        _file_to_stdout(workspace_id, project_id, file_id, home)
        return
    if not output.parent.is_dir():
        raise NotFound(f"no such folder: {output.parent}")
    with open_home(home) as sr:
        info = sr.files.info(workspace_id, project_id, file_id, actor=ACTOR)
        with progress_bar("decrypting", info.size, not json) as advance:
            sr.files.get_to_path(
                workspace_id, project_id, file_id, output, actor=ACTOR, on_progress=advance
            )
    emit(
        json,
        {"id": info.id, "name": info.name, "size": info.size, "path": str(output)},
        f"wrote {plural(info.size, 'byte')} of {info.id} to {output}",
    )


STDOUT = "-"


@contextmanager
def stdout_bytes() -> Iterator[BinaryIO]:
    """stdout for bytes, written a MiB at a time (``sys.stdout.buffer`` would pass each
    64 KiB segment to the kernel on its own)."""
    sys.stdout.flush()
    try:
        fd = os.dup(sys.stdout.fileno())
    except (AttributeError, OSError, io.UnsupportedOperation):  # not a real file descriptor
        yield sys.stdout.buffer
        return
    with os.fdopen(fd, "wb", buffering=WRITE_BUFFER_BYTES) as out:
        yield out


def _file_to_stdout(workspace_id: str, project_id: str, file_id: str, home: Path) -> None:
    """The plaintext on stdout, in large writes; the last segment is held back until the
    size checks out (Files.stream), so a cut-short file never ends as if complete."""
    with open_home(home) as sr:
        info, chunks = sr.files.stream(workspace_id, project_id, file_id, actor=ACTOR)
        with progress_bar("decrypting", info.size, True) as advance, stdout_bytes() as out:
            for chunk in chunks:
                out.write(chunk)
                advance(len(chunk))


@file_app.command("list")
def file_list(
    workspace_id: str, project_id: str, home: Home = DEFAULT_HOME, json: Json = False
) -> None:
    """List the files of a project."""
    with open_home(home) as sr:
        items = sr.files.list(workspace_id, project_id, actor=ACTOR)
    rows = [{"id": f.id, "name": f.name, "size": f.size, "created_at": f.created_at} for f in items]
    emit(json, {"files": rows}, lambda: listing(rows, "file"))
