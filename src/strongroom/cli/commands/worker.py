"""``strongroom worker``: run the due work continuously."""

from __future__ import annotations

import logging.config
import threading
from typing import Annotated

import typer

from strongroom.cli.options import DEFAULT_HOME, Home, Json, open_home
from strongroom.cli.output import emit, plural
from strongroom.observability.logs import logging_config


def worker(
    interval: Annotated[
        int | None, typer.Option(min=1, help="Seconds between passes (default: settings).")
    ] = None,
    home: Home = DEFAULT_HOME,
    json: Json = False,
) -> None:
    """Run due work continuously (Ctrl-C stops after the current step). With --json it
    prints one JSON object when it starts: its owner id and interval."""
    with open_home(home, metered=True) as sr:
        # The worker's log on stderr, in the log_format setting's format (JSON lines by
        # default); its --json line goes to stdout.
        logging.config.dictConfig(logging_config(sr.settings.log_format))
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
