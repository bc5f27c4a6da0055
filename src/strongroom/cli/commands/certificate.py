"""``strongroom certificate``: list, show and verify signed deletion certificates."""

from __future__ import annotations

import json as json_lib
from pathlib import Path
from typing import Annotated

import typer

from strongroom.cli.exit_codes import EXIT_FINDING
from strongroom.cli.options import DEFAULT_HOME, Home, Json, open_home
from strongroom.cli.output import console, emit, listing, plural
from strongroom.errors import IntegrityFailure, InvalidInput

app = typer.Typer(help="Deletion certificates.", no_args_is_help=True)


@app.command("list")
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


@app.command("show")
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


@app.command("verify")
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
