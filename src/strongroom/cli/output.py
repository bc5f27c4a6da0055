"""Output for people (Rich) or machines (``--json``: exactly one JSON object on stdout).

Every command answers with one JSON-able object. With ``--json`` that object is printed;
without it, people get the same object in one style: a sentence when the command has one
to say, otherwise its plain values as aligned ``name: value`` lines and each list of
objects as a table. Ids are never cut or wrapped: in a table the other columns give way,
and when even that cannot fit the terminal, each row is printed as its own block.
"""

from __future__ import annotations

import functools
import json
import re
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, is_dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

_ID = re.compile(r"[a-z]{2,3}_[a-z2-7]{26}")
_ISO_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d")
#: A column other than an id may be squeezed to its longest word, but never below this...
_MIN_COLUMN = 4
#: ...and a very long word (a hash, a path) may be folded down to this.
_MAX_WORD = 20

Human = Callable[[], None] | str | None


# consoles ----------------------------------------------------------------------------
# Rich is imported, and the consoles made, on first use: a command run with --json prints
# with ``sys.stdout`` alone, and importing Rich is a noticeable part of its start-up.
@functools.cache
def _consoles() -> tuple[Console, Console]:
    from rich.console import Console

    return Console(), Console(stderr=True)


def stdout_console() -> Console:
    return _consoles()[0]


def stderr_console() -> Console:
    return _consoles()[1]


def __getattr__(name: str) -> Console:
    """``console`` (stdout) and ``err_console`` (stderr), for the command modules."""
    if name == "console":
        return stdout_console()
    if name == "err_console":
        return stderr_console()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# JSON --------------------------------------------------------------------------------
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


def emit(as_json: bool, data: Mapping[str, Any], human: Human = None) -> None:
    """One JSON object with ``--json``; otherwise the human rendering: a sentence, a
    function that prints, or (None) the object itself as fields and tables."""
    if as_json:
        sys.stdout.write(to_json(data) + "\n")
        sys.stdout.flush()  # `serve --json` and `worker --json` keep running after their line
    elif callable(human):
        human()
    elif isinstance(human, str):
        say(human)
    else:
        show(data)


def say(sentence: str) -> None:
    """A sentence for people; never re-wrapped, so an id in it stays whole."""
    stdout_console().print(sentence, highlight=False, markup=False, soft_wrap=True)


def error_line(message: str) -> None:
    """``error: …`` on stderr, the one line every failed command ends with."""
    from rich.markup import escape

    stderr_console().print(
        f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True
    )


# words --------------------------------------------------------------------------------
def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """``1 file``, ``2 files``, ``0 entries`` (give ``nouns`` when adding -s is wrong)."""
    return f"{count:,} {noun if count == 1 else (nouns or noun + 's')}"


def counts(values: Mapping[str, int]) -> str:
    """``3 records, 1 file``: a count per kind, kinds named in their plural form."""
    if not values:
        return "nothing"
    return ", ".join(plural(n, _singular(_label(kind)), _label(kind)) for kind, n in values.items())


def _singular(kinds: str) -> str:
    if kinds.endswith("ies"):
        return kinds[:-3] + "y"
    return kinds.removesuffix("s")


def when(value: datetime | str | None) -> str:
    """A time for people: UTC (Z) to the second."""
    if not value:
        return "none"
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def text(value: Any) -> str:
    """One value as people read it: times to the second, lists joined, objects as JSON."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, datetime) or (isinstance(value, str) and _ISO_TIME.match(value)):
        try:
            return when(value)
        except ValueError:
            return str(value)
    if isinstance(value, list | tuple | set | frozenset):
        return ", ".join(text(v) for v in value) or "none"
    if isinstance(value, dict):
        return to_json(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}" if abs(value) >= 10_000 else str(value)
    return str(value)


# objects and tables --------------------------------------------------------------------
def show(data: Mapping[str, Any], indent: str = "") -> None:
    """An object for people: plain values first, as aligned ``name: value`` lines; then
    each nested object under its name, and each list of objects as a table."""
    plain = {k: v for k, v in data.items() if not _is_rows(v) and not isinstance(v, dict)}
    width = max((len(_label(k)) for k in plain), default=0)
    for key, value in plain.items():
        if _is_ids(value):
            say(f"{indent}{_label(key) + ':':<{width + 1}} {plural(len(value), 'id')}")
            for item in value:
                say(f"{indent}  {item}")
            continue
        say(f"{indent}{_label(key) + ':':<{width + 1}} {text(value)}")
    for key, value in data.items():
        if isinstance(value, dict):
            say(f"{indent}{_label(key)}:" if value else f"{indent}{_label(key)}: none")
            show(value, indent + "  ")
        elif _is_rows(value):
            say(f"{indent}{_label(key)}:" if value else f"{indent}{_label(key)}: none")
            if value:
                table(value)


def table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None) -> None:
    """Rows as a table whose id columns are printed whole. The other columns give way;
    if even they cannot, every row is printed as a block of ``column: value`` lines."""
    names = list(columns or dict.fromkeys(k for row in rows for k in row))
    cells = [[text(row.get(name)) for name in names] for row in rows]
    id_widths = {
        i: max(len(names[i]), *(len(c[i]) for c in cells))
        for i in range(len(names))
        if any(_ID.fullmatch(c[i]) for c in cells)
    }
    word_widths = {
        i: min(_MAX_WORD, max([_MIN_COLUMN, *(_longest_word(c[i]) for c in cells)]))
        for i in range(len(names))
        if i not in id_widths
    }
    needed = sum(id_widths.values()) + sum(word_widths.values()) + 3 * len(names) + 1
    console = stdout_console()
    if needed > console.width:
        _blocks(names, cells)
        return
    from rich.table import Table
    from rich.text import Text

    grid = Table()
    for i, name in enumerate(names):
        header = Text(_label(name))  # a document's field names are not Rich markup
        if i in id_widths:
            grid.add_column(header, no_wrap=True, min_width=id_widths[i])
        else:
            grid.add_column(header, overflow="fold")  # Rich folds it as needed
    for row in cells:
        grid.add_row(*(Text(c) for c in row))
    console.print(grid)


def listing(rows: Sequence[Mapping[str, Any]], noun: str, nouns: str | None = None) -> None:
    """A list for people: a table, or ``no files`` when it is empty."""
    if not rows:
        say(f"no {nouns or noun + 's'}")
        return
    table(rows)


def _blocks(names: Sequence[str], cells: Sequence[Sequence[str]]) -> None:
    width = max(len(_label(n)) for n in names)
    for n, row in enumerate(cells):
        if n:
            say("")
        for name, cell in zip(names, row, strict=True):
            say(f"{_label(name) + ':':<{width + 1}} {cell}")


def _longest_word(cell: str) -> int:
    return max((len(word) for word in cell.split()), default=0)


def _label(key: str) -> str:
    return key.replace("_", " ")


def _is_rows(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, Mapping) for v in value)


def _is_ids(value: Any) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(v, str) and _ID.fullmatch(v) for v in value)
    )


# progress -----------------------------------------------------------------------------
@contextmanager
def progress_bar(
    description: str, total: int | None, enabled: bool
) -> Iterator[Callable[[int], None]]:
    """A transfer progress bar on stderr; a no-op with --json or when not a terminal."""
    if not enabled or not stderr_console().is_terminal:
        yield lambda _n: None
        return
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=stderr_console(), transient=True) as progress:
        task = progress.add_task(description, total=total)
        yield lambda n: progress.advance(task, n)
