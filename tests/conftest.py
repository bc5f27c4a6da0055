"""Shared fixtures: a Strongroom home on SQLite and on PostgreSQL.

Tests that take the ``backend`` fixture (directly or through ``home``/``sr``) run twice:
``[sqlite]`` and ``[postgres]``. PostgreSQL comes from STRONGROOM_TEST_POSTGRES_URL; each
test gets fresh data and keystore databases cloned from migrated templates, all dropped
at the end of the run. With CI=true an unreachable server fails the tests, never skips.
"""

from __future__ import annotations

import itertools
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import create_engine, make_url, text

from strongroom import init_home, open_strongroom
from strongroom.bootstrap import Strongroom
from strongroom.clock import FixedClock
from strongroom.config import Settings
from strongroom.storage import migrations

if TYPE_CHECKING:
    from tests.aws_kms_support import MotoKms
    from tests.transit_support import BaoServer

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
IN_CI = os.environ.get("CI") == "true"


def need_service(reason: str) -> None:
    """Fail under CI, skip elsewhere."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: a missing service is an error)")
    pytest.skip(reason)


@dataclass
class PostgresServer:
    admin_url: str
    prefix: str
    counter: itertools.count[int]

    def url(self, database: str) -> str:
        return make_url(self.admin_url).set(database=database).render_as_string(hide_password=False)

    def execute(self, statement: str) -> None:
        engine = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                conn.execute(text(statement))
        finally:
            engine.dispose()

    def fresh_pair(self) -> tuple[str, str]:
        n = next(self.counter)
        data, keys = f"{self.prefix}_{n}_data", f"{self.prefix}_{n}_keys"
        self.execute(f'CREATE DATABASE "{data}" TEMPLATE "{self.prefix}_tmpl_data"')
        self.execute(f'CREATE DATABASE "{keys}" TEMPLATE "{self.prefix}_tmpl_keys"')
        return self.url(data), self.url(keys)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    url = os.environ.get("STRONGROOM_TEST_POSTGRES_URL", DEFAULT_PG)
    try:
        engine = create_engine(url, connect_args={"connect_timeout": 5})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as e:  # any failure means "unreachable"
        need_service(
            f"PostgreSQL at {make_url(url).render_as_string()} is unreachable: {type(e).__name__}"
        )
    server = PostgresServer(url, f"srtest_{secrets.token_hex(4)}", itertools.count())
    from strongroom.storage.database import make_engine

    for which, suffix in (("data", "data"), ("keystore", "keys")):
        name = f"{server.prefix}_tmpl_{suffix}"
        server.execute(f'CREATE DATABASE "{name}"')
        engine = make_engine(server.url(name))
        migrations.upgrade(engine, which)
        engine.dispose()
    yield server
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        names = (
            conn.execute(
                text("SELECT datname FROM pg_database WHERE datname LIKE :p"),
                {"p": server.prefix + "%"},
            )
            .scalars()
            .all()
        )
        for name in names:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    """Database settings for a new home: {} for SQLite, URLs for PostgreSQL."""
    if request.param == "sqlite":
        return {}
    server: PostgresServer = request.getfixturevalue("postgres")
    data, keys = server.fresh_pair()
    return {"database_url": data, "keystore_url": keys}


@pytest.fixture
def home(tmp_path: Path, backend: dict[str, str]) -> Settings:
    return init_home(tmp_path / "home", **backend)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def sr(home: Settings, clock: FixedClock) -> Iterator[Strongroom]:
    with open_strongroom(settings=home, clock=clock) as instance:
        yield instance


# The S3 server (SeaweedFS) of the blob-store tests: tests/s3_support.py.
pytest_plugins = ["tests.s3_support"]
# -- Vault/OpenBao Transit (tests/transit_support.py) ---------------------------------


@pytest.fixture(scope="session")
def bao(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BaoServer]:
    """One real ``bao server -dev`` for the session (a BaoServer)."""
    from tests.transit_support import running_bao

    with running_bao(tmp_path_factory.mktemp("bao")) as server:
        yield server


@pytest.fixture
def transit(bao: BaoServer, monkeypatch: pytest.MonkeyPatch) -> BaoServer:
    """The shared server, with its root token in ``VAULT_TOKEN`` for this test."""
    monkeypatch.setenv("VAULT_TOKEN", bao.root_token)
    return bao


# -- AWS KMS, as moto's server mode (tests/aws_kms_support.py) ------------------------


@pytest.fixture(scope="session")
def moto_kms(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoKms]:
    """One ``moto.server`` for the session (a MotoKms)."""
    from tests.aws_kms_support import running_moto

    with running_moto(tmp_path_factory.mktemp("moto")) as server:
        yield server


@pytest.fixture
def aws_kms(moto_kms: MotoKms, monkeypatch: pytest.MonkeyPatch) -> MotoKms:
    """The shared server, with the test credentials in the environment (the AWS chain)."""
    from tests.aws_kms_support import AWS_ENV

    for name, value in AWS_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    return moto_kms
