"""The ``strongroom`` command reads well: whole ids at 80 columns, counts that agree in
number, no Python reprs, one error shape for usage errors, and answers that say what a
user needs (a trashed record's deadline, a held purge, a deleted workspace's plan)."""

from __future__ import annotations

import json
import os
import pty
import re
import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_cli import STRONGROOM, ok_json

ID = re.compile(r"\b[a-z]{2,3}_[a-z2-7]{26}\b")
#: Commands that answer in sentences, which are never re-wrapped (the terminal wraps them).
SENTENCES = {"export create", "backup restore", "lifecycle run"}


def human(*args: str, home: Path | None = None, columns: int = 80) -> str:
    """The command's human output at a terminal width of ``columns``; it must succeed."""
    result = run(*args, home=home, columns=columns)
    assert result.returncode == 0, result.stderr.decode()
    text = result.stdout.decode()
    too_wide = [line for line in text.splitlines() if len(line) > columns]
    assert not too_wide or " ".join(args[:2]) in SENTENCES, f"wider than {columns}:\n{text}"
    return text


def run(
    *args: str, home: Path | None = None, columns: int = 80
) -> subprocess.CompletedProcess[bytes]:
    argv = [STRONGROOM, *args, *(["--home", str(home)] if home else [])]
    env = {**os.environ, "COLUMNS": str(columns)}
    env.pop("STRONGROOM_HOME", None)
    return subprocess.run(argv, capture_output=True, timeout=120, check=False, env=env)


def ids_in(data: Any) -> set[str]:
    return set(ID.findall(json.dumps(data)))


def assert_reads_well(text: str, ids: set[str]) -> None:
    """Every id whole on one line; no Python repr, no cut-off cell."""
    for id_ in ids:
        assert id_ in text, f"{id_} is not printed whole in:\n{text}"
    assert "{'" not in text and "['" not in text, text
    assert "…" not in text, text


@pytest.fixture
def world(tmp_path: Path) -> dict[str, Any]:
    home = tmp_path / "home"
    ok_json("init", home=home)
    ws = ok_json("workspace", "create", "Acme", "--owner", "owner@acme.example", home=home)["id"]
    project = ok_json("project", "create", ws, "Hiring", home=home)["id"]
    ok_json("collection", "declare", ws, "contacts", "--personal", "email", home=home)
    ada = '{"name": "Ada", "email": "ada@example.com"}'
    record = ok_json("record", "put", ws, project, "contacts", ada, home=home)["id"]
    note = ok_json("record", "put", ws, project, "notes", '{"text": "call"}', home=home)["id"]
    cv = tmp_path / "cv.txt"
    cv.write_bytes(b"curriculum vitae")
    file_id = ok_json("file", "put", ws, project, str(cv), home=home)["id"]
    return {
        "home": home,
        "ws": ws,
        "project": project,
        "record": record,
        "note": note,
        "file": file_id,
        "tmp": tmp_path,
    }


# 11: whole ids, one style ---------------------------------------------------------------
def test_every_list_prints_whole_ids_at_80_columns(world: dict[str, Any]) -> None:
    home, ws, project = world["home"], world["ws"], world["project"]
    ok_json("record", "delete", ws, project, world["note"], home=home)
    ok_json("token", "create", "--workspace", ws, "--role", "viewer", home=home)
    ok_json("backup", "create", home=home)
    ok_json("hold", "set", ws, project, "--reason", "matter 17", home=home)
    ok_json("project", "delete", ws, project, home=home)
    commands = [
        ("workspace", "list"),
        ("workspace", "show", ws),
        ("trash", "list", ws),
        ("lifecycle", "plan"),
        ("token", "list", ws),
        ("backup", "list"),
        ("keys", "status"),
    ]
    for command in commands:
        data = ok_json(*command, home=home)
        assert_reads_well(human(*command, home=home), ids_in(data))
    # audit events: the table names the workspace; the subjects are in --json
    assert_reads_well(human("audit", "events", "--workspace", ws, home=home), {ws})


