"""Many nodes (issue 15, item 4): `strongroom serve --workers 2` and three `strongroom
worker` processes on one PostgreSQL and one S3 (SeaweedFS), under load.

- Requests land on both API processes, and this is read from the kernel (which process
  holds the server's end of each connection, tests/e2e/nodes_support.py), never from
  anything the server says: every acknowledged write (records and files) reads back
  through a connection served by each of them.
- One API process is killed (SIGKILL) under load: the supervisor logs it and starts
  another; no acknowledged write is lost.
- Every due purge runs exactly once although three workers compete for it (the projects
  were trashed 31 days ago, on a clock set back, so their purges are due): one deletion
  certificate and one purge.certified audit event per project.
- A revoked token fails on both API processes on the very next request.
"""

from __future__ import annotations

import io
import json
import os
import signal
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from strongroom import init_home, open_strongroom
from strongroom.clock import FixedClock
from strongroom.lifecycle.purge import PURGE_CERTIFIED
from tests.conftest import PostgresServer
from tests.e2e.nodes_support import (
    Serving,
    connections_to_each,
    serve,
    start_workers,
)
from tests.s3_support import SeaweedS3

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

TRASHED = 4  # projects in the trash, due for purge on the workers' clock
WRITERS = 3


class Writes:
    """Writer threads: records and small files, retried on a dropped connection (a
    request in flight to a killed process is not acknowledged, so never counted)."""

    def __init__(self, serving: Serving, token: str, base: str) -> None:
        self.serving, self.token, self.base = serving, token, base
        self.records: dict[str, dict[str, int]] = {}
        self.files: dict[str, bytes] = {}
        self.wrong: list[str] = []
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._write, args=(n,)) for n in range(WRITERS)]

    def __enter__(self) -> Writes:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(60)

    def count(self) -> int:
        with self.lock:
            return len(self.records) + len(self.files)

    def _write(self, n: int) -> None:
        i = 0
        while not self.stop.is_set():
            with self.serving.client(self.token) as client:  # a new connection each round
                for _ in range(5):
                    i += 1
                    try:
                        self._one(client, n, i)
                    except httpx.TransportError:
                        break  # its process was killed: a new connection
                    except httpx.HTTPError as e:
                        with self.lock:
                            self.wrong.append(f"{type(e).__name__}: {e}")

    def _one(self, client: httpx.Client, n: int, i: int) -> None:
        if i % 4:
            document = {"writer": n, "i": i}
            r = client.post(
                f"{self.base}/records", json={"collection": "notes", "document": document}
            )
            if r.status_code == 201:
                with self.lock:
                    self.records[r.json()["id"]] = document
                return
        else:
            content = os.urandom(1000 + i)
            r = client.post(
                f"{self.base}/files",
                params={"name": f"w{n}-{i}.bin"},
                content=content,
                headers={"Content-Type": "application/octet-stream"},
            )
            if r.status_code == 201:
                with self.lock:
                    self.files[r.json()["id"]] = content
                return
        with self.lock:
            self.wrong.append(f"{r.status_code} {r.text[:300]}")

    def wait_for(self, count: int, within: float = 60.0) -> None:
        deadline = time.monotonic() + within
        while self.count() < count:
            assert not self.wrong, self.wrong[:5]
            assert time.monotonic() < deadline, f"fewer than {count} writes in {within} s"
            time.sleep(0.05)


def _wait(what: str, condition: object, within: float = 60.0) -> None:
    deadline = time.monotonic() + within
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"not {what} within {within} s"
        time.sleep(0.1)


def record_reads(exposition: str) -> float:
    """Successful GETs of one record, every process's, in a /metrics answer."""
    total = 0.0
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            labels = sample.labels
            if (
                sample.name == "strongroom_http_request_duration_seconds_count"
                and labels.get("method") == "GET"
                and labels.get("route", "").endswith("/records/{record_id}")
                and labels.get("status") == "2xx"
            ):
                total += sample.value
    return total


