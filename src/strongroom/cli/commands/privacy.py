"""``strongroom privacy``: data subjects' requests (GDPR, CCPA) on the law's clock."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from strongroom.cli.commands.export import entries_bar
from strongroom.cli.exit_codes import EXIT_FINDING
from strongroom.cli.options import ACTOR, DEFAULT_HOME, Home, Json, open_home
from strongroom.cli.output import emit, listing, plural, say, show, table
from strongroom.domain.privacy import PrivacyRequest
from strongroom.errors import InvalidInput, NotFound

app = typer.Typer(
    help="Privacy requests: access, portability, correction, restriction, deletion.",
    no_args_is_help=True,
)

WorkspaceArg = Annotated[str, typer.Argument(help="The workspace (ws_…).")]
RequestArg = Annotated[str, typer.Argument(help="The request (dsr_…).")]


def _received(text: str | None) -> datetime | date | None:
    if text is None:
        return None
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        return datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(
            f"--received takes a date (YYYY-MM-DD) or a time with its offset, not {text[:40]!r}"
        ) from None


def _due(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"--due takes a date (YYYY-MM-DD), not {text[:40]!r}") from None


def _when(request: PrivacyRequest) -> str:
    if request.state.value in {"completed", "rejected"}:
        return request.state.value
    if request.days_left < 0:
        return f"overdue by {-request.days_left} day{'' if request.days_left == -1 else 's'}"
    if request.days_left == 0:
        return "due today"
    return f"due in {request.days_left} day{'' if request.days_left == 1 else 's'}"


def _one(as_json: bool, request: PrivacyRequest, *, subject: bool, done: str) -> None:
    data = request.as_json(subject=subject)

    def human() -> None:
        say(f"{done}: {request.id} ({request.type.value}, {request.law.upper()}), {_when(request)}")
        say(f"due {request.due.isoformat()} (end of day, {request.time_zone})")

    emit(as_json, data, human)


@app.command("create")
def privacy_create(
    workspace_id: WorkspaceArg,
    type: Annotated[
        str, typer.Option("--type", help="access, portability, correction, restriction, deletion.")
    ],
    law: Annotated[str, typer.Option("--law", help="gdpr, ccpa or other.")],
    email: Annotated[list[str] | None, typer.Option("--email", help="The subject's email.")] = None,
    phone: Annotated[list[str] | None, typer.Option("--phone", help="The subject's phone.")] = None,
    name: Annotated[list[str] | None, typer.Option("--name", help="The subject's name.")] = None,
    identifier: Annotated[
        list[str] | None, typer.Option("--identifier", help="Any other id of the subject.")
    ] = None,
    received: Annotated[
        str | None, typer.Option("--received", help="When it arrived (default: now).")
    ] = None,
    due: Annotated[
        str | None, typer.Option("--due", help="Due date, only for --law other.")
    ] = None,
    channel: Annotated[str, typer.Option("--channel", help="How it was made.")] = "unspecified",
    notes: Annotated[str, typer.Option("--notes", help="Kept encrypted.")] = "",
    home: Home = DEFAULT_HOME,
    json: Json = False,
) -> None:
    """Record a request; its due date follows from the law."""
    given = [
        *(("email", v) for v in email or []),
        *(("phone", v) for v in phone or []),
        *(("name", v) for v in name or []),
        *(("identifier", v) for v in identifier or []),
    ]
    with open_home(home) as sr:
        request = sr.privacy.create(
            workspace_id,
            type=type,
            law=law,
            identifiers=given,
            received=_received(received),
            due=_due(due),
            channel=channel,
            notes=notes,
            actor=ACTOR,
        )
    _one(json, request, subject=False, done="recorded")


@app.command("verify")
def privacy_verify(
    workspace_id: WorkspaceArg,
    request_id: RequestArg,
    method: Annotated[str, typer.Option("--method", help="How identity was checked.")],
    by: Annotated[str, typer.Option("--by", help="Who checked it.")],
    home: Home = DEFAULT_HOME,
    json: Json = False,
) -> None:
    """Record that the subject's identity was verified (who, how; the time is now)."""
    with open_home(home) as sr:
        request = sr.privacy.verify(workspace_id, request_id, method=method, by=by, actor=ACTOR)
    _one(json, request, subject=False, done="verified")


@app.command("extend")
def privacy_extend(
    workspace_id: WorkspaceArg,
    request_id: RequestArg,
    reason: Annotated[str, typer.Option("--reason", help="Told to the subject; kept encrypted.")],
    days: Annotated[int | None, typer.Option("--days", min=1, max=366)] = None,
    months: Annotated[int | None, typer.Option("--months", min=1, max=12)] = None,
    home: Home = DEFAULT_HOME,
    json: Json = False,
) -> None:
    """Extend the due date once (GDPR: up to 2 months; CCPA: up to 45 days)."""
    with open_home(home) as sr:
        request = sr.privacy.extend(
            workspace_id, request_id, reason=reason, days=days, months=months, actor=ACTOR
        )
    _one(json, request, subject=False, done="extended")


