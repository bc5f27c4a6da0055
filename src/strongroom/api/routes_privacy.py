"""Privacy requests of a workspace (owners and admins: the PRIVACY action)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import StreamingResponse

from strongroom.api.deps import SR, PrivacyManager, one_hop
from strongroom.api.privacy_schemas import (
    CorrectIn,
    CorrectionOut,
    EraseIn,
    ErasureOut,
    ExtendIn,
    MatchList,
    MatchOut,
    PrivacyReport,
    PrivacyRequestIn,
    PrivacyRequestList,
    PrivacyRequestOut,
    ReasonIn,
    RestrictionOut,
    VerifyIn,
)
from strongroom.api.strict_json import StrictJSONRoute
from strongroom.errors import InvalidInput, NotFound
from strongroom.ids import pattern

router = APIRouter(
    prefix="/v1/workspaces/{workspace_id}/privacy-requests",
    tags=["privacy"],
    route_class=StrictJSONRoute,
)
report_router = APIRouter(
    prefix="/v1/workspaces/{workspace_id}/privacy-report",
    tags=["privacy"],
    route_class=StrictJSONRoute,
)
RequestId = Annotated[str, Path(pattern=pattern("privacy-request"))]


@router.post("", status_code=201, summary="Record a data subject's request")
@one_hop
def create_request(sr: SR, grant: PrivacyManager, body: PrivacyRequestIn) -> PrivacyRequestOut:
    request = sr.privacy.create(
        grant.workspace_id,
        type=body.type.value,
        law=body.law.value,
        identifiers=[(i.kind.value, i.value) for i in body.identifiers],
        received=body.received,
        due=body.due,
        channel=body.channel,
        notes=body.notes,
        actor=grant.caller.actor,
    )
    return PrivacyRequestOut.of(request, subject=False)


@router.get("", summary="The workspace's privacy requests, soonest due first")
@one_hop
def list_requests(
    sr: SR,
    grant: PrivacyManager,
    due_within: Annotated[
        int | None, Query(ge=0, le=3650, description="Only open ones due within N days.")
    ] = None,
) -> PrivacyRequestList:
    requests = sr.privacy.list(grant.workspace_id, due_within=due_within)
    return PrivacyRequestList(items=[PrivacyRequestOut.of(r, subject=False) for r in requests])


@report_router.get("", summary="Requests per type: received, completed, refused, days to respond")
@one_hop
def privacy_report(
    sr: SR,
    grant: PrivacyManager,
    year: Annotated[
        int | None, Query(ge=2000, le=9999, description="Received in this year.")
    ] = None,
) -> PrivacyReport:
    return PrivacyReport.model_validate(sr.privacy.report(grant.workspace_id, year))


@router.get("/{request_id}", summary="One privacy request, with its subject")
@one_hop
def get_request(sr: SR, grant: PrivacyManager, request_id: RequestId) -> PrivacyRequestOut:
    return PrivacyRequestOut.of(sr.privacy.get(grant.workspace_id, request_id), subject=True)


@router.get(
    "/{request_id}/locate",
    summary="The subject's records in every project, found through the blind index only",
)
@one_hop
def locate_subject(sr: SR, grant: PrivacyManager, request_id: RequestId) -> MatchList:
    matches = sr.privacy.locate(grant.workspace_id, request_id, actor=grant.caller.actor)
    return MatchList(matches=[MatchOut.model_validate(m.as_json()) for m in matches])


@router.post("/{request_id}/correct", summary="Correct the subject's personal fields")
@one_hop
def correct_subject(
    sr: SR, grant: PrivacyManager, request_id: RequestId, body: CorrectIn
) -> CorrectionOut:
    done = sr.privacy.correct(
        grant.workspace_id,
        request_id,
        [(c.field, c.value) for c in body.changes],
        actor=grant.caller.actor,
    )
    return CorrectionOut.model_validate(done)


@router.post(
    "/{request_id}/export",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/zip": {}}}},
    summary="The subject's package (access, portability): a ZIP, streamed as it is made",
)
@one_hop
def export_subject(sr: SR, grant: PrivacyManager, request_id: RequestId) -> StreamingResponse:
    """A verified access or portability request only (409 otherwise, nothing changed).
    The request is checked and moved to in_progress before the first byte; the ZIP is
    made as it is sent (its manifest, last, lists every entry's SHA-256)."""
    name, chunks = sr.privacy.export_stream(
        grant.workspace_id, request_id, actor=grant.caller.actor
    )
    first = next(chunks, b"")  # reads the first records now: a failure is still a problem

    def body() -> Iterator[bytes]:
        yield first
        yield from chunks

    return StreamingResponse(
        body(),
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


@router.post(
    "/{request_id}/erase",
    summary="Erase the subject of a verified deletion request, now (needs confirm: true)",
)
@one_hop
def erase_subject(
    sr: SR, grant: PrivacyManager, request_id: RequestId, body: EraseIn
) -> ErasureOut:
    if not body.confirm:
        raise InvalidInput("an erasure cannot be undone: confirmation (confirm: true) is required")
    status = sr.privacy.erase(
        grant.workspace_id, request_id, redact=body.redact, actor=grant.caller.actor
    )
    return ErasureOut.of(status)


@router.get("/{request_id}/erasure", summary="The request's last erasure and what is pending")
@one_hop
def erasure_status(sr: SR, grant: PrivacyManager, request_id: RequestId) -> ErasureOut:
    status = sr.privacy.erasure_status(grant.workspace_id, request_id)
    if status is None:
        raise NotFound(
            f"privacy request {request_id} has no erasure", workspace_id=grant.workspace_id
        )
    return ErasureOut.of(status)


@router.post("/{request_id}/restrict", summary="Restrict the subject's records (GDPR Art. 18)")
@one_hop
def restrict_subject(sr: SR, grant: PrivacyManager, request_id: RequestId) -> RestrictionOut:
    count = sr.privacy.restrict(grant.workspace_id, request_id, actor=grant.caller.actor)
    return RestrictionOut(records=count)


@router.post("/{request_id}/lift", summary="Lift the request's restriction")
@one_hop
def lift_restriction(sr: SR, grant: PrivacyManager, request_id: RequestId) -> RestrictionOut:
    count = sr.privacy.lift(grant.workspace_id, request_id, actor=grant.caller.actor)
    return RestrictionOut(records=count)


@router.post("/{request_id}/verify", summary="Record how the subject's identity was verified")
@one_hop
def verify_request(
    sr: SR, grant: PrivacyManager, request_id: RequestId, body: VerifyIn
) -> PrivacyRequestOut:
    request = sr.privacy.verify(
        grant.workspace_id, request_id, method=body.method, by=body.by, actor=grant.caller.actor
    )
    return PrivacyRequestOut.of(request, subject=False)


@router.post("/{request_id}/extend", summary="Extend the due date once, as the law allows")
@one_hop
def extend_request(
    sr: SR, grant: PrivacyManager, request_id: RequestId, body: ExtendIn
) -> PrivacyRequestOut:
    request = sr.privacy.extend(
        grant.workspace_id,
        request_id,
        reason=body.reason,
        days=body.days,
        months=body.months,
        actor=grant.caller.actor,
    )
    return PrivacyRequestOut.of(request, subject=False)


@router.post("/{request_id}/reject", summary="Refuse the request, with the reason")
@one_hop
def reject_request(
    sr: SR, grant: PrivacyManager, request_id: RequestId, body: ReasonIn
) -> PrivacyRequestOut:
    request = sr.privacy.reject(
        grant.workspace_id, request_id, reason=body.reason, actor=grant.caller.actor
    )
    return PrivacyRequestOut.of(request, subject=False)


@router.post("/{request_id}/complete", summary="Close the request as answered")
@one_hop
def complete_request(sr: SR, grant: PrivacyManager, request_id: RequestId) -> PrivacyRequestOut:
    request = sr.privacy.complete(grant.workspace_id, request_id, actor=grant.caller.actor)
    return PrivacyRequestOut.of(request, subject=False)
