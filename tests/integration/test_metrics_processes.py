"""Several processes, one /metrics: with PROMETHEUS_MULTIPROC_DIR set, the KMS calls and
key-cache lookups of every process are added up, whichever process renders the scrape
(observability/instruments.py; docs/operations.md "Metrics and logs")."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

#: One process's work: N wraps through the metered root key and 2 cache lookups.
_WORK = """\
import sys
from strongroom.clock import SystemClock
from strongroom.crypto.kms.memory import MemoryKms
from strongroom.crypto.secret import SecretKey
from strongroom.observability.metered import MeteredKeyCache, MeteredKms

kms = MeteredKms(MemoryKms())
for _ in range(int(sys.argv[1])):
    kms.wrap(SecretKey.generate("k"), b"ctx")
cache = MeteredKeyCache(SystemClock(), 10, 60)
cache.put("a", 1)
cache.get("a"), cache.get("b")
"""
_RENDER = """\
from strongroom.observability.exposition import render
print(render(None).decode())
"""


def _run(code: str, *args: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_a_scrape_adds_up_every_process(tmp_path: Path) -> None:
    shared = tmp_path / "metrics"
    shared.mkdir()
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(shared)}
    _run(_WORK, "2", env=env)
    _run(_WORK, "3", env=env)
    samples = _samples(_run(_RENDER, env=env))  # a third process answers the scrape
    wraps = ("backend", "memory"), ("operation", "wrap")
    assert samples[("strongroom_kms_call_duration_seconds_count", wraps)] == 5
    assert samples[("strongroom_key_cache_hits_total", ())] == 2
    assert samples[("strongroom_key_cache_misses_total", ())] == 2
    assert samples[("strongroom_readings_up", ())] == 0  # no data store given

    # Without the shared folder, a process reports its own calls only.
    alone = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    own = _samples(_run(_RENDER, env=alone))
    assert own.get(("strongroom_kms_call_duration_seconds_count", wraps), 0) == 0
