"""A whole home whose root key lives in opencryptoki's software token, as a user runs it
from the docs: init, a workspace, a record written and read, a root rotation and a read
after it, each step its own process. And a scheme the token lacks: refused by init at
once, leaving no home and nothing in the token."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_cli import run
from tests.opencryptoki_support import OpencryptokiToken, opencryptoki_token

pytestmark = pytest.mark.pkcs11


@pytest.fixture
def ock() -> OpencryptokiToken:
    return opencryptoki_token()


def test_a_home_on_opencryptoki_from_the_cli(
    tmp_path: Path, ock: OpencryptokiToken, backend: dict[str, str]
) -> None:
    env = {"STRONGROOM_PKCS11_PIN": ock.pin}
    home = tmp_path / "ock-home"
    databases = [a for name, url in backend.items() for a in (f"--{name.replace('_', '-')}", url)]

    def cli(*args: str) -> Any:
        done = run(*args, "--json", home=home, env=env)
        assert done.returncode == 0, done.stderr.decode()
        return json.loads(done.stdout)

    made = cli(
        "init",
        "--kms",
        "pkcs11",
        "--pkcs11-module",
        ock.module_path,
        "--pkcs11-token-label",
        ock.token_label,
        *databases,
    )
    assert made["kms"] == "pkcs11"
    assert not (home / "kms").exists()  # the root key lives in the token only
    assert ock.pin not in (home / "strongroom.toml").read_text()

    ws = cli("workspace", "create", "Second HSM", "--owner", "o@ock.example")["id"]
    project = cli("project", "create", ws, "Hiring")["id"]
    document = {"name": "Radia Perlman", "email": "rp@ock.example"}
    record = cli("record", "put", ws, project, "candidates", json.dumps(document))["id"]
    assert cli("record", "get", ws, project, record) == document
    root = cli("keys", "status")["root"]
    assert (root["backend"], root["for_development"], root["scheme"]) == (
        "pkcs11",
        False,
        "hmac-sha256-kdf",
    )

    rotated = cli("keys", "rotate")
    assert (rotated["previous_root_version"], rotated["root_version"]) == (1, 2)
    assert cli("record", "get", ws, project, record) == document
    second = cli("record", "put", ws, project, "candidates", json.dumps({"name": "Ada"}))["id"]
    assert cli("record", "get", ws, project, second) == {"name": "Ada"}
    # the rotation is a shred epoch: version 1 is destroyed in the token, not kept
    assert rotated["destroyed_versions"] == [1]
    assert cli("keys", "status")["root"]["versions"] == [
        {"version": 2, "state": "active", "scheme": "hmac-sha256-kdf"},
    ]


def test_init_refuses_a_scheme_the_token_lacks_and_leaves_nothing(
    tmp_path: Path, ock: OpencryptokiToken
) -> None:
    env = {"STRONGROOM_PKCS11_PIN": ock.pin}
    home = tmp_path / "ock-home"
    token_args = ["--pkcs11-module", ock.module_path, "--pkcs11-token-label", ock.token_label]

    refused = run(
        "init", "--kms", "pkcs11", *token_args, "--pkcs11-scheme", "aes-gcm", home=home, env=env
    )

    message = refused.stderr.decode().strip()
    assert refused.returncode == 2, message
    assert message.startswith("error:") and "\n" not in message
    assert "CKM_AES_GCM" in message and "run strongroom init" not in message
    assert not (home / "strongroom.toml").exists()
    # Nothing half-made: the same init with the scheme the token has now succeeds.
    again = run("init", "--kms", "pkcs11", *token_args, "--json", home=home, env=env)
    assert again.returncode == 0, again.stderr.decode()


def test_init_that_fails_after_the_root_key_leaves_no_settings_file(
    tmp_path: Path, ock: OpencryptokiToken
) -> None:
    env = {"STRONGROOM_PKCS11_PIN": ock.pin}
    home = tmp_path / "ock-home"
    token_args = ["--pkcs11-module", ock.module_path, "--pkcs11-token-label", ock.token_label]
    blocker = tmp_path / "a-file"  # where the database's folder would have to be
    blocker.write_text("not a folder")
    unreachable = f"sqlite:///{blocker / 'data.db'}"

    failed = run(
        "init", "--kms", "pkcs11", *token_args, "--database-url", unreachable, home=home, env=env
    )

    assert failed.returncode != 0
    assert not (home / "strongroom.toml").exists()  # not taken for a home
    again = run("init", "--kms", "pkcs11", *token_args, home=home, env=env)
    message = again.stderr.decode()
    # The root key made by the failed run stays in the token, and init says so plainly.
    assert again.returncode == 2 and "already holds a Strongroom root key" in message
