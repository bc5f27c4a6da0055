"""Faults at seeded random moments, and how long the system took to recover from each.

Five faults, once each per run, in a seeded random order at a seeded random moment of
their own slot of the run (after a tenth of it, before its last sixth); a fault that
falls due while the previous one lasts waits for it:

- ``api_kill``: SIGKILL one API process (a child of ``serve --workers``, whose supervisor
  replaces it; with one API process, the process itself, which the soak starts again as
  systemd would).
- ``worker_kill``: SIGKILL a ``strongroom worker`` (the soak starts it again).
- ``postgres_restart``: ``pg_ctl restart -m fast`` of the soak's own PostgreSQL.
- ``kms_stop``: the OpenBao server stopped for 30 s, then started and unsealed (a server
  on raft storage, not ``-dev``: its Transit key survives the restart).
- ``disk_full``: the blob store's filesystem (a 2 GiB tmpfs) filled to the last byte for
  20 s, then freed.

Recovery is measured from the moment the fault is over (the process is dead, the server
back, the disk freed) to the first probe that succeeds: a record written and read back,
and after ``disk_full`` a file uploaded too. Every probe write the server acknowledged
goes into the ledger like the clients' writes.
"""

from __future__ import annotations

import errno
import hashlib
import os
import random
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.soak.ledger import FileEntry, Ledger, RecordEntry
from bench.soak.load import Seat
from bench.soak.processes import Service

FAULTS = ("api_kill", "worker_kill", "postgres_restart", "kms_stop", "disk_full")
#: How long the KMS stays stopped and the disk full (SOAK_KMS_OUTAGE_SECONDS and
#: SOAK_DISK_FULL_SECONDS shorten them for the suite's smoke run).
KMS_OUTAGE_SECONDS = float(os.environ.get("SOAK_KMS_OUTAGE_SECONDS", "30"))
DISK_FULL_SECONDS = float(os.environ.get("SOAK_DISK_FULL_SECONDS", "20"))
RECOVERY_BOUND_SECONDS = 120.0


@dataclass
class FaultReport:
    name: str
    at_s: float
    detail: str = ""
    lasted_s: float = 0.0
    recovered_after_s: float | None = None
    probe_errors: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "fault": self.name,
            "at_s": round(self.at_s, 1),
            "lasted_s": round(self.lasted_s, 1),
            "recovered_after_s": (
                None if self.recovered_after_s is None else round(self.recovered_after_s, 1)
            ),
            "detail": self.detail,
            "probe_errors": sorted(set(self.probe_errors))[:10],
        }


def schedule(seed: int, seconds: float) -> list[tuple[float, str]]:
    """(seconds from the start, fault) for every fault, each in its own slot."""
    rng = random.Random(seed)
    order = list(FAULTS)
    rng.shuffle(order)
    first, last = seconds * 0.1, seconds * (1 - 1 / 6)
    slot = (last - first) / len(order)
    return [(first + i * slot + rng.uniform(0, slot * 0.8), name) for i, name in enumerate(order)]


@dataclass
class Deployment:
    """What the faults act on."""

    api: Service
    workers: list[Service]
    postgres: Any  # tests.postgres_server_support.OwnPostgres
    bao: Any  # tests.transit_support.BaoServer (persistent)
    blob_dir: Path
    url: str
    ca: str
    probe: Seat
    ledger: Ledger


