"""``strongroom export``: write a workspace's export ZIP, and verify one."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich import filesize
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from strongroom.cli.options import ACTOR, DEFAULT_HOME, Home, Json, open_home
from strongroom.cli.output import emit, err_console, plural
from strongroom.errors import NotFound
from strongroom.export.verify import verify_archive

app = typer.Typer(
    help="Export a workspace as a ZIP with a checksummed manifest; verify an export.",
    no_args_is_help=True,
)


OnEntry = Callable[[int, int], None]
OnBytes = Callable[[int], None]


@contextmanager
def entries_bar(enabled: bool) -> Iterator[tuple[OnEntry, OnBytes]]:
    """A progress bar on stderr: archive entries done out of all, and the bytes written so
    far with their rate, which move during a large file too. A no-op with --json or off a
    terminal. Yields (on each entry, on each chunk of bytes)."""
    if not enabled or not err_console.is_terminal:
        yield (lambda _done, _total: None), (lambda _n: None)
        return
    columns = (
        TextColumn("exporting"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("entries"),
        TextColumn("{task.fields[written]}"),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err_console, transient=True) as progress:
        task = progress.add_task("export", total=None, written="0 bytes", rate="")
        written = 0
        started = time.monotonic()

        def on_bytes(n: int) -> None:
            nonlocal written
            written += n
            seconds = time.monotonic() - started
            rate = f"{filesize.decimal(int(written / seconds))}/s" if seconds > 0 else ""
            progress.update(task, written=filesize.decimal(written), rate=rate)

        yield (lambda done, total: progress.update(task, completed=done, total=total)), on_bytes


@app.command("create")
def export_create(
    workspace_id: str,
    output: Annotated[Path, typer.Option("-o", "--output", help="The ZIP file to write.")],
    home: Home = DEFAULT_HOME,
    json: Json = False,
) -> None:
    """Export a workspace (records as JSON Lines and CSV, files, members, audit events) into
    a ZIP; the file appears only once it is complete."""
    if not output.parent.is_dir():
        raise NotFound(f"no such folder: {output.parent}")
    with open_home(home) as sr, entries_bar(not json) as (on_entry, on_bytes):
        summary = sr.exports.write(workspace_id, output, on_entry, actor=ACTOR, on_bytes=on_bytes)
    counts = summary.counts
    emit(
        json,
        {"path": str(output), **summary.as_json()},
        f"exported {plural(counts['records'], 'record')} and {plural(counts['files'], 'file')} "
        f"({plural(summary.entries, 'entry', 'entries')}, {plural(summary.size, 'byte')}) to "
        f"{output}\nsha256 {summary.sha256}",
    )


@app.command("verify")
def export_verify(
    path: Annotated[Path, typer.Argument(help="The export ZIP to check.")],
    json: Json = False,
) -> None:
    """Check an export against its manifest: every entry present, none extra, each size and
    SHA-256 right. Exit 1 naming the first bad entry; exit 2 if the file is not a ZIP."""
    verified = verify_file(path)
    emit(
        json,
        {"ok": True, "path": str(path), **verified},
        f"export verified: {plural(int(str(verified['entries'])), 'entry', 'entries')} of "
        f"workspace {verified['workspace_id']}",
    )


def verify_file(path: Path) -> dict[str, object]:
    v = verify_archive(path)  # no home, no database: an export is checked on its own
    return {
        "workspace_id": v.workspace_id,
        "created_at": v.created_at,
        "format_version": v.format_version,
        "entries": v.entries,
        "counts": v.counts,
    }