@app.command("reject")
def privacy_reject(
    workspace_id: WorkspaceArg,
    request_id: RequestArg,
    reason: Annotated[str, typer.Option("--reason", help="The basis of the refusal.")],
    home: Home = DEFAULT_HOME,
    json: Json = False,
) -> None:
    """Refuse the request, saying why."""
    with open_home(home) as sr:
        request = sr.privacy.reject(workspace_id, request_id, reason=reason, actor=ACTOR)
    _one(json, request, subject=False, done="rejected")


@app.command("complete")
def privacy_complete(
    workspace_id: WorkspaceArg,
    request_id: RequestArg,
    home: Home = DEFAULT_HOME,
    json: Json = False,
) -> None:
    """Close the request as answered."""
    with open_home(home) as sr:
        request = sr.privacy.complete(workspace_id, request_id, actor=ACTOR)
    _one(json, request, subject=False, done="completed")


@app.command("locate")
def privacy_locate(
    workspace_id: WorkspaceArg,
    request_id: RequestArg,
    home: Home = DEFAULT_HOME,
    json: Json = False,
) -> None:
    """Find the subject's records in every project, through the blind index only."""
    with open_home(home) as sr:
        matches = sr.privacy.locate(workspace_id, request_id, actor=ACTOR)
    rows = [
        {
            "record": m.record_id,
            "project": m.project_id,
            "collection": m.collection,
            "fields": ", ".join(m.fields),
            "state": "in the trash" if m.trashed else "restricted" if m.restricted else "live",
        }
        for m in matches
    ]
    emit(
        json, {"matches": [m.as_json() for m in matches]}, lambda: listing(rows, "match", "matches")
    )


@app.command("correct")
def privacy_correct(
    workspace_id: WorkspaceArg,
    request_id: RequestArg,
    set_: Annotated[
        list[str],
        typer.Option("--set", help="FIELD=VALUE: the subject's new value of a personal field."),
    ],
    home: Home = DEFAULT_HOME,
    json: Json = False,
) -> None:
    """Correct the subject's personal fields in every record of theirs (a verified request)."""
    changes = []
    for item in set_:
        field, sep, value = item.partition("=")
        if not sep or not field:
            raise InvalidInput(f"--set takes FIELD=VALUE, not {item[:40]!r}")
        changes.append((field, value))
    with open_home(home) as sr:
        done = sr.privacy.correct(workspace_id, request_id, changes, actor=ACTOR)
    emit(
        json,
        done,
        f"corrected {plural(done['values'], 'value')} in {plural(done['records'], 'record')}",
    )


@app.command("export")
def privacy_export(
    workspace_id: WorkspaceArg,
    request_id: RequestArg,
    output: Annotated[Path, typer.Option("-o", "--output", help="The ZIP file to write.")],
    home: Home = DEFAULT_HOME,
    json: Json = False,
) -> None:
    """Write the subject's package (a verified access or portability request): their
    records as JSON Lines and CSV, their files, a checksummed manifest. The file appears,
    mode 0600, only once complete; `strongroom export verify` checks it."""
    if not output.parent.is_dir():
        raise NotFound(f"no such folder: {output.parent}")
    with open_home(home) as sr, entries_bar(not json) as (on_entry, on_bytes):
        summary = sr.privacy.export(
            workspace_id, request_id, output, actor=ACTOR, progress=on_entry, on_bytes=on_bytes
        )
    counts = summary.counts
    emit(
        json,
        {"path": str(output), **summary.as_json()},
        f"exported {plural(counts['records'], 'record')} and {plural(counts['files'], 'file')} "
        f"of the subject ({plural(counts['trashed_left_out'], 'record')} in the trash left out) "
        f"to {output}\nsha256 {summary.sha256}",
    )


@app.command("import")
def privacy_import(
    workspace_id: WorkspaceArg,
    project_id: Annotated[str, typer.Argument(help="The project to import into (prj_…).")],
    package: Annotated[Path, typer.Argument(help="A subject's package (privacy export).")],
    home: Home = DEFAULT_HOME,
    json: Json = False,
) -> None:
    """Import a subject's package into a project (portability): verified first, then all
    or nothing; missing collections are declared as in the package; files get new ids."""
    with open_home(home) as sr:
        done = sr.privacy.import_package(workspace_id, project_id, package, actor=ACTOR)
    emit(
        json,
        done.as_json(),
        f"imported {plural(done.records, 'record')} and {plural(done.files, 'file')} "
        f"into {project_id}",
    )


@app.command("restrict")
def privacy_restrict(
    workspace_id: WorkspaceArg,
    request_id: RequestArg,
    home: Home = DEFAULT_HOME,
    json: Json = False,
) -> None:
    """Restrict the subject's records (GDPR Art. 18): hidden from every read until lifted."""
    with open_home(home) as sr:
        count = sr.privacy.restrict(workspace_id, request_id, actor=ACTOR)
    emit(json, {"records": count}, f"restricted {plural(count, 'record')}")


