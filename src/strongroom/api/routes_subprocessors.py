"""Subprocessors: the public list (JSON, Atom), the public subscription, the operators'
changes and objections, and the workspace owners' notices and objections."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from pydantic import Field

from strongroom.api.deps import SR, Grant, Operator, Reader, allowed, one_hop
from strongroom.api.schemas import Body, Email
from strongroom.api.strict_json import StrictJSONRoute
from strongroom.api.subprocessor_feed import MEDIA_TYPE, feed
from strongroom.bootstrap import Strongroom
from strongroom.domain.roles import Action
from strongroom.domain.subprocessors import MAX_FIELD_CHARS, MAX_REASON_CHARS
from strongroom.ids import pattern

router = APIRouter(route_class=StrictJSONRoute)
SubprocessorId = Annotated[str, Path(pattern=pattern("subprocessor"))]
NoticeId = Annotated[str, Path(pattern=pattern("subprocessor-notice"))]
#: Generous for the API's schema; the service refuses over MAX_FIELD_CHARS with the field.
Text = Annotated[str, Field(max_length=MAX_FIELD_CHARS * 2)]


class SubprocessorIn(Body):
    legal_name: Text = ""
    address: Text = ""
    contact: Text = ""
    purpose: Text = ""
    data_categories: Text = ""
    location: Text = ""
    transfer_mechanism: Text = ""
    effective: date = Field(description="The date the change takes effect (00:00 UTC).")

    def details(self) -> dict[str, object]:
        return self.model_dump(exclude={"effective"})


class RemovalIn(Body):
    effective: date


class ObjectionIn(Body):
    reason: Annotated[str, Field(max_length=MAX_REASON_CHARS)] = ""


class SubscriptionIn(Body):
    email: Email


def public_list(sr: Strongroom) -> dict[str, Any]:
    """What the public page shows, as JSON."""
    base = sr.settings.public_url
    return {
        "subprocessors": [e.as_json() for e in sr.subprocessors.current()],
        "upcoming": [n.as_json() for n in sr.subprocessors.upcoming()],
        "notice_days": sr.settings.subprocessor_notice_days,
        "feed": f"{base}/subprocessors.atom",
        "page": f"{base}/subprocessors",
    }


# public -----------------------------------------------------------------------------------
@router.get("/subprocessors.json", tags=["trust center"], summary="The subprocessor list")
def subprocessors_json(sr: SR) -> dict[str, Any]:
    return public_list(sr)


@router.get(
    "/subprocessors.atom",
    tags=["trust center"],
    summary="Subprocessor notices as an Atom feed",
    response_class=Response,
    responses={200: {"content": {MEDIA_TYPE: {}}}},
)
def subprocessors_atom(sr: SR) -> Response:
    body = feed(sr.subprocessors.notices(), sr.settings.public_url, sr.ctx.clock.now())
    return Response(body, media_type=MEDIA_TYPE)


@router.post(
    "/v1/subprocessor-subscriptions",
    status_code=202,
    tags=["trust center"],
    summary="Ask for subprocessor notices by email (a confirmation link is mailed first)",
)
def subscribe(sr: SR, body: SubscriptionIn, request: Request) -> dict[str, str]:
    address = request.client.host if request.client else None
    sr.subprocessor_subscribers.subscribe(body.email, address)
    return {"status": "a confirmation link is mailed to the address, unless it is subscribed"}


# operators --------------------------------------------------------------------------------
@router.get("/v1/subprocessors", tags=["operators"], summary="The list in force, every notice")
def list_subprocessors(sr: SR, _operator: Operator) -> dict[str, Any]:
    return {
        "subprocessors": [e.as_json() for e in sr.subprocessors.current()],
        "notices": [n.as_json() for n in sr.subprocessors.notices()],
    }


@router.post(
    "/v1/subprocessors",
    status_code=201,
    tags=["operators"],
    summary="Add a subprocessor: publishes a notice (effective after the notice period)",
)
def add_subprocessor(sr: SR, operator: Operator, body: SubprocessorIn) -> dict[str, Any]:
    return sr.subprocessors.add(body.details(), body.effective, operator.actor).as_json()


@router.put(
    "/v1/subprocessors/{subprocessor_id}",
    status_code=201,
    tags=["operators"],
    summary="Replace a subprocessor's entry: publishes a notice",
)
def replace_subprocessor(
    sr: SR, operator: Operator, subprocessor_id: SubprocessorId, body: SubprocessorIn
) -> dict[str, Any]:
    notice = sr.subprocessors.replace(
        subprocessor_id, body.details(), body.effective, operator.actor
    )
    return notice.as_json()


@router.post(
    "/v1/subprocessors/{subprocessor_id}/removal",
    status_code=201,
    tags=["operators"],
    summary="Remove a subprocessor: publishes a notice",
)
def remove_subprocessor(
    sr: SR, operator: Operator, subprocessor_id: SubprocessorId, body: RemovalIn
) -> dict[str, Any]:
    return sr.subprocessors.remove(subprocessor_id, body.effective, operator.actor).as_json()


@router.get(
    "/v1/subprocessor-objections", tags=["operators"], summary="Owners' objections to notices"
)
def list_objections(sr: SR, operator: Operator) -> dict[str, Any]:
    return {"objections": [o.as_json() for o in sr.subprocessors.objections(operator.actor)]}


# workspace owners -------------------------------------------------------------------------
NOTICES = "/v1/workspaces/{workspace_id}/subprocessor-notices"
#: Owners only (the role matrix's OBJECT_SUBPROCESSOR): 403 for other roles, 404 elsewhere.
Objector = Annotated[Grant, allowed(Action.OBJECT_SUBPROCESSOR)]


@router.get(
    NOTICES, tags=["workspaces"], summary="Subprocessor notices, and this workspace's objections"
)
@one_hop
def workspace_notices(sr: SR, grant: Reader) -> dict[str, Any]:
    objected = sr.subprocessors.objected_by(grant.workspace_id)
    return {
        "notices": [
            {**n.as_json(), "objected": n.id in objected} for n in sr.subprocessors.notices()
        ]
    }


@router.post(
    NOTICES + "/{notice_id}/objection",
    status_code=201,
    tags=["workspaces"],
    summary="Object to a notice (owners; until its effective date)",
)
@one_hop
def object_to_notice(
    sr: SR, grant: Objector, notice_id: NoticeId, body: ObjectionIn
) -> dict[str, Any]:
    objection = sr.subprocessors.object(
        grant.workspace_id,
        notice_id,
        grant.caller.user_id or grant.caller.id,
        body.reason,
        grant.caller.actor,
    )
    return objection.as_json()
