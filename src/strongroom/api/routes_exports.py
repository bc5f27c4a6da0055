"""Workspace exports: create a job (the worker runs it), watch it, download the ZIP."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from strongroom.api.deps import SR, Grant, allowed, one_hop
from strongroom.api.strict_json import StrictJSONRoute
from strongroom.domain.roles import Action
from strongroom.export.jobs import ExportJob
from strongroom.ids import pattern

router = APIRouter(
    prefix="/v1/workspaces/{workspace_id}/exports", tags=["exports"], route_class=StrictJSONRoute
)

Exporter = Annotated[Grant, allowed(Action.EXPORT)]
ExportId = Annotated[str, Path(pattern=pattern("export"))]


class ExportLinks(BaseModel):
    self: str
    download: str


class ExportJobOut(BaseModel):
    id: str
    state: str
    entries_done: int
    entries_total: int | None
    created_at: datetime
    finished_at: datetime | None
    expires_at: datetime | None
    size: int | None
    sha256: str | None
    links: ExportLinks


def _job(job: ExportJob) -> ExportJobOut:
    url = f"/v1/workspaces/{job.workspace_id}/exports/{job.id}"
    return ExportJobOut(
        id=job.id,
        state=job.state.value,
        entries_done=job.entries_done,
        entries_total=job.entries_total,
        created_at=job.created_at,
        finished_at=job.finished_at,
        expires_at=job.expires_at,
        size=job.size,
        sha256=job.sha256,
        links=ExportLinks(self=url, download=f"{url}/download"),
    )


@router.post("", status_code=202, summary="Start an export of the whole workspace")
@one_hop
def create_export(sr: SR, grant: Exporter, response: Response) -> ExportJobOut:
    """Queues the export; poll the job until its state is `done`, then download it. The
    ZIP is kept encrypted for `export_ttl_days`, then deleted."""
    out = _job(sr.exports.create_job(grant.workspace_id, actor=grant.caller.actor))
    response.headers["Location"] = out.links.self
    return out


@router.get("/{export_id}", summary="An export job and its progress")
@one_hop
def get_export(sr: SR, grant: Exporter, export_id: ExportId) -> ExportJobOut:
    return _job(sr.exports.job(grant.workspace_id, export_id))


@router.get(
    "/{export_id}/download",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/zip": {}}}},
    summary="The export ZIP (409 until done, 410 once expired)",
)
@one_hop
def download_export(sr: SR, grant: Exporter, export_id: ExportId) -> StreamingResponse:
    """Decrypted segment by segment as it is sent; a segment that fails authentication
    cuts the response off, so a client never receives a complete, wrong archive."""
    job, chunks = sr.exports.open_artifact(grant.workspace_id, export_id, grant.caller.actor)
    first = next(chunks, b"")  # opens the blob and authenticates the first segment now

    def body() -> Iterator[bytes]:
        yield first
        yield from chunks

    name = f"strongroom-export-{job.workspace_id}-{job.id}.zip"
    return StreamingResponse(
        body(),
        media_type="application/zip",
        headers={
            "Content-Length": str(job.size),
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )
