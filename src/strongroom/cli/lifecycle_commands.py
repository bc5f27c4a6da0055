"""Commands of the lifecycle: delete and restore, the trash, plans and billing events,
legal holds, the worker, and deletion certificates."""

from __future__ import annotations

import json as json_lib
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from strongroom.bootstrap import Strongroom
from strongroom.cli.common import ACTOR, DEFAULT_HOME, Home, Json, open_home
from strongroom.cli.data_commands import file_app, project_app, record_app, workspace_app
from strongroom.cli.output import (
    EXIT_FINDING,
    console,
    emit,
    err_console,
    listing,
    plural,
    say,
    table,
    when,
)
from strongroom.domain.lifecycle import DeadlineAction, TrashKind
from strongroom.errors import IntegrityFailure, InvalidInput
from strongroom.services.plans import ScheduledPurge
from strongroom.services.trash import TrashEntry

trash_app = typer.Typer(
    help="The trash: deleted projects, records and files.", no_args_is_help=True
)
billing_app = typer.Typer(help="Billing events that move a workspace's plan.", no_args_is_help=True)
hold_app = typer.Typer(help="Legal holds: block purges while set.", no_args_is_help=True)
lifecycle_app = typer.Typer(help="Due work: purges and their schedule.", no_args_is_help=True)
certificate_app = typer.Typer(help="Deletion certificates.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(trash_app, name="trash")
    app.add_typer(billing_app, name="billing")
    app.add_typer(hold_app, name="hold")
    app.add_typer(lifecycle_app, name="lifecycle")
    app.add_typer(certificate_app, name="certificate")
    app.command("worker")(worker)


def _entry_json(e: TrashEntry) -> dict[str, Any]:
    return {
        "id": e.id,
        "kind": e.kind.value,
        "subject_id": e.subject_id,
        "project_id": e.project_id,
        "deleted_by": e.deleted_by,
        "deleted_at": e.deleted_at,
        "restore_until": e.restore_until,
        "state": e.state.value,
    }


def _deleted(json: bool, e: TrashEntry) -> None:
    until = when(e.restore_until)
    emit(
        json,
        _entry_json(e),
        f"moved {e.kind.value} {e.subject_id} to the trash ({e.id}); restorable until {until}",
    )


def _restore(
    sr: Strongroom,
    workspace_id: str,
    kind: TrashKind,
    subject_id: str,
    project_id: str | None = None,
) -> TrashEntry:
    """Restore by the subject's own id (its newest trash entry), in ``project_id`` if given."""
    entry = sr.trash.entry_for(workspace_id, kind, subject_id)
    if project_id is not None and entry.project_id != project_id:
        raise InvalidInput(f"{subject_id} is not in project {project_id}")
    return sr.trash.restore(workspace_id, entry.id, actor=ACTOR)


def _restored(json: bool, e: TrashEntry) -> None:
    emit(json, _entry_json(e), f"restored {e.kind.value} {e.subject_id}")


# delete and restore ---------------------------------------------------------------------
@project_app.command("delete")
def project_delete(
    workspace_id: str, project_id: str, home: Home = DEFAULT_HOME, json: Json = False
) -> None:
    """Move a project, with its records and files, to the trash."""
    with open_home(home) as sr:
        _deleted(json, sr.projects.delete(workspace_id, project_id, actor=ACTOR))


@project_app.command("restore")
def project_restore(
    workspace_id: str, project_id: str, home: Home = DEFAULT_HOME, json: Json = False
) -> None:
    """Bring a project back from the trash, with exactly what its deletion took."""
    with open_home(home) as sr:
        _restored(json, _restore(sr, workspace_id, TrashKind.PROJECT, project_id))


@record_app.command("delete")
def record_delete(
    workspace_id: str,
    project_id: str,
    record_id: str,
    home: Home = DEFAULT_HOME,
    json: Json = False,
) -> None:
    """Move a record to the trash."""
    with open_home(home) as sr:
        _deleted(json, sr.records.delete(workspace_id, project_id, record_id, actor=ACTOR))


@record_app.command("restore")
def record_restore(
    workspace_id: str,
    project_id: str,
    record_id: str,
    home: Home = DEFAULT_HOME,
    json: Json = False,
) -> None:
    """Bring a record back from the trash."""
    with open_home(home) as sr:
        _restored(json, _restore(sr, workspace_id, TrashKind.RECORD, record_id, project_id))


@file_app.command("delete")
def file_delete(
    workspace_id: str,
    project_id: str,
    file_id: str,
    home: Home = DEFAULT_HOME,
    json: Json = False,
) -> None:
    """Move a file to the trash."""
    with open_home(home) as sr:
        _deleted(json, sr.files.delete(workspace_id, project_id, file_id, actor=ACTOR))


@file_app.command("restore")
def file_restore(
    workspace_id: str,
    project_id: str,
    file_id: str,
    home: Home = DEFAULT_HOME,
    json: Json = False,
) -> None:
    """Bring a file back from the trash."""
    with open_home(home) as sr:
        _restored(json, _restore(sr, workspace_id, TrashKind.FILE, file_id, project_id))


# the trash -------------------------------------------------------------------------------
@trash_app.command("list")
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
    data = {"entries": [_entry_json(e) for e in page.items], "next_cursor": page.next_cursor}
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


@trash_app.command("purge")
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


# workspaces: deletion, plan, billing -------------------------------------------------------
@workspace_app.command("delete")
def workspace_delete(
    workspace_id: str,
    confirm: Annotated[
        str, typer.Option("--confirm", help="The workspace's name, typed back.", show_default=False)
    ],
    home: Home = DEFAULT_HOME,
    json: Json = False,
) -> None:
    """Delete a whole workspace: closed at once (every token revoked), purged by the next
    worker pass, which this command runs."""
    with open_home(home) as sr:
        sr.plans.delete_workspace(workspace_id, confirm, actor=ACTOR)
        due = [
            s
            for s in sr.plans.scheduled(workspace_id=workspace_id)
            if s.action == DeadlineAction.PURGE_WORKSPACE
        ]
        report = sr.worker.run_once(only=due[0].deadline_id) if due else None
        purged = bool(report and report.done)
        held = bool(report and report.held)
    if purged:
        outcome = "; purged"
    elif held:
        outcome = "; its purge waits for the legal hold to be cleared"
    else:
        outcome = "; its purge runs on the next worker pass"
    emit(
        json,
        {"workspace_id": workspace_id, "closed": True, "purged": purged},
        f"deleted workspace {workspace_id}{outcome}",
    )


@billing_app.command("event")
def billing_event(
    workspace_id: str,
    kind: Annotated[str, typer.Argument(help="trial_started, activated, cancelled, reactivated")],
    event_id: Annotated[
        str, typer.Option("--event-id", help="Unique per event; a repeat is ignored.")
    ],
    trial_days: Annotated[
        int | None, typer.Option("--trial-days", min=1, max=365, help="For trial_started.")
    ] = None,
    home: Home = DEFAULT_HOME,
    json: Json = False,
) -> None:
    """Apply a billing event to a workspace's plan (idempotent by event id)."""
    with open_home(home) as sr:
        status = sr.plans.billing_event(workspace_id, kind, event_id, trial_days, actor=ACTOR)
    due = when(status.purge_due_at)
    emit(json, status.as_json(), f"{workspace_id}: {status.state.value}; purge due: {due}")


# legal holds ------------------------------------------------------------------------------
@hold_app.command("set")
def hold_set(
    workspace_id: str,
    reason: Annotated[str, typer.Option("--reason", help="Why (kept encrypted).")],
    project_id: Annotated[str | None, typer.Argument(help="Only this project.")] = None,
    home: Home = DEFAULT_HOME,
    json: Json = False,
) -> None:
    """Block every purge of the workspace (or one project) until cleared."""
    with open_home(home) as sr:
        hold_id = sr.plans.set_hold(workspace_id, project_id, reason, actor=ACTOR)
    emit(json, {"id": hold_id}, f"hold {hold_id} set")


@hold_app.command("clear")
def hold_clear(
    workspace_id: str,
    reason: Annotated[str, typer.Option("--reason", help="Why it is cleared (kept encrypted).")],
    project_id: Annotated[str | None, typer.Argument(help="Only this project's hold.")] = None,
    home: Home = DEFAULT_HOME,
    json: Json = False,
) -> None:
    """Clear a hold; overdue purges run on the next worker pass."""
    with open_home(home) as sr:
        cleared = sr.plans.clear_hold(workspace_id, project_id, reason, actor=ACTOR)
    emit(
        json,
        {"cleared": cleared},
        "\n".join([f"cleared {plural(len(cleared), 'hold')}", *cleared]),
    )


# the worker ------------------------------------------------------------------------------
@lifecycle_app.command("run")
def lifecycle_run(home: Home = DEFAULT_HOME, json: Json = False) -> None:
    """Run everything due now, once, and exit; purges a legal hold blocks are listed as
    held."""
    with open_home(home) as sr:
        pending = {s.deadline_id: s for s in sr.plans.scheduled()}  # before: done ones leave
        status = err_console.status("running due work") if not json else None
        if status is not None:
            status.start()
        try:
            report = sr.worker.run_once()
        finally:
            if status is not None:
                status.stop()
    outcome = {
        **dict.fromkeys(report.done, "done"),
        **dict.fromkeys(report.held, "held"),
        **dict.fromkeys(report.failed, "failed"),
    }
    rows = [
        {"deadline": deadline_id, "outcome": result, **_subject(pending.get(deadline_id))}
        for deadline_id, result in outcome.items()
    ]

    def human() -> None:
        say(
            f"{plural(len(report.done), 'purge')} done, {len(report.held)} held by a legal "
            f"hold, {len(report.failed)} failed"
        )
        if rows:
            table(rows)

    emit(json, report.as_json(), human)
    if report.failed:
        raise typer.Exit(EXIT_FINDING)


def _subject(purge: ScheduledPurge | None) -> dict[str, str]:
    """What a purge concerns, as the schedule named it before the pass."""
    if purge is None:
        return {"workspace": "", "subject": ""}
    return {"workspace": purge.workspace_id, "subject": purge.subject_id}


def _parse_until(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"--until must be a date or time (ISO 8601), not {value!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@lifecycle_app.command("plan")
def lifecycle_plan(
    until: Annotated[str | None, typer.Option(help="Only what is due by this date.")] = None,
    workspace: Annotated[str | None, typer.Option(help="Only this workspace.")] = None,
    home: Home = DEFAULT_HOME,
    json: Json = False,
) -> None:
    """List what will be purged, and when (held purges are marked)."""
    limit = _parse_until(until)
    with open_home(home) as sr:
        items = sr.plans.scheduled(limit, workspace)
    data = {"purges": [s.as_json() for s in items]}
    rows = [
        {
            "deadline": s.deadline_id,
            "due": s.due_at,
            "what": "workspace" if s.action == DeadlineAction.PURGE_WORKSPACE else "trash entry",
            "workspace": s.workspace_id,
            "subject": s.subject_id,
            "reason": s.reason,
            "held": "HELD" if s.held else "",
        }
        for s in items
    ]
    emit(json, data, lambda: listing(rows, "scheduled purge"))


def worker(
    interval: Annotated[
        int | None, typer.Option(min=1, help="Seconds between passes (default: settings).")
    ] = None,
    home: Home = DEFAULT_HOME,
    json: Json = False,
) -> None:
    """Run due work continuously (Ctrl-C stops after the current step). With --json it
    prints one JSON object when it starts: its owner id and interval."""
    with open_home(home) as sr:
        stop = threading.Event()
        every = interval if interval is not None else sr.settings.worker_interval_seconds
        emit(
            json,
            {"worker": sr.worker.owner, "interval_seconds": every, "home": str(sr.settings.home)},
            f"worker {sr.worker.owner} running every {plural(every, 'second')}; Ctrl-C to stop",
        )
        try:
            sr.worker.run_forever(stop, interval)
        except KeyboardInterrupt:
            stop.set()


# certificates ----------------------------------------------------------------------------
@certificate_app.command("list")
def certificate_list(
    workspace: Annotated[str | None, typer.Option(help="Only this workspace.")] = None,
    home: Home = DEFAULT_HOME,
    json: Json = False,
) -> None:
    """The deletion ledger: every purge, with its certificate's id and hash."""
    with open_home(home) as sr:
        items = sr.certificates.list(workspace)
    rows = [
        {
            "certificate": c["certificate_id"],
            "kind": c["kind"],
            "subject": c["subject_id"],
            "reason": c["reason"],
            "purged_at": c["purged_at"],
        }
        for c in items
    ]
    emit(json, {"certificates": items}, lambda: listing(rows, "certificate"))


@certificate_app.command("show")
def certificate_show(
    certificate_id: str,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Write it here.")] = None,
    home: Home = DEFAULT_HOME,
    json: Json = False,
) -> None:
    """Print (or save) a signed deletion certificate."""
    with open_home(home) as sr:
        document = sr.certificates.get(certificate_id)
    if output is not None:
        output.write_text(json_lib.dumps(document, indent=2, sort_keys=True) + "\n", "utf-8")
        emit(json, {"certificate_id": certificate_id, "path": str(output)}, f"wrote {output}")
    else:
        emit(json, document, lambda: console.print_json(json_lib.dumps(document)))


@certificate_app.command("verify")
def certificate_verify(
    path: Annotated[Path, typer.Argument(help="A certificate JSON file.")],
    home: Home = DEFAULT_HOME,
    json: Json = False,
) -> None:
    """Check a certificate's signature, its ledger entry and the audit chain holding it."""
    if not path.is_file():
        raise InvalidInput(f"no such file: {path}")
    text = path.read_bytes()
    with open_home(home) as sr:
        try:
            result = sr.certificates.verify(text)
        except IntegrityFailure as failure:
            emit(json, {"valid": False, "reason": str(failure)}, f"INVALID: {failure}")
            raise typer.Exit(EXIT_FINDING) from None
    emit(
        json,
        result.as_json(),
        f"valid: {result.certificate_id} signed by {result.signing_key}, ledger entry "
        f"{result.ledger_seq}, audit event {result.audit_seq} in a chain of "
        f"{plural(result.audit_events_verified, 'verified event')}",
    )
