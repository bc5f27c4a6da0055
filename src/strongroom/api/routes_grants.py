"""Break-glass grants over HTTPS (docs/break-glass.md): an operator token asks for one and
takes its token; an owner's token approves, refuses or revokes; owners and admins see
each grant and every read it made. The grant's own token reads through the normal routes:
what it may do is decided by the one role check (domain/access.py, domain/grants.py)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import Field

from strongroom.api.deps import SR, AuditReader, GrantDecider, Operator, one_hop
from strongroom.api.params import WorkspaceId
from strongroom.api.schemas import Body
from strongroom.api.strict_json import StrictJSONRoute
from strongroom.domain.grants import MAX_GRANT_HOURS, MAX_REASON_CHARS, MAX_TICKET_CHARS, Decision
from strongroom.errors import PermissionDenied
from strongroom.ids import pattern

router = APIRouter(tags=["grants"], route_class=StrictJSONRoute)

GrantId = Annotated[str, Path(pattern=pattern("grant"))]


class GrantRequestIn(Body):
    operator: str | None = Field(
        default=None,
        max_length=320,
        description="The asking operator's email (default: the operator the token was issued to).",
    )
    reason: str = Field(max_length=MAX_REASON_CHARS, description="Why they need to look.")
    ticket: str = Field(max_length=MAX_TICKET_CHARS, description="The support ticket it serves.")
    hours: int = Field(ge=1, le=MAX_GRANT_HOURS, description="How long (grant_max_hours at most).")
    project_id: str | None = Field(
        default=None, pattern=pattern("project"), description="Only this project (default: all)."
    )
    emergency: bool = Field(
        default=False,
        description="Self-approve now (only where grant_self_approval is on; mails the owners).",
    )


@router.post(
    "/v1/workspaces/{workspace_id}/grants",
    status_code=201,
    summary="Ask for read access (an operator token)",
)
def request_grant(
    sr: SR, operator: Operator, workspace_id: WorkspaceId, body: GrantRequestIn
) -> dict[str, Any]:
    person = sr.access.operator_of(operator)
    if person is None:
        # A token issued to no one would let whoever holds it ask in any operator's name,
        # on the strength of that operator's agreement.
        raise PermissionDenied(
            "this operator token names no operator: grants are asked for with a token issued "
            "to one (strongroom token create --operator --operator-email E)"
        )
    email = body.operator or sr.staff.by_id(person).email
    grant = sr.grants.request(
        workspace_id,
        email,
        body.reason,
        body.ticket,
        body.hours,
        body.project_id,
        body.emergency,
        actor=operator.actor,
        token_operator=person,
    )
    return grant.as_json()


@router.post("/v1/grants/{grant_id}/token", status_code=201, summary="The grant's token, once")
def grant_token(sr: SR, operator: Operator, grant_id: GrantId) -> dict[str, Any]:
    person = sr.access.operator_of(operator)
    if person is None:
        raise PermissionDenied(
            "this operator token names no operator: a grant's token goes only to the "
            "operator it was granted to"
        )
    view, issued = sr.grants.issue_token(grant_id, actor=operator.actor, token_operator=person)
    expires = issued.expires_at.isoformat() if issued.expires_at else None
    return {"grant_id": view.id, "token": issued.token, "expires_at": expires}


@router.get("/v1/workspaces/{workspace_id}/grants", summary="The workspace's grants")
@one_hop
def list_grants(sr: SR, grant: AuditReader) -> dict[str, Any]:
    views = sr.grants.list(grant.workspace_id, actor=grant.caller.actor)
    return {"grants": [v.as_json() for v in views]}


@router.get("/v1/workspaces/{workspace_id}/grants/{grant_id}", summary="One grant, its reads")
@one_hop
def get_grant(sr: SR, grant: AuditReader, grant_id: GrantId) -> dict[str, Any]:
    view = sr.grants.get(grant.workspace_id, grant_id, actor=grant.caller.actor)
    return view.as_json(with_reads=True)


def _decider(decision: Decision) -> Any:
    def decide(sr: SR, grant: GrantDecider, grant_id: GrantId) -> dict[str, Any]:
        view = sr.grants.decide(grant.workspace_id, grant_id, decision, actor=grant.caller.actor)
        return view.as_json()

    return one_hop(decide)


for _decision in Decision:
    router.add_api_route(
        f"/v1/workspaces/{{workspace_id}}/grants/{{grant_id}}/{_decision.value}",
        _decider(_decision),
        methods=["POST"],
        summary=f"{_decision.value.capitalize()} a grant (owners)",
        name=f"{_decision.value}_grant",
    )
