"""Text that is not Unicode (a lone surrogate, from a JSON ``\\ud800`` escape or from an
argument of undecodable bytes) is bad input everywhere a name, an email, a reason or a
search value is taken: refused with InvalidInput (400, CLI exit 2), never a 500 or a
traceback, and nothing is created."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from strongroom.bootstrap import Strongroom
from strongroom.errors import InvalidInput
from tests.e2e.api_support import live_server
from tests.e2e.test_cli import STRONGROOM, ok_json

LONE = "\ud800"


def test_the_library_refuses_text_with_a_lone_surrogate(sr: Strongroom) -> None:
    ws = sr.workspaces.create("Acme", "owner@acme.example")
    project = sr.projects.create(ws.id, "Hiring")
    sr.records.declare_collection(ws.id, "contacts", ["email"])
    attempts = [
        lambda: sr.workspaces.create(f"Bad {LONE}", "owner@bad.example"),
        lambda: sr.workspaces.create("Bad", f"owner{LONE}@bad.example"),
        lambda: sr.workspaces.add_member(ws.id, f"m{LONE}@acme.example", "member"),
        lambda: sr.projects.create(ws.id, LONE),
        lambda: sr.files.put(ws.id, project.id, f"cv{LONE}.pdf", _Empty()),
        lambda: sr.records.find(ws.id, "email", f"x{LONE}@example.com"),
        lambda: sr.plans.set_hold(ws.id, None, f"litigation {LONE}"),
    ]
    for attempt in attempts:
        with pytest.raises(InvalidInput, match="lone surrogate"):
            attempt()
    assert [w.name for w in sr.workspaces.list()] == ["Acme"]
    assert [p.name for p in sr.projects.page(ws.id, None, 100).items] == ["Hiring"]
    assert sr.plans.status(ws.id).holds == []


class _Empty:
    def read(self, _n: int = -1) -> bytes:
        return b""


def test_the_api_answers_a_lone_surrogate_with_4xx(tmp_path: Path) -> None:
    with live_server(tmp_path / "home") as live:
        ws = live.sr.workspaces.create("Acme", "owner@acme.example")
        with live.client(live.sr.access.create_token(ws.id, "owner").token) as client:
            for path, body in (
                (f"/v1/workspaces/{ws.id}/projects", b'{"name": "P \\ud800"}'),
                (f"/v1/workspaces/{ws.id}/members", b'{"email": "a\\udfff@x.example"}'),
            ):
                response = client.post(
                    path, content=body, headers={"content-type": "application/json"}
                )
                assert 400 <= response.status_code < 500, response.text
                assert response.headers["content-type"] == "application/problem+json"
        assert live.sr.projects.page(ws.id, None, 100).items == []


def test_the_cli_refuses_an_argument_of_undecodable_bytes(tmp_path: Path) -> None:
    home = tmp_path / "home"
    ok_json("init", home=home)
    ws = ok_json("workspace", "create", "Acme", "--owner", "owner@acme.example", home=home)["id"]
    # Bytes that are not UTF-8 reach Python as lone surrogates (surrogateescape).
    argv = [os.fsencode(STRONGROOM), b"project", b"create", ws.encode(), b"Bad \xff"]
    result = subprocess.run(
        [*argv, b"--home", os.fsencode(home)],
        capture_output=True,
        timeout=120,
        check=False,
    )
    message = result.stderr.decode(errors="replace").strip()
    assert result.returncode == 2, message
    assert message.startswith("error:") and "Traceback" not in message
    assert ok_json("project", "list", ws, home=home)["projects"] == []
