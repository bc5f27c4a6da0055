"""A small referral-hiring sample workspace, and a scan proving none of its plaintext is
stored in clear anywhere in the home folder (WAL and journal files included)."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from strongroom.bootstrap import Strongroom

WORKSPACE = "Northwind Referrals"
OWNER = "hana.okafor@northwind-demo.example"
PROJECT = "Platform Engineering Hiring"
PERSONAL = {"contacts": ["email", "phone", "name"], "candidates": ["email", "name"]}
CONTACTS = [
    {
        "name": "Ingrid Vasquez-Oyelaran",
        "email": "ingrid.vo@example.org",
        "phone": "+44 20 7946 0321",
        "company": "Quillfeather Analytics",
    },
    {
        "name": "Tobias Marchetti-Kwan",
        "email": "tobias.mk@example.net",
        "phone": "+1 415 555 0199",
        "company": "Larkspur Robotics",
    },
]
CANDIDATES = [
    {
        "name": "Soraya Lindqvist-Abara",
        "email": "soraya.la@example.com",
        "role": "Staff SRE",
        "stage": "onsite",
    },
    {
        "name": "Dmitri Okonkwo-Halvorsen",
        "email": "dmitri.oh@example.com",
        "role": "Backend Engineer",
        "stage": "screen",
    },
]
REFERRAL_NOTES = [
    "Worked with Soraya at Quillfeather; calm under incident pressure.",
    "Dmitri rebuilt the billing pipeline at Larkspur in a quarter.",
]
FILES = {
    "soraya-lindqvist-cv.txt": b"SORAYA LINDQVIST-ABARA curriculum vitae: distributed systems\n"
    * 40,
    "dmitri-okonkwo-portfolio.txt": b"DMITRI OKONKWO-HALVORSEN portfolio of backend work\n" * 40,
}


@dataclass
class DemoResult:
    workspace_id: str
    project_id: str
    record_ids: dict[str, list[str]] = field(default_factory=dict)
    file_ids: list[str] = field(default_factory=list)


def plaintexts() -> list[str]:
    """Every distinctive string of the sample that must never be stored in clear."""
    found = [WORKSPACE, OWNER, PROJECT, *REFERRAL_NOTES]
    for doc in CONTACTS + CANDIDATES:
        found += [v for v in doc.values() if isinstance(v, str) and len(v) >= 8]
    for name, content in FILES.items():
        found += [name, content.decode()[:30]]
    return found


def load_sample(sr: Strongroom, actor: str = "demo") -> DemoResult:
    ws = sr.workspaces.create(WORKSPACE, OWNER, actor=actor)
    for collection, fields in PERSONAL.items():
        sr.records.declare_collection(ws.id, collection, fields, actor=actor)
    project = sr.projects.create(ws.id, PROJECT, actor=actor)
    result = DemoResult(ws.id, project.id)
    result.record_ids["contacts"] = sr.records.put_many(
        ws.id, project.id, "contacts", CONTACTS, actor=actor
    )
    result.record_ids["candidates"] = sr.records.put_many(
        ws.id, project.id, "candidates", CANDIDATES, actor=actor
    )
    referrals: list[dict[str, Any]] = [
        {"candidate_id": c, "referrer_id": r, "note": n}
        for c, r, n in zip(
            result.record_ids["candidates"],
            result.record_ids["contacts"],
            REFERRAL_NOTES,
            strict=True,
        )
    ]
    result.record_ids["referrals"] = sr.records.put_many(
        ws.id, project.id, "referrals", referrals, actor=actor
    )
    for name, content in FILES.items():
        result.file_ids.append(
            sr.files.put(ws.id, project.id, name, io.BytesIO(content), actor=actor).id
        )
    accept_sample_agreements(sr, ws.id, actor)
    return result


def scan_home(home: Path, needles: list[str]) -> dict[str, list[str]]:
    """Map each needle found in clear (UTF-8 or UTF-16) to the files holding it."""
    hits: dict[str, list[str]] = {}
    encoded = {n: [n.encode("utf-8"), n.encode("utf-16-le")] for n in needles}
    for path in sorted(p for p in home.rglob("*") if p.is_file()):
        data = path.read_bytes()
        for needle, forms in encoded.items():
            if any(form in data for form in forms):
                hits.setdefault(needle, []).append(str(path.relative_to(home)))
    return hits


# Agreements: short SAMPLE texts written for the demo. They are not legal advice and not
# any real agreement; a deployment publishes its own (`strongroom agreement publish`).
SAMPLE_SCC_VERSION = "sample-1"
SAMPLE_SCC = """SAMPLE ONLY - NOT LEGAL ADVICE - NOT THE EUROPEAN COMMISSION'S TEXT

Placeholder for the standard contractual clauses of this demo deployment.

A real deployment publishes here, unchanged, the clauses it relies on for transfers
of personal data out of the EEA, with the modules and annexes it completed. This
placeholder exists only so that the demo can show how a version is published, how
its SHA-256 is fixed, and how a DPA version names the clauses it incorporates.
"""
SAMPLE_DPA_VERSION = "sample-1"
SAMPLE_DPA = """SAMPLE ONLY - NOT LEGAL ADVICE - NOT A REAL AGREEMENT

Data processing agreement of this demo deployment.

1. Who is who. The customer decides why and how its data is processed; the operator
   of this deployment processes it only to run the service the customer signed up for.
2. What the operator does. It keeps the data encrypted, deletes it on the schedule
   shown on the trust center, lists the subprocessors it uses, and answers requests
   sent to its contact address.
3. Transfers. Transfers out of the EEA rely on the standard contractual clauses
   version named next to this text, which this agreement incorporates.
4. Changes. Nobody edits a published version. A change is a new version with its own
   effective date, which each customer accepts by that date.
"""


def accept_sample_agreements(sr: Strongroom, workspace_id: str, actor: str = "demo") -> None:
    """Publish the SAMPLE SCC and DPA texts (once) and have the sample owner accept the
    DPA, so the trust center's DPA promise holds for the demo."""
    # A version takes effect at 00:00 UTC on its date, which must be after today.
    effective = sr.ctx.clock.now().date() + timedelta(days=1)
    published = {(v.kind.value, v.version) for v in sr.agreements.list()}
    if ("scc", SAMPLE_SCC_VERSION) not in published:
        sr.agreements.publish(
            "scc", SAMPLE_SCC_VERSION, SAMPLE_SCC.encode(), effective, actor=actor
        )
    if ("dpa", SAMPLE_DPA_VERSION) not in published:
        sr.agreements.publish(
            "dpa",
            SAMPLE_DPA_VERSION,
            SAMPLE_DPA.encode(),
            effective,
            SAMPLE_SCC_VERSION,
            actor=actor,
        )
    status = sr.agreements.status(workspace_id)
    if status.accepted != status.current and status.current is not None:
        sr.agreements.accept_as(workspace_id, status.current, OWNER, actor=actor)
