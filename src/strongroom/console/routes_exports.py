"""Workspace exports: request one, watch its progress, download it.

The API's export jobs (api/routes_exports.py), for roles that may export: a request queues
a job that the lifecycle worker runs; the list shows each job's state and progress (the
entries written of those planned, as the API reports them), polled by htmx from a
fragment of the page until no job is still under way (a Refresh link without JavaScript);
a finished export downloads decrypted segment by segment, as the API's does.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Path
from fastapi.responses import StreamingResponse
from starlette.responses import HTMLResponse, Response

from strongroom.api.params import cursor_of
from strongroom.console import pages
from strongroom.console.routes_files import size_text
from strongroom.console.visit import Exporter, Visit
from strongroom.ids import pattern

router = APIRouter()

PAGE_SIZE = 20
EXPORTS = "/w/{workspace_id}/exports"
ExportId = Annotated[str, Path(pattern=pattern("export"))]
ExportCursor = Annotated[str | None, cursor_of("export")]

#: Job states (export/jobs.JobState's values) still moving: the list keeps polling.
UNDER_WAY = frozenset({"queued", "running", "failed"})
#: What each state is called on the page.
STATE_WORDS = {
    "queued": "Queued",
    "running": "Running",
    "done": "Done",
    "failed": "Failed; it will be tried again",
    "expired": "Expired",
}


def _page_of(jobs: Sequence[Any], cursor: str | None) -> tuple[list[Any], str | None]:
    """The PAGE_SIZE jobs after ``cursor`` (a job id) and the next page's cursor."""
    start = 0
    if cursor is not None:
        start = next((i + 1 for i, j in enumerate(jobs) if j.id == cursor), len(jobs))
    shown = list(jobs[start : start + PAGE_SIZE])
    more = start + PAGE_SIZE < len(jobs)
    return shown, (shown[-1].id if more and shown else None)


def _table_values(visit: Visit, cursor: str | None) -> dict[str, Any]:
    assert visit.workspace_id is not None
    jobs, next_cursor = _page_of(visit.sr.exports.jobs(visit.workspace_id), cursor)
    query = f"?cursor={cursor}" if cursor else ""
    return {
        "visit": visit,
        "jobs": jobs,
        "cursor": cursor,
        "next_cursor": next_cursor,
        "under_way": any(j.state.value in UNDER_WAY for j in jobs),
        "exports_url": visit.url("/exports"),
        "poll_url": visit.url("/exports/table") + query,
        "state_words": STATE_WORDS,
        "size_text": size_text,
    }


@router.get(EXPORTS, response_class=HTMLResponse)
def exports(visit: Exporter, cursor: ExportCursor = None) -> Response:
    return visit.render("exports_list.html", **_table_values(visit, cursor))


@router.get(EXPORTS + "/table", response_class=HTMLResponse)
def exports_table(visit: Exporter, cursor: ExportCursor = None) -> Response:
    """The list alone, for htmx to poll (its own context: a poll takes no page's flash)."""
    return pages.render("exports_table.html", _table_values(visit, cursor))


@router.post(EXPORTS)
def request_export(visit: Exporter) -> Response:
    assert visit.workspace_id is not None
    visit.sr.exports.create_job(visit.workspace_id, actor=visit.actor)
    return visit.redirect(
        visit.url("/exports"),
        flash="Export requested: it is written in the background; its progress shows below.",
    )


@router.get(EXPORTS + "/{export_id}/download")
def download_export(visit: Exporter, export_id: ExportId) -> StreamingResponse:
    """The ZIP, decrypted segment by segment as it is sent (as the API's download): a
    segment that fails authentication cuts the response off."""
    assert visit.workspace_id is not None
    job, chunks = visit.sr.exports.open_artifact(visit.workspace_id, export_id, visit.actor)
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
