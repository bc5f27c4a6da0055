"""moto's KMS in server mode, for the ``aws-kms`` root-key tests (PyPI ``moto[server]``).

AWS KMS cannot run here. moto answers the KMS calls Strongroom makes (CreateKey, aliases,
Encrypt, Decrypt, ReEncrypt, DisableKey, ScheduleKeyDeletion) over HTTP, as AWS does,
so boto3, its retries, timeouts and error parsing run for real. moto is not AWS: it
checks no request signature and no IAM policy (only Deny statements of key policies, on
DescribeKey), its ciphertext format is its own, and it decrypts with disabled keys and
keys pending deletion. What these tests show about credentials and key states is
Strongroom's side of the contract, not AWS's.

:func:`running_moto` starts ``python -m moto.server`` on a free loopback port; the
``moto_kms`` fixture (session scope, tests/conftest.py) shares one, and every test
takes its own alias name (:meth:`MotoKms.new_alias`). A test that stops the server
starts its own. Without moto the tests skip, or fail when ``CI=true``.
"""

from __future__ import annotations

import importlib.util
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import boto3
import requests

from strongroom.crypto.kms.aws import AwsKms, AwsKmsConnection
from tests.conftest import need_service
from tests.ports import free_port

if TYPE_CHECKING:
    from mypy_boto3_kms import KMSClient

REGION = "us-east-1"
ACCESS_KEY = "strongroomkmstest"
SECRET_KEY = "strongroom-kms-test-secret-" + secrets.token_hex(8)
#: The environment of a process that talks to the test server: credentials from the
#: chain's first link, and no file or instance metadata for it to find instead.
AWS_ENV = {
    "AWS_ACCESS_KEY_ID": ACCESS_KEY,
    "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
    "AWS_REGION": REGION,
    "AWS_DEFAULT_REGION": REGION,
    "AWS_CONFIG_FILE": "/nonexistent/strongroom-test-aws-config",
    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/strongroom-test-aws-credentials",
    "AWS_EC2_METADATA_DISABLED": "true",
}


@dataclass
class MotoKms:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def new_alias(self) -> str:
        return "alias/strongroom-test-" + secrets.token_hex(6)

    def connection(self, alias: str | None = None, **changes: object) -> AwsKmsConnection:
        values: dict[str, object] = {
            "alias": alias or self.new_alias(),
            "region": REGION,
            "endpoint_url": self.url,
        }
        values.update(changes)
        return AwsKmsConnection(**values)  # type: ignore[arg-type]

    def create(self, alias: str | None = None, **changes: object) -> AwsKms:
        return AwsKms.create(self.connection(alias, **changes))

    def client(self) -> KMSClient:
        """A plain boto3 client of the server, to look at what Strongroom did."""
        return boto3.session.Session(
            aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY, region_name=REGION
        ).client("kms", endpoint_url=self.url)

    def stop(self) -> None:
        """Kill it: its state is in memory only, and on SIGTERM it would wait for every
        open keep-alive connection to close first."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)  # a frozen one dies as well
            self.process.kill()
            self.process.wait(30)


@contextmanager
def running_moto(folder: Path) -> Iterator[MotoKms]:
    """A fresh ``moto.server`` (all services, in memory), stopped at the end."""
    if importlib.util.find_spec("moto") is None or importlib.util.find_spec("flask") is None:
        need_service("moto[server] is not installed (the dev extra)")
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = folder / "moto.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=folder,
        )
    server = MotoKms(f"http://127.0.0.1:{port}", process, log)
    deadline = time.monotonic() + 60
    while True:
        try:
            requests.get(f"{server.url}/moto-api/", timeout=2)
            break
        except requests.RequestException:
            if time.monotonic() > deadline or process.poll() is not None:
                server.stop()
                need_service(f"moto.server did not start: {log.read_text()[-2000:]}")
            time.sleep(0.1)
    try:
        yield server
    finally:
        server.stop()
