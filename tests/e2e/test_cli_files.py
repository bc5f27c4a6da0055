"""``strongroom file put`` / ``file get`` as whole processes: round trips at the sizes where
the reading and writing change step, ``-o -`` (stdout), and the progress bar (only on a
terminal, never with --json)."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
from pathlib import Path
from typing import Any

import pytest

from strongroom.crypto.segments import READ_BLOCK_BYTES
from strongroom.durable_file import WRITE_BUFFER_BYTES, WRITEBACK_EVERY_BYTES
from tests.e2e import test_cli
from tests.e2e.test_cli import STRONGROOM, bad, ok_json, run
from tests.unit.test_startup_imports import imported_by

world = test_cli.world  # the fixture: a home with a workspace and a project

SEGMENT = 64 * 1024


#: What storing or fetching a file never uses: the other commands' machinery (backup,
#: export, lifecycle, the server, privacy requests, accounts), the libraries only they (or
#: comparing phone numbers) import, and with --json Rich (people's output). Every process
#: pays for what it imports, a 1 GiB ``file put`` too.
NOT_FOR_FILES = (
    "strongroom.backup.service",
    "strongroom.export",
    "strongroom.lifecycle",
    "strongroom.api",
    "strongroom.services.privacy",
    "strongroom.services.access",
    "alembic",
    "argon2",
    "cryptography.x509",
    "fastapi",
    "jsonschema",
    "phonenumbers",
    "rich",
    "uvicorn",
)


def test_put_and_get_import_only_what_they_use(world: dict[str, Any]) -> None:
    home, ws, project, tmp = world["home"], world["ws"], world["project"], world["tmp"]
    source = tmp / "in.bin"
    source.write_bytes(os.urandom(1000))
    home_option = ("--home", str(home))
    put, printed = imported_by(
        "file", "put", ws, project, str(source), "--json", *home_option, scratch=tmp
    )
    file_id = json.loads(printed)["id"]
    out = str(tmp / "out.bin")
    get, _ = imported_by(
        "file", "get", ws, project, file_id, "-o", out, "--json", *home_option, scratch=tmp
    )
    assert (tmp / "out.bin").read_bytes() == source.read_bytes()
    for modules in (put, get):
        assert "sqlalchemy" in modules  # the probe saw the command open the home
        assert sorted(m for m in modules if m.startswith(NOT_FOR_FILES)) == []
        commands = {m for m in modules if m.startswith("strongroom.cli.commands.")}
        assert commands == {"strongroom.cli.commands.file"}


@pytest.mark.parametrize(
    "size",
    [
        0,
        READ_BLOCK_BYTES,  # the source ends exactly at a block
        WRITE_BUFFER_BYTES + SEGMENT + 7,
        WRITEBACK_EVERY_BYTES + 3 * SEGMENT + 5,  # crosses the first writeback hint
    ],
)
def test_put_then_get_gives_back_the_same_bytes(world: dict[str, Any], size: int) -> None:
    home, ws, project, tmp = world["home"], world["ws"], world["project"], world["tmp"]
    source = tmp / "in.bin"
    source.write_bytes(os.urandom(size))
    stored = ok_json("file", "put", ws, project, str(source), home=home)
    assert stored["size"] == size
    out = tmp / "out.bin"
    got = ok_json("file", "get", ws, project, stored["id"], "-o", str(out), home=home)
    assert got["size"] == size and out.read_bytes() == source.read_bytes()
    assert [p.name for p in tmp.iterdir() if p.name.endswith(".partial")] == []


def test_get_to_stdout_writes_exactly_the_file(world: dict[str, Any]) -> None:
    home, ws, project, tmp = world["home"], world["ws"], world["project"], world["tmp"]
    data = os.urandom(3 * READ_BLOCK_BYTES + 12_345)
    source = tmp / "report.bin"
    source.write_bytes(data)
    stored = ok_json("file", "put", ws, project, str(source), home=home)
    result = run("file", "get", ws, project, stored["id"], "-o", "-", home=home)
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout == data  # the plaintext and nothing else
    assert result.stderr == b""  # not a terminal: no progress bar, no summary
    assert not (Path.cwd() / "-").exists()


def test_get_to_stdout_with_json_is_refused(world: dict[str, Any]) -> None:
    home, ws, project, tmp = world["home"], world["ws"], world["project"], world["tmp"]
    source = tmp / "a.bin"
    source.write_bytes(b"attachment")
    stored = ok_json("file", "put", ws, project, str(source), home=home)
    result = run("file", "get", ws, project, stored["id"], "-o", "-", "--json", home=home)
    assert result.returncode == 2
    assert b"attachment" not in result.stdout
    assert "stdout carries the file" in result.stderr.decode()


def test_a_tampered_file_to_stdout_stops_short_and_fails(world: dict[str, Any]) -> None:
    home, ws, project, tmp = world["home"], world["ws"], world["project"], world["tmp"]
    data = os.urandom(2 * READ_BLOCK_BYTES)
    source = tmp / "in.bin"
    source.write_bytes(data)
    stored = ok_json("file", "put", ws, project, str(source), home=home)
    blob = next((home / "blobs").rglob(stored["id"]))
    tampered = bytearray(blob.read_bytes())
    tampered[-100] ^= 1  # in the last segment
    blob.write_bytes(bytes(tampered))
    message = bad("file", "get", ws, project, stored["id"], "-o", "-", home=home)
    assert "failed authentication" in message
    result = run("file", "get", ws, project, stored["id"], "-o", "-", home=home)
    assert result.returncode == 2 and len(result.stdout) < len(data)
    assert data.startswith(result.stdout)  # only authenticated segments were written


def _stderr_on_a_terminal(*args: str, home: Path) -> tuple[int, bytes]:
    """Run with stderr on a pseudo-terminal; the exit status and all that reached it."""
    leader, follower = pty.openpty()
    seen = bytearray()
    with subprocess.Popen(
        [STRONGROOM, *args, "--home", str(home)],
        stdout=subprocess.DEVNULL,
        stderr=follower,
        env={**os.environ, "COLUMNS": "120", "TERM": "xterm-256color"},
    ) as process:
        os.close(follower)
        while select.select([leader], [], [], 60)[0]:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the last holder of the terminal exited
                break
            if not chunk:
                break
            seen += chunk
        os.close(leader)
        code = process.wait(timeout=60)
    return code, bytes(seen)


def test_progress_shows_on_a_terminal_and_never_with_json(world: dict[str, Any]) -> None:
    home, ws, project, tmp = world["home"], world["ws"], world["project"], world["tmp"]
    source = tmp / "big.bin"
    source.write_bytes(os.urandom(4 * READ_BLOCK_BYTES))
    code, shown = _stderr_on_a_terminal("file", "put", ws, project, str(source), home=home)
    assert code == 0 and b"encrypting" in shown
    file_id = ok_json("file", "list", ws, project, home=home)["files"][0]["id"]
    out = tmp / "out.bin"
    code, shown = _stderr_on_a_terminal(
        "file", "get", ws, project, file_id, "-o", str(out), home=home
    )
    assert code == 0 and b"decrypting" in shown
    code, shown = _stderr_on_a_terminal(
        "file", "get", ws, project, file_id, "-o", str(out), "--json", home=home
    )
    assert code == 0 and shown == b""
