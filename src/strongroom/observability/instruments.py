"""This process's counters and histograms, and how several processes share them.

One process (``strongroom serve`` today): the values live in its memory and ``GET
/metrics`` reports them. Several processes on one machine (a server and ``strongroom
worker`` processes, later ``serve --workers``): set ``PROMETHEUS_MULTIPROC_DIR`` to an
empty folder, the same for all of them, before they start. prometheus_client then keeps
each process's values in a file of its own there, and ``GET /metrics`` adds up every
process's files (:func:`process_collector`), whichever process answers the scrape. The
folder must be emptied when the processes are (re)started (docs/operations.md).

Labels name routes by template and KMS backends and operations by name: their number is
bounded by the code, never by what clients send.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

#: The environment variable that turns prometheus_client's multiprocess mode on; read by
#: prometheus_client when it is first imported.
MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"

#: This process's instruments (a registry of its own: not prometheus_client's global one).
INSTRUMENTS = CollectorRegistry(auto_describe=True)

REQUEST_SECONDS = Histogram(
    "strongroom_http_request_duration_seconds",
    "Time to answer an HTTP request, by method, route template and status class.",
    ("method", "route", "status"),
    registry=INSTRUMENTS,
)
KMS_SECONDS = Histogram(
    "strongroom_kms_call_duration_seconds",
    "Time of a call to the root key's KMS or HSM, by operation and backend.",
    ("operation", "backend"),
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    registry=INSTRUMENTS,
)
KMS_ERRORS = Counter(
    "strongroom_kms_call_errors",
    "Calls to the root key's KMS or HSM that failed, by operation, backend and error.",
    ("operation", "backend", "error"),
    registry=INSTRUMENTS,
)
KEY_CACHE_HITS = Counter(
    "strongroom_key_cache_hits",
    "Unwrapped keys found in the key cache.",
    registry=INSTRUMENTS,
)
KEY_CACHE_MISSES = Counter(
    "strongroom_key_cache_misses",
    "Unwrapped keys not in the key cache (read from the keystore, unwrapped again).",
    registry=INSTRUMENTS,
)


def multiprocess() -> bool:
    """Whether this process shares its values through ``PROMETHEUS_MULTIPROC_DIR``."""
    return bool(os.environ.get(MULTIPROCESS_DIR))


class _ThisProcess(Collector):
    """The instruments as this process holds them (one process)."""

    def collect(self) -> Iterable[Metric]:
        return INSTRUMENTS.collect()


def process_collector(registry: CollectorRegistry) -> None:
    """Register, in ``registry``, the instruments of every process (multiprocess mode)
    or of this one."""
    if multiprocess():
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]  # untyped __init__
    else:
        registry.register(_ThisProcess())


def status_class(status: int) -> str:
    """``200`` → ``"2xx"``."""
    return f"{status // 100}xx" if 100 <= status <= 599 else "other"
