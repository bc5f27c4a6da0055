"""``strongroom promises``: the trust page's promises, checked against this deployment."""

from __future__ import annotations

import typer

from strongroom.cli.options import DEFAULT_HOME, Home, Json, open_home
from strongroom.cli.output import emit, say, table

app = typer.Typer(help="The trust page's promises and their checks.", no_args_is_help=True)


@app.command("check")
def promises_check(home: Home = DEFAULT_HOME, json: Json = False) -> None:
    """Run every promise's check now and keep the results (what /trust shows); exit 1 if
    any promise fails."""
    with open_home(home) as sr:
        run = sr.promises.check_all(actor="cli")
    data = run.as_json()

    def human() -> None:
        table(
            [
                {"promise": p.id, "holds": "yes" if v.holds else "NO", "evidence": v.evidence}
                for p, v in run.results
            ]
        )
        failing = [p for p, v in run.results if not v.holds]
        say(
            "every promise holds" if not failing else f"failing: {', '.join(p.id for p in failing)}"
        )

    emit(json, data, human)
    if not run.all_hold:
        raise typer.Exit(1)


@app.command("status")
def promises_status(home: Home = DEFAULT_HOME, json: Json = False) -> None:
    """What the trust center shows now, from the stored checks (runs none)."""
    with open_home(home) as sr:
        report = sr.promises.report()
    data = report.as_json()

    def human() -> None:
        table(
            [
                {"promise": p.id, "status": p.status.value, "checked": p.checked_at}
                for p in report.promises
            ]
        )

    emit(json, data, human)
