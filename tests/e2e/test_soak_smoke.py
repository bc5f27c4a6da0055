"""``make soak`` in small: the same program (bench/soak) with 5 clients for about 25 s and
shorter outages, every fault injected once. Nothing acknowledged is lost, no 5xx other
than a proper 503 is answered, and the system comes back after each fault by itself.
The full run (50 clients, 10 minutes) is ``make soak``; docs/reliability.md has its
figures."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import need_service
from tests.postgres_server_support import postgres_binaries
from tests.transit_support import bao_binary

pytestmark = [pytest.mark.postgres, pytest.mark.transit, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]


def test_a_short_soak_loses_nothing_and_recovers_from_every_fault(tmp_path: Path) -> None:
    if postgres_binaries() is None:
        need_service("PostgreSQL's server programs (initdb, pg_ctl) are not installed")
    bao_binary()  # skips (or fails with CI=true) without it
    out = tmp_path / "soak.json"
    env = {
        **os.environ,
        "SOAK_MINUTES": "0.4",
        "SOAK_CLIENTS": "5",
        "SOAK_SEED": "17",
        "SOAK_KMS_OUTAGE_SECONDS": "5",
        "SOAK_DISK_FULL_SECONDS": "3",
        "SOAK_OUT": str(out),
    }
    done = subprocess.run(
        [sys.executable, "-m", "bench.soak"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.exists(), done.stdout[-3000:] + done.stderr[-3000:]
    results = json.loads(out.read_text())
    assert results["lost_writes"] == 0, results["lost"]
    assert results["findings_5xx"] == 0, results["findings"]
    assert results["acknowledged_total"] > 100
    injected = {f["fault"] for f in results["faults"]}
    skipped = {s.split()[0] for s in results["faults_skipped"]}
    assert injected | skipped == {
        "api_kill",
        "worker_kill",
        "postgres_restart",
        "kms_stop",
        "disk_full",
    }
    assert all(f["recovered_after_s"] is not None for f in results["faults"]), results["faults"]
    assert results["audit_verify"]["exit"] == 0
    assert results["backup_verify"]["exit"] == 0
    assert results["passed"], done.stdout[-3000:]
    assert done.returncode == 0
