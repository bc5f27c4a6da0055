"""Files of a project: list, upload (streamed, encrypted as it arrives), download, delete.

The upload is the API's upload (api/routes_data.py ``upload_file``) with a browser's form
around it: the role is checked (``DataWriter``) before a byte of the body is read, the
request is admitted to the uploads' lane (429 per workspace, 503 in all), and in one of
the lane's threads the multipart body is parsed as it arrives (console/multipart_upload.py)
straight into the files service's encryption. Nothing of it reaches the disk in plaintext;
a failed upload keeps nothing. It is the one ``async`` route here: only the event loop
can hand the request's body to the lane's thread.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, Response

from strongroom.api.admission import Lanes
from strongroom.api.admission import lanes as lanes_of
from strongroom.api.body import ThreadBodyReader
from strongroom.api.params import FileCursor, FileId, ProjectId
from strongroom.console.multipart_upload import MultipartUpload, NoFile
from strongroom.console.visit import FLASH, DataWriter, Reader, Visit
from strongroom.console.words import utc_text
from strongroom.domain.model import StoredFile
from strongroom.domain.rules import check_name
from strongroom.errors import InvalidInput

router = APIRouter()

PAGE_SIZE = 50
FILES = "/w/{workspace_id}/projects/{project_id}/files"
_UNITS = ("KiB", "MiB", "GiB", "TiB")


def size_text(size: int) -> str:
    """``532 bytes``, ``2.9 KiB``, ``1.0 GiB``: a size as people read it."""
    if size < 1024:
        return f"{size} byte" if size == 1 else f"{size} bytes"
    value = float(size)
    for unit in _UNITS:
        value /= 1024
        if value < 1024 or unit == _UNITS[-1]:
            break
    return f"{value:.1f} {unit}"


def _files_url(visit: Visit, project_id: str) -> str:
    return visit.url(f"/projects/{project_id}/files")


def _list_page(
    visit: Visit, project_id: str, cursor: str | None, error: str | None = None, status: int = 200
) -> HTMLResponse:
    assert visit.workspace_id is not None
    sr = visit.sr
    project = sr.projects.get(visit.workspace_id, project_id, actor=visit.actor)
    page = sr.files.page(visit.workspace_id, project_id, cursor, PAGE_SIZE, visit.actor)
    return visit.render(
        "files_list.html",
        status,
        project=project,
        files=page.items,
        next_cursor=page.next_cursor,
        cursor=cursor,
        files_url=_files_url(visit, project_id),
        size_text=size_text,
        error=error,
    )


@router.get(FILES, response_class=HTMLResponse)
def list_files(visit: Reader, project_id: ProjectId, cursor: FileCursor = None) -> Response:
    return _list_page(visit, project_id, cursor)


@router.post(FILES, response_class=HTMLResponse)
async def upload_file(
    visit: DataWriter,
    project_id: ProjectId,
    lanes: Annotated[Lanes, Depends(lanes_of)],
) -> Response:
    """A browser's upload form, streamed into the files service (see the module's text)."""
    assert visit.workspace_id is not None
    workspace_id = visit.workspace_id
    request, sr = visit.request, visit.sr
    reader = ThreadBodyReader(
        request.stream(), sr.settings.file_max_bytes, sr.settings.upload_idle_timeout_seconds
    )
    content_type = request.headers.get("content-type", "")

    def job() -> StoredFile | str:
        """The stored file, or why the form is refused (said next to the file field)."""
        upload = MultipartUpload(reader, content_type)
        try:
            name = upload.open()
        except NoFile:
            return "Choose a file to upload."
        try:
            name = check_name("file", name)
        except InvalidInput as refused:
            return f"This file's name cannot be kept: {refused}."
        # (a read(n) is all the files service reads of its source)
        return sr.files.put(workspace_id, project_id, name, upload, actor=visit.actor)  # type: ignore[arg-type]

    with lanes.uploads.admit(workspace_id):
        stored = await lanes.uploads.run(job)
    if isinstance(stored, str):
        return await run_in_threadpool(_list_page, visit, project_id, None, stored, 422)
    target = _files_url(visit, project_id)
    flash = f"Uploaded {stored.name} ({size_text(stored.size)})."
    if request.headers.get("hx-request"):  # htmx follows no 303: have it load the list
        request.session[FLASH] = flash
        return Response(status_code=204, headers={"HX-Redirect": target})
    return visit.redirect(target, flash=flash)


@router.get(FILES + "/{file_id}/content")
def download_file(visit: Reader, project_id: ProjectId, file_id: FileId) -> StreamingResponse:
    """The plaintext, decrypted segment by segment as it is sent (as the API's download):
    a segment that fails authentication cuts the response off."""
    assert visit.workspace_id is not None
    info, chunks = visit.sr.files.stream(visit.workspace_id, project_id, file_id, visit.actor)
    first = next(chunks, b"")  # opens the blob and authenticates the first segment now

    def body() -> Iterator[bytes]:
        yield first
        yield from chunks

    return StreamingResponse(
        body(),
        media_type="application/octet-stream",
        headers={
            "Content-Length": str(info.size),
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(info.name, safe='')}",
            "Cache-Control": "no-store",
        },
    )


@router.get(FILES + "/{file_id}/delete", response_class=HTMLResponse)
def confirm_delete(visit: DataWriter, project_id: ProjectId, file_id: FileId) -> Response:
    assert visit.workspace_id is not None
    sr = visit.sr
    project = sr.projects.get(visit.workspace_id, project_id, actor=visit.actor)
    info = sr.files.info(visit.workspace_id, project_id, file_id, visit.actor)
    return visit.render(
        "files_delete.html",
        project=project,
        file=info,
        files_url=_files_url(visit, project_id),
        size_text=size_text,
    )


@router.post(FILES + "/{file_id}/delete")
def delete_file(visit: DataWriter, project_id: ProjectId, file_id: FileId) -> Response:
    """Move the file to the trash (restorable until the entry's deadline)."""
    assert visit.workspace_id is not None
    sr = visit.sr
    info = sr.files.info(visit.workspace_id, project_id, file_id, visit.actor)
    entry = sr.files.delete(visit.workspace_id, project_id, file_id, actor=visit.actor)
    until = utc_text(entry.restore_until)
    flash = f"Moved {info.name} to the trash; it can be restored until {until}."
    return visit.redirect(_files_url(visit, project_id), flash=flash)
