"""The soak's results: one JSON document (bench/soak/results.json) and the table printed
from it."""

from __future__ import annotations

import os
import platform
from collections import Counter
from datetime import datetime
from typing import Any

from bench.runner import cpu_model
from bench.soak.checks import Verdict
from bench.soak.faults import FAULTS, RECOVERY_BOUND_SECONDS
from bench.soak.ledger import Ledger, Tally


def _ram_gib() -> float:
    with open("/proc/meminfo") as meminfo:
        for line in meminfo:
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / (1 << 20), 1)
    return 0.0


def build(
    *,
    seed: int,
    clients: int,
    minutes: float,
    load_seconds: float,
    api_processes: list[int],
    several: bool,
    tally: Tally,
    ledger: Ledger,
    verdict: Verdict,
    faults: list[dict[str, Any]],
    skipped_faults: list[str],
    restarts: dict[str, int],
    backups: list[dict[str, Any]],
    audit: tuple[int, Any],
    backup_verify: tuple[int, Any],
    partial_blobs: int,
    finished: datetime,
) -> dict[str, Any]:
    kinds = tally.summary()
    for fault in faults:  # what the clients saw from the fault until it was recovered from
        end = fault["at_s"] + fault["lasted_s"] + (fault["recovered_after_s"] or 0) + 1
        window = [outcome for t, outcome in tally.timeline if fault["at_s"] <= t <= end]
        failed = [o for o in window if o.startswith(("5", "connection"))]
        fault["requests_during"] = len(window)
        fault["failed_during"] = len(failed)
        fault["failed_by_outcome"] = dict(Counter(failed).most_common())
    windows = [
        (f["at_s"], f["at_s"] + f["lasted_s"] + (f["recovered_after_s"] or 0) + 1) for f in faults
    ]
    calm = Counter(
        o
        for t, o in tally.timeline
        if o.startswith(("5", "connection")) and not any(a <= t <= b for a, b in windows)
    )
    errors: dict[str, int] = {}
    for (_, outcome), n in tally.outcomes.items():
        if not outcome.startswith("2"):
            errors[outcome] = errors.get(outcome, 0) + n
    injected = {f["fault"] for f in faults}
    recovered = all(
        f["recovered_after_s"] is not None and f["recovered_after_s"] <= RECOVERY_BOUND_SECONDS
        for f in faults
    )
    passed = (
        not verdict.lost
        and not tally.findings
        and audit[0] == 0
        and backup_verify[0] == 0
        and recovered
        and injected | {s.split()[0] for s in skipped_faults} == set(FAULTS)
        and all(not n.startswith("file") for n in verdict.notes.get("every_file_decrypts", []))
    )
    return {
        "passed": passed,
        "finished": finished.isoformat(timespec="seconds"),
        "machine": {
            "cpu_model": cpu_model(),
            "nproc": os.cpu_count(),
            "ram_gib": _ram_gib(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "settings": {
            "clients": clients,
            "minutes": minutes,
            "seed": seed,
            "api_processes": len(api_processes) if several else 1,
            "serve_workers_option": several,
        },
        "load_seconds": round(load_seconds, 1),
        "requests": tally.requests(),
        "requests_per_second": round(tally.requests() / load_seconds, 1),
        "acknowledged_writes": dict(sorted(ledger.writes.items())),
        "acknowledged_total": ledger.acknowledged(),
        "checked_entries": verdict.checked,
        "lost_writes": len(verdict.lost),
        "lost": verdict.lost[:50],
        "findings_5xx": len(tally.findings),
        "findings": [f.__dict__ for f in tally.findings[:50]],
        "errors_by_kind": dict(sorted(errors.items(), key=lambda kv: -kv[1])),
        "failed_outside_faults": dict(calm.most_common()),
        "by_kind": kinds,
        "faults": faults,
        "faults_skipped": skipped_faults,
        "restarts": restarts,
        "backups": backups,
        "exports_downloaded": ledger.exports_downloaded,
        "audit_verify": {"exit": audit[0], "answer": audit[1]},
        "backup_verify": {"exit": backup_verify[0], "answer": _short(backup_verify[1])},
        "partial_blobs_left": partial_blobs,
        "checks": verdict.notes,
    }


def _short(answer: Any) -> Any:
    if isinstance(answer, dict):
        return {k: v for k, v in answer.items() if not isinstance(v, list | dict)}
    return answer


def print_table(results: dict[str, Any]) -> None:
    s = results["settings"]
    print(
        f"\nsoak {'PASSED' if results['passed'] else 'FAILED'}: {s['clients']} clients, "
        f"{results['load_seconds']:.0f} s, seed {s['seed']}, {s['api_processes']} API "
        f"process(es); {results['requests']} requests ({results['requests_per_second']}/s)"
    )
    print(f"\n{'kind':<18}{'requests':>9}{'ok':>8}{'p50 ms':>9}{'p99 ms':>9}  errors")
    for kind, row in results["by_kind"].items():
        errors = ", ".join(f"{o}: {n}" for o, n in row["outcomes"].items() if not o.startswith("2"))
        p50 = "-" if row["p50_ms"] is None else f"{row['p50_ms']:.1f}"
        p99 = "-" if row["p99_ms"] is None else f"{row['p99_ms']:.1f}"
        print(f"{kind:<18}{row['requests']:>9}{row['ok']:>8}{p50:>9}{p99:>9}  {errors}")
    print(
        f"\n{'fault':<18}{'at s':>7}{'lasted s':>10}{'recovered s':>13}{'failed':>8}"
        f"{'of':>7}  detail"
    )
    for f in results["faults"]:
        rec = "NOT" if f["recovered_after_s"] is None else f"{f['recovered_after_s']:.1f}"
        print(
            f"{f['fault']:<18}{f['at_s']:>7.0f}{f['lasted_s']:>10.1f}{rec:>13}"
            f"{f['failed_during']:>8}{f['requests_during']:>7}  {f['detail']}"
        )
    for skipped in results["faults_skipped"]:
        print(f"skipped: {skipped}")
    for f in results["faults"]:
        print(f"  {f['fault']}: {f['failed_by_outcome']}")
    print(f"failed outside any fault: {results['failed_outside_faults'] or 'none'}")
    print(
        f"\nacknowledged writes: {results['acknowledged_total']}; entries checked: "
        f"{results['checked_entries']}; lost: {results['lost_writes']}; 5xx findings: "
        f"{results['findings_5xx']}; restarts: {results['restarts']}"
    )
    print(
        f"audit verify exit {results['audit_verify']['exit']}; backups: "
        f"{sum(b['exit'] == 0 for b in results['backups'])}/{len(results['backups'])} ok, "
        f"newest verify exit {results['backup_verify']['exit']}; partial blobs left: "
        f"{results['partial_blobs_left']}; checks: {results['checks']}"
    )
    for line in results["lost"][:10]:
        print(f"LOST {line}")
    for finding in results["findings"][:10]:
        print(f"FINDING {finding}")


def markdown(results: dict[str, Any]) -> str:
    """The figures as docs/reliability.md shows them (``python -m bench.soak.report``)."""
    m, s = results["machine"], results["settings"]
    lines = [
        f"Run finished {results['finished']} on {m['cpu_model']}, {m['nproc']} cores, "
        f"{m['ram_gib']} GiB RAM (a VM shared with other work), Python {m['python']}; "
        f"{s['clients']} clients, {results['load_seconds']:.0f} s of load, seed {s['seed']}, "
        f"{s['api_processes']} API processes. Result: "
        f"**{'PASSED' if results['passed'] else 'FAILED'}**.",
        "",
        f"- requests: {results['requests']:,} ({results['requests_per_second']}/s)",
        f"- acknowledged writes: {results['acknowledged_total']:,} "
        f"({', '.join(f'{k} {v:,}' for k, v in results['acknowledged_writes'].items())})",
        f"- ledger entries checked at the end: {results['checked_entries']:,}; "
        f"**lost writes: {results['lost_writes']}**; 5xx findings: {results['findings_5xx']}",
        f"- trash: {results['checks'].get('trashed_records', 0)} records in the trash at the "
        f"end, {results['checks'].get('restored_from_trash', 0)} of them restored by the check",
        f"- backups during the run: {sum(b['exit'] == 0 for b in results['backups'])} of "
        f"{len(results['backups'])} succeeded; newest verified: exit "
        f"{results['backup_verify']['exit']}; audit chain: exit {results['audit_verify']['exit']}"
        f" ({_events(results)}); partial blobs left: {results['partial_blobs_left']}",
        "",
        "| kind | requests | ok | p50 ms | p99 ms | errors |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for kind, row in results["by_kind"].items():
        errors = "; ".join(f"{o}: {n}" for o, n in row["outcomes"].items() if not o.startswith("2"))
        lines.append(
            f"| {kind} | {row['requests']:,} | {row['ok']:,} | {row['p50_ms']} | "
            f"{row['p99_ms']} | {errors} |"
        )
    lines += [
        "",
        "| fault | at s | lasted s | recovered after s | failed / requests meanwhile | what |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for f in results["faults"]:
        lines.append(
            f"| {f['fault']} | {f['at_s']:.0f} | {f['lasted_s']:.1f} | {f['recovered_after_s']} "
            f"| {f['failed_during']} / {f['requests_during']} | {f['detail']} |"
        )
    lines += ["", "What failed in each fault's window, and outside them:", ""]
    for f in results["faults"]:
        lines.append(f"- `{f['fault']}`: {_outcomes(f['failed_by_outcome'])}")
    lines.append(f"- outside every fault: {_outcomes(results['failed_outside_faults'])}")
    return "\n".join(lines)


def _outcomes(counts: dict[str, int]) -> str:
    return ", ".join(f"{o}: {n}" for o, n in counts.items()) or "nothing"


def _events(results: dict[str, Any]) -> str:
    answer = results["audit_verify"]["answer"]
    return f"{answer['events']:,} events" if isinstance(answer, dict) else str(answer)


if __name__ == "__main__":
    import json
    import sys
    from pathlib import Path

    default = Path(__file__).parent / "results.json"
    with open(sys.argv[1] if len(sys.argv) > 1 else default) as results_file:
        print(markdown(json.load(results_file)))
