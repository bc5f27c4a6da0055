"""A whole home whose root key lives in AWS KMS, as a user runs it from the CLI: init, a
workspace, a record written and read, a root rotation and a read after it, the old
version destroyed in KMS and the record still read; and the API while KMS does not answer.

KMS here is moto's server mode, not AWS (tests/aws_kms_support.py): it checks no
signature or IAM policy, so a wrong secret key is not refused by it.
"""

from __future__ import annotations

import json
import signal
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from strongroom.clock import FixedClock
from strongroom.crypto.kms.aws import AwsKms
from strongroom.errors import KmsFailure
from strongroom.storage import tables as t
from tests.aws_kms_support import AWS_ENV, SECRET_KEY, MotoKms, running_moto
from tests.e2e.api_support import live_server
from tests.e2e.test_cli import run

pytestmark = pytest.mark.aws_kms


def test_a_home_on_aws_kms_from_the_cli(
    tmp_path: Path, aws_kms: MotoKms, backend: dict[str, str]
) -> None:
    alias = aws_kms.new_alias()
    home = tmp_path / "aws-home"
    databases = [a for name, url in backend.items() for a in (f"--{name.replace('_', '-')}", url)]

    def cli(*args: str) -> Any:
        done = run(*args, "--json", home=home, env=AWS_ENV)
        assert done.returncode == 0, done.stderr.decode()
        return json.loads(done.stdout)

    made = cli(
        "init",
        "--kms",
        "aws-kms",
        "--aws-kms-key",
        alias,
        "--aws-kms-region",
        "us-east-1",
        "--aws-kms-endpoint-url",
        aws_kms.url,
        *databases,
    )
    assert made["kms"] == "aws-kms"
    settings = (home / "strongroom.toml").read_text()
    assert f'aws_kms_key = "{alias}"' in settings and aws_kms.url in settings
    assert SECRET_KEY not in settings
    assert not (home / "kms").exists()  # the root key lives in KMS only

    ws = cli("workspace", "create", "Clouded", "--owner", "o@cloud.example")["id"]
    project = cli("project", "create", ws, "Hiring")["id"]
    document = {"name": "Dorothy Vaughan", "email": "dv@cloud.example"}
    record = cli("record", "put", ws, project, "candidates", json.dumps(document))["id"]
    assert cli("record", "get", ws, project, record) == document
    status = cli("keys", "status")["root"]
    assert status["backend"] == "aws-kms" and status["for_development"] is False
    assert status["versions"] == [{"version": 1, "state": "active"}]

    rotated = cli("keys", "rotate")
    assert rotated["previous_root_version"] == 1 and rotated["root_version"] == 2
    assert rotated["rewrapped_keys"] >= 2  # the workspace key and the directory key
    assert cli("keys", "status")["workspace_keys_by_root_version"] == {"2": 1}
    assert cli("record", "get", ws, project, record) == document

    # Every key was moved to version 2 inside KMS: destroying version 1 loses nothing.
    kms = AwsKms.open(aws_kms.connection(alias))
    kms.destroy_version(1)
    kms.close()
    assert cli("record", "get", ws, project, record) == document
    assert cli("keys", "status")["root"]["versions"] == [{"version": 2, "state": "active"}]

    no_credentials = {**AWS_ENV, "AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""}
    refused = run("workspace", "list", home=home, env=no_credentials)
    assert refused.returncode == 2
    message = refused.stderr.decode()
    assert "no AWS credentials" in message and message.count("\n") == 1


@pytest.mark.parametrize(
    ("option", "value", "says"),
    [
        (
            "--aws-kms-key",
            "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            "not a key ARN",
        ),
        ("--aws-kms-key", "alias/aws/ebs", "not under alias/aws/"),
        ("--aws-kms-endpoint-url", "http://kms.example.com", "must use https"),
        ("--aws-kms-region", "Mars-1\nX", "not a region name"),
    ],
)
def test_init_refuses_unsafe_aws_kms_settings_and_makes_no_home(
    tmp_path: Path, option: str, value: str, says: str
) -> None:
    home = tmp_path / "refused"
    done = run("init", "--kms", "aws-kms", option, value, home=home, env=AWS_ENV)

    assert done.returncode == 2
    assert says in done.stderr.decode() and done.stderr.decode().count("\n") == 1
    assert not (home / "strongroom.toml").exists()


def test_init_with_kms_down_says_so_and_makes_no_home(tmp_path: Path) -> None:
    home = tmp_path / "down"
    done = run(
        "init",
        "--kms",
        "aws-kms",
        "--aws-kms-endpoint-url",
        "http://127.0.0.1:9",
        home=home,
        env=AWS_ENV,
    )

    assert done.returncode == 2 and "cannot be reached" in done.stderr.decode()
    assert not (home / "strongroom.toml").exists()


# -- the API while KMS does not answer ------------------------------------------------


def test_api_serves_cached_keys_while_kms_is_frozen_then_503_then_recovers(
    tmp_path: Path, aws_kms: MotoKms
) -> None:
    clock = FixedClock()
    with (
        running_moto(tmp_path / "moto") as kms,
        live_server(
            tmp_path / "home",
            clock=clock,
            kms="aws-kms",
            aws_kms_key=kms.new_alias(),
            aws_kms_region="us-east-1",
            aws_kms_endpoint_url=kms.url,
            aws_kms_timeout_seconds="1",
            key_cache_ttl_seconds="300",
        ) as live,
    ):
        ws = live.sr.workspaces.create("Frozen Co", "owner@frozen.example")
        project = live.sr.projects.create(ws.id, "Hiring")
        path = f"/v1/workspaces/{ws.id}/projects/{project.id}/records"
        with live.client(live.sr.access.create_token(ws.id, "owner").token) as client:
            created = client.post(path, json={"collection": "notes", "document": {"n": 1}})
            assert created.status_code == 201, created.text
            record = f"{path}/{created.json()['id']}"

            kms.process.send_signal(signal.SIGSTOP)  # accepts connections, never answers
            try:
                # Within the cache TTL, reads need no KMS call.
                assert client.get(record).json()["document"] == {"n": 1}
                # A new workspace needs KMS: it fails within the timeouts, leaving nothing.
                with live.sr.ctx.store.read() as uow:
                    before = uow.conn.execute(
                        select(func.count()).select_from(t.workspaces)
                    ).scalar_one()
                started = time.monotonic()
                with pytest.raises(KmsFailure):
                    live.sr.workspaces.create("Half Made", "half@frozen.example")
                assert time.monotonic() - started < 20
                with live.sr.ctx.store.read() as uow:
                    after = uow.conn.execute(
                        select(func.count()).select_from(t.workspaces)
                    ).scalar_one()
                assert after == before

                clock.advance(timedelta(seconds=301))  # every cached key has expired
                refused = client.get(record)
                assert refused.status_code == 503
                assert refused.headers["content-type"].startswith("application/problem+json")
                problem = refused.json()
                assert problem["type"].endswith("kms-unavailable"), problem
                assert "did not answer in time" in problem["detail"]
                assert SECRET_KEY not in refused.text
            finally:
                kms.process.send_signal(signal.SIGCONT)

            # Back without a restart of the server.
            assert client.get(record).json()["document"] == {"n": 1}
            again = client.post(path, json={"collection": "notes", "document": {"n": 2}})
            assert again.status_code == 201, again.text
