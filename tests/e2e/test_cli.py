"""The ``strongroom`` command as a user runs it: a real process, real files, exit codes."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import ssl
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.pkcs11_support import TEST_PIN, new_softhsm_token
from tests.ports import free_port

STRONGROOM = str(Path(sys.executable).parent / "strongroom")


def run(
    *args: str,
    home: Path | None = None,
    stdin: bytes | None = None,
    env: dict[str, str] | None = None,
    wrap: list[str] | None = None,
) -> subprocess.CompletedProcess[bytes]:
    """Run the command; ``wrap`` goes before it (e.g. faketime and its arguments)."""
    argv = [*(wrap or []), STRONGROOM, *args]
    if home is not None:
        argv += ["--home", str(home)]
    return subprocess.run(
        argv,
        input=stdin,
        capture_output=True,
        timeout=120,
        check=False,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
    )


def ok_json(*args: str, home: Path, stdin: bytes | None = None) -> Any:
    result = run(*args, "--json", home=home, stdin=stdin)
    assert result.returncode == 0, result.stderr.decode()
    lines = result.stdout.decode().splitlines()
    assert len(lines) == 1, f"--json printed {len(lines)} lines"
    return json.loads(lines[0])


def bad(*args: str, home: Path, stdin: bytes | None = None, code: int = 2) -> str:
    result = run(*args, home=home, stdin=stdin)
    assert result.returncode == code, (result.stdout, result.stderr)
    message = result.stderr.decode().strip()
    assert message.startswith("error:") and "\n" not in message, message
    assert "Traceback" not in message
    return message


def audit_count(home: Path) -> int:
    return int(ok_json("audit", "verify", home=home)["events"])


@pytest.fixture
def world(tmp_path: Path) -> dict[str, Any]:
    home = tmp_path / "home"
    assert ok_json("init", home=home)["kms"] == "local"
    ws = ok_json(
        "workspace", "create", "Acme Referrals", "--owner", "owner@acme.example", home=home
    )["id"]
    project = ok_json("project", "create", ws, "Hiring", home=home)["id"]
    return {"home": home, "ws": ws, "project": project, "tmp": tmp_path}


def test_record_and_file_round_trip(world: dict[str, Any]) -> None:
    home, ws, project, tmp = world["home"], world["ws"], world["project"], world["tmp"]
    document = {"name": "Grace Hopper", "email": "grace@example.com", "skills": ["COBOL"]}
    record = ok_json("record", "put", ws, project, "candidates", json.dumps(document), home=home)
    assert ok_json("record", "get", ws, project, record["id"], home=home) == document

    from_stdin = ok_json(
        "record", "put", ws, project, "candidates", "-", home=home, stdin=b'{"name": "From Stdin"}'
    )
    assert ok_json("record", "get", ws, project, from_stdin["id"], home=home) == {
        "name": "From Stdin"
    }

    source = tmp / "resume.pdf"
    source.write_bytes(os.urandom(300_000))
    stored = ok_json("file", "put", ws, project, str(source), home=home)
    assert stored["size"] == 300_000
    out = tmp / "back.pdf"
    got = ok_json("file", "get", ws, project, stored["id"], "-o", str(out), home=home)
    assert got["name"] == "resume.pdf" and out.read_bytes() == source.read_bytes()
    listed = ok_json("record", "list", ws, project, "candidates", home=home)
    assert {r["id"] for r in listed["records"]} == {record["id"], from_stdin["id"]}


def test_home_from_environment(world: dict[str, Any]) -> None:
    result = run("workspace", "list", "--json", env={"STRONGROOM_HOME": str(world["home"])})
    assert result.returncode == 0, result.stderr
    assert [w["id"] for w in json.loads(result.stdout)["workspaces"]] == [world["ws"]]


def test_bad_input_exits_2_and_writes_nothing(world: dict[str, Any]) -> None:
    home, ws, project = world["home"], world["ws"], world["project"]
    before = audit_count(home)
    assert "not valid JSON" in bad("record", "put", ws, project, "notes", '{"a": ', home=home)
    assert "JSON object" in bad("record", "put", ws, project, "notes", "[1, 2]", home=home)
    big = json.dumps({"blob": "x" * (1024 * 1024)}).encode()
    assert "limit" in bad("record", "put", ws, project, "notes", "-", home=home, stdin=big)
    assert "no project" in bad("record", "put", ws, "prj_" + "a" * 26, "notes", "{}", home=home)
    assert "not a workspace id" in bad("project", "create", "nonsense", "X", home=home)
    assert "no record" in bad("record", "get", ws, project, "rec_" + "b" * 26, home=home)
    assert "role" in bad("workspace", "add-member", ws, "x@example.com", "--role", "god", home=home)
    assert "no such file" in bad("file", "put", ws, project, "/nonexistent/file", home=home)
    assert audit_count(home) == before


def test_json_errors_are_one_object(world: dict[str, Any]) -> None:
    result = run(
        "record",
        "get",
        world["ws"],
        world["project"],
        "rec_" + "c" * 26,
        "--json",
        home=world["home"],
    )
    assert result.returncode == 2
    error = json.loads(result.stdout)["error"]
    assert error["type"] == "NotFound" and error["record_id"] == "rec_" + "c" * 26


def test_tampered_file_get_fails_and_leaves_no_file(world: dict[str, Any]) -> None:
    home, ws, project, tmp = world["home"], world["ws"], world["project"], world["tmp"]
    source = tmp / "in.bin"
    source.write_bytes(b"confidential " * 20_000)
    stored = ok_json("file", "put", ws, project, str(source), home=home)
    blob = next((home / "blobs").rglob(stored["id"]))
    data = bytearray(blob.read_bytes())
    data[-100] ^= 1
    blob.write_bytes(bytes(data))
    out = tmp / "out.bin"
    assert "failed authentication" in bad(
        "file", "get", ws, project, stored["id"], "-o", str(out), home=home
    )
    assert not out.exists()
    assert [p.name for p in tmp.iterdir() if p.name.startswith(".out.bin")] == []


def test_tampered_record_fails_and_audit_verify_names_edits(world: dict[str, Any]) -> None:
    home, ws, project = world["home"], world["ws"], world["project"]
    record = ok_json("record", "put", ws, project, "notes", '{"t": "secret"}', home=home)
    with sqlite3.connect(home / "data.db") as db:
        db.execute(
            "UPDATE records SET sealed = substr(sealed, 1, length(sealed) - 1) || x'00' "
            "WHERE id = ?",
            (record["id"],),
        )
    assert "failed authentication" in bad("record", "get", ws, project, record["id"], home=home)
    assert audit_count(home) > 0
    with sqlite3.connect(home / "data.db") as db:
        db.execute("UPDATE audit_events SET actor = 'mallory' WHERE seq = 2")
    message = bad("audit", "verify", home=home, code=1)
    assert "position 2" in message


def test_keys_rotate_and_status(world: dict[str, Any]) -> None:
    home, ws, project = world["home"], world["ws"], world["project"]
    record = ok_json("record", "put", ws, project, "notes", '{"n": 1}', home=home)
    assert ok_json("keys", "rotate", "--workspace", ws, home=home)["version"] == 2
    assert ok_json("keys", "rotate", home=home)["root_version"] == 2
    status = ok_json("keys", "status", home=home)
    assert status["root"]["backend"] == "local" and status["root"]["current_version"] == 2
    assert status["workspace_keys_by_root_version"] == {"2": 1}
    assert ok_json("record", "get", ws, project, record["id"], home=home) == {"n": 1}
    assert ok_json("keys", "policy", home=home)["cipher"] == "AES-256-GCM"


def test_init_twice_and_missing_home_are_refused(world: dict[str, Any]) -> None:
    assert "already initialised" in bad("init", home=world["home"])
    assert "strongroom init" in bad("workspace", "list", home=world["tmp"] / "nowhere")


def test_world_readable_root_key_is_refused(world: dict[str, Any]) -> None:
    key = next((world["home"] / "kms").glob("root-*.key"))
    key.chmod(0o644)
    message = bad("workspace", "list", home=world["home"])
    assert "chmod go-rwx" in message and str(key) in message


def test_demo_stores_no_plaintext(tmp_path: Path) -> None:
    result = ok_json("demo", home=tmp_path / "demo")
    assert result["plaintext_found"] == {}
    assert result["plaintexts_checked"] >= 20
    assert result["records"]["contacts"][0]["name"] == "Ingrid Vasquez-Oyelaran"


@pytest.mark.pkcs11
def test_pkcs11_home_round_trip_and_wrong_pin(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    token = new_softhsm_token(tmp_path_factory)
    env = {"STRONGROOM_PKCS11_PIN": TEST_PIN, "SOFTHSM2_CONF": os.environ["SOFTHSM2_CONF"]}
    home = tmp_path / "hsm-home"
    result = run(
        "init",
        "--kms",
        "pkcs11",
        "--pkcs11-module",
        token.module_path,
        "--pkcs11-token-label",
        token.token_label,
        "--json",
        home=home,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    assert not (home / "kms").exists()  # the root key lives in the token only
    created = run(
        "workspace", "create", "HSM Co", "--owner", "o@hsm.example", "--json", home=home, env=env
    )
    assert created.returncode == 0, created.stderr
    ws = json.loads(created.stdout)["id"]
    status = json.loads(run("keys", "status", "--json", home=home, env=env).stdout)
    assert status["root"]["backend"] == "pkcs11" and status["root"]["for_development"] is False

    def hsm_json(*args: str) -> Any:
        done = run(*args, "--json", home=home, env=env)
        assert done.returncode == 0, done.stderr.decode()
        return json.loads(done.stdout)

    # Written and read back by separate processes, each unwrapping through the token.
    project = hsm_json("project", "create", ws, "Hiring")["id"]
    document = {"name": "Grace Hopper", "email": "grace@hsm.example"}
    record = hsm_json("record", "put", ws, project, "candidates", json.dumps(document))["id"]
    source = tmp_path / "cv.bin"
    source.write_bytes(os.urandom(150_000))
    stored = hsm_json("file", "put", ws, project, str(source))["id"]
    assert hsm_json("keys", "rotate")["root_version"] == 2  # a new root version in the HSM
    assert hsm_json("record", "get", ws, project, record) == document
    out = tmp_path / "back.bin"
    hsm_json("file", "get", ws, project, stored, "-o", str(out))
    assert out.read_bytes() == source.read_bytes()
    assert b"Grace Hopper" not in (home / "data.db").read_bytes()

    wrong = run(
        "workspace", "show", ws, home=home, env={**env, "STRONGROOM_PKCS11_PIN": "not-the-pin"}
    )
    assert wrong.returncode == 2
    assert "wrong PIN" in wrong.stderr.decode() and "not-the-pin" not in wrong.stderr.decode()
    assert TEST_PIN not in wrong.stderr.decode()
    missing = run("workspace", "list", home=home, env={**env, "STRONGROOM_PKCS11_PIN": ""})
    assert missing.returncode == 2 and "STRONGROOM_PKCS11_PIN" in missing.stderr.decode()


def test_unreachable_database_is_one_line_without_the_password(world: dict[str, Any]) -> None:
    url = "postgresql+psycopg://postgres:hunter2-secret@127.0.0.1:1/nowhere"
    result = run("workspace", "list", home=world["home"], env={"STRONGROOM_DATABASE_URL": url})
    assert result.returncode == 2
    message = result.stderr.decode().strip()
    assert message.startswith("error: cannot reach the database") and "\n" not in message
    assert "hunter2-secret" not in message


def test_names_are_shown_literally_never_as_terminal_markup(tmp_path: Path) -> None:
    home = tmp_path / "home"
    ok_json("init", home=home)
    name = "[/bold][link=https://evil.example]Acme[/link]"
    ok_json("workspace", "create", name, "--owner", "o@example.com", home=home)
    result = run("workspace", "list", home=home)
    assert result.returncode == 0, result.stderr
    assert "[link=https://evil.example]" in result.stdout.decode()


@contextmanager
def serving_demo(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """`strongroom serve --demo --json` in a process; what it printed when it started. The
    server must stop cleanly (exit 0) on SIGINT."""
    home = tmp_path / "served"
    port = free_port()
    server = subprocess.Popen(
        [STRONGROOM, "serve", "--demo", "--home", str(home), "--port", str(port), "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert server.stdout is not None
        started = json.loads(server.stdout.readline())
        assert started["url"] == f"https://127.0.0.1:{port}"
        yield started
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)
        assert server.stdout is not None and server.stderr is not None
        server.stdout.close()
        server.stderr.close()
    assert server.returncode == 0


def test_serve_demo_as_a_new_user_would(tmp_path: Path) -> None:
    """`make serve`: a new home with the sample, then curl lists it over HTTPS only."""
    with serving_demo(tmp_path) as started:
        trust = ssl.create_default_context(cafile=started["ca"])
        response = httpx.get(
            f"{started['url']}/v1/workspaces",
            verify=trust,
            headers={"Authorization": f"Bearer {started['token']}"},
        )
        assert response.status_code == 200
        assert [w["name"] for w in response.json()["items"]] == ["Northwind Referrals"]
        assert response.headers["strict-transport-security"].startswith("max-age=63072000")
        old = ssl.create_default_context(cafile=started["ca"])
        with warnings.catch_warnings():  # TLS 1.1 is deprecated in Python itself
            warnings.simplefilter("ignore", DeprecationWarning)
            old.minimum_version = ssl.TLSVersion.TLSv1_1
            old.maximum_version = ssl.TLSVersion.TLSv1_1
        with pytest.raises((ssl.SSLError, httpx.ConnectError, httpx.RemoteProtocolError)):
            httpx.get(f"{started['url']}/health", verify=old)


def test_serve_demo_prints_a_console_url_and_an_owner_who_can_sign_in(tmp_path: Path) -> None:
    """`make serve`: the console's URL, and the sample owner's email and a password (new at
    each start) that sign in there."""
    with serving_demo(tmp_path) as started:
        assert started["console"] == f"{started['url']}/console/"
        owner = started["demo_owner"]
        trust = ssl.create_default_context(cafile=started["ca"])
        with httpx.Client(base_url=started["url"], verify=trust) as browser:
            form = browser.get("/console/sign-in")
            token = form.text.split('name="csrftoken" value="', 1)[1].split('"', 1)[0]
            signed = browser.post(
                "/console/sign-in",
                data={"csrftoken": token, "email": owner["email"], "password": owner["password"]},
            )
            assert signed.status_code == 303
            overview = browser.get(signed.headers["location"], follow_redirects=True)
        assert overview.status_code == 200 and "Northwind Referrals" in overview.text


def test_serve_runs_the_lifecycle_worker(tmp_path: Path) -> None:
    """A purge made due through the API is run by the worker inside `serve` at once."""
    with serving_demo(tmp_path) as started:
        assert started["worker"] is True
        client = httpx.Client(
            base_url=started["url"],
            verify=ssl.create_default_context(cafile=started["ca"]),
            headers={"Authorization": f"Bearer {started['token']}"},
        )
        ws = client.get("/v1/workspaces").json()["items"][0]["id"]
        project = client.get(f"/v1/workspaces/{ws}/projects").json()["items"][0]["id"]
        entry = client.delete(f"/v1/workspaces/{ws}/projects/{project}").json()
        purge = client.delete(f"/v1/workspaces/{ws}/trash/{entry['id']}?confirm=true")
        assert purge.status_code == 202
        deadline = time.monotonic() + 30
        items: list[Any] = []
        while time.monotonic() < deadline and not items:
            items = client.get(f"/v1/workspaces/{ws}/certificates").json()["items"]
            time.sleep(0.2)
        assert [(c["subject_id"], c["reason"]) for c in items] == [(project, "deleted_forever")]
        client.close()
