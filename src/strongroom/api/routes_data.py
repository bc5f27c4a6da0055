"""Projects, collections, records and files of a workspace."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import StreamingResponse

from strongroom.api.admission import Lanes
from strongroom.api.admission import lanes as lanes_of
from strongroom.api.body import ThreadBodyReader
from strongroom.api.deps import SR, DataWriter, ProjectManager, Reader, one_hop
from strongroom.api.fast_reads import read_record
from strongroom.api.lifecycle_schemas import TrashEntryOut
from strongroom.api.params import (
    CollectionCursor,
    CollectionName,
    CollectionQuery,
    FileCursor,
    FileId,
    FileName,
    Limit,
    ProjectCursor,
    ProjectId,
    RecordCursor,
    RecordId,
    page_keys,
)
from strongroom.api.responses import json_response
from strongroom.api.schemas import (
    CollectionIn,
    CollectionOut,
    FileOut,
    Page,
    ProjectIn,
    ProjectOut,
    RecordIn,
    RecordOut,
    RecordUpdate,
    record_out,
)
from strongroom.api.strict_json import StrictJSONRoute
from strongroom.domain.model import Project, StoredFile

router = APIRouter(
    prefix="/v1/workspaces/{workspace_id}", tags=["data"], route_class=StrictJSONRoute
)

BINARY_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}


def _project(p: Project) -> ProjectOut:
    return ProjectOut(id=p.id, name=p.name, created_at=p.created_at)


def _file(f: StoredFile) -> FileOut:
    return FileOut(id=f.id, name=f.name, size=f.size, created_at=f.created_at)


# projects and collections ----------------------------------------------------------------
@router.get("/projects")
@one_hop
def list_projects(
    sr: SR, grant: Reader, cursor: ProjectCursor = None, limit: Limit = 100
) -> Page[ProjectOut]:
    page = sr.projects.page(grant.workspace_id, cursor, limit, actor=grant.caller.actor)
    return Page(items=[_project(p) for p in page.items], next_cursor=page.next_cursor)


@router.post("/projects", status_code=201)
@one_hop
def create_project(sr: SR, grant: ProjectManager, body: ProjectIn) -> ProjectOut:
    return _project(sr.projects.create(grant.workspace_id, body.name, actor=grant.caller.actor))


@router.get("/projects/{project_id}")
@one_hop
def get_project(sr: SR, grant: Reader, project_id: ProjectId) -> ProjectOut:
    return _project(sr.projects.get(grant.workspace_id, project_id, actor=grant.caller.actor))


@router.delete(
    "/projects/{project_id}", summary="Move a project, with its records and files, to the trash"
)
@one_hop
def delete_project(sr: SR, grant: ProjectManager, project_id: ProjectId) -> TrashEntryOut:
    return TrashEntryOut.of(
        sr.projects.delete(grant.workspace_id, project_id, actor=grant.caller.actor)
    )


@router.get("/collections")
@one_hop
def list_collections(
    sr: SR, grant: Reader, cursor: CollectionCursor = None, limit: Limit = 100
) -> Page[CollectionOut]:
    declared = {c.name: c for c in sr.records.collections(grant.workspace_id)}
    names, next_cursor = page_keys(sorted(declared), cursor, limit)
    items = [CollectionOut.of(declared[n]) for n in names]
    return Page(items=items, next_cursor=next_cursor)


@router.put("/collections/{name}", summary="Declare a collection's personal-data fields")
@one_hop
def declare_collection(
    sr: SR, grant: ProjectManager, name: CollectionName, body: CollectionIn
) -> CollectionOut:
    declared = sr.records.declare_collection(
        grant.workspace_id,
        name,
        body.personal_fields,
        actor=grant.caller.actor,
        file_fields=body.file_fields,
    )
    return CollectionOut.of(declared)


# records -----------------------------------------------------------------------------
@router.post("/projects/{project_id}/records", status_code=201, response_model=RecordOut)
@one_hop
def create_record(sr: SR, grant: DataWriter, project_id: ProjectId, body: RecordIn) -> Response:
    record = sr.records.put(
        grant.workspace_id, project_id, body.collection, body.document, actor=grant.caller.actor
    )
    return json_response(record_out(record), status_code=201)


@router.get("/projects/{project_id}/records")
@one_hop
def list_records(
    sr: SR,
    grant: Reader,
    project_id: ProjectId,
    collection: CollectionQuery,
    cursor: RecordCursor = None,
    limit: Limit = 100,
) -> Page[RecordOut]:
    page = sr.records.list(
        grant.workspace_id, project_id, collection, cursor, limit, actor=grant.caller.actor
    )
    return Page(items=[record_out(r) for r in page.items], next_cursor=page.next_cursor)


@router.get("/projects/{project_id}/records/{record_id}", response_model=RecordOut)
@one_hop
def get_record(sr: SR, grant: Reader, project_id: ProjectId, record_id: RecordId) -> Response:
    # (api/fast_reads.FastReads, middleware, answers this request before routing, with the
    # same code)
    body = read_record(sr, grant, project_id, record_id)
    return Response(body, media_type="application/json")


@router.put("/projects/{project_id}/records/{record_id}")
@one_hop
def update_record(
    sr: SR,
    grant: DataWriter,
    project_id: ProjectId,
    record_id: RecordId,
    body: RecordUpdate,
) -> RecordOut:
    return record_out(
        sr.records.update(
            grant.workspace_id, project_id, record_id, body.document, actor=grant.caller.actor
        )
    )


@router.delete("/projects/{project_id}/records/{record_id}", summary="Move a record to the trash")
@one_hop
def delete_record(
    sr: SR, grant: DataWriter, project_id: ProjectId, record_id: RecordId
) -> TrashEntryOut:
    return TrashEntryOut.of(
        sr.records.delete(grant.workspace_id, project_id, record_id, actor=grant.caller.actor)
    )


# files -------------------------------------------------------------------------------
@router.post("/projects/{project_id}/files", status_code=201, openapi_extra=BINARY_BODY)
async def upload_file(
    sr: SR,
    grant: DataWriter,
    request: Request,
    project_id: ProjectId,
    name: FileName,
    lanes: Annotated[Lanes, Depends(lanes_of)],
) -> FileOut:
    """Stream the request body, encrypted segment by segment, into the blob store. The
    upload is admitted (or refused at once: 429 per workspace, 503 in all) before anything
    else, and runs in the uploads' own threads (api/admission.py); the caller is checked
    in that thread before a byte of the body is read; a body that stalls is answered 408
    (api/body.py)."""
    reader = ThreadBodyReader(
        request.stream(), sr.settings.file_max_bytes, sr.settings.upload_idle_timeout_seconds
    )

    def job() -> StoredFile:
        grant.resolve()
        return sr.files.put(
            grant.workspace_id,
            project_id,
            name,
            reader,  # type: ignore[arg-type]
            actor=grant.caller.actor,
        )

    # Keyed by the path's workspace, not the token: a tenant that mints more tokens or
    # sessions gets no more uploads. (An unauthenticated request is admitted before the
    # check, which fails before any of the body is read: it holds its place only briefly.)
    workspace_key = str(request.path_params.get("workspace_id", ""))
    with lanes.uploads.admit(workspace_key):
        stored = await lanes.uploads.run(job)
    return _file(stored)


@router.get("/projects/{project_id}/files")
@one_hop
def list_files(
    sr: SR,
    grant: Reader,
    project_id: ProjectId,
    cursor: FileCursor = None,
    limit: Limit = 100,
) -> Page[FileOut]:
    page = sr.files.page(grant.workspace_id, project_id, cursor, limit, grant.caller.actor)
    return Page(items=[_file(f) for f in page.items], next_cursor=page.next_cursor)


@router.get("/projects/{project_id}/files/{file_id}")
@one_hop
def get_file(sr: SR, grant: Reader, project_id: ProjectId, file_id: FileId) -> FileOut:
    return _file(sr.files.info(grant.workspace_id, project_id, file_id, grant.caller.actor))


@router.get(
    "/projects/{project_id}/files/{file_id}/content",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
@one_hop
def download_file(
    sr: SR, grant: Reader, project_id: ProjectId, file_id: FileId
) -> StreamingResponse:
    """The plaintext, decrypted segment by segment as it is sent. A segment that fails
    authentication cuts the response off: a client never receives a complete, wrong file."""
    info, chunks = sr.files.stream(grant.workspace_id, project_id, file_id, grant.caller.actor)
    first = next(chunks, b"")  # opens the blob and authenticates the first segment now

    def body() -> Iterator[bytes]:
        yield first
        yield from chunks

    disposition = f"attachment; filename*=UTF-8''{quote(info.name, safe='')}"
    return StreamingResponse(
        body(),
        media_type="application/octet-stream",
        headers={"Content-Length": str(info.size), "Content-Disposition": disposition},
    )


@router.delete("/projects/{project_id}/files/{file_id}", summary="Move a file to the trash")
@one_hop
def delete_file(sr: SR, grant: DataWriter, project_id: ProjectId, file_id: FileId) -> TrashEntryOut:
    return TrashEntryOut.of(
        sr.files.delete(grant.workspace_id, project_id, file_id, actor=grant.caller.actor)
    )
