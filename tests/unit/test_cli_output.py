"""The CLI's one human style (cli/output.py): ids whole at any width, counts in number."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from rich.console import Console

from strongroom.cli import output

ENTRY = "trs_" + "a" * 26
RECORD = "rec_" + "b" * 26


@pytest.fixture
def screen(monkeypatch: pytest.MonkeyPatch) -> Console:
    return _screen(monkeypatch, 80)


def _screen(monkeypatch: pytest.MonkeyPatch, width: int) -> Console:
    console = Console(width=width, record=True, file=io.StringIO())
    monkeypatch.setattr(output, "stdout_console", lambda: console)
    return console


def rows(n: int) -> list[dict[str, object]]:
    when = datetime(2026, 12, 4, 13, 55, 21, 123456, tzinfo=UTC)
    return [
        {
            "entry": ENTRY,
            "kind": "record",
            "id": RECORD,
            "deleted_at": when,
            "by": "token:tok_" + "c" * 26,
            "restore_until": when.isoformat(),
        }
        for _ in range(n)
    ]


@pytest.mark.parametrize("width", [40, 60, 80, 100, 160])
def test_ids_are_whole_at_every_width(monkeypatch: pytest.MonkeyPatch, width: int) -> None:
    screen = _screen(monkeypatch, width)
    output.table(rows(2))
    text = screen.export_text()
    assert text.count(ENTRY) == 2 and text.count(RECORD) == 2, text
    assert "2026-12-04 13:55:21Z" in text and ".123456" not in text
    if width >= 80:  # narrower, a block's line (label and id) is wider than the terminal
        assert max(len(line) for line in text.splitlines()) <= width, text


def test_a_wide_terminal_gets_a_table_and_a_narrow_one_blocks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    wide = _screen(monkeypatch, 200)
    output.table(rows(1))
    assert "┃ entry" in wide.export_text()
    narrow = _screen(monkeypatch, 80)
    output.table(rows(1))
    assert narrow.export_text().splitlines()[0].startswith("entry:")


def test_objects_read_as_fields_never_as_reprs(screen: Console) -> None:
    output.show({"id": RECORD, "counts": {"records": 1, "files": 2}, "holds": [], "ok": True})
    text = screen.export_text()
    assert "{'" not in text and "records: 1" in text and "holds: none" in text
    assert "ok:     yes" in text or "ok: yes" in text.replace("  ", " ")


@pytest.mark.parametrize(
    ("values", "said"),
    [
        ({"records": 1, "files": 2}, "1 record, 2 files"),
        ({"audit_events": 1, "entries": 3}, "1 audit event, 3 entries"),
        ({}, "nothing"),
    ],
)
def test_counts_agree_in_number(values: dict[str, int], said: str) -> None:
    assert output.counts(values) == said


def test_plural() -> None:
    assert output.plural(1, "file") == "1 file"
    assert output.plural(0, "file") == "0 files"
    assert output.plural(12_345, "entry", "entries") == "12,345 entries"


def test_markup_in_cells_and_headers_is_shown_as_typed(screen: Console) -> None:
    output.table([{"[bold]name[/]": "[red]Ada[/]"}])
    text = screen.export_text()
    assert "[red]Ada[/]" in text and "[bold]name[/]" in text
