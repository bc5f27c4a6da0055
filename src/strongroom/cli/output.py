"""Output for people (Rich) or machines (``--json``: exactly one JSON object on stdout),
and the one mapping from errors to exit codes."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, is_dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from strongroom.errors import AuditChainBroken, ExportInvalid, StrongroomError

console = Console()
err_console = Console(stderr=True)

EXIT_FINDING = 1  # a check ran and found a problem (audit verify, export verify, demo scan)
EXIT_BAD_INPUT = 2


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, frozenset | set):
        return sorted(value)
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    raise TypeError(f"not JSON: {type(value).__name__}")


def to_json(data: Any) -> str:
    return json.dumps(data, default=_default, ensure_ascii=False, sort_keys=False)


def emit(
    as_json: bool, data: dict[str, Any], human: Callable[[], None] | str | None = None
) -> None:
    """One JSON object with ``--json``; otherwise the human rendering (or the JSON, pretty)."""
    if as_json:
        sys.stdout.write(to_json(data) + "\n")
        sys.stdout.flush()  # `serve --json` keeps running after its one line
    elif callable(human):
        human()
    elif isinstance(human, str):
        console.print(human, highlight=False, markup=False)  # may hold names and paths
    else:
        console.print_json(to_json(data))


def exit_code(error: StrongroomError) -> int:
    if isinstance(error, AuditChainBroken | ExportInvalid):
        return EXIT_FINDING
    code = getattr(error, "exit_code", EXIT_BAD_INPUT)  # e.g. the server failed to start: 3
    return int(code)


def report_error(error: StrongroomError, as_json: bool) -> int:
    """Print a one-line error (and, with --json, an error object); return the exit code."""
    message = " ".join(str(error).split())
    if as_json:
        payload = {"error": {"type": type(error).__name__, "message": message, **error.ids}}
        sys.stdout.write(to_json(payload) + "\n")
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    return exit_code(error)


@contextmanager
def progress_bar(
    description: str, total: int | None, enabled: bool
) -> Iterator[Callable[[int], None]]:
    """A transfer progress bar on stderr; a no-op with --json or when not a terminal."""
    if not enabled or not err_console.is_terminal:
        yield lambda _n: None
        return
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=err_console, transient=True) as progress:
        task = progress.add_task(description, total=total)
        yield lambda n: progress.advance(task, n)
