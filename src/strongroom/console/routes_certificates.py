"""Deletion certificates: the workspace's deletion ledger (the API's ``GET …/certificates``,
with the same action), each certificate's facts, its signed JSON to download, and a check
of it in place (the service behind ``POST /v1/certificates/verify``).

A certificate is shown only in the workspace it is about: another workspace's id is 404,
as in the API. The audit chain's sequence numbers and length (which count every tenant's
events) are not shown; the pager's cursor is the ledger's, as the API's is."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from starlette.responses import HTMLResponse, Response

from strongroom.console import chain
from strongroom.console.visit import AuditReader, Visit
from strongroom.errors import AuditChainBroken, IntegrityFailure, NotFound
from strongroom.ids import pattern

router = APIRouter()

PAGE = 50
CertificateId = Annotated[str, Path(pattern=pattern("certificate"))]
After = Annotated[int, Query(ge=0, le=2**62)]


@router.get("/w/{workspace_id}/certificates", response_class=HTMLResponse)
def certificates(visit: AuditReader, after: After = 0) -> Response:
    entries = visit.sr.certificates.list(visit.workspace_id, after, PAGE + 1)
    shown = [_with_times(e, "deleted_at", "purged_at") for e in entries[:PAGE]]
    next_after = shown[-1]["seq"] if len(entries) > PAGE else None
    return visit.render("certificates_list.html", entries=shown, next_after=next_after)


def _with_times(facts: dict[str, Any], *names: str) -> dict[str, Any]:
    """The facts with their ISO times as datetimes (pages show them with ``when``)."""
    return {**facts, **{n: datetime.fromisoformat(facts[n]) for n in names if facts.get(n)}}


def _document(visit: Visit, certificate_id: str) -> dict[str, Any]:
    """The signed certificate, if it is about this workspace (else 404, as the API)."""
    document = visit.sr.certificates.get(certificate_id)
    if document.get("subject", {}).get("workspace_id") != visit.workspace_id:
        raise NotFound(f"no certificate {certificate_id}")
    return document


def _verification(visit: Visit, document: dict[str, Any]) -> dict[str, Any]:
    try:
        result = chain.one_walk_at_a_time(
            lambda: visit.sr.certificates.verify(json.dumps(document))
        )
    except AuditChainBroken:  # its message names a deployment-wide position: not shown
        return {"valid": False, "reason": "the audit chain is broken; tell your operator"}
    except IntegrityFailure as failed:
        return {"valid": False, "reason": str(failed)}
    return {"valid": True, "sha256": result.sha256, "signing_key": result.signing_key}


def _certificate_page(visit: Visit, certificate_id: str, verify: bool) -> HTMLResponse:
    document = _document(visit, certificate_id)
    return visit.render(
        "certificates_view.html",
        certificate=document,
        facts=_with_times(document, "issued_at", "deleted_at", "purged_at"),
        verification=_verification(visit, document) if verify else None,
    )


@router.get("/w/{workspace_id}/certificates/{certificate_id}", response_class=HTMLResponse)
def certificate(visit: AuditReader, certificate_id: CertificateId) -> Response:
    return _certificate_page(visit, certificate_id, verify=False)


@router.get("/w/{workspace_id}/certificates/{certificate_id}/verify", response_class=HTMLResponse)
def verify(visit: AuditReader, certificate_id: CertificateId) -> Response:
    """Signature, deletion ledger and audit chain checked now (a read, so a GET)."""
    return _certificate_page(visit, certificate_id, verify=True)


@router.get("/w/{workspace_id}/certificates/{certificate_id}/download")
def download(visit: AuditReader, certificate_id: CertificateId) -> Response:
    """The signed JSON, as the API's ``GET /v1/certificates/{id}`` gives it."""
    document = _document(visit, certificate_id)
    body = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    return Response(
        body.encode(),
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{certificate_id}.json"'},
    )
