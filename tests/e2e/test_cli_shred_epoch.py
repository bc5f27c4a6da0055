"""``strongroom keys rotate --root``: a shred epoch by hand, and what it says it did."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.test_cli import bad, ok_json, run


def test_keys_rotate_root_runs_a_shred_epoch_and_says_what_it_did(tmp_path: Path) -> None:
    home = tmp_path / "home"
    ok_json("init", home=home)
    ws = ok_json("workspace", "create", "Epoch", "--owner", "owner@epoch.example", home=home)["id"]
    project = ok_json("project", "create", ws, "Notes", home=home)["id"]
    record = ok_json("record", "put", ws, project, "notes", '{"n": 1}', home=home)["id"]
    backup = ok_json("backup", "create", home=home)

    epoch = ok_json("keys", "rotate", "--root", home=home)
    assert epoch["previous_root_version"] == 1 and epoch["root_version"] == 2
    assert epoch["destroyed_versions"] == [1]
    assert epoch["rewrapped_backups"] == [backup["id"]]
    assert epoch["retired_keystore_backups"] == [backup["keystore_backup_id"]]
    assert sorted(p.name for p in (home / "kms").iterdir()) == ["root-000002.key"]
    status = ok_json("keys", "status", home=home)["root"]
    assert status["versions"] == [{"version": 2, "state": "active"}]
    assert ok_json("record", "get", ws, project, record, home=home) == {"n": 1}
    assert ok_json("backup", "verify", backup["id"], home=home)["ok"] is True

    said = run("keys", "rotate", "--root", home=home).stdout.decode()
    assert "root versions destroyed in the KMS: 2" in said
    assert "keystore backup taken: ksb_" in said
    assert "not both" in bad("keys", "rotate", "--root", "--workspace", ws, home=home)
