"""A whole home whose root key lives in OpenBao Transit, as a user runs it: from the CLI
(init, a workspace, a record written and read, a root rotation and a read after it, the
old version destroyed in Vault), and over HTTPS while Vault is sealed and unsealed."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from strongroom.clock import FixedClock
from strongroom.crypto.kms.transit import TransitKms
from strongroom.errors import KmsFailure
from strongroom.storage import tables as t
from tests.e2e.api_support import live_server
from tests.e2e.test_cli import run
from tests.transit_support import BaoServer, persistent_bao, running_bao

pytestmark = pytest.mark.transit


def test_a_home_on_transit_from_the_cli(
    tmp_path: Path, transit: BaoServer, backend: dict[str, str]
) -> None:
    key = transit.new_key()
    env = {"VAULT_TOKEN": transit.root_token}
    home = tmp_path / "transit-home"
    databases = [a for name, url in backend.items() for a in (f"--{name.replace('_', '-')}", url)]

    def cli(*args: str) -> Any:
        done = run(*args, "--json", home=home, env=env)
        assert done.returncode == 0, done.stderr.decode()
        return json.loads(done.stdout)

    made = cli(
        "init", "--kms", "transit", "--transit-url", transit.url, "--transit-key", key, *databases
    )
    assert made["kms"] == "transit"
    settings = (home / "strongroom.toml").read_text()
    assert f'transit_url = "{transit.url}"' in settings and f'transit_key = "{key}"' in settings
    assert transit.root_token not in settings
    assert not (home / "kms").exists()  # the root key lives in Vault only

    ws = cli("workspace", "create", "Vaulted", "--owner", "o@vault.example")["id"]
    project = cli("project", "create", ws, "Hiring")["id"]
    document = {"name": "Katherine Johnson", "email": "kj@vault.example"}
    record = cli("record", "put", ws, project, "candidates", json.dumps(document))["id"]
    assert cli("record", "get", ws, project, record) == document
    status = cli("keys", "status")["root"]
    assert status["backend"] == "transit" and status["for_development"] is False
    assert status["versions"] == [{"version": 1, "state": "active"}]

    rotated = cli("keys", "rotate")
    assert rotated["previous_root_version"] == 1 and rotated["root_version"] == 2
    assert rotated["rewrapped_keys"] >= 2  # the workspace key and the directory key
    assert cli("keys", "status")["workspace_keys_by_root_version"] == {"2": 1}
    assert cli("record", "get", ws, project, record) == document

    # Every key was moved to version 2 inside Vault: destroying version 1 loses nothing.
    vault = TransitKms.open(transit.connection(key))
    vault.destroy_version(1)
    vault.close()
    assert cli("record", "get", ws, project, record) == document
    assert cli("keys", "status")["root"]["versions"] == [{"version": 2, "state": "active"}]

    wrong = run("workspace", "show", ws, home=home, env={"VAULT_TOKEN": "hvs.wrong-token-123"})
    assert wrong.returncode == 2
    message = wrong.stderr.decode()
    assert "denied permission" in message and "hvs.wrong-token-123" not in message
    assert transit.root_token not in message and message.count("\n") == 1
    missing = run("workspace", "list", home=home, env={"VAULT_TOKEN": ""})
    assert missing.returncode == 2 and "VAULT_TOKEN" in missing.stderr.decode()


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://vault.example.com:8200", "must use https"),
        ("ftp://127.0.0.1:8200", "https:// address"),
        ("https://vault.example.com:8200/v1/transit", "only scheme, host and port"),
        ("", "https:// address"),
    ],
)
def test_init_refuses_an_unsafe_transit_url_and_makes_no_home(
    tmp_path: Path, url: str, says: str
) -> None:
    home = tmp_path / "refused"
    done = run("init", "--kms", "transit", "--transit-url", url, home=home)

    assert done.returncode == 2
    assert says in done.stderr.decode() and done.stderr.decode().count("\n") == 1
    assert not (home / "strongroom.toml").exists()


def test_init_with_a_vault_that_is_down_says_so_and_makes_no_home(tmp_path: Path) -> None:
    home = tmp_path / "down"
    started = time.monotonic()
    done = run(
        "init",
        "--kms",
        "transit",
        "--transit-url",
        "http://127.0.0.1:9",
        home=home,
        env={"VAULT_TOKEN": "x"},
    )

    assert done.returncode == 2 and "cannot be reached" in done.stderr.decode()
    assert time.monotonic() - started < 15
    assert not (home / "strongroom.toml").exists()


# -- the API while Vault is sealed or stopped -------------------------------------------


@pytest.fixture(params=["sealed", "stopped"])
def outage(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[BaoServer, str]]:
    """A server of the test's own: sealed and unsealed (a dev server), or stopped and
    started again (file storage, keys kept across the restart)."""
    start = running_bao if request.param == "sealed" else persistent_bao
    with start(tmp_path / "bao") as server:
        monkeypatch.setenv("VAULT_TOKEN", server.root_token)
        yield server, request.param


def test_api_serves_cached_keys_while_vault_is_down_then_503_then_recovers(
    tmp_path: Path, outage: tuple[BaoServer, str]
) -> None:
    bao, how = outage
    clock = FixedClock()
    with live_server(
        tmp_path / "home",
        clock=clock,
        kms="transit",
        transit_url=bao.url,
        transit_key=bao.new_key(),
        key_cache_ttl_seconds="300",
    ) as live:
        ws = live.sr.workspaces.create("Sealed Co", "owner@sealed.example")
        project = live.sr.projects.create(ws.id, "Hiring")
        path = f"/v1/workspaces/{ws.id}/projects/{project.id}/records"
        with live.client(live.sr.access.create_token(ws.id, "owner").token) as client:
            created = client.post(path, json={"collection": "notes", "document": {"n": 1}})
            assert created.status_code == 201, created.text
            record = f"{path}/{created.json()['id']}"

            if how == "sealed":
                bao.seal()
            else:
                bao.stop()
            try:
                # Within the cache TTL, reads need no KMS call.
                assert client.get(record).json()["document"] == {"n": 1}
                # A new workspace needs Vault: it fails fast and leaves nothing behind.
                with live.sr.ctx.store.read() as uow:
                    before = uow.conn.execute(
                        select(func.count()).select_from(t.workspaces)
                    ).scalar_one()
                started = time.monotonic()
                with pytest.raises(KmsFailure):
                    live.sr.workspaces.create("Half Made", "half@sealed.example")
                assert time.monotonic() - started < 2
                with live.sr.ctx.store.read() as uow:
                    assert (
                        uow.conn.execute(
                            select(func.count()).select_from(t.workspaces)
                        ).scalar_one()
                        == before
                    )

                clock.advance(timedelta(seconds=301))  # every cached key has expired
                started = time.monotonic()
                refused = client.get(record)
                assert time.monotonic() - started < 2
                assert refused.status_code == 503
                assert refused.headers["content-type"].startswith("application/problem+json")
                problem = refused.json()
                assert problem["type"].endswith("kms-unavailable"), problem
                said = "sealed" if how == "sealed" else "cannot be reached"
                assert said in problem["detail"] and bao.root_token not in refused.text
            finally:
                if how == "sealed":
                    bao.unseal()
                else:
                    bao.start_again()

            # Back without a restart of the server.
            assert client.get(record).json()["document"] == {"n": 1}
            again = client.post(path, json={"collection": "notes", "document": {"n": 2}})
            assert again.status_code == 201, again.text
