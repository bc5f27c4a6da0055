"""``strongroom operator``: the SaaS's staff as people, and their confidentiality
agreements (docs/break-glass.md)."""

from __future__ import annotations

from typing import Annotated

import typer

from strongroom.cli.options import ACTOR, DEFAULT_HOME, Home, Json, open_home
from strongroom.cli.output import emit, listing

app = typer.Typer(
    help="Operators (staff) and their confidentiality agreements.", no_args_is_help=True
)


@app.command("add")
def operator_add(
    name: Annotated[str, typer.Option("--name", help="Their full name.", show_default=False)],
    email: Annotated[str, typer.Option("--email", help="Their email (one operator each).")],
    home: Home = DEFAULT_HOME,
    json: Json = False,
) -> None:
    """Add an operator; they ask for no access until an agreement is recorded."""
    with open_home(home) as sr:
        operator = sr.staff.add(name, email, actor=ACTOR)
    emit(json, operator.as_json(), f"added operator {operator.id} ({operator.email})")


@app.command("agreement")
def operator_agreement(
    email: Annotated[str, typer.Argument(help="The operator's email.")],
    version: Annotated[str, typer.Option("--version", help="The agreement's version.")],
    signed: Annotated[str, typer.Option("--signed", help="The day they signed, YYYY-MM-DD.")],
    home: Home = DEFAULT_HOME,
    json: Json = False,
) -> None:
    """Record a confidentiality agreement the operator signed (not a future date)."""
    with open_home(home) as sr:
        operator = sr.staff.record_agreement(email, version, signed, actor=ACTOR)
    standing = "in force" if operator.in_force else "NOT in force (staff_agreement_version)"
    emit(json, operator.as_json(), f"recorded agreement {version} for {operator.email}: {standing}")


@app.command("list")
def operator_list(home: Home = DEFAULT_HOME, json: Json = False) -> None:
    """Every operator, with their current agreement."""
    with open_home(home) as sr:
        operators = [o.as_json() for o in sr.staff.list()]
    rows = [
        {
            "id": o["id"],
            "name": o["name"],
            "email": o["email"],
            "agreement": (o["agreement"] or {}).get("version"),
            "signed": (o["agreement"] or {}).get("signed"),
            "in_force": o["agreement_in_force"],
        }
        for o in operators
    ]
    emit(json, {"operators": operators}, lambda: listing(rows, "operator"))
