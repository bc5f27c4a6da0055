"""The soak's clients: asyncio and httpx over HTTPS, each one a user of one workspace with
a project of its own, doing a mix of what customers do.

Each client touches only the records and files it made, so the ledger knows what each of
them must hold without racing another client. The mix (weights below): record reads,
creates, updates, deletes to the trash, restores, lists, file uploads and downloads and
deletes, purges asked for by the owner (the worker carries them out), privacy requests
(create, verify, the subject's package) and, one at a time across all clients, a
workspace export polled to the end and downloaded.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import secrets
import time
from dataclasses import dataclass
from typing import Any

import httpx

from bench.soak.ledger import FileEntry, Finding, Ledger, RecordEntry, Tally

WEIGHTS = {
    "record_read": 24,
    "record_create": 18,
    "record_update": 12,
    "record_delete": 6,
    "record_restore": 5,
    "record_list": 5,
    "file_upload": 6,
    "file_download": 6,
    "file_delete": 1,
    "trash_purge": 1,
    "privacy_request": 2,
    "export": 1,
}
EXPORT_EVERY_SECONDS = 60.0
FILE_MAX_BYTES = 128 * 1024


@dataclass
class Seat:
    """Who a client is: its workspace, its project and an owner token of the workspace."""

    workspace: str
    project: str
    token: str


@dataclass
class Shared:
    ledger: Ledger
    tally: Tally
    stop: asyncio.Event
    export_lock: asyncio.Lock
    last_export: float = 0.0


class Client:
    def __init__(
        self, http: httpx.AsyncClient, seat: Seat, shared: Shared, rng: random.Random
    ) -> None:
        self.http = http
        self.seat = seat
        self.shared = shared
        self.rng = rng
        self.records: list[RecordEntry] = []
        self.files: list[FileEntry] = []
        self.base = f"/v1/workspaces/{seat.workspace}"
        self.project = f"{self.base}/projects/{seat.project}"

    async def call(
        self, kind: str, method: str, path: str, **options: Any
    ) -> httpx.Response | None:
        started = time.monotonic()
        try:
            r = await self.http.request(method, path, **options)
        except httpx.HTTPError as e:
            self.shared.tally.failed(kind, e, (time.monotonic() - started) * 1000)
            return None
        self.shared.tally.answered(kind, method, path, r, (time.monotonic() - started) * 1000)
        return r

    async def run(self) -> None:
        kinds = list(WEIGHTS)
        weights = list(WEIGHTS.values())
        while not self.shared.stop.is_set():
            kind = self.rng.choices(kinds, weights)[0]
            await getattr(self, kind)()
            await asyncio.sleep(self.rng.uniform(0.01, 0.1))

    # -- records ------------------------------------------------------------------------

    def _document(self) -> dict[str, Any]:
        return {
            "email": f"{secrets.token_hex(6)}@soak.example",
            "name": f"Soak {secrets.token_hex(3)}",
            "n": self.rng.randrange(1 << 30),
            "note": secrets.token_urlsafe(self.rng.randrange(16, 400)),
        }

    def _settled(self, trashed: bool) -> list[RecordEntry]:
        return [
            e
            for e in self.records
            if not e.uncertain and not e.purged and (e.trashed is not None) == trashed
        ]

    async def record_create(self) -> None:
        document = self._document()
        body = {"collection": "contacts", "document": document}
        r = await self.call("record_create", "POST", f"{self.project}/records", json=body)
        if r is not None and r.status_code == 201:
            entry = RecordEntry(self.seat.workspace, self.seat.project, r.json()["id"], document)
            self.records.append(entry)
            self.shared.ledger.records.append(entry)
            self.shared.ledger.writes["record_create"] += 1

    async def record_read(self) -> None:
        live = self._settled(trashed=False)
        if not live:
            return await self.record_create()
        entry = self.rng.choice(live)
        r = await self.call("record_read", "GET", f"{self.project}/records/{entry.id}")
        if r is not None and r.status_code == 200 and r.json()["document"] != entry.document:
            self.shared.tally.findings.append(_mismatch("record_read", entry.id, r))

    async def record_list(self) -> None:
        await self.call(
            "record_list",
            "GET",
            f"{self.project}/records",
            params={"collection": "contacts", "limit": 20},
        )

    async def record_update(self) -> None:
        live = self._settled(trashed=False)
        if not live:
            return
        entry = self.rng.choice(live)
        document = self._document()
        r = await self.call(
            "record_update",
            "PUT",
            f"{self.project}/records/{entry.id}",
            json={"document": document},
        )
        if r is not None and r.status_code == 200:
            entry.document = document
            self.shared.ledger.writes["record_update"] += 1
        elif r is None or r.status_code >= 500:
            entry.uncertain.append({"document": document})

    async def record_delete(self) -> None:
        live = self._settled(trashed=False)
        if not live:
            return
        entry = self.rng.choice(live)
        r = await self.call("record_delete", "DELETE", f"{self.project}/records/{entry.id}")
        if r is not None and r.status_code == 200:
            entry.trashed = r.json()["id"]
            self.shared.ledger.writes["record_delete"] += 1
        elif r is None or r.status_code >= 500:
            entry.uncertain.append({"trashed": True})

    async def record_restore(self) -> None:
        trashed = self._settled(trashed=True)
        if not trashed:
            return
        entry = self.rng.choice(trashed)
        r = await self.call("record_restore", "POST", f"{self.base}/trash/{entry.trashed}/restore")
        if r is not None and r.status_code == 200:
            entry.trashed = None
            self.shared.ledger.writes["record_restore"] += 1
        elif r is None or r.status_code >= 500:
            entry.uncertain.append({"trashed": False})

    async def trash_purge(self) -> None:
        """The owner purges one of their trashed records now (the worker does it)."""
        trashed = self._settled(trashed=True)
        if len(trashed) < 3:  # keep most of the trash: the final check restores from it
            return
        entry = self.rng.choice(trashed)
        r = await self.call(
            "trash_purge",
            "DELETE",
            f"{self.base}/trash/{entry.trashed}",
            params={"confirm": "true"},
        )
        if r is not None and r.status_code == 202:
            entry.purged = True
            self.shared.ledger.writes["trash_purge"] += 1
        elif r is None or r.status_code >= 500:
            entry.uncertain.append({"purged": True})

    # -- files --------------------------------------------------------------------------

    async def file_upload(self) -> None:
        data = secrets.token_bytes(self.rng.randrange(1, FILE_MAX_BYTES))
        name = f"soak-{secrets.token_hex(4)}.bin"
        r = await self.call(
            "file_upload", "POST", f"{self.project}/files", params={"name": name}, content=data
        )
        if r is not None and r.status_code == 201:
            digest = hashlib.sha256(data).hexdigest()
            entry = FileEntry(
                self.seat.workspace, self.seat.project, r.json()["id"], digest, len(data)
            )
            self.files.append(entry)
            self.shared.ledger.files.append(entry)
            self.shared.ledger.writes["file_upload"] += 1

    async def file_download(self) -> None:
        live = [f for f in self.files if f.trashed is None and not f.uncertain]
        if not live:
            return
        entry = self.rng.choice(live)
        r = await self.call("file_download", "GET", f"{self.project}/files/{entry.id}/content")
        changed = r is not None and hashlib.sha256(r.content).hexdigest() != entry.sha256
        if r is not None and r.status_code == 200 and changed:
            self.shared.tally.findings.append(_mismatch("file_download", entry.id, r))

    async def file_delete(self) -> None:
        live = [f for f in self.files if f.trashed is None and not f.uncertain]
        if len(live) < 3:
            return
        entry = self.rng.choice(live)
        r = await self.call("file_delete", "DELETE", f"{self.project}/files/{entry.id}")
        if r is not None and r.status_code == 200:
            entry.trashed = r.json()["id"]
            self.shared.ledger.writes["file_delete"] += 1
        elif r is None or r.status_code >= 500:
            entry.uncertain = True

    # -- privacy requests and exports ---------------------------------------------------

    async def privacy_request(self) -> None:
        live = self._settled(trashed=False)
        if not live:
            return
        email = self.rng.choice(live).document["email"]
        body = {
            "type": "access",
            "law": "gdpr",
            "identifiers": [{"kind": "email", "value": email}],
            "channel": "soak",
        }
        base = f"{self.base}/privacy-requests"
        r = await self.call("privacy_create", "POST", base, json=body)
        if r is None or r.status_code != 201:
            return
        request = r.json()["id"]
        self.shared.ledger.privacy_requests.append((self.seat.workspace, request))
        self.shared.ledger.writes["privacy_create"] += 1
        verify = {"method": "reply from the address", "by": "soak"}
        r = await self.call("privacy_verify", "POST", f"{base}/{request}/verify", json=verify)
        if r is None or r.status_code != 200:
            return
        self.shared.ledger.writes["privacy_verify"] += 1
        r = await self.call("privacy_export", "POST", f"{base}/{request}/export")
        if r is not None and r.status_code == 200 and not r.content.startswith(b"PK"):
            self.shared.tally.findings.append(_mismatch("privacy_export", request, r))

    async def export(self) -> None:
        """One export at a time across all clients, at most one a minute: created,
        polled until the worker has run it, downloaded to the last byte."""
        shared = self.shared
        if (
            shared.export_lock.locked()
            or time.monotonic() - shared.last_export < EXPORT_EVERY_SECONDS
        ):
            return
        async with shared.export_lock:
            shared.last_export = time.monotonic()
            r = await self.call("export_create", "POST", f"{self.base}/exports")
            if r is None or r.status_code != 202:
                return
            job = r.json()
            shared.ledger.exports.append((self.seat.workspace, job["id"]))
            shared.ledger.writes["export_create"] += 1
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline and not shared.stop.is_set():
                await asyncio.sleep(2)
                r = await self.call("export_poll", "GET", job["links"]["self"])
                if r is None or r.status_code != 200:
                    continue
                state = r.json()["state"]
                if state == "done":
                    await self._download_export(job["links"]["download"], r.json()["size"])
                    return
                if state not in ("queued", "running"):
                    return

    async def _download_export(self, url: str, size: int) -> None:
        started = time.monotonic()
        got = 0
        try:
            async with self.http.stream("GET", url) as r:
                async for chunk in r.aiter_bytes():
                    got += len(chunk)
        except httpx.HTTPError as e:
            self.shared.tally.failed("export_download", e, (time.monotonic() - started) * 1000)
            return
        ms = (time.monotonic() - started) * 1000
        self.shared.tally.answered("export_download", "GET", url, r, ms)
        if r.status_code == 200:
            if got != size:
                self.shared.tally.findings.append(_mismatch("export_download", url, r))
            else:
                self.shared.ledger.exports_downloaded += 1


def _mismatch(kind: str, subject: str, r: httpx.Response) -> Finding:
    return Finding(time.monotonic(), kind, "GET", subject, r.status_code, "content differs")


async def run_clients(
    url: str, ca: str, seats: list[Seat], shared: Shared, seed: int, seconds_until_stop: Any
) -> None:
    """Run one client per seat until ``shared.stop`` is set (by ``seconds_until_stop``)."""
    import ssl

    context = ssl.create_default_context(cafile=ca)
    clients = []
    https = []
    for n, seat in enumerate(seats):
        http = httpx.AsyncClient(
            base_url=url,
            verify=context,
            headers={"Authorization": f"Bearer {seat.token}"},
            timeout=httpx.Timeout(30, connect=5),
        )
        https.append(http)
        clients.append(Client(http, seat, shared, random.Random(seed * 1000 + n)))
    try:
        tasks = [asyncio.create_task(c.run()) for c in clients]
        await seconds_until_stop()
        shared.stop.set()
        await asyncio.gather(*tasks)
    finally:
        for http in https:
            await http.aclose()