def test_two_api_processes_and_three_workers_share_everything(
    postgres: PostgresServer,
    s3_server: SeaweedS3,
    s3_credentials: dict[str, str],
    tmp_path: Path,
) -> None:
    data, keys = postgres.fresh_pair()
    home = tmp_path / "home"
    init_home(
        home, database_url=data, keystore_url=keys, **s3_server.settings(s3_server.new_bucket())
    )
    month_ago = FixedClock(datetime.now(UTC) - timedelta(days=31))
    with open_strongroom(home, clock=month_ago) as sr:
        ws = sr.workspaces.create("Nodes Co", "owner@nodes.example")
        trashed = []
        for n in range(TRASHED):
            project = sr.projects.create(ws.id, f"Old {n}")
            sr.records.put(ws.id, project.id, "notes", {"old": n})
            sr.files.put(ws.id, project.id, "old.bin", io.BytesIO(os.urandom(5000)))
            sr.projects.delete(ws.id, project.id)
            trashed.append(project.id)
    with open_strongroom(home) as sr:
        live = sr.projects.create(ws.id, "Live")
        owner = sr.access.create_token(ws.id, "owner", 1).token
        doomed = sr.access.create_token(ws.id, "viewer", 1)
        operator = sr.access.create_operator_token(expires_days=1).token

    serving = serve(home, workers=2, extra=["--no-worker"])
    workers = None
    base = f"/v1/workspaces/{ws.id}/projects/{live.id}"
    try:
        assert sorted(serving.processes) == serving.api_pids()
        with Writes(serving, owner, base) as writes:
            writes.wait_for(30)
            workers = start_workers(home, 3)  # every trashed project is due
            killed = serving.api_pids()[0]
            os.kill(killed, signal.SIGKILL)
            _wait(
                "replaced",
                lambda: len(serving.api_pids()) == 2 and killed not in serving.api_pids(),
            )
            writes.wait_for(writes.count() + 30)
        assert not writes.wrong, writes.wrong[:5]
        assert f"API process {killed} (slot 0) ended (killed by SIGKILL)" in serving.log()

        # Every due purge, exactly once, whichever worker took it.
        def purged() -> set[str]:
            """Subjects whose purge finished: its last step appends purge.certified (the
            certificate is issued a step before)."""
            with open_strongroom(home) as sr:
                events = sr.audit.events(ws.id, limit=10_000)
            return {e.subject["subject_id"] for e in events if e.action == PURGE_CERTIFIED}

        _wait("purged", lambda: purged() >= set(trashed))
        workers.stop()
        workers = None
        with open_strongroom(home) as sr:
            issued = sr.certificates.list(ws.id)
            events = sr.audit.events(ws.id, limit=10_000)
        certificates = Counter(c["subject_id"] for c in issued)
        assert certificates == Counter(trashed), issued
        certified = Counter(e.subject["subject_id"] for e in events if e.action == PURGE_CERTIFIED)
        assert certified == Counter(trashed), (
            [e.as_json() for e in events if e.action == PURGE_CERTIFIED],
            trashed,
            live.id,
            len(events),
        )

        # Every acknowledged write, through a connection served by each API process (made
        # now: an idle connection is closed after header_timeout_seconds).
        pinned = connections_to_each(serving, owner)
        try:
            assert set(pinned) == set(serving.api_pids())
            for connection in pinned.values():
                for record_id, document in writes.records.items():
                    status, body = connection.get(f"{base}/records/{record_id}")
                    assert status == 200, (connection.pid, record_id, body)
                    assert json.loads(body)["document"] == document
                for file_id, content in writes.files.items():
                    status, body = connection.get(f"{base}/files/{file_id}/content")
                    assert (status, body) == (200, content), (connection.pid, file_id)

            # One /metrics for both: whichever process answers the scrape counts the record
            # reads both served (prometheus_client's multiprocess mode, set up by serve).
            reads = 0.0
            for connection in pinned.values():
                connection.token = operator
                status, body = connection.get("/metrics")
                assert status == 200, body
                counted = record_reads(body.decode())
                assert reads == 0.0 or counted == reads, (reads, counted)
                reads = counted
                connection.token = owner
            assert reads >= len(pinned) * len(writes.records), reads

            # A revoked token fails on both API processes at once: the same connections,
            # the next request after the revocation.
            some_record = f"{base}/records/{next(iter(writes.records))}"
            for connection in pinned.values():
                connection.token = doomed.token
                assert connection.get(some_record)[0] == 200
            with serving.client(owner) as client:
                revoked = client.delete(f"/v1/workspaces/{ws.id}/tokens/{doomed.id}")
                assert revoked.status_code == 204
            for pid, connection in pinned.items():
                status, body = connection.get(some_record)
                assert status == 401, (pid, body)
        finally:
            for connection in pinned.values():
                connection.close()
    finally:
        if workers is not None:
            workers.stop()
        serving.stop()
