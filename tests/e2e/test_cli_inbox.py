"""The request inbox with the real ``strongroom`` command: list (open first, with the
time left), show (decrypted), reply through a real SMTP server, note, assign; bad input
is one line and exit 2."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from strongroom import init_home, open_strongroom
from tests.e2e.test_cli import bad, ok_json, run
from tests.smtp_support import SmtpServer, smtp_server


@pytest.fixture
def mail() -> Iterator[SmtpServer]:
    with smtp_server() as running:
        yield running


@pytest.fixture
def home(tmp_path: Path, mail: SmtpServer) -> Path:
    path = tmp_path / "home"
    init_home(path, **mail.settings())
    return path


def _received(home: Path, subject: str = "Cannot sign in", kind: str = "support") -> str:
    with open_strongroom(home) as sr:
        return sr.inbox.submit(kind, "pat@example.org", subject, "Since Monday.\nThanks").id


def test_an_operator_answers_a_request_from_the_command_line(
    home: Path, mail: SmtpServer, tmp_path: Path
) -> None:
    request_id = _received(home)
    other = _received(home, "Found a bug", "security")
    listed = ok_json("inbox", "list", "--open", home=home)["requests"]
    assert [r["id"] for r in listed] == [request_id, other]
    assert listed[0]["time_left"] in ("23 hours left", "24 hours left")
    human = run("inbox", "list", home=home).stdout.decode()
    assert request_id in human and "Cannot sign in" in human

    shown = ok_json("inbox", "show", request_id, home=home)
    assert (shown["email"], shown["message"]) == ("pat@example.org", "Since Monday.\nThanks")

    assert ok_json("inbox", "note", request_id, "--message", "Asked the SSO team", home=home)
    operator = ok_json("token", "create", "--operator", home=home)["id"]
    assert ok_json("inbox", "assign", request_id, "--to", operator, home=home)["kind"] == "assign"
    reply = tmp_path / "reply.txt"
    reply.write_text("Hello Pat,\nfixed now.\n", encoding="utf-8")
    sent = ok_json("inbox", "reply", request_id, "--file", str(reply), home=home)
    assert sent["sent"] is True
    [delivered] = mail.inbox.to("pat@example.org")
    assert delivered["Subject"] == f"Re: Cannot sign in [{request_id}]"
    assert [r["id"] for r in ok_json("inbox", "list", "--open", home=home)["requests"]] == [other]
    shown = ok_json("inbox", "show", request_id, home=home)
    assert shown["state"] == "answered" and shown["assigned_to"] == operator
    assert [e["kind"] for e in shown["entries"]] == ["note", "assign", "reply"]


def test_bad_input_is_one_line_exit_2_and_changes_nothing(home: Path, tmp_path: Path) -> None:
    request_id = _received(home)
    binary = tmp_path / "binary"
    binary.write_bytes(b"\xff\xfe\x00")
    for args, words in [
        (["show", "req_" + "a" * 26], "no inbox request"),
        (["reply", request_id], "--message or --file"),
        (["reply", request_id, "--message", "a", "--file", str(binary)], "--message or --file"),
        (["reply", request_id, "--file", str(binary)], "not UTF-8"),
        (["reply", request_id, "--file", str(tmp_path / "missing")], "cannot read"),
        (["note", request_id, "--message", "bell \x07"], "control"),
        (["assign", request_id, "--to", "tok_" + "a" * 26], "operator token"),
        (["list", "--kind", "sales"], "kind must be one of"),
    ]:
        assert words in bad("inbox", *args, home=home), args
    assert ok_json("inbox", "show", request_id, home=home)["entries"] == []
