"""Agreements in the console: the current DPA and SCC texts for anyone (``/agreements/{kind}``,
public), a workspace's agreement page (its standing; owners accept the newest DPA there and
download their signed receipts; anyone holding a receipt verifies it), and the operators'
page that lists and publishes versions.

Accepting goes through the same service as the API's: only an owner may (403 page
otherwise), and what the browser says of itself (address, user agent) goes into the
receipt, sealed at rest."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form, Path, Request
from starlette.responses import HTMLResponse, Response

from strongroom.bootstrap import Strongroom
from strongroom.console import pages
from strongroom.console.operator import OperatorVisit
from strongroom.console.visit import AuditReader, Reader, Visit
from strongroom.domain.agreements import MAX_BODY_BYTES, MAX_RECEIPT_BYTES, AgreementKind
from strongroom.domain.roles import Role
from strongroom.errors import Conflict, IntegrityFailure, InvalidInput, NotFound
from strongroom.services.agreements import Acceptor

router = APIRouter()
public = APIRouter()

Kind = Annotated[str, Path(pattern="^(dpa|scc)$")]
_TITLES = {
    AgreementKind.DPA: "Data processing agreement",
    AgreementKind.SCC: "Standard contractual clauses",
}


# public ------------------------------------------------------------------------------
@public.get("/agreements/{kind}", response_class=HTMLResponse)
def public_text(request: Request, kind: Kind) -> Response:
    sr: Strongroom = request.app.state.strongroom
    parsed = AgreementKind(kind)
    context = {"request": request, "active": f"agreement-{kind}", "title": _TITLES[parsed]}
    versions = sr.agreements.list(kind)
    if not versions:
        return pages.render_public("agreement_public.html", {**context, "current": None}, 404)
    return pages.render_public(
        "agreement_public.html",
        {**context, "current": versions[-1], "versions": versions[::-1]},
    )


# a workspace's page ------------------------------------------------------------------
def _page(
    visit: Visit, status: int = 200, error: str | None = None, verified: object = None
) -> HTMLResponse:
    assert visit.workspace_id is not None
    sr = visit.sr
    standing = sr.agreements.status(visit.workspace_id)
    current = sr.agreements.current("dpa") if standing.current else None
    return visit.render(
        "agreement_workspace.html",
        status,
        active="agreements",
        standing=standing,
        current=current,
        is_owner=visit.role is Role.OWNER,
        receipts=sr.agreements.receipts(visit.workspace_id, visit.actor)
        if visit.may("read_audit")
        else [],
        now=sr.ctx.clock.now(),
        error=error,
        verified=verified,
    )


@router.get("/w/{workspace_id}/agreements", response_class=HTMLResponse)
def workspace_agreements(visit: Reader) -> Response:
    return _page(visit)


@router.post("/w/{workspace_id}/agreements", response_class=HTMLResponse)
def accept(
    visit: Reader, request: Request, version: Annotated[str, Form(max_length=64)] = ""
) -> Response:
    assert visit.workspace_id is not None
    acceptor = Acceptor(visit.role, visit.principal.user_id)
    try:
        receipt = visit.sr.agreements.accept(
            visit.workspace_id,
            version,
            acceptor,
            client_address=request.client.host if request.client else None,
            user_agent=request.headers.get("user-agent"),
            actor=visit.actor,
        )
    except (Conflict, InvalidInput, NotFound) as refused:
        return _page(visit, 409 if isinstance(refused, Conflict) else 422, str(refused))
    return visit.redirect(
        visit.url("/agreements"),
        flash=f"Accepted DPA {version}; signed receipt {receipt['receipt_id']} is listed below.",
    )


@router.get("/w/{workspace_id}/agreements/receipts/{receipt_id}")
def download_receipt(visit: AuditReader, receipt_id: str) -> Response:
    assert visit.workspace_id is not None
    found = [
        r
        for r in visit.sr.agreements.receipts(visit.workspace_id, visit.actor)
        if r["receipt_id"] == receipt_id
    ]
    if not found:
        raise NotFound(f"no receipt {receipt_id[:40]}")
    return Response(
        json.dumps(found[0], indent=2, sort_keys=True) + "\n",
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{found[0]["receipt_id"]}.json"'},
    )


@router.post("/w/{workspace_id}/agreements/verify", response_class=HTMLResponse)
def verify(
    visit: Reader, receipt: Annotated[str, Form(max_length=MAX_RECEIPT_BYTES)] = ""
) -> Response:
    try:
        result = visit.sr.agreements.verify_receipt(receipt)
    except (IntegrityFailure, InvalidInput) as failure:
        return _page(visit, 422, verified={"valid": False, "reason": str(failure)})
    return _page(visit, verified=result)


# operators ---------------------------------------------------------------------------
def _operator_page(
    visit: Visit, status: int = 200, error: str | None = None, typed: dict[str, str] | None = None
) -> HTMLResponse:
    return visit.render(
        "agreement_operator.html",
        status,
        active="agreements",
        versions=visit.sr.agreements.list()[::-1],
        error=error,
        typed=typed or {},
        today=visit.sr.ctx.clock.now().date().isoformat(),
    )


@router.get("/operator/agreements", response_class=HTMLResponse)
def operator_agreements(visit: OperatorVisit) -> Response:
    return _operator_page(visit)


@router.post("/operator/agreements", response_class=HTMLResponse)
def operator_publish(
    visit: OperatorVisit,
    kind: Annotated[str, Form(max_length=8)] = "",
    version: Annotated[str, Form(max_length=64)] = "",
    effective_on: Annotated[str, Form(max_length=10)] = "",
    scc_version: Annotated[str, Form(max_length=64)] = "",
    body: Annotated[str, Form(max_length=MAX_BODY_BYTES)] = "",
) -> Response:
    typed = {"kind": kind, "version": version, "effective_on": effective_on, "scc": scc_version}
    try:
        effective = date.fromisoformat(effective_on)
    except ValueError:
        return _operator_page(visit, 422, "The effective date is YYYY-MM-DD.", typed)
    try:
        published = visit.sr.agreements.publish(
            kind,
            version,
            body.replace("\r\n", "\n").encode("utf-8", "surrogatepass"),
            effective,
            scc_version or None,
            actor=visit.actor,
        )
    except (Conflict, InvalidInput) as refused:
        status = 409 if isinstance(refused, Conflict) else 422
        return _operator_page(visit, status, f"Nothing was published: {refused}.", typed)
    return visit.redirect(
        "/console/operator/agreements",
        flash=f"Published {published.kind.value} {published.version} (SHA-256 {published.sha256}).",
    )
