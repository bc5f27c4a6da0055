"""``strongroom backup`` as a new user runs it from the README: create, list, verify (a
flipped byte named, exit 1), restore into a new home, the drill; and expiry by date under
``faketime`` (the real system clock path)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.test_cli import bad, ok_json, run
from tests.e2e.test_cli_lifecycle import at, faketime  # noqa: F401 - a fixture
from tests.integration.test_backup import scan

SECRET = "MARKER-CLI-5d1e"


def _home(tmp_path: Path) -> tuple[Path, str, str]:
    home = tmp_path / "home"
    assert run("init", home=home).returncode == 0
    ws = ok_json("workspace", "create", "Acme", "--owner", "o@acme.example", home=home)["id"]
    project = ok_json("project", "create", ws, "Hiring", home=home)["id"]
    ok_json("record", "put", ws, project, "notes", json.dumps({"text": SECRET}), home=home)
    source = tmp_path / "cv.txt"
    source.write_text(SECRET * 1000)
    ok_json("file", "put", ws, project, str(source), home=home)
    return home, ws, project


def test_the_readme_backup_walkthrough(tmp_path: Path) -> None:
    home, ws, project = _home(tmp_path)
    created = ok_json("backup", "create", home=home)
    assert created["id"].startswith("bkp_") and created["keystore_backup_id"].startswith("ksb_")
    listed = ok_json("backup", "list", home=home)["backups"]
    assert [(b["id"], b["kind"]) for b in listed] == [
        (created["id"], "data"),
        (created["keystore_backup_id"], "keystore"),
    ]
    assert all(b["size"] > 0 and b["expires_at"] > b["created_at"] for b in listed)
    assert ok_json("backup", "verify", created["id"], home=home)["ok"] is True
    assert scan(home / "backups", [SECRET]) == []

    restored = ok_json("backup", "restore", created["id"], "--to", str(tmp_path / "r"), home=home)
    assert restored["counts"]["records"] == 1
    got = ok_json("record", "list", ws, project, "notes", home=tmp_path / "r")
    assert [r["document"] for r in got["records"]] == [{"text": SECRET}]
    assert ok_json("audit", "verify", home=tmp_path / "r")["ok"] is True

    drill = run("backup", "drill", home=home)
    assert drill.returncode == 0, drill.stderr.decode()
    assert "restore drill PASSED" in drill.stdout.decode()
    assert ok_json("backup", "drill", home=home)["counts"]["restored"]["records"] == 1

    assert "exactly one of --to" in bad("backup", "restore", created["id"], home=home)
    assert "not empty" in bad(
        "backup", "restore", created["id"], "--to", str(tmp_path / "r"), home=home
    )


def test_verify_names_the_corrupt_part_and_exits_1(tmp_path: Path) -> None:
    home, _ws, _project = _home(tmp_path)
    created = ok_json("backup", "create", home=home)
    (blob,) = (home / "backups" / "pool").rglob("fil_*")
    data = bytearray(blob.read_bytes())
    data[len(data) // 2] ^= 0xFF
    blob.write_bytes(bytes(data))
    result = run("backup", "verify", created["id"], home=home)
    assert result.returncode == 1
    assert f"bad part: blob:{blob.name}" in result.stderr.decode()
    result = run("backup", "verify", created["id"], "--json", home=home)
    assert result.returncode == 1
    assert json.loads(result.stdout)["bad_parts"][0]["part"] == f"blob:{blob.name}"


def test_the_worker_deletes_a_backup_61_days_old_by_the_system_clock(
    tmp_path: Path,
    faketime: str,  # noqa: F811 - the fixture
) -> None:
    home, _ws, _project = _home(tmp_path)
    old = ok_json("backup", "create", home=home)["id"]
    newer = at(30, faketime, "backup", "create", home=home)["id"]
    at(61, faketime, "lifecycle", "run", home=home)
    listed = at(61, faketime, "backup", "list", home=home)["backups"]
    assert [b["id"] for b in listed if b["kind"] == "data"] == [newer]
    assert old not in [b["id"] for b in listed]
