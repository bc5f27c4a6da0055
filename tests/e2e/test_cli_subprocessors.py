"""``strongroom subprocessor``: the done-when on the command line (a 10-day notice exits 2
and stores nothing; a 30-day one is listed as announced), changes, objections."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.e2e.test_cli import bad, ok_json, run

FIELDS = [
    "--name", "Hetzner Online GmbH",
    "--address", "Industriestr. 25, 91710 Gunzenhausen, Germany",
    "--contact", "data-protection@hetzner.example",
    "--purpose", "Hosting",
    "--data-categories", "all customer data (encrypted)",
    "--location", "Germany",
    "--transfer", "none (EU)",
]  # fmt: skip


def _in(days: int) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).date().isoformat()


@pytest.fixture
def cli_home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    assert run("init", home=home).returncode == 0
    return home


def test_a_ten_day_notice_exits_2_and_stores_nothing(cli_home: Path) -> None:
    message = bad("subprocessor", "add", *FIELDS, "--effective", _in(10), home=cli_home)
    assert "earliest effective date" in message
    listed = ok_json("subprocessor", "list", home=cli_home)
    assert listed == {"subprocessors": [], "upcoming": []}


def test_bad_input_exits_2_with_one_line(cli_home: Path) -> None:
    assert "legal name" in bad(
        "subprocessor", "add", *FIELDS[2:], "--effective", _in(31), home=cli_home
    )
    assert "YYYY-MM-DD" in bad(
        "subprocessor", "add", *FIELDS, "--effective", "next month", home=cli_home
    )
    assert "not a subprocessor id" in bad(
        "subprocessor", "remove", "nope", "--effective", _in(31), home=cli_home
    )


def test_add_change_remove_and_list(cli_home: Path) -> None:
    added = ok_json("subprocessor", "add", *FIELDS, "--effective", _in(31), home=cli_home)
    sid = added["subprocessor_id"]
    assert added["kind"] == "add" and added["effective"] == _in(31)
    changed = ok_json(
        "subprocessor", "change", sid, "--location", "Finland", "--effective", _in(40),
        home=cli_home,
    )  # fmt: skip
    assert changed["details"]["location"] == "Finland"
    assert changed["details"]["legal_name"] == "Hetzner Online GmbH"  # kept
    removed = ok_json("subprocessor", "remove", sid, "--effective", _in(60), home=cli_home)
    assert removed["kind"] == "remove"
    listed = ok_json("subprocessor", "list", home=cli_home)
    assert listed["subprocessors"] == []
    assert [n["kind"] for n in listed["upcoming"]] == ["add", "replace", "remove"]
    assert ok_json("subprocessor", "objections", home=cli_home) == {"objections": []}
    people = run("subprocessor", "list", home=cli_home)
    assert people.returncode == 0 and sid.encode() in people.stdout