def test_records_files_and_collections_read_as_tables(world: dict[str, Any]) -> None:
    home, ws, project = world["home"], world["ws"], world["project"]
    for command in [
        ("project", "list", ws),
        ("record", "list", ws, project),
        ("record", "list", ws, project, "contacts"),
        ("file", "list", ws, project),
        ("collection", "list", ws),
    ]:
        text = human(*command, home=home)
        assert not text.lstrip().startswith("{"), f"{command} printed JSON:\n{text}"
        assert_reads_well(text, ids_in(ok_json(*command, home=home)))


def test_counts_agree_in_number_and_no_reprs(world: dict[str, Any]) -> None:
    home, ws = world["home"], world["ws"]
    out = world["tmp"] / "acme.zip"
    text = human("export", "create", ws, "-o", str(out), home=home)
    assert "2 records and 1 file " in text, text
    backup = ok_json("backup", "create", home=home)["id"]
    restored = world["tmp"] / "restored"
    text = human("backup", "restore", backup, "--to", str(restored), home=home)
    assert_reads_well(text, {backup})
    assert "1 workspace" in text and "2 records" in text and "1 file" in text, text
    assert "1 events" not in human("audit", "verify", home=home)


# 12: the command itself ------------------------------------------------------------------
def test_make_demo_has_a_folder_of_its_own() -> None:
    """`make demo` starts from an empty folder; it must not be the home `make serve` uses."""
    root = Path(__file__).resolve().parents[2]
    plan = subprocess.run(
        ["make", "-n", "serve", "demo"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    [wiped] = re.findall(r"^rm -rf (\S+)$", plan, re.M)
    served = re.findall(r"strongroom serve .*--home (\S+)", plan)
    assert served and wiped not in served, plan


def test_version_and_home_before_the_subcommand(world: dict[str, Any]) -> None:
    version = run("--version")
    assert version.returncode == 0 and version.stdout.decode().startswith("strongroom 0."), version
    result = run("--home", str(world["home"]), "record", "list", world["ws"], world["project"])
    assert result.returncode == 0, result.stderr.decode()
    assert world["record"] in result.stdout.decode()


@pytest.mark.parametrize(
    "args",
    [
        ("no-such-command",),
        ("record", "list", "--no-such-option"),
        ("record", "get"),
        ("hold", "set", "ws_aaaaaaaaaaaaaaaaaaaaaaaaaa"),  # --reason is required
        ("record", "list", "ws_a", "prj_b", "--limit", "many"),
    ],
)
def test_usage_errors_are_one_line_and_exit_2_with_json_on_stdout(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    result = run(*args, home=tmp_path)
    assert result.returncode == 2, result
    err = result.stderr.decode().strip()
    assert err.startswith("error:") and "\n" not in err, err
    assert "╭" not in err and "Traceback" not in err
    as_json = run(*args, "--json", home=tmp_path)
    assert as_json.returncode == 2
    lines = as_json.stdout.decode().splitlines()
    assert len(lines) == 1, lines
    assert json.loads(lines[0])["error"]["message"]


def test_help_shows_no_bool_and_which_options_are_required() -> None:
    purge = run("trash", "purge", "--help").stdout.decode()
    assert "--confirm" in purge and "<bool>" not in purge, purge
    clear = run("hold", "clear", "--help").stdout.decode()
    reason = next(line for line in clear.splitlines() if "--reason" in line)
    assert "required" in reason, clear


def test_worker_json_prints_one_object_when_it_starts(world: dict[str, Any]) -> None:
    argv = [STRONGROOM, "worker", "--json", "--interval", "3600", "--home", str(world["home"])]
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL) as worker:
        assert worker.stdout is not None
        try:
            first = json.loads(worker.stdout.readline())
            assert first["interval_seconds"] == 3600 and first["worker"]
        finally:
            worker.send_signal(signal.SIGINT)
            rest = worker.stdout.read()
            worker.wait(timeout=60)
    assert rest == b""  # exactly one object


# 13: answers that say what a user needs ---------------------------------------------------
def test_find_by_an_undeclared_field_is_an_error_not_an_empty_match(
    world: dict[str, Any],
) -> None:
    home, ws = world["home"], world["ws"]
    assert ok_json("record", "find", ws, "email", "ada@example.com", home=home)["record_ids"]
    result = run("record", "find", ws, "phone", "+1 555", home=home)
    assert result.returncode == 2
    err = result.stderr.decode().strip()
    assert err.startswith("error:") and "'phone'" in err and "declare" in err, err


def test_a_trashed_record_says_it_is_in_the_trash_and_until_when(world: dict[str, Any]) -> None:
    home, ws, project, record = world["home"], world["ws"], world["project"], world["record"]
    entry = ok_json("record", "delete", ws, project, record, home=home)
    result = run("record", "get", ws, project, record, home=home)
    assert result.returncode == 2
    err = result.stderr.decode()
    assert "in the trash" in err and entry["restore_until"][:19] in err, err
    assert entry["id"] in err


def test_record_list_without_a_collection_lists_every_collection(world: dict[str, Any]) -> None:
    home, ws, project = world["home"], world["ws"], world["project"]
    listed = ok_json("record", "list", ws, project, home=home)["records"]
    assert {(r["id"], r["collection"]) for r in listed} == {
        (world["record"], "contacts"),
        (world["note"], "notes"),
    }
    declared = ok_json("collection", "list", ws, home=home)["collections"]
    assert declared == [
        {
            "name": "contacts",
            "personal_fields": ["email"],
            "personal": [{"path": "email", "kind": "email"}],
            "file_fields": [],
        }
    ]


def test_export_progress_counts_bytes_on_a_terminal(world: dict[str, Any]) -> None:
    """A large file moves the export's progress: bytes written, not only entries done."""
    home, ws, project = world["home"], world["ws"], world["project"]
    big = world["tmp"] / "big.bin"
    big.write_bytes(os.urandom(32 * 1024 * 1024))
    ok_json("file", "put", ws, project, str(big), home=home)
    out = world["tmp"] / "acme.zip"
    argv = [STRONGROOM, "export", "create", ws, "-o", str(out), "--home", str(home)]
    screen = on_a_terminal(argv)
    frames, _, summary = screen.partition("exported ")
    assert summary.startswith("2 records and 2 files"), screen
    assert re.search(r"\b[1-9][0-9.]* MB\b", frames), f"no byte count in the bar:\n{frames}"


def on_a_terminal(argv: list[str]) -> str:
    """Everything the command writes to a pseudo-terminal (stdout and stderr) until it ends."""
    leader, follower = pty.openpty()
    env = {**os.environ, "COLUMNS": "120", "TERM": "xterm"}
    env.pop("STRONGROOM_HOME", None)
    with subprocess.Popen(argv, stdout=follower, stderr=follower, env=env) as command:
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the command ended and closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        command.wait(timeout=120)
    os.close(leader)
    assert command.returncode == 0, b"".join(chunks)
    return b"".join(chunks).decode(errors="replace")


# 14: holds, deleted workspaces ---------------------------------------------------------------
def test_a_held_purge_is_reported_held_and_the_deleted_workspace_still_shows(
    world: dict[str, Any],
) -> None:
    home, ws = world["home"], world["ws"]
    hold = ok_json("hold", "set", ws, "--reason", "matter 17", home=home)["id"]
    deleted = ok_json("workspace", "delete", ws, "--confirm", "Acme", home=home)
    assert deleted["purged"] is False
    [purge] = ok_json("lifecycle", "plan", home=home)["purges"]
    assert purge["held"] is True
    assert ok_json("lifecycle", "run", home=home)["held"] == [purge["deadline_id"]]
    text = human("lifecycle", "run", home=home)
    assert "1 held" in text and purge["deadline_id"] in text, text

    shown = ok_json("workspace", "show", ws, home=home)
    assert shown["state"] == "closed" and shown["purge_due_at"]
    assert [h["id"] for h in shown["holds"]] == [hold]
    text = human("workspace", "show", ws, home=home)
    assert "closed" in text and hold in text, text

    ok_json("hold", "clear", ws, "--reason", "matter closed", home=home)
    assert ok_json("lifecycle", "run", home=home)["done"] == [purge["deadline_id"]]
    assert run("workspace", "show", ws, home=home).returncode == 2
