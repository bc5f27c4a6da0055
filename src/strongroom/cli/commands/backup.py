"""``strongroom backup``: create, list, verify, restore and drill encrypted backups."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from strongroom.backup.service import BackupEntry
from strongroom.cli.exit_codes import EXIT_FINDING
from strongroom.cli.options import DEFAULT_HOME, Home, Json, open_home
from strongroom.cli.output import (
    console,
    counts,
    emit,
    err_console,
    plural,
    progress_bar,
    say,
    table,
    when,
)
from strongroom.errors import InvalidInput

app = typer.Typer(
    help="Encrypted backups: create, list, verify, restore, drill.", no_args_is_help=True
)


def _size(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return str(n)


def _restorable(entry: BackupEntry) -> str | datetime:
    """A data backup's restorable-until date; keystore backups restore with a data backup."""
    if entry.kind != "data":
        return "with a data backup"
    if entry.restorable_until is None:
        return "no: no keystore backup"
    return entry.restorable_until


@app.command("create")
def create(home: Home = DEFAULT_HOME, json: Json = False) -> None:
    """Take a consistent, encrypted backup (data, then keystore) while the server runs."""
    with open_home(home) as sr, progress_bar("backing up", None, not json) as advance:
        entry = sr.backups.create(on_progress=advance)
    created, expires = when(entry.created_at), when(entry.expires_at)
    emit(
        json,
        entry.as_json(),
        f"backup {entry.id} complete: {_size(entry.size)} ({_size(entry.new_bytes)} new), "
        f"{plural(entry.parts, 'part')}, keystore backup {entry.keystore_backup_id}; taken "
        f"{created}, expires {expires}",
    )


@app.command("list")
def list_backups(home: Home = DEFAULT_HOME, json: Json = False) -> None:
    """Complete backups (data and keystore) with their time, size, expiry and, for data
    backups, until when they can be restored."""
    with open_home(home) as sr:
        entries = sr.backups.list_all()

    rows = [
        {
            "id": e.id,
            "kind": e.kind,
            "taken": e.created_at,
            "size": _size(e.size),
            "expires": e.expires_at,
            "restorable until": _restorable(e),
            "parts": e.parts,
        }
        for e in entries
    ]

    def human() -> None:
        if rows:
            table(rows)
        else:
            say("no backups yet; run: strongroom backup create")

    emit(json, {"backups": [e.as_json() for e in entries]}, human)


@app.command("verify")
def verify(backup_id: str, home: Home = DEFAULT_HOME, json: Json = False) -> None:
    """Decrypt and check every part of a backup; exit 1 naming each bad part."""
    with open_home(home) as sr:
        report = sr.backups.verify(backup_id)
    if report.ok:
        emit(
            json,
            report.as_json(),
            f"backup {backup_id} verified: {plural(report.parts, 'part')}, {_size(report.bytes)}",
        )
        return
    emit(json, report.as_json(), lambda: None)
    if not json:
        for bad in report.bad_parts:
            err_console.print(
                f"[bold red]bad part:[/] {escape(bad['part'])}: {escape(bad['problem'])}",
                highlight=False,
            )
    raise typer.Exit(EXIT_FINDING)


@app.command("restore")
def restore(
    backup_id: str,
    to: Annotated[
        Path | None, typer.Option("--to", help="Restore into this new home folder.")
    ] = None,
    workspace: Annotated[
        str | None,
        typer.Option("--workspace", help="Restore this workspace's data into the live home."),
    ] = None,
    database_url: Annotated[
        str, typer.Option(help="With --to: an empty PostgreSQL data store.")
    ] = "",
    keystore_url: Annotated[
        str, typer.Option(help="With --to: an empty PostgreSQL keystore.")
    ] = "",
    home: Home = DEFAULT_HOME,
    json: Json = False,
) -> None:
    """Restore a backup into a new home (--to DIR), then replay the deletion ledger; or one
    workspace into the live home (--workspace WS), leaving out what the ledger purged."""
    if (to is None) == (workspace is None):
        raise InvalidInput("give exactly one of --to DIR or --workspace WS")
    with open_home(home) as sr:
        if workspace is not None:
            ws = sr.backups.restore_workspace(backup_id, workspace)
            emit(
                json,
                ws.as_json(),
                f"restored workspace {workspace} from {backup_id}: {counts(ws.restored)}; left "
                f"out {ws.left_out_purged} purged, {ws.left_out_without_key} without a key",
            )
            return
        assert to is not None
        with progress_bar("restoring", None, not json) as advance:
            report = sr.backups.restore_home(
                backup_id,
                to,
                database_url=database_url,
                keystore_url=keystore_url,
                on_progress=advance,
            )
    replayed = sum(report.replayed.values())
    emit(
        json,
        report.as_json(),
        f"restored {backup_id} into {report.home} in {report.seconds:.1f} s: "
        f"{counts(report.counts)}; ledger replayed ({plural(replayed, 'tombstone')})",
    )


@app.command("drill")
def drill(
    scratch: Annotated[
        Path | None, typer.Option(help="Folder for the temporary home (default: the system's).")
    ] = None,
    home: Home = DEFAULT_HOME,
    json: Json = False,
) -> None:
    """Restore the newest backup into a temporary home, verify it, compare it with the live
    store and print a report; exit 1 if anything failed."""
    with open_home(home) as sr:
        report = sr.backups.drill(scratch)

    def human() -> None:
        verdict = "[green]PASSED[/]" if report.ok else "[bold red]FAILED[/]"
        console.print(
            f"restore drill {verdict}: backup {report.backup_id}", highlight=False, soft_wrap=True
        )
        console.print(
            f"  taken {when(report.backup_created_at)} ({report.age_hours:.1f} h ago); "
            f"{plural(report.parts_verified, 'part')} verified ({_size(report.bytes_verified)}); "
            f"restored in {report.restore_seconds:.2f} s; ledger replayed: "
            f"{counts(report.ledger_replayed)}",
            highlight=False,
            soft_wrap=True,
        )
        console.print(
            f"  audit chain: {plural(report.audit_events_verified, 'event')} verified; "
            f"decrypted: {counts(report.decrypted)}",
            highlight=False,
            soft_wrap=True,
        )
        if report.counts:
            table = Table("", *report.counts["backup"])
            for row, values in report.counts.items():
                table.add_row(row, *(str(v) for v in values.values()))
            console.print(table)
        for problem in report.problems:
            console.print(f"  [bold red]problem:[/] {escape(problem)}", highlight=False)

    emit(json, report.as_json(), human)
    if not report.ok:
        raise typer.Exit(EXIT_FINDING)
