"""``strongroom subprocessor``: the public subprocessor list. Each change publishes a notice
that takes effect no sooner than ``subprocessor_notice_days`` after today; subscribers
and workspace owners are mailed it by the worker."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from strongroom.cli.options import ACTOR, DEFAULT_HOME, Home, Json, open_home
from strongroom.cli.output import emit, listing, say
from strongroom.services.subprocessors import Notice, parse_effective

app = typer.Typer(
    help="The subprocessor list: add, change, remove; objections.", no_args_is_help=True
)

Effective = Annotated[
    str,
    typer.Option(
        "--effective", help="The date it takes effect (YYYY-MM-DD, 00:00 UTC).", show_default=False
    ),
]
Name = Annotated[str, typer.Option("--name", help="Legal name.", show_default=False)]
Address = Annotated[str, typer.Option("--address", help="Postal address.", show_default=False)]
Contact = Annotated[str, typer.Option("--contact", help="Privacy contact.", show_default=False)]
Purpose = Annotated[str, typer.Option("--purpose", help="What it does for us.", show_default=False)]
Categories = Annotated[
    str, typer.Option("--data-categories", help="Categories of data.", show_default=False)
]
Location = Annotated[
    str, typer.Option("--location", help="Where it processes.", show_default=False)
]
Transfer = Annotated[
    str, typer.Option("--transfer", help="Transfer mechanism (e.g. SCCs).", show_default=False)
]


def _details(
    name: str,
    address: str,
    contact: str,
    purpose: str,
    categories: str,
    location: str,
    transfer: str,
) -> dict[str, object]:
    return {
        "legal_name": name,
        "address": address,
        "contact": contact,
        "purpose": purpose,
        "data_categories": categories,
        "location": location,
        "transfer_mechanism": transfer,
    }


def _published(notice: Notice, json: bool) -> None:
    emit(
        json,
        notice.as_json(),
        f"notice {notice.id} published: subprocessor {notice.subprocessor_id} "
        f"({notice.kind.value}) takes effect on {notice.effective.isoformat()}",
    )


@app.command("add")
def add(
    name: Name = "",
    address: Address = "",
    contact: Contact = "",
    purpose: Purpose = "",
    data_categories: Categories = "",
    location: Location = "",
    transfer: Transfer = "",
    effective: Effective = "",
    home: Home = DEFAULT_HOME,
    json: Json = False,
) -> None:
    """Add a subprocessor (every field is required); publishes a notice."""
    details = _details(name, address, contact, purpose, data_categories, location, transfer)
    with open_home(home) as sr:
        notice = sr.subprocessors.add(details, parse_effective(effective), actor=ACTOR)
    _published(notice, json)


@app.command("change")
def change(
    subprocessor_id: Annotated[str, typer.Argument(help="The subprocessor's id (sub_…).")],
    name: Name = "",
    address: Address = "",
    contact: Contact = "",
    purpose: Purpose = "",
    data_categories: Categories = "",
    location: Location = "",
    transfer: Transfer = "",
    effective: Effective = "",
    home: Home = DEFAULT_HOME,
    json: Json = False,
) -> None:
    """Replace a subprocessor's entry (a field not given keeps its value); publishes a
    notice."""
    typed = _details(name, address, contact, purpose, data_categories, location, transfer)
    with open_home(home) as sr:
        history = sr.subprocessors.history(subprocessor_id)
        latest = next((n.details for n in history if n.details is not None), None)
        current: dict[str, object] = dict(latest.as_json()) if latest else {}
        details = {k: v if v else current.get(k, "") for k, v in typed.items()}
        notice = sr.subprocessors.replace(
            subprocessor_id, details, parse_effective(effective), actor=ACTOR
        )
    _published(notice, json)


@app.command("remove")
def remove(
    subprocessor_id: Annotated[str, typer.Argument(help="The subprocessor's id (sub_…).")],
    effective: Effective = "",
    home: Home = DEFAULT_HOME,
    json: Json = False,
) -> None:
    """Remove a subprocessor from the list on a date; publishes a notice."""
    with open_home(home) as sr:
        notice = sr.subprocessors.remove(subprocessor_id, parse_effective(effective), actor=ACTOR)
    _published(notice, json)


@app.command("list")
def list_(home: Home = DEFAULT_HOME, json: Json = False) -> None:
    """The list in force today, and the changes announced."""
    with open_home(home) as sr:
        current = sr.subprocessors.current()
        upcoming = sr.subprocessors.upcoming()
    data: dict[str, Any] = {
        "subprocessors": [e.as_json() for e in current],
        "upcoming": [n.as_json() for n in upcoming],
    }

    def human() -> None:
        listing(
            [
                {"id": e.id, "name": e.details.legal_name, "location": e.details.location,
                 "transfer": e.details.transfer_mechanism}
                for e in current
            ],
            "subprocessor",
        )  # fmt: skip
        say("")
        listing(
            [
                {"notice": n.id, "subprocessor": n.subprocessor_id, "kind": n.kind.value,
                 "effective": n.effective.isoformat()}
                for n in upcoming
            ],
            "announced change",
        )  # fmt: skip

    emit(json, data, human)


@app.command("objections")
def objections(home: Home = DEFAULT_HOME, json: Json = False) -> None:
    """Workspace owners' objections to notices, oldest first."""
    with open_home(home) as sr:
        found = sr.subprocessors.objections(actor=ACTOR)
    rows = [o.as_json() for o in found]
    emit(json, {"objections": rows}, lambda: listing(rows, "objection"))
