"""The lifecycle of a workspace's data: the trash, the plan, deleting the workspace, and
deletion certificates; and the operators' side: billing events, legal holds, what is
scheduled, the deletion ledger. (Deleting a project, record or file is in routes_data.)"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse

from strongroom.api.deps import (
    SR,
    AuditReader,
    DataWriter,
    Operator,
    PlanReader,
    Reader,
    TrashPurger,
    WorkspaceDeleter,
    one_hop,
)
from strongroom.api.lifecycle_schemas import (
    BillingEventIn,
    Certificate,
    HoldCreated,
    HoldIn,
    HoldOut,
    HoldsCleared,
    LedgerEntryOut,
    LedgerPage,
    PlanOut,
    PurgeScheduledOut,
    ScheduledPurgeOut,
    TrashEntryOut,
    VerificationOut,
    WorkspaceDeleteIn,
)
from strongroom.api.params import Instant, Limit, WorkspaceId
from strongroom.api.problems import problem
from strongroom.api.schemas import Page
from strongroom.api.strict_json import StrictJSONRoute
from strongroom.errors import IntegrityFailure, InvalidInput
from strongroom.ids import pattern
from strongroom.services.plans import PlanStatus, ScheduledPurge

router = APIRouter(route_class=StrictJSONRoute)
WS = "/v1/workspaces/{workspace_id}"

TrashId = Annotated[str, Path(pattern=pattern("trash"))]
TrashCursor = Annotated[
    str | None, Query(pattern=pattern("trash"), description="`next_cursor` of the previous page.")
]
CertificateId = Annotated[str, Path(pattern=pattern("certificate"))]
After = Annotated[int, Query(ge=0, le=2**62, description="`next_after` of the previous page.")]
PlanCursor = Annotated[
    str | None,
    Query(
        pattern=r"^[0-9]{1,20}\.ddl_[a-z2-7]{26}$",
        description="`next_cursor` of the previous page.",
    ),
]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _plan(status: PlanStatus) -> PlanOut:
    return PlanOut(
        workspace_id=status.workspace_id,
        state=status.state,
        trial_ends_at=status.trial_ends_at,
        state_since=status.state_since,
        purge_due_at=status.purge_due_at,
        purge_reason=status.purge_reason,
        holds=[HoldOut.model_validate(h) for h in status.holds],
    )


def _ledger_page(sr: SR, workspace_id: str | None, after: int, limit: int) -> LedgerPage:
    entries = sr.certificates.list(workspace_id, after, limit + 1)
    items = [LedgerEntryOut.model_validate(e) for e in entries[:limit]]
    return LedgerPage(items=items, next_after=items[-1].seq if len(entries) > limit else None)


# trash ------------------------------------------------------------------------------------
@router.get(f"{WS}/trash", tags=["lifecycle"], summary="What is in the trash, oldest first")
@one_hop
def list_trash(
    sr: SR, grant: Reader, cursor: TrashCursor = None, limit: Limit = 100
) -> Page[TrashEntryOut]:
    page = sr.trash.list(grant.workspace_id, cursor, limit)
    return Page(items=[TrashEntryOut.of(e) for e in page.items], next_cursor=page.next_cursor)


@router.post(
    f"{WS}/trash/{{trash_id}}/restore",
    tags=["lifecycle"],
    summary="Restore what a deletion took (owners and admins: anything; others: their own)",
)
@one_hop
def restore(sr: SR, grant: DataWriter, trash_id: TrashId) -> TrashEntryOut:
    entry = sr.trash.restore(grant.workspace_id, trash_id, grant.caller.actor, role=grant.role)
    return TrashEntryOut.of(entry)


@router.delete(
    f"{WS}/trash/{{trash_id}}",
    status_code=202,
    tags=["lifecycle"],
    summary="Delete a trash entry forever, now (owners; needs confirm=true)",
)
@one_hop
def purge_now(
    sr: SR,
    grant: TrashPurger,
    trash_id: TrashId,
    confirm: Annotated[bool, Query(description="Must be true: this cannot be undone.")] = False,
) -> PurgeScheduledOut:
    if not confirm:
        raise InvalidInput(
            "deleting forever cannot be undone: confirmation (confirm=true) is required"
        )
    deadline_id = sr.trash.purge_now(grant.workspace_id, trash_id, grant.caller.actor)
    return PurgeScheduledOut(deadline_id=deadline_id)


# the plan and the end of the workspace ----------------------------------------------------
@router.get(f"{WS}/plan", tags=["lifecycle"], summary="The workspace's plan, purge and holds")
@one_hop
def plan(sr: SR, grant: PlanReader) -> PlanOut:
    return _plan(sr.plans.status(grant.workspace_id))


@router.delete(
    WS,
    status_code=202,
    tags=["lifecycle"],
    summary="Delete the workspace (owners; type its name back): closed now, purged next",
)
@one_hop
def delete_workspace(sr: SR, grant: WorkspaceDeleter, body: WorkspaceDeleteIn) -> PlanOut:
    status = sr.plans.delete_workspace(grant.workspace_id, body.confirm_name, grant.caller.actor)
    return _plan(status)


@router.get(f"{WS}/certificates", tags=["lifecycle"], summary="The workspace's deletion ledger")
@one_hop
def workspace_certificates(
    sr: SR, grant: AuditReader, after: After = 0, limit: Limit = 100
) -> LedgerPage:
    return _ledger_page(sr, grant.workspace_id, after, limit)


# operators: billing, holds, schedule, ledger ----------------------------------------------
@router.post(
    f"{WS}/billing-events",
    tags=["operators"],
    summary="Apply a billing event once (a repeated event id changes nothing)",
)
def billing_event(
    sr: SR, operator: Operator, workspace_id: WorkspaceId, body: BillingEventIn
) -> PlanOut:
    status = sr.plans.billing_event(
        workspace_id, body.kind.value, body.event_id, body.trial_days, actor=operator.actor
    )
    return _plan(status)


@router.post(
    f"{WS}/holds", status_code=201, tags=["operators"], summary="Set a legal hold on purges"
)
def set_hold(sr: SR, operator: Operator, workspace_id: WorkspaceId, body: HoldIn) -> HoldCreated:
    hold_id = sr.plans.set_hold(workspace_id, body.project_id, body.reason, actor=operator.actor)
    return HoldCreated(id=hold_id)


@router.delete(
    f"{WS}/holds",
    tags=["operators"],
    summary="Clear the legal holds on the workspace (or on one project of it)",
)
def clear_holds(
    sr: SR,
    operator: Operator,
    workspace_id: WorkspaceId,
    project_id: Annotated[str | None, Query(pattern=pattern("project"))] = None,
) -> HoldsCleared:
    return HoldsCleared(cleared=sr.plans.clear_hold(workspace_id, project_id, operator.actor))


@router.get("/v1/lifecycle/plan", tags=["operators"], summary="Purges scheduled, by due time")
def scheduled(
    sr: SR,
    _operator: Operator,
    until: Annotated[Instant | None, Query(description="Only purges due by then.")] = None,
    cursor: PlanCursor = None,
    limit: Limit = 100,
) -> Page[ScheduledPurgeOut]:
    """Ordered by due time; the cursor is the last item's due time (microseconds since
    1970) and deadline id, so a purge finishing between pages loses no place."""
    purges = sr.plans.scheduled(until)
    if cursor is not None:
        micros, deadline_id = cursor.split(".", 1)
        purges = [p for p in purges if _plan_key(p) > (int(micros), deadline_id)]
    kept = purges[:limit]
    next_cursor = None
    if len(purges) > limit:
        micros_last, last_id = _plan_key(kept[-1])
        next_cursor = f"{micros_last}.{last_id}"
    items = [ScheduledPurgeOut.model_validate(p.as_json()) for p in kept]
    return Page(items=items, next_cursor=next_cursor)


def _plan_key(purge: ScheduledPurge) -> tuple[int, str]:
    return (purge.due_at - _EPOCH) // timedelta(microseconds=1), purge.deadline_id


@router.get("/v1/certificates", tags=["operators"], summary="The deletion ledger, oldest first")
def ledger(
    sr: SR,
    _operator: Operator,
    workspace_id: Annotated[str | None, Query(pattern=pattern("workspace"))] = None,
    after: After = 0,
    limit: Limit = 100,
) -> LedgerPage:
    return _ledger_page(sr, workspace_id, after, limit)


@router.get(
    "/v1/certificates/{certificate_id}",
    tags=["operators"],
    summary="A signed certificate",
    response_model_exclude_unset=True,  # exactly the fields signed: no `erasure: null`
)
def certificate(sr: SR, _operator: Operator, certificate_id: CertificateId) -> Certificate:
    return Certificate.model_validate(sr.certificates.get(certificate_id))


@router.post(
    "/v1/certificates/verify",
    tags=["operators"],
    response_model=VerificationOut,
    summary="Verify a certificate: signature, deletion ledger, audit chain",
)
def verify(sr: SR, _operator: Operator, body: Certificate) -> VerificationOut | JSONResponse:
    """A certificate that fails a check is 422 `invalid-certificate`, naming the check;
    one not in the certificate format is 400."""
    try:
        signed = body.model_dump(mode="json", exclude_unset=True)  # the fields as sent
        result = sr.certificates.verify(json.dumps(signed))
    except IntegrityFailure as e:
        return problem(422, "invalid-certificate", str(e), certificate_id=body.certificate_id)
    return VerificationOut.model_validate(result.as_json())
