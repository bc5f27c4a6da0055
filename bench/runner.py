"""The benchmark runner's shared parts: results, targets, the table, the JSON files.

Every figure is a pair measured side by side in the same run: ``value`` (Strongroom)
and ``baseline`` (the plain way of doing the same thing), each the median of several
alternating repetitions.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import shutil
import sqlite3
import ssl
import statistics
import subprocess
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from rich.console import Console
from rich.table import Table

BENCH_DIR = Path(__file__).resolve().parent
WORK_DIR = BENCH_DIR / "work"
RESULTS_FILE = BENCH_DIR / "results.json"
MACHINE_FILE = BENCH_DIR / "machine.json"

MIB = 1024 * 1024


@dataclass(frozen=True)
class Target:
    """A goal on the ratio (``ratio >= 0.80``) or on the value (``value <= 150``)."""

    on: Literal["ratio", "value"]
    op: Literal[">=", "<="]
    limit: float

    def __str__(self) -> str:
        limit = f"{self.limit:.2f}" if self.on == "ratio" else f"{self.limit:g}"
        return f"{self.on} {self.op} {limit}"

    def met(self, result: Result) -> bool:
        x = result.ratio if self.on == "ratio" else result.value
        return x >= self.limit if self.op == ">=" else x <= self.limit


@dataclass(frozen=True)
class Result:
    name: str
    value: float
    baseline: float
    unit: str
    target: Target | None = None  # None: reported, not judged
    notes: str = ""

    @property
    def ratio(self) -> float:
        return self.value / self.baseline if self.baseline else float("nan")

    @property
    def verdict(self) -> str:
        if self.target is None:
            return "report"
        return "pass" if self.target.met(self) else "FAIL"

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": round(self.value, 3),
            "baseline": round(self.baseline, 3),
            "ratio": round(self.ratio, 4),
            "unit": self.unit,
            "target": str(self.target) if self.target else "report",
            "notes": self.notes,
        }


@dataclass(frozen=True)
class Config:
    """Sizes and repetitions; ``quick`` shrinks everything for a smoke test."""

    quick: bool
    work: Path
    reps: int  # records
    record_count: int
    record_batch: int
    file_reps: int
    rss_reps: int
    file_bytes: int
    aead_bytes: int
    aead_seconds: float
    openssl_seconds: int
    openssl_reps: int
    backup_bytes: int = 500 * MIB  # records and files in the home a backup copies
    cli_file_bytes: int = 1024 * MIB  # the file `strongroom file put/get` moves
    backup_reps: int = 3

    @classmethod
    def make(cls, quick: bool, work: Path) -> Config:
        if quick:
            return cls(
                quick=True,
                work=work,
                reps=1,
                record_count=1_000,
                record_batch=500,
                file_reps=1,
                rss_reps=1,
                file_bytes=16 * MIB,
                aead_bytes=16 * MIB,
                aead_seconds=0.5,
                openssl_seconds=1,
                openssl_reps=1,
                backup_bytes=24 * MIB,
                backup_reps=1,
                cli_file_bytes=16 * MIB,
            )
        return cls(
            quick=False,
            work=work,
            reps=5,
            record_count=10_000,
            record_batch=500,
            file_reps=3,
            rss_reps=3,
            file_bytes=256 * MIB,
            aead_bytes=64 * MIB,
            aead_seconds=3.0,
            openssl_seconds=3,
            openssl_reps=3,
        )


@dataclass(frozen=True)
class Benchmark:
    """A group of results that share their setup (e.g. write then read)."""

    names: tuple[str, ...]
    run: Callable[[Config, frozenset[str]], list[Result]]


def median(values: Iterable[float]) -> float:
    return float(statistics.median(list(values)))


def alternate(rep: int) -> bool:
    """Whether Strongroom goes first in repetition ``rep`` (alternates to cancel drift)."""
    return rep % 2 == 0


@contextmanager
def work_dir(parent: Path, prefix: str) -> Iterator[Path]:
    """A fresh folder under ``parent``, removed afterwards (and ``parent`` if left empty)."""
    parent.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
        with suppress(OSError):
            parent.rmdir()


# machine ---------------------------------------------------------------------------------
def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_info() -> dict[str, Any]:
    import cryptography
    import sqlalchemy

    return {
        "cpu_model": cpu_model(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "cryptography": cryptography.__version__,
        "cryptography_openssl": _cryptography_openssl(),
        "python_ssl": ssl.OPENSSL_VERSION,
        "sqlalchemy": sqlalchemy.__version__,
        "sqlite": sqlite3.sqlite_version,
        "openssl_cli": _openssl_cli(),
    }


def _openssl_cli() -> str:
    openssl = shutil.which("openssl")
    if openssl is None:
        return "missing"
    done = subprocess.run([openssl, "version"], capture_output=True, text=True, check=False)
    return done.stdout.strip() or "unknown"


def _cryptography_openssl() -> str:
    try:
        from cryptography.hazmat.backends.openssl.backend import backend

        return str(backend.openssl_version_text())
    except Exception:  # pragma: no cover - informational only
        return "unknown"


# output ----------------------------------------------------------------------------------
def _fmt(x: float) -> str:
    if x != x:  # NaN
        return "-"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    return f"{x:.3f}"


def make_console() -> Console:
    """A console; at least 120 columns wide when the output is not a terminal (make, CI)."""
    console = Console()
    return console if console.is_terminal else Console(width=max(console.width, 120))


def print_machine(console: Console, machine: dict[str, Any], quick: bool) -> None:
    console.print(
        f"[bold]Strongroom benchmarks[/bold]{' (quick)' if quick else ''}  {machine['date']}"
    )
    console.print(
        f"CPU: {machine['cpu_model']}  cores: {machine['cores']}  "
        f"Python {machine['python']}  SQLite {machine['sqlite']}  "
        f"{machine['cryptography_openssl']}"
    )


def print_table(console: Console, results: Sequence[Result]) -> None:
    table = Table(title="value = Strongroom, baseline = plain, ratio = value / baseline")
    for column in ("name", "value", "baseline", "ratio", "unit", "target", "pass/fail"):
        justify = "right" if column in ("value", "baseline", "ratio") else "left"
        table.add_column(column, justify=justify, no_wrap=column != "unit")  # type: ignore[arg-type]
    for r in results:
        style = {"pass": "green", "FAIL": "bold red"}.get(r.verdict, "")
        table.add_row(
            r.name,
            _fmt(r.value),
            _fmt(r.baseline),
            f"{r.ratio:.3f}",
            r.unit,
            str(r.target) if r.target else "report",
            f"[{style}]{r.verdict}[/{style}]" if style else r.verdict,
        )
    console.print(table)
    for r in results:
        if r.notes:
            console.print(f"[dim]{r.name}: {r.notes}[/dim]", highlight=False)


def write_json(path: Path, data: Any) -> None:
    temp = path.with_name(path.name + ".tmp")
    temp.write_text(json.dumps(data, indent=2) + "\n", "utf-8")
    os.replace(temp, path)
