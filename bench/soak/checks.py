"""The checks after the soak: every acknowledged write is where the ledger says, through
the API; the trash still gives back what it holds; every stored file decrypts to its last
byte; the audit chain and the newest backup verify.

A record the ledger calls live must read back with the acknowledged document; one in the
trash must answer 404 "in trash" naming its entry, restorable for about 30 more days (a
sample is restored, proving nothing was purged early); one whose purge an owner asked
for must be gone or still pending. An entry whose last write got no answer may be in the
state before or after it (see ledger.py). Anything else is a lost write.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from bench.soak.ledger import FileEntry, Ledger, RecordEntry

RESTORE_SAMPLE = 50  # per workspace


@dataclass
class Verdict:
    checked: int = 0
    lost: list[str] = field(default_factory=list)
    notes: dict[str, Any] = field(default_factory=dict)


def _record_state(r: httpx.Response) -> dict[str, Any]:
    if r.status_code == 200:
        return {"document": r.json()["document"]}
    if r.status_code == 404:
        body = r.json()
        if body.get("trash_entry_id"):
            return {"trashed": body["trash_entry_id"], "restore_until": body.get("restore_until")}
        return {"gone": True}
    return {"error": r.status_code}


def _record_ok(entry: RecordEntry, state: dict[str, Any]) -> bool:
    acceptable = [_expected(entry)] + [_expected(entry, u) for u in entry.uncertain]
    for want in acceptable:
        if want == "purged" and ("gone" in state or "trashed" in state):
            return True  # purged, or its purge still waiting for the worker's next pass
        if want == "trashed" and "trashed" in state:
            return True
        if isinstance(want, dict) and state.get("document") == want["document"]:
            return True
    return False


def _expected(entry: RecordEntry, change: dict[str, Any] | None = None) -> Any:
    change = change or {}
    if change.get("purged") or entry.purged:
        return "purged"
    trashed = change.get("trashed", entry.trashed is not None)
    if trashed:
        return "trashed"
    return {"document": change.get("document", entry.document)}


def check_records(http: httpx.Client, entries: list[RecordEntry], verdict: Verdict) -> None:
    soonest = datetime.now(UTC) + timedelta(days=29)
    restorable = []
    for entry in entries:
        path = f"/v1/workspaces/{entry.workspace}/projects/{entry.project}/records/{entry.id}"
        state = _record_state(http.get(path))
        verdict.checked += 1
        if not _record_ok(entry, state):
            verdict.lost.append(f"record {entry.id}: expected {_expected(entry)}, found {state}")
            continue
        if "trashed" in state and not entry.purged:
            if datetime.fromisoformat(state["restore_until"]) < soonest:
                verdict.lost.append(f"record {entry.id}: trash ends {state['restore_until']}")
            restorable.append((entry, state["trashed"]))
    restored = 0
    for entry, trash_entry in restorable[:RESTORE_SAMPLE]:
        r = http.post(f"/v1/workspaces/{entry.workspace}/trash/{trash_entry}/restore")
        path = f"/v1/workspaces/{entry.workspace}/projects/{entry.project}/records/{entry.id}"
        if r.status_code != 200 or "document" not in _record_state(http.get(path)):
            verdict.lost.append(
                f"record {entry.id}: restore from the trash answered {r.status_code}"
            )
        else:
            restored += 1
    verdict.notes["trashed_records"] = len(restorable)
    verdict.notes["restored_from_trash"] = restored


def trash_entries(http: httpx.Client, workspace: str) -> set[str]:
    """The ids of the workspace's trash entries still restorable."""
    found: set[str] = set()
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 1000}
        if cursor:
            params["cursor"] = cursor
        page = http.get(f"/v1/workspaces/{workspace}/trash", params=params).json()
        found |= {item["id"] for item in page["items"] if item["state"] == "trashed"}
        cursor = page.get("next_cursor")
        if not cursor:
            return found


