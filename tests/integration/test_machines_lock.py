"""Locks between machines sharing a PostgreSQL data store (storage/locks.py): what keeps a
worker on one node from expiring the backups on S3 that a node elsewhere is writing."""

from __future__ import annotations

from pathlib import Path

import pytest

from strongroom.backup.s3_place import S3Place
from strongroom.errors import Conflict
from strongroom.storage.locks import machines_lock
from tests.conftest import PostgresServer

pytestmark = pytest.mark.postgres


def test_an_exclusive_holder_keeps_every_other_node_out(postgres: PostgresServer) -> None:
    url = postgres.url(f"{postgres.prefix}_tmpl_data")
    with machines_lock(url, "place", exclusive=True, wait=False) as first:
        assert first
        for exclusive in (True, False):
            with machines_lock(url, "place", exclusive=exclusive, wait=False) as other:
                assert not other
        with machines_lock(url, "another place", exclusive=True, wait=False) as elsewhere:
            assert elsewhere
    with machines_lock(url, "place", exclusive=True, wait=False) as after:
        assert after, "released when the block ends"


def test_readers_share_and_keep_a_writer_out(postgres: PostgresServer) -> None:
    url = postgres.url(f"{postgres.prefix}_tmpl_data")
    with (
        machines_lock(url, "place", exclusive=False, wait=False) as reader,
        machines_lock(url, "place", exclusive=False, wait=False) as second_reader,
    ):
        assert reader and second_reader
        with machines_lock(url, "place", exclusive=True, wait=False) as writer:
            assert not writer


def test_a_node_cannot_take_the_s3_backups_another_node_holds(
    tmp_path: Path, postgres: PostgresServer
) -> None:
    """Two nodes (two homes, so no shared lock file) with one backup_url: while one reads
    the backups (a drill, a restore), the other cannot expire or write them."""
    url = postgres.url(f"{postgres.prefix}_tmpl_data")
    nodes = [
        S3Place.at("s3://backups/prod", tmp_path / name, "http://127.0.0.1:9", database_url=url)
        for name in ("node-a", "node-b")
    ]
    with (
        nodes[0].lock(exclusive=False),
        pytest.raises(Conflict, match="another node"),
        nodes[1].lock(exclusive=True, wait=False),
    ):
        pass
    with nodes[1].lock(exclusive=False, wait=False):
        pass  # once the first let go
