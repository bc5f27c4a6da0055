"""``strongroom agreement`` with the real command: publish from a file, list, accept as
an owner, verify the receipt (and see a tampered one fail), bad input as one line."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.e2e.test_cli import bad, ok_json, run
from tests.e2e.test_cli_lifecycle import cli_home  # noqa: F401 - fixture


def _today() -> str:
    return datetime.now(UTC).date().isoformat()


def _tomorrow() -> str:
    """The earliest effective date a version may have: it takes effect after today."""
    return (datetime.now(UTC).date() + timedelta(days=1)).isoformat()


def test_publish_list_accept_verify(cli_home: Path, tmp_path: Path) -> None:  # noqa: F811
    home = cli_home
    ws = ok_json("workspace", "create", "Acme", "--owner", "o@acme.example", home=home)["id"]
    scc, dpa = tmp_path / "scc.txt", tmp_path / "dpa.txt"
    scc.write_text("SAMPLE clauses for a test.\n", "utf-8")
    dpa.write_text("SAMPLE DPA for a test.\n", "utf-8")
    published = ok_json(
        "agreement", "publish", "--kind", "scc", "--version", "2021-06", "--file", str(scc),
        "--effective", _tomorrow(), home=home,
    )  # fmt: skip
    assert published["sha256"] == hashlib.sha256(scc.read_bytes()).hexdigest()
    ok_json(
        "agreement", "publish", "--kind", "dpa", "--version", "1", "--file", str(dpa),
        "--effective", _tomorrow(), "--scc", "2021-06", home=home,
    )  # fmt: skip
    again = bad(
        "agreement", "publish", "--kind", "dpa", "--version", "1", "--file", str(dpa),
        "--effective", _tomorrow(), home=home,
    )  # fmt: skip
    assert "already published" in again
    listed = ok_json("agreement", "list", home=home)["versions"]
    assert [(v["kind"], v["version"]) for v in listed] == [("scc", "2021-06"), ("dpa", "1")]

    assert "no member" in bad(
        "agreement", "accept", ws, "--version", "1", "--email", "x@acme.example", home=home
    )
    receipt_file = tmp_path / "receipt.json"
    receipt = ok_json(
        "agreement", "accept", ws, "--version", "1", "--email", "o@acme.example",
        "-o", str(receipt_file), home=home,
    )  # fmt: skip
    assert receipt["agreement"]["version"] == "1"
    verified = ok_json("agreement", "verify-receipt", str(receipt_file), home=home)
    assert verified["valid"] and verified["workspace_id"] == ws

    tampered = json.loads(receipt_file.read_text("utf-8"))
    tampered["accepted_at"] = (datetime.now(UTC) - timedelta(days=400)).isoformat()
    receipt_file.write_text(json.dumps(tampered), "utf-8")
    result = run("agreement", "verify-receipt", str(receipt_file), "--json", home=home)
    assert result.returncode == 1
    assert json.loads(result.stdout) == {
        "valid": False,
        "reason": "the receipt's signature does not match its content",
    }


def test_bad_input_is_one_line_and_publishes_nothing(
    cli_home: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    text = tmp_path / "t.txt"
    text.write_bytes(b"\xff\xfe")
    big = tmp_path / "big.txt"
    big.write_bytes(b"x" * (256 * 1024 + 1))
    common = ["--version", "1", "--effective", _tomorrow()]
    for args, words in [
        (["--kind", "msa", "--file", str(text)], "unknown agreement kind"),
        (["--kind", "scc", "--file", str(text)], "UTF-8"),
        (["--kind", "scc", "--file", str(big)], "larger than"),
        (["--kind", "scc", "--file", str(tmp_path / "none")], "no such file"),
    ]:
        assert words in bad("agreement", "publish", *args, *common, home=cli_home)
    assert "not a date" in bad(
        "agreement", "publish", "--kind", "scc", "--file", str(text), "--version", "1",
        "--effective", "01/02/2026", home=cli_home,
    )  # fmt: skip
    fine = tmp_path / "fine.txt"
    fine.write_text("SAMPLE clauses for a test.\n", "utf-8")
    today = bad(
        "agreement", "publish", "--kind", "scc", "--file", str(fine), "--version", "1",
        "--effective", _today(), home=cli_home,
    )  # fmt: skip
    assert "is today" in today and "choose tomorrow or later" in today
    assert ok_json("agreement", "list", home=cli_home) == {"versions": []}
    junk = tmp_path / "junk.json"
    junk.write_text("[1, 2", "utf-8")
    assert "not an acceptance receipt" in bad(
        "agreement", "verify-receipt", str(junk), home=cli_home
    )