@app.command("lift")
def privacy_lift(
    workspace_id: WorkspaceArg,
    request_id: RequestArg,
    home: Home = DEFAULT_HOME,
    json: Json = False,
) -> None:
    """Lift the request's restriction: its records are readable again."""
    with open_home(home) as sr:
        count = sr.privacy.lift(workspace_id, request_id, actor=ACTOR)
    emit(json, {"records": count}, f"lifted the restriction of {plural(count, 'record')}")


@app.command("erase")
def privacy_erase(
    workspace_id: WorkspaceArg,
    request_id: RequestArg,
    redact: Annotated[
        list[str] | None,
        typer.Option(
            "--redact",
            help="A collection whose records keep what is not the subject's: only the "
            "subject's personal and file fields are removed (repeatable). Records of every "
            "other collection are erased whole.",
        ),
    ] = None,
    confirm: Annotated[
        bool, typer.Option("--confirm", help="Required: an erasure cannot be undone.")
    ] = False,
    home: Home = DEFAULT_HOME,
    json: Json = False,
) -> None:
    """Erase the subject of a verified deletion request, now (not through the trash): their
    records purged or redacted, the files they name deleted, a signed certificate issued.
    Records under a legal hold are left pending and named."""
    if not confirm:
        raise InvalidInput("an erasure cannot be undone: add --confirm to erase the subject")
    with open_home(home) as sr:
        status = sr.privacy.erase(workspace_id, request_id, redact=redact or (), actor=ACTOR)
    data = status.as_json()

    def human() -> None:
        c = status.counts
        if status.state != "done":
            say(
                f"erasure {status.deadline_id} is {status.state} at step {status.step}"
                + (f" ({status.error})" if status.error else "")
                + "; the worker finishes it"
            )
            return
        say(
            f"erased {plural(c['records_erased'], 'record')}, redacted "
            f"{plural(c['records_redacted'], 'record')}, deleted {plural(c['files'], 'file')}; "
            f"certificate {status.certificate_id}"
        )
        for p in status.pending:
            say(
                f"pending: {p['record_id']} ({p['collection']}) under hold {p['hold_id']}: "
                f"{p['hold_reason']}"
            )

    emit(json, data, human)
    if status.state != "done":
        raise typer.Exit(EXIT_FINDING)


@app.command("show")
def privacy_show(
    workspace_id: WorkspaceArg,
    request_id: RequestArg,
    home: Home = DEFAULT_HOME,
    json: Json = False,
) -> None:
    """One request with its subject, dates and outcome."""
    with open_home(home) as sr:
        request = sr.privacy.get(workspace_id, request_id)
        erasure = sr.privacy.erasure_status(workspace_id, request_id)
    data = request.as_json(subject=True)
    if erasure is not None:
        data["erasure"] = erasure.as_json()

    def human() -> None:
        fields: dict[str, Any] = {**data, "status": _when(request)}
        if erasure is not None:
            fields["erasure"] = (
                f"{erasure.state}: {erasure.counts['records_erased']} erased, "
                f"{erasure.counts['records_redacted']} redacted, "
                f"{len(erasure.pending)} pending; certificate {erasure.certificate_id or '-'}"
            )
        fields["identifiers"] = [f"{i.kind}: {i.value}" for i in request.identifiers]
        show(fields)

    emit(json, data, human)


@app.command("list")
def privacy_list(
    workspace_id: WorkspaceArg,
    due_within: Annotated[
        int | None,
        typer.Option("--due-within", min=0, max=3650, help="Only open ones due within N days."),
    ] = None,
    home: Home = DEFAULT_HOME,
    json: Json = False,
) -> None:
    """The workspace's requests, soonest due first (without their subjects)."""
    with open_home(home) as sr:
        requests = sr.privacy.list(workspace_id, due_within=due_within)
    data = {"requests": [r.as_json(subject=False) for r in requests]}
    rows = [
        {
            "id": r.id,
            "type": r.type.value,
            "law": r.law,
            "state": r.state.value,
            "due": r.due.isoformat(),
            "status": _when(r),
        }
        for r in requests
    ]
    emit(json, data, lambda: listing(rows, "privacy request"))


@app.command("report")
def privacy_report(
    workspace_id: Annotated[
        str | None, typer.Option("--workspace", help="One workspace (default: all of them).")
    ] = None,
    year: Annotated[int | None, typer.Option("--year", help="Received in this year.")] = None,
    home: Home = DEFAULT_HOME,
    json: Json = False,
) -> None:
    """Requests per type: received, completed, refused, open, days to respond."""
    with open_home(home) as sr:
        data = sr.privacy.report(workspace_id, year)

    def human() -> None:
        scope = workspace_id or "every workspace"
        say(f"privacy requests of {scope}, received {year or 'in any year'}")
        rows = [{"type": kind, **counts} for kind, counts in data["types"].items()]
        table(
            rows, ["type", "received", "completed", "refused", "open", "median_days", "mean_days"]
        )

    emit(json, data, human)