def check_files(http: httpx.Client, entries: list[FileEntry], verdict: Verdict) -> None:
    trash = trash_entries(http, entries[0].workspace) if entries else set()
    for entry in entries:
        base = f"/v1/workspaces/{entry.workspace}/projects/{entry.project}/files/{entry.id}"
        verdict.checked += 1
        if entry.trashed is not None:
            if entry.trashed not in trash and not entry.uncertain:
                verdict.lost.append(f"file {entry.id}: trash entry {entry.trashed} not in trash")
            continue
        r = http.get(f"{base}/content")
        if r.status_code == 200 and hashlib.sha256(r.content).hexdigest() == entry.sha256:
            continue
        if entry.uncertain and r.status_code == 404:
            continue
        verdict.lost.append(f"file {entry.id}: answered {r.status_code}, content differs or cut")


def check_every_file_decrypts(http: httpx.Client, projects: list[tuple[str, str]]) -> list[str]:
    """Every file row of every project, acknowledged or not: its blob must decrypt to the
    end (a half-written ciphertext fails authentication and cuts the download)."""
    bad = []
    count = 0
    for workspace, project in projects:
        base = f"/v1/workspaces/{workspace}/projects/{project}/files"
        cursor = None
        while True:
            params: dict[str, Any] = {"limit": 200}
            if cursor:
                params["cursor"] = cursor
            page = http.get(base, params=params).json()
            for item in page["items"]:
                count += 1
                try:
                    r = http.get(f"{base}/{item['id']}/content")
                    if r.status_code != 200 or len(r.content) != item["size"]:
                        bad.append(f"file {item['id']}: {r.status_code}, {len(r.content)} bytes")
                except httpx.HTTPError as e:
                    bad.append(f"file {item['id']}: cut off ({type(e).__name__})")
            cursor = page.get("next_cursor")
            if not cursor:
                break
    return bad if bad else [f"ok: {count} files"]


def check_ids(http: httpx.Client, paths: list[str], what: str, verdict: Verdict) -> None:
    for path in paths:
        verdict.checked += 1
        r = http.get(path)
        if r.status_code != 200:
            verdict.lost.append(f"{what} {path}: {r.status_code}")


def run_checks(
    url: str, ca: str, tokens: dict[str, str], ledger: Ledger, projects: list[tuple[str, str]]
) -> Verdict:
    """Every workspace checked in a thread of its own; one verdict."""

    def check(workspace: str) -> Verdict:
        verdict = Verdict()
        with httpx.Client(
            base_url=url,
            verify=ca,
            headers={"Authorization": f"Bearer {tokens[workspace]}"},
            timeout=60,
        ) as http:
            check_records(http, [e for e in ledger.records if e.workspace == workspace], verdict)
            check_files(http, [f for f in ledger.files if f.workspace == workspace], verdict)
            base = f"/v1/workspaces/{workspace}"
            requests = [
                f"{base}/privacy-requests/{i}" for w, i in ledger.privacy_requests if w == workspace
            ]
            check_ids(http, requests, "privacy request", verdict)
            exports = [f"{base}/exports/{i}" for w, i in ledger.exports if w == workspace]
            check_ids(http, exports, "export", verdict)
            mine = [p for p in projects if p[0] == workspace]
            verdict.notes["every_file_decrypts"] = check_every_file_decrypts(http, mine)
        return verdict

    with ThreadPoolExecutor(len(tokens)) as pool:
        verdicts = list(pool.map(check, tokens))
    merged = Verdict()
    for verdict in verdicts:
        merged.checked += verdict.checked
        merged.lost += verdict.lost
        for name, value in verdict.notes.items():
            merged.notes[name] = merged.notes.get(name, type(value)()) + value
    return merged


def cli_json(strongroom: str, env: dict[str, str], *argv: str) -> tuple[int, Any]:
    done = subprocess.run(
        [strongroom, *argv, "--json"], capture_output=True, text=True, env=env, timeout=1800
    )
    try:
        return done.returncode, json.loads(done.stdout)
    except json.JSONDecodeError:
        return done.returncode, (done.stderr or done.stdout).strip()[-500:]


def partial_blobs(blob_dir: Path) -> int:
    """Temporaries of killed uploads (``.partial``): never read, swept after a day."""
    return sum(1 for _ in blob_dir.glob("*/.*.partial"))
