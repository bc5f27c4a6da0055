"""Every lifecycle timeline walked through with the CLI alone, the clock moved by Debian's
``faketime`` (so the real system clock path is what is tested)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import need_service
from tests.e2e.test_cli import bad, ok_json, run


@pytest.fixture(scope="module")
def faketime() -> str:
    path = shutil.which("faketime")
    if path is None:
        need_service("Debian's faketime is not installed (apt-get install faketime)")
    assert path is not None
    return path


def at(days: int, faketime: str, *args: str, home: Path) -> Any:
    """``strongroom ARGS --json`` as if ``days`` days had passed; the parsed output."""
    result = run(*args, "--json", home=home, wrap=[faketime, "-f", f"+{days}d"])
    assert result.returncode == 0, result.stderr.decode()
    return json.loads(result.stdout)


def fails_at(days: int, faketime: str, *args: str, home: Path, code: int = 2) -> str:
    result = run(*args, home=home, wrap=[faketime, "-f", f"+{days}d"])
    assert result.returncode == code, (result.stdout, result.stderr)
    return result.stderr.decode()


@pytest.fixture
def cli_home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    assert run("init", home=home).returncode == 0
    return home


def _workspace(home: Path, name: str = "Acme") -> tuple[str, str, str]:
    ws = ok_json("workspace", "create", name, "--owner", "o@acme.example", home=home)["id"]
    project = ok_json("project", "create", ws, "Hiring", home=home)["id"]
    record = ok_json("record", "put", ws, project, "notes", '{"text": "call back"}', home=home)
    return ws, project, record["id"]


def test_trash_timeline_restore_on_day_29_refused_and_purged_after_day_30(
    cli_home: Path, faketime: str, tmp_path: Path
) -> None:
    ws, project, record = _workspace(cli_home)
    entry = ok_json("record", "delete", ws, project, record, home=cli_home)
    assert entry["state"] == "trashed"
    assert bad("record", "get", ws, project, record, home=cli_home)
    listed = ok_json("trash", "list", ws, home=cli_home)["entries"]
    assert [e["subject_id"] for e in listed] == [record]

    at(29, faketime, "record", "restore", ws, project, record, home=cli_home)
    assert ok_json("record", "get", ws, project, record, home=cli_home) == {"text": "call back"}

    ok_json("record", "delete", ws, project, record, home=cli_home)
    assert "restore deadline passed" in fails_at(
        31, faketime, "record", "restore", ws, project, record, home=cli_home
    )
    assert at(29, faketime, "lifecycle", "run", home=cli_home)["done"] == []
    plan = at(31, faketime, "lifecycle", "plan", home=cli_home)["purges"]
    assert [p["reason"] for p in plan] == ["trash_expired"]
    assert len(at(31, faketime, "lifecycle", "run", home=cli_home)["done"]) == 1

    (cert,) = ok_json("certificate", "list", home=cli_home)["certificates"]
    path = tmp_path / "cert.json"
    ok_json("certificate", "show", cert["certificate_id"], "-o", str(path), home=cli_home)
    assert ok_json("certificate", "verify", str(path), home=cli_home)["valid"] is True
    path.write_text(path.read_text().replace('"records": 1', '"records": 0'))
    result = run("certificate", "verify", str(path), "--json", home=cli_home)
    assert result.returncode == 1
    assert json.loads(result.stdout)["valid"] is False


def test_project_and_file_delete_restore_and_delete_forever(cli_home: Path, tmp_path: Path) -> None:
    ws, project, record = _workspace(cli_home)
    source = tmp_path / "cv.txt"
    source.write_bytes(b"resume")
    stored = ok_json("file", "put", ws, project, str(source), home=cli_home)["id"]
    ok_json("file", "delete", ws, project, stored, home=cli_home)
    ok_json("file", "restore", ws, project, stored, home=cli_home)
    ok_json("project", "delete", ws, project, home=cli_home)
    assert bad("record", "get", ws, project, record, home=cli_home)
    ok_json("project", "restore", ws, project, home=cli_home)
    assert ok_json("record", "get", ws, project, record, home=cli_home) == {"text": "call back"}

    entry = ok_json("file", "delete", ws, project, stored, home=cli_home)
    assert "--confirm" in bad("trash", "purge", ws, entry["id"], home=cli_home)
    purged = ok_json("trash", "purge", ws, entry["id"], "--confirm", home=cli_home)
    assert purged["purged"] is True and purged["certificate_id"].startswith("crt_")
    assert bad("file", "restore", ws, project, stored, home=cli_home)


def test_trial_ends_kept_29_days_then_purged(cli_home: Path, faketime: str) -> None:
    ws, _project, _record = _workspace(cli_home)
    status = ok_json(
        "billing",
        "event",
        ws,
        "trial_started",
        "--event-id",
        "e1",
        "--trial-days",
        "14",
        home=cli_home,
    )
    assert status["state"] == "trial"
    shown = at(15, faketime, "workspace", "show", ws, home=cli_home)
    assert shown["state"] == "expired" and shown["purge_reason"] == "trial_expired"
    assert at(14 + 29, faketime, "lifecycle", "run", home=cli_home)["done"] == []
    assert len(at(14 + 31, faketime, "lifecycle", "run", home=cli_home)["done"]) == 1
    assert "no workspace" in bad("workspace", "show", ws, home=cli_home)


def test_trial_activated_on_day_20_keeps_everything(cli_home: Path, faketime: str) -> None:
    ws, project, record = _workspace(cli_home)
    ok_json(
        "billing",
        "event",
        ws,
        "trial_started",
        "--event-id",
        "e1",
        "--trial-days",
        "14",
        home=cli_home,
    )
    status = at(
        14 + 20, faketime, "billing", "event", ws, "activated", "--event-id", "e2", home=cli_home
    )
    assert status["state"] == "active" and status["purge_due_at"] is None
    assert at(120, faketime, "lifecycle", "run", home=cli_home)["done"] == []
    assert ok_json("record", "get", ws, project, record, home=cli_home) == {"text": "call back"}


def test_cancelled_read_only_exported_on_day_29_purged_after_day_30(
    cli_home: Path, faketime: str, tmp_path: Path
) -> None:
    ws, project, record = _workspace(cli_home)
    ok_json("billing", "event", ws, "cancelled", "--event-id", "c1", home=cli_home)
    again = ok_json("billing", "event", ws, "cancelled", "--event-id", "c1", home=cli_home)
    assert again["state"] == "cancelled"  # a repeated event id changes nothing
    assert "read-only" in bad("record", "put", ws, project, "notes", '{"n": 1}', home=cli_home)
    doc = at(29, faketime, "record", "get", ws, project, record, home=cli_home)
    assert doc == {"text": "call back"}
    archive = tmp_path / "acme.zip"
    at(29, faketime, "export", "create", ws, "-o", str(archive), home=cli_home)
    assert run("export", "verify", str(archive)).returncode == 0
    assert at(29, faketime, "lifecycle", "run", home=cli_home)["done"] == []
    assert len(at(31, faketime, "lifecycle", "run", home=cli_home)["done"]) == 1
    (cert,) = ok_json("certificate", "list", home=cli_home)["certificates"]
    assert (cert["kind"], cert["reason"]) == ("workspace", "cancellation")


def test_legal_hold_blocks_then_releases(cli_home: Path, faketime: str) -> None:
    ws, project, record = _workspace(cli_home)
    ok_json("record", "delete", ws, project, record, home=cli_home)
    ok_json("hold", "set", ws, project, "--reason", "litigation", home=cli_home)
    assert bad("hold", "set", ws, "--reason", "", home=cli_home)
    report = at(40, faketime, "lifecycle", "run", home=cli_home)
    assert report["done"] == [] and len(report["held"]) == 1
    assert at(40, faketime, "lifecycle", "plan", home=cli_home)["purges"][0]["held"] is True
    ok_json("hold", "clear", ws, project, "--reason", "case closed", home=cli_home)
    assert len(at(40, faketime, "lifecycle", "run", home=cli_home)["done"]) == 1


def test_workspace_delete_needs_its_name(cli_home: Path) -> None:
    ws, _project, _record = _workspace(cli_home)
    token = ok_json("token", "create", "--workspace", ws, "--role", "owner", home=cli_home)
    assert token["token"]
    assert "does not match" in bad("workspace", "delete", ws, "--confirm", "acme", home=cli_home)
    assert ok_json("workspace", "show", ws, home=cli_home)["state"] == "active"
    deleted = ok_json("workspace", "delete", ws, "--confirm", "Acme", home=cli_home)
    assert deleted["purged"] is True
    assert bad("workspace", "show", ws, home=cli_home)
    (cert,) = ok_json("certificate", "list", "--workspace", ws, home=cli_home)["certificates"]
    assert cert["reason"] == "workspace_deleted"


def test_bad_lifecycle_input_is_one_line_and_exit_2(cli_home: Path) -> None:
    ws, project, record = _workspace(cli_home)
    assert bad("billing", "event", ws, "refund", "--event-id", "x", home=cli_home)
    assert bad("lifecycle", "plan", "--until", "next tuesday", home=cli_home)
    assert bad("record", "restore", ws, project, record, home=cli_home)  # not in the trash
    assert bad("trash", "purge", ws, "trs_nope", "--confirm", home=cli_home)
    assert bad("certificate", "verify", "/nonexistent.json", home=cli_home)
