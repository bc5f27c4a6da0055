"""``strongroom file``: put, get (to a path or stdout) and list files; move one to the
trash and back."""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, BinaryIO

import typer

from strongroom.cli.options import ACTOR, DEFAULT_HOME, Home, Json, open_home
from strongroom.cli.output import emit, listing, plural, progress_bar
from strongroom.cli.trashing import emit_deleted, emit_restored, restore_by_subject
from strongroom.domain.lifecycle import TrashKind
from strongroom.durable_file import WRITE_BUFFER_BYTES
from strongroom.errors import InvalidInput, NotFound

app = typer.Typer(help="Files: binary attachments, streamed.", no_args_is_help=True)


@app.command("put")
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


@app.command("get")
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


@app.command("list")
def file_list(
    workspace_id: str, project_id: str, home: Home = DEFAULT_HOME, json: Json = False
) -> None:
    """List the files of a project."""
    with open_home(home) as sr:
        items = sr.files.list(workspace_id, project_id, actor=ACTOR)
    rows = [{"id": f.id, "name": f.name, "size": f.size, "created_at": f.created_at} for f in items]
    emit(json, {"files": rows}, lambda: listing(rows, "file"))


@app.command("delete")
def file_delete(
    workspace_id: str,
    project_id: str,
    file_id: str,
    home: Home = DEFAULT_HOME,
    json: Json = False,
) -> None:
    """Move a file to the trash."""
    with open_home(home) as sr:
        emit_deleted(json, sr.files.delete(workspace_id, project_id, file_id, actor=ACTOR))


@app.command("restore")
def file_restore(
    workspace_id: str,
    project_id: str,
    file_id: str,
    home: Home = DEFAULT_HOME,
    json: Json = False,
) -> None:
    """Bring a file back from the trash."""
    with open_home(home) as sr:
        emit_restored(
            json, restore_by_subject(sr, workspace_id, TrashKind.FILE, file_id, project_id)
        )
