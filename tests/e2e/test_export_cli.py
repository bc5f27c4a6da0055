"""``strongroom export`` as a user runs it: a real process, a real ZIP, exit codes 0/1/2."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

from tests.e2e.test_cli import bad, ok_json, run
from tests.export_support import rewrite_zip


def _home_with_data(tmp: Path) -> tuple[Path, str]:
    home = tmp / "home"
    ok_json("init", home=home)
    ws = ok_json("workspace", "create", "Acme", "--owner", "owner@acme.example", home=home)["id"]
    project = ok_json("project", "create", ws, "Hiring", home=home)["id"]
    ok_json("record", "put", ws, project, "contacts", '{"name": "Ada"}', home=home)
    cv = tmp / "cv.pdf"
    cv.write_bytes(b"%PDF resume")
    ok_json("file", "put", ws, project, str(cv), home=home)
    return home, ws


def test_export_create_and_verify(tmp_path: Path) -> None:
    home, ws = _home_with_data(tmp_path)
    out = tmp_path / "acme.zip"
    created = ok_json("export", "create", ws, "-o", str(out), home=home)
    assert created["path"] == str(out)
    assert created["counts"]["records"] == 1 and created["counts"]["files"] == 1
    assert created["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    assert out.stat().st_mode & 0o777 == 0o600
    with zipfile.ZipFile(out) as z:
        assert z.namelist()[-1] == "manifest.json"

    checked = run("export", "verify", str(out), "--json")
    assert checked.returncode == 0
    report = json.loads(checked.stdout)
    assert report["ok"] is True and report["workspace_id"] == ws
    human = run("export", "verify", str(out))
    assert human.returncode == 0 and b"export verified" in human.stdout

    damaged = tmp_path / "damaged.zip"
    rewrite_zip(out, damaged, drop="members.json")
    message = bad("export", "verify", str(damaged), home=None, code=1)
    assert "members.json" in message
    as_json = run("export", "verify", str(damaged), "--json")
    assert as_json.returncode == 1
    assert json.loads(as_json.stdout)["error"]["entry"] == "members.json"


def test_export_bad_input_is_one_line_and_exit_2(tmp_path: Path) -> None:
    home, ws = _home_with_data(tmp_path)
    not_zip = tmp_path / "notes.txt"
    not_zip.write_text("hello")
    for path in (tmp_path / "missing.zip", not_zip, tmp_path):
        assert "cannot read" in bad("export", "verify", str(path), home=None, code=2)
    assert "no such folder" in bad(
        "export", "create", ws, "-o", str(tmp_path / "nope" / "x.zip"), home=home
    )
    bad(
        "export",
        "create",
        "ws_aaaaaaaaaaaaaaaaaaaaaaaaaa",
        "-o",
        str(tmp_path / "x.zip"),
        home=home,
    )
    assert not (tmp_path / "x.zip").exists()
    assert not list(tmp_path.glob(".x.zip.*"))
