"""``strongroom lifecycle``: run the due work once, list what will be purged and when."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer

from strongroom.cli.exit_codes import EXIT_FINDING
from strongroom.cli.options import DEFAULT_HOME, Home, Json, open_home
from strongroom.cli.output import emit, err_console, listing, plural, say, table
from strongroom.domain.lifecycle import DeadlineAction
from strongroom.errors import InvalidInput
from strongroom.services.plans import ScheduledPurge

app = typer.Typer(help="Due work: purges and their schedule.", no_args_is_help=True)


@app.command("run")
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


@app.command("plan")
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
        days = 10 if limit is None else max(0, (limit - sr.ctx.clock.now()).days)
        requests = sr.privacy.due(within_days=days, workspace_id=workspace)
    data = {
        "purges": [s.as_json() for s in items],
        "privacy_requests": [r.as_json(subject=False) for r in requests],
    }
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
    due_rows = [
        {
            "request": r.id,
            "due": r.due.isoformat(),
            "workspace": r.workspace_id,
            "type": r.type.value,
            "law": r.law,
            "overdue": "OVERDUE" if r.overdue else "",
        }
        for r in requests
    ]

    def human() -> None:
        listing(rows, "scheduled purge")
        if due_rows:
            say("")
            listing(due_rows, "privacy request due", "privacy requests due")

    emit(json, data, human)
