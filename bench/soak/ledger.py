"""What the soak's clients were told: every acknowledged write and the state it promises,
and every answer counted by kind, status and problem type, with its latency.

A write is acknowledged when the server answered 2xx. A write that got no answer (a reset
connection, a timeout) or a 5xx may or may not have happened: the entry it touched becomes
``uncertain``, its client leaves it alone from then on, and the final check accepts either
its state before or after that write. An acknowledged state is never allowed to be missing.
"""

from __future__ import annotations

import statistics
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import httpx

#: Statuses a fault may cause and the soak expects: the server said "not now" properly.
EXPECTED_UNAVAILABLE = {503, 507}


@dataclass
class RecordEntry:
    workspace: str
    project: str
    id: str
    document: dict[str, Any]
    trashed: str | None = None  # the trash entry, when the last acknowledged delete moved it
    purged: bool = False  # an owner asked for it to be purged (acknowledged 202)
    uncertain: list[dict[str, Any]] = field(default_factory=list)  # other possible states


@dataclass
class FileEntry:
    workspace: str
    project: str
    id: str
    sha256: str
    size: int
    trashed: str | None = None
    uncertain: bool = False


@dataclass
class Finding:
    at: float
    kind: str
    method: str
    path: str
    status: int
    body: str


@dataclass
class Tally:
    started: float = field(default_factory=time.monotonic)
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    outcomes: Counter[tuple[str, str]] = field(default_factory=Counter)
    findings: list[Finding] = field(default_factory=list)
    #: (seconds since start, outcome) of every request: what each fault's window saw
    timeline: list[tuple[float, str]] = field(default_factory=list)

    def answered(self, kind: str, method: str, path: str, r: httpx.Response, ms: float) -> str:
        outcome = outcome_of(r)
        self.outcomes[(kind, outcome)] += 1
        self.latencies[kind].append(ms)
        self.timeline.append((time.monotonic() - self.started, outcome))
        if is_finding(r):
            self.findings.append(
                Finding(
                    time.monotonic() - self.started, kind, method, path, r.status_code, r.text[:500]
                )
            )
        return outcome

    def failed(self, kind: str, error: Exception, ms: float) -> str:
        outcome = f"connection {type(error).__name__}"
        self.outcomes[(kind, outcome)] += 1
        self.timeline.append((time.monotonic() - self.started, outcome))
        return outcome

    def requests(self) -> int:
        return sum(self.outcomes.values())

    def summary(self) -> dict[str, Any]:
        kinds = sorted({k for k, _ in self.outcomes})
        rows = {}
        for kind in kinds:
            times = sorted(self.latencies.get(kind, []))
            counts = {o: n for (k, o), n in sorted(self.outcomes.items()) if k == kind}
            rows[kind] = {
                "requests": sum(counts.values()),
                "ok": sum(n for o, n in counts.items() if o.startswith("2")),
                "p50_ms": round(statistics.median(times), 1) if times else None,
                "p99_ms": round(percentile(times, 0.99), 1) if times else None,
                "outcomes": counts,
            }
        return rows


def percentile(ordered: list[float], q: float) -> float:
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def problem_type(r: httpx.Response) -> str | None:
    if not r.headers.get("content-type", "").startswith("application/problem+json"):
        return None
    try:
        kind = r.json().get("type", "")
    except ValueError:
        return None
    return str(kind).rsplit("/", 1)[-1] or "about:blank"


def outcome_of(r: httpx.Response) -> str:
    if r.status_code < 400:
        return f"{r.status_code}"
    kind = problem_type(r)
    return f"{r.status_code} {kind}" if kind else f"{r.status_code} (not problem+json)"


def is_finding(r: httpx.Response) -> bool:
    """A 5xx other than a proper "not now" (503/507 with problem+json) is a defect."""
    if r.status_code < 500:
        return False
    return not (r.status_code in EXPECTED_UNAVAILABLE and problem_type(r) is not None)


@dataclass
class Ledger:
    records: list[RecordEntry] = field(default_factory=list)
    files: list[FileEntry] = field(default_factory=list)
    privacy_requests: list[tuple[str, str]] = field(default_factory=list)  # (workspace, id)
    exports: list[tuple[str, str]] = field(default_factory=list)  # (workspace, job id)
    exports_downloaded: int = 0
    #: acknowledged writes by kind (an update or a restore changes an entry, adds none)
    writes: Counter[str] = field(default_factory=Counter)

    def acknowledged(self) -> int:
        return sum(self.writes.values())
