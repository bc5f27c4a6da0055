"""``GET /metrics``: Prometheus' text format, for operator tokens only (401 without a
token, 403 with a workspace's). Registered unless ``metrics = "off"`` (then 404)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from strongroom.api.deps import SR, Operator
from strongroom.observability import exposition

router = APIRouter()


@router.get(
    "/metrics",
    tags=["operations"],
    summary="Prometheus metrics: requests, KMS calls, key cache, deadlines, backups (operators)",
    response_class=Response,
    responses={200: {"content": {exposition.CONTENT_TYPE: {}}}},
)
def metrics(sr: SR, _operator: Operator) -> Response:
    body = exposition.render(sr.readings.read_or_none())
    return Response(body, media_type=exposition.CONTENT_TYPE, headers={"Cache-Control": "no-store"})
