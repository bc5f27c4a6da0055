"""The trust center's JSON (public: no token) and the operators' "check now"."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from strongroom.api.deps import SR, Operator
from strongroom.api.strict_json import StrictJSONRoute

router = APIRouter(route_class=StrictJSONRoute)

#: A public page: caches may keep it a minute, never longer (a failing promise shows soon).
CACHE_CONTROL = "public, max-age=60"


@router.get("/trust.json", tags=["trust"], summary="The trust center: every promise and its status")
def trust_json(sr: SR, response: Response) -> dict[str, Any]:
    """The same report /trust renders: each promise's claim (from the live settings), its
    status (holding, failing, stale), the newest check's evidence and the time of the last
    passing check, and the cryptography policy."""
    response.headers["Cache-Control"] = CACHE_CONTROL
    return sr.promises.report().as_json()


@router.post(
    "/v1/promises/check", tags=["trust"], summary="Run every promise check now (operators)"
)
def check_now(sr: SR, operator: Operator) -> dict[str, Any]:
    return sr.promises.check_all(actor=f"operator:{operator.id}").as_json()
