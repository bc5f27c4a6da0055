"""``strongroom inbox``: the request inbox (support, security, privacy) on its
first-response clock: list, show, reply (by mail), note, assign."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from strongroom.cli.options import ACTOR, DEFAULT_HOME, Home, Json, open_home
from strongroom.cli.output import emit, listing, say, show
from strongroom.domain.inbox import MAX_BODY_CHARS
from strongroom.errors import InvalidInput
from strongroom.services.inbox import Entry, InboxRequest

app = typer.Typer(
    help="The request inbox: support, security and privacy requests, answered by mail.",
    no_args_is_help=True,
)
#: A message file is read up to this many bytes (4 per character at most in UTF-8).
MAX_FILE_BYTES = MAX_BODY_CHARS * 4

Message = Annotated[str | None, typer.Option("--message", "-m", help="The text.")]


def _row(r: InboxRequest) -> dict[str, Any]:
    return {
        "id": r.id,
        "kind": r.kind,
        "state": r.state,
        "due_at": r.due_at,
        "time_left": r.time_left,
        "assigned_to": r.assigned_to,
        "subject": r.subject,
    }


def _entry(e: Entry) -> dict[str, Any]:
    sent = {"sent": e.sent} if e.kind.value == "reply" else {}
    return {
        "id": e.id,
        "kind": e.kind,
        "author": e.author,
        "at": e.at,
        **sent,
        "detail": e.detail,
        "text": e.text,
    }


def _text(message: str | None, file: Path | None) -> str:
    """The text of ``--message`` or ``--file`` (exactly one; a file of UTF-8 text)."""
    if (message is None) == (file is None):
        raise InvalidInput("give --message or --file")
    if message is not None:
        return message
    assert file is not None
    try:
        with file.open("rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)
    except OSError as failed:
        raise InvalidInput(f"cannot read {file}: {failed.strerror}") from None
    if len(data) > MAX_FILE_BYTES:
        raise InvalidInput(f"{file} is over {MAX_FILE_BYTES} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput(f"{file} is not UTF-8 text") from None


@app.command("list")
def inbox_list(
    open_only: Annotated[
        bool, typer.Option("--open", help="Only requests not answered yet.")
    ] = False,
    kind: Annotated[
        str | None, typer.Option("--kind", help="support, security or privacy.")
    ] = None,
    home: Home = DEFAULT_HOME,
    json: Json = False,
) -> None:
    """Requests, open ones first by due time (overdue first), with the time left."""
    with open_home(home) as sr:
        found = sr.inbox.list(kind, "open" if open_only else None, actor=ACTOR)
    rows = [_row(r) for r in found]
    emit(json, {"requests": rows}, lambda: listing(rows, "request"))


@app.command("show")
def inbox_show(request_id: str, home: Home = DEFAULT_HOME, json: Json = False) -> None:
    """One request, decrypted, with its replies, notes and assignments."""
    with open_home(home) as sr:
        r = sr.inbox.show(request_id, actor=ACTOR)
    data = {
        **_row(r),
        "email": r.email,
        "received_at": r.received_at,
        "answered_at": r.answered_at,
        "warned_at": r.warned_at,
        "breached_at": r.breached_at,
        "message": r.body,
        "entries": [_entry(e) for e in r.entries],
    }
    emit(json, data, lambda: show(data))


@app.command("reply")
def inbox_reply(
    request_id: str,
    message: Message = None,
    file: Annotated[Path | None, typer.Option("--file", help="Read the reply from a file.")] = None,
    home: Home = DEFAULT_HOME,
    json: Json = False,
) -> None:
    """Mail a reply to the requester; only a reply the SMTP server took stops the clock."""
    text = _text(message, file)
    with open_home(home) as sr:
        entry = sr.inbox.reply(request_id, text, ACTOR)
    emit(json, _entry(entry), f"reply {entry.id} sent to the requester ({entry.message_id})")


@app.command("note")
def inbox_note(
    request_id: str,
    message: Message = None,
    file: Annotated[Path | None, typer.Option("--file", help="Read the note from a file.")] = None,
    home: Home = DEFAULT_HOME,
    json: Json = False,
) -> None:
    """Add an operators' note (not sent; the clock runs on)."""
    with open_home(home) as sr:
        entry = sr.inbox.note(request_id, _text(message, file), ACTOR)
    emit(json, _entry(entry), f"note {entry.id} added")


@app.command("assign")
def inbox_assign(
    request_id: str,
    to: Annotated[str, typer.Option("--to", help="An operator token's id (tok_…).")],
    home: Home = DEFAULT_HOME,
    json: Json = False,
) -> None:
    """Give the request to an operator (the clock runs on)."""
    with open_home(home) as sr:
        entry = sr.inbox.assign(request_id, to, ACTOR)
    emit(json, _entry(entry), lambda: say(f"assigned to {to}"))
