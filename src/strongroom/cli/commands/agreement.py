"""``strongroom agreement``: publish DPA and SCC versions, list them, accept one for a
workspace (embedded use), and verify a signed acceptance receipt."""

from __future__ import annotations

import json as json_lib
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from strongroom.cli.exit_codes import EXIT_FINDING
from strongroom.cli.options import ACTOR, DEFAULT_HOME, Home, Json, open_home
from strongroom.cli.output import emit, listing
from strongroom.domain.agreements import MAX_BODY_BYTES, MAX_RECEIPT_BYTES
from strongroom.errors import IntegrityFailure, InvalidInput

app = typer.Typer(help="Agreements: the DPA and the SCCs it incorporates.", no_args_is_help=True)


def _read(path: Path, limit: int) -> bytes:
    """A file's bytes, refused before reading if larger than ``limit``."""
    if not path.is_file():
        raise InvalidInput(f"no such file: {path}")
    if path.stat().st_size > limit:
        raise InvalidInput(f"{path} is larger than {limit} bytes")
    return path.read_bytes()[: limit + 1]


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"not a date (YYYY-MM-DD): {value[:32]!r}") from None


@app.command("publish")
def agreement_publish(
    kind: Annotated[str, typer.Option(help="dpa or scc.")],
    version: Annotated[str, typer.Option(help="The version's label, e.g. 2026-01.")],
    file: Annotated[Path, typer.Option(help="The text, UTF-8.")],
    effective: Annotated[str, typer.Option(help="The day it takes effect, YYYY-MM-DD.")],
    scc: Annotated[
        str | None, typer.Option(help="A DPA's SCC version (default: the newest).")
    ] = None,
    home: Home = DEFAULT_HOME,
    json: Json = False,
) -> None:
    """Publish a version: its text and SHA-256 never change afterwards."""
    body = _read(file, MAX_BODY_BYTES)
    effective_on = _day(effective)
    with open_home(home) as sr:
        published = sr.agreements.publish(kind, version, body, effective_on, scc, actor=ACTOR)
    emit(
        json,
        published.as_json(with_body=False),
        f"published {published.kind.value} {published.version} (sha256 {published.sha256}), "
        f"effective {published.effective_on}",
    )


@app.command("list")
def agreement_list(
    kind: Annotated[str | None, typer.Option(help="Only dpa or scc.")] = None,
    home: Home = DEFAULT_HOME,
    json: Json = False,
) -> None:
    """Every published version, oldest first, with its SHA-256."""
    with open_home(home) as sr:
        versions = [v.as_json(with_body=False) for v in sr.agreements.list(kind)]
    emit(json, {"versions": versions}, lambda: listing(versions, "version"))


@app.command("accept")
def agreement_accept(
    workspace: Annotated[str, typer.Argument(help="The workspace's id.")],
    version: Annotated[str, typer.Option(help="The DPA version (the newest).")],
    email: Annotated[str, typer.Option(help="The accepting owner's email.")],
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write the receipt here.")
    ] = None,
    home: Home = DEFAULT_HOME,
    json: Json = False,
) -> None:
    """Accept the DPA for a workspace as one of its owners; prints the signed receipt."""
    with open_home(home) as sr:
        receipt = sr.agreements.accept_as(workspace, version, email, actor=ACTOR)
    text = json_lib.dumps(receipt, indent=2, sort_keys=True) + "\n"
    if output is not None:
        output.write_text(text, "utf-8")
    emit(json, receipt, f"wrote {output}" if output else text.rstrip())


@app.command("verify-receipt")
def agreement_verify_receipt(
    path: Annotated[Path, typer.Argument(help="A receipt JSON file.")],
    home: Home = DEFAULT_HOME,
    json: Json = False,
) -> None:
    """Check a receipt's signature, that it was recorded unchanged, and that the accepted
    text still hashes to its SHA-256."""
    text = _read(path, MAX_RECEIPT_BYTES)
    with open_home(home) as sr:
        try:
            result = sr.agreements.verify_receipt(text)
        except IntegrityFailure as failure:
            emit(json, {"valid": False, "reason": str(failure)}, f"INVALID: {failure}")
            raise typer.Exit(EXIT_FINDING) from None
    emit(
        json,
        result,
        f"valid: {result['receipt_id']} accepts {result['kind']} {result['version']} "
        f"(sha256 {result['sha256']}) for {result['workspace_id']}, signed by "
        f"{result['signing_key']}",
    )
