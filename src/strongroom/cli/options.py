"""Options every command takes, and opening the home they name."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from strongroom.bootstrap import Strongroom, open_strongroom

DEFAULT_HOME = Path("~/.strongroom")
ACTOR = "cli"

Home = Annotated[
    Path,
    typer.Option(
        "--home",
        envvar="STRONGROOM_HOME",
        help="Home folder (or STRONGROOM_HOME).",
        show_default=True,
    ),
]
Json = Annotated[bool, typer.Option("--json", help="Print exactly one JSON object on stdout.")]


def open_home(home: Path, *, metered: bool = False) -> Strongroom:
    """The home's Strongroom; ``metered``: counting for GET /metrics (serve, worker)."""
    return open_strongroom(home.expanduser(), metered=metered)