class Injector:
    def __init__(self, deployment: Deployment, seed: int, started: float) -> None:
        self.d = deployment
        self.rng = random.Random(seed + 1)
        self.started = started
        self.reports: list[FaultReport] = []
        self.http = httpx.Client(
            base_url=deployment.url,
            verify=deployment.ca,
            headers={"Authorization": f"Bearer {deployment.probe.token}"},
            timeout=httpx.Timeout(10, connect=3),
        )

    def run(self, plan: list[tuple[float, str]], stop: threading.Event) -> None:
        for due, name in plan:
            wait = self.started + due - time.monotonic()
            if wait > 0 and stop.wait(wait):
                return
            report = FaultReport(name, time.monotonic() - self.started)
            self.reports.append(report)
            inject: Callable[[FaultReport], None] = getattr(self, name)
            began = time.monotonic()
            inject(report)
            cleared = time.monotonic()
            report.lasted_s = cleared - began
            self._await_recovery(report, cleared, files=name == "disk_full")
        self.http.close()

    # -- the faults ---------------------------------------------------------------------

    def api_kill(self, report: FaultReport) -> None:
        children = self.d.api.children() if self.d.api.started().get("processes") else []
        if children:
            victim = self.rng.choice(children)
            os.kill(victim, 9)
            killed = time.monotonic()
            replaced = None
            while replaced is None and time.monotonic() - killed < RECOVERY_BOUND_SECONDS:
                now = self.d.api.children()
                if len(now) >= len(children) and victim not in now:
                    replaced = time.monotonic() - killed
                time.sleep(0.05)
            after = "never" if replaced is None else f"after {replaced:.1f} s"
            report.detail = (
                f"SIGKILL API process {victim} of {len(children)}; the supervisor replaced it "
                f"{after}"
            )
            return
        victim = self.d.api.kill()
        report.detail = f"SIGKILL the only API process {victim} (restarted by the soak)"

    def worker_kill(self, report: FaultReport) -> None:
        worker = self.rng.choice(self.d.workers)
        starts = worker.starts
        victim = worker.kill()
        killed = time.monotonic()
        while worker.starts == starts:  # restarted a second later, as systemd would
            time.sleep(0.05)
        worker.started(RECOVERY_BOUND_SECONDS)
        report.detail = (
            f"SIGKILL {worker.name} {victim}; started again by the soak and running "
            f"{time.monotonic() - killed:.1f} s later"
        )

    def postgres_restart(self, report: FaultReport) -> None:
        self.d.postgres.restart()
        report.detail = "pg_ctl restart -m fast"

    def kms_stop(self, report: FaultReport) -> None:
        self.d.bao.stop()
        time.sleep(KMS_OUTAGE_SECONDS)
        self.d.bao.start_again()
        report.detail = f"OpenBao stopped {KMS_OUTAGE_SECONDS:.0f} s, started and unsealed"

    def disk_full(self, report: FaultReport) -> None:
        filler = self.d.blob_dir / "soak-filler"
        block = b"\0" * (1 << 20)
        written = 0
        with filler.open("wb", buffering=0) as out:  # unbuffered: nothing left to flush
            try:
                while True:
                    written += out.write(block)
            except OSError as e:
                if e.errno != errno.ENOSPC:
                    raise
            try:  # the last partial megabyte, so not a byte is left
                while True:
                    written += out.write(b"\0" * 4096)
            except OSError:
                pass
        while_full = self._probe(files=True)  # the fault is real: an upload is refused
        time.sleep(DISK_FULL_SECONDS)
        filler.unlink()
        report.detail = (
            f"blob filesystem filled ({written >> 20} MiB) for {DISK_FULL_SECONDS:.0f} s; freed"
            f" (a probe while full: {while_full or 'succeeded'})"
        )

    # -- recovery -----------------------------------------------------------------------

    def _await_recovery(self, report: FaultReport, cleared: float, files: bool) -> None:
        while time.monotonic() - cleared < RECOVERY_BOUND_SECONDS:
            error = self._probe(files)
            if error is None:
                report.recovered_after_s = time.monotonic() - cleared
                return
            report.probe_errors.append(error)
            time.sleep(0.5)

    def _probe(self, files: bool) -> str | None:
        """None when a write and its read back (and an upload) succeed; else what failed."""
        seat = self.d.probe
        project = f"/v1/workspaces/{seat.workspace}/projects/{seat.project}"
        document = {"email": f"probe-{secrets.token_hex(4)}@soak.example", "probe": True}
        try:
            r = self.http.post(
                f"{project}/records", json={"collection": "contacts", "document": document}
            )
            if r.status_code != 201:
                return f"record write {r.status_code}"
            record = r.json()["id"]
            self.d.ledger.records.append(
                RecordEntry(seat.workspace, seat.project, record, document)
            )
            self.d.ledger.writes["probe_record"] += 1
            r = self.http.get(f"{project}/records/{record}")
            if r.status_code != 200:
                return f"record read {r.status_code}"
            if files:
                data = secrets.token_bytes(4096)
                r = self.http.post(f"{project}/files", params={"name": "probe.bin"}, content=data)
                if r.status_code != 201:
                    return f"file upload {r.status_code}"
                self.d.ledger.files.append(
                    FileEntry(
                        seat.workspace,
                        seat.project,
                        r.json()["id"],
                        hashlib.sha256(data).hexdigest(),
                        len(data),
                    )
                )
                self.d.ledger.writes["probe_file"] += 1
        except httpx.HTTPError as e:
            return f"connection {type(e).__name__}"
        return None
