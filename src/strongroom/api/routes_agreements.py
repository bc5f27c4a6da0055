"""Agreements over HTTPS: the current DPA and SCC texts for anyone (``/agreements/{kind}.json``),
publishing and listing for operators, a workspace's standing and an owner's acceptance,
receipt verification, and a 422 for every attempt to change a published text."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Request
from fastapi.responses import JSONResponse
from pydantic import Field

from strongroom.api.deps import SR, Caller, Operator, Reader, one_hop
from strongroom.api.problems import problem
from strongroom.api.schemas import Body as StrictBody
from strongroom.api.strict_json import StrictJSONRoute
from strongroom.domain.agreements import MAX_BODY_BYTES, Status
from strongroom.errors import IntegrityFailure
from strongroom.services.agreements import Acceptor

router = APIRouter(route_class=StrictJSONRoute)

Kind = Annotated[str, Path(pattern="^(dpa|scc)$")]
Version = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
_IMMUTABLE = (
    "published agreement versions are immutable: no modifications are accepted; "
    "publish a new version instead"
)


class PublishIn(StrictBody):
    kind: str = Field(max_length=8, description="dpa or scc")
    version: str = Field(max_length=64, description="The version's label, e.g. 2026-01.")
    body: str = Field(max_length=MAX_BODY_BYTES, description="The text (UTF-8).")
    effective_on: date = Field(description="The day it takes effect (today or later).")
    scc_version: str | None = Field(
        default=None, max_length=64, description="A DPA's SCC version (default: the newest)."
    )


class AcceptIn(StrictBody):
    version: str = Field(max_length=64, description="The newest DPA version's label.")


def _status(status: Status, now: datetime) -> dict[str, Any]:
    return {
        "standing": status.standing.value,
        "current_version": status.current,
        "accepted_version": status.accepted,
        "accepted_at": status.accepted_at.isoformat() if status.accepted_at else None,
        "reaccept_due_at": status.due_at.isoformat() if status.due_at else None,
        "days_left": status.days_left(now),
    }


@router.get("/agreements/{kind}.json", tags=["agreements"], summary="The current text (public)")
def current_json(sr: SR, kind: Kind) -> dict[str, Any]:
    versions = sr.agreements.list(kind)
    current = sr.agreements.current(kind)
    return {
        **current.as_json(),
        "versions": [v.as_json(with_body=False) for v in versions],
    }


@router.get(
    "/v1/agreements/{kind}/{version}", tags=["agreements"], summary="One version's text (public)"
)
def get_version(sr: SR, kind: Kind, version: Version) -> dict[str, Any]:
    return sr.agreements.get(kind, version).as_json()


@router.get("/v1/agreements", tags=["operators"], summary="Every published version")
def list_versions(sr: SR, _operator: Operator) -> dict[str, Any]:
    return {"versions": [v.as_json(with_body=False) for v in sr.agreements.list()]}


@router.post("/v1/agreements", status_code=201, tags=["operators"], summary="Publish a version")
def publish(sr: SR, operator: Operator, body: PublishIn) -> dict[str, Any]:
    text = body.body.encode("utf-8", "surrogatepass")  # a lone surrogate: refused as not UTF-8
    published = sr.agreements.publish(
        body.kind, body.version, text, body.effective_on, body.scc_version, actor=operator.actor
    )
    return published.as_json(with_body=False)


def _refuse_change(_caller: Caller, kind: Kind, version: Version) -> JSONResponse:
    return problem(422, "agreement-immutable", _IMMUTABLE, agreement=f"{kind} {version}")


for _method in ("PUT", "PATCH", "DELETE"):
    router.add_api_route(
        "/v1/agreements/{kind}/{version}",
        _refuse_change,
        methods=[_method],
        tags=["agreements"],
        summary="Refused: published versions never change (422)",
        responses={422: {"description": "Always: no modifications are accepted."}},
        name=f"refuse_{_method.lower()}",
        response_model=None,
    )


@router.post(
    "/v1/agreements/receipts/verify",
    tags=["agreements"],
    summary="Verify an acceptance receipt: signature, record, the text's hash",
    response_model=None,
    responses={422: {"description": "The receipt failed a check (named in detail)."}},
)
def verify_receipt(sr: SR, _caller: Caller, receipt: Annotated[dict[str, Any], Body()]) -> Any:
    """A receipt that fails a check is 422 ``invalid-receipt``, naming the check."""
    try:
        return sr.agreements.verify_receipt(json.dumps(receipt))
    except IntegrityFailure as e:
        return problem(422, "invalid-receipt", str(e))


@router.get(
    "/v1/workspaces/{workspace_id}/agreements",
    tags=["agreements"],
    summary="Where the workspace stands with the DPA",
)
@one_hop
def workspace_status(sr: SR, grant: Reader) -> dict[str, Any]:
    status = sr.agreements.status(grant.workspace_id)
    return _status(status, sr.ctx.clock.now())


@router.post(
    "/v1/workspaces/{workspace_id}/agreements/acceptances",
    status_code=201,
    tags=["agreements"],
    summary="Accept the newest DPA (owners); returns the signed receipt",
)
@one_hop
def accept(sr: SR, grant: Reader, body: AcceptIn, request: Request) -> dict[str, Any]:
    caller = grant.caller
    acceptor = Acceptor(grant.role, caller.user_id, None if caller.user_id else caller.id)
    return sr.agreements.accept(
        grant.workspace_id,
        body.version,
        acceptor,
        client_address=request.client.host if request.client else None,
        user_agent=request.headers.get("user-agent"),
        actor=caller.actor,
    )
