"""Projects, collections and records: browse, search, write, delete (to the trash).

The same services as the API's routes (api/routes_data.py), called the same way, under the
same role matrix: each route names the action it needs (console/visit.py). Refused input
re-renders its form with what was typed and the reason next to the field."""

from __future__ import annotations

import json
from typing import Annotated, Any, NamedTuple

from fastapi import APIRouter, Form, Query
from starlette.responses import HTMLResponse, Response

from strongroom.api.params import ProjectCursor, ProjectId, RecordCursor, RecordId
from strongroom.api.problems import status_of
from strongroom.console.visit import DataWriter, ProjectManager, Reader, Visit
from strongroom.domain.model import Project
from strongroom.domain.rules import COLLECTION_PATTERN, MAX_NAME_CHARS, parse_document
from strongroom.errors import InvalidInput, NotFound

router = APIRouter()

#: Records and projects a page shows.
PAGE = 50
#: Characters of a record's JSON shown in the list (the record's page shows all of it).
PREVIEW_CHARS = 240
MAX_FIELD_CHARS = 200
MAX_SEARCH_CHARS = 1000

OptionalCollection = Annotated[str | None, Query(pattern=COLLECTION_PATTERN)]


# projects ---------------------------------------------------------------------------------
@router.get("/w/{workspace_id}/projects", response_class=HTMLResponse)
def projects(visit: Reader, cursor: ProjectCursor = None) -> Response:
    return _projects_page(visit, cursor)


@router.post("/w/{workspace_id}/projects", response_class=HTMLResponse)
def create_project(
    visit: ProjectManager, name: Annotated[str, Form(max_length=MAX_NAME_CHARS * 4)] = ""
) -> Response:
    assert visit.workspace_id is not None
    try:
        project = visit.sr.projects.create(visit.workspace_id, name, actor=visit.actor)
    except InvalidInput as refused:
        return _projects_page(visit, None, name=name, error=str(refused), status=422)
    return visit.redirect(visit.url(f"/projects/{project.id}"), flash=f"Created {project.name}.")


def _projects_page(
    visit: Visit, cursor: str | None, name: str = "", error: str | None = None, status: int = 200
) -> Response:
    assert visit.workspace_id is not None
    page = visit.sr.projects.page(visit.workspace_id, cursor, PAGE, actor=visit.actor)
    return visit.render(
        "data_projects.html", status, page=page, cursor=cursor, name=name, error=error
    )


@router.get("/w/{workspace_id}/projects/{project_id}", response_class=HTMLResponse)
def project(visit: Reader, project_id: ProjectId) -> Response:
    return _project_page(visit, _project(visit, project_id))


@router.post("/w/{workspace_id}/projects/{project_id}/collections", response_class=HTMLResponse)
def declare_collection(
    visit: ProjectManager,
    project_id: ProjectId,
    name: Annotated[str, Form(max_length=MAX_FIELD_CHARS)] = "",
    personal_fields: Annotated[str, Form(max_length=64 * 90)] = "",
) -> Response:
    """Declare (or declare again) a collection's personal fields: ``FIELD`` or
    ``FIELD:KIND``, separated by commas or lines, as the CLI and the API take them."""
    assert visit.workspace_id is not None
    found = _project(visit, project_id)
    fields = [f.strip() for f in personal_fields.replace("\n", ",").split(",") if f.strip()]
    try:
        declared = visit.sr.records.declare_collection(
            visit.workspace_id, name, fields, actor=visit.actor
        )
    except InvalidInput as refused:
        typed = {"name": name, "personal_fields": personal_fields}
        field = "name" if str(refused).startswith("collection names") else "personal_fields"
        return _project_page(visit, found, typed, {field: str(refused)}, status=422)
    return visit.redirect(
        visit.url(f"/projects/{project_id}"), flash=f"Declared the collection {declared.name}."
    )


def _project_page(
    visit: Visit,
    found: Project,
    typed: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    assert visit.workspace_id is not None
    collections = sorted(visit.sr.records.collections(visit.workspace_id), key=lambda c: c.name)
    return visit.render(
        "data_project.html",
        status,
        project=found,
        collections=collections,
        typed=typed or {"name": "", "personal_fields": ""},
        errors=errors or {},
    )


@router.get("/w/{workspace_id}/projects/{project_id}/delete", response_class=HTMLResponse)
def confirm_project_delete(visit: ProjectManager, project_id: ProjectId) -> Response:
    return visit.render("data_delete.html", what="project", project=_project(visit, project_id))


@router.post("/w/{workspace_id}/projects/{project_id}/delete", response_class=HTMLResponse)
def delete_project(visit: ProjectManager, project_id: ProjectId) -> Response:
    assert visit.workspace_id is not None
    found = _project(visit, project_id)
    visit.sr.projects.delete(visit.workspace_id, project_id, actor=visit.actor)
    return visit.redirect(
        visit.url("/trash"), flash=f"Moved the project {found.name} to the trash."
    )


def _project(visit: Visit, project_id: str) -> Project:
    assert visit.workspace_id is not None
    return visit.sr.projects.get(visit.workspace_id, project_id, actor=visit.actor)


# records ----------------------------------------------------------------------------------
@router.get("/w/{workspace_id}/projects/{project_id}/records", response_class=HTMLResponse)
def records(
    visit: Reader,
    project_id: ProjectId,
    collection: OptionalCollection = None,
    cursor: RecordCursor = None,
) -> Response:
    """One page of decrypted records: the API's list of the same page, rendered (one
    collection's records as stored, canonical JSON text, not parsed and dumped again)."""
    assert visit.workspace_id is not None
    found = _project(visit, project_id)
    sr, ws, actor = visit.sr, visit.workspace_id, visit.actor
    rows: list[Row]
    if collection is None:
        every = sr.records.list(ws, project_id, None, cursor, PAGE, actor=actor)
        rows = [Row(r.id, r.collection, _compact(r.document)) for r in every.items]
        next_cursor = every.next_cursor
    else:
        one = sr.records.list_text(ws, project_id, collection, cursor, PAGE, actor=actor)
        rows = [Row(r.id, collection, r.text.decode()) for r in one.items]
        next_cursor = one.next_cursor
    return _records_page(visit, found, collection, rows, cursor=cursor, next_cursor=next_cursor)


@router.get("/w/{workspace_id}/projects/{project_id}/records/search", response_class=HTMLResponse)
def search_records(
    visit: Reader,
    project_id: ProjectId,
    collection: OptionalCollection = None,
    field: Annotated[str, Query(max_length=MAX_FIELD_CHARS)] = "",
    value: Annotated[str, Query(max_length=MAX_SEARCH_CHARS)] = "",
) -> Response:
    """Records of this project whose declared personal field equals ``value`` (the blind
    index: the service that ``strongroom record find`` calls); a field no collection
    declares personal is refused next to the field (422, as the API answers it)."""
    assert visit.workspace_id is not None
    found = _project(visit, project_id)
    search = {"field": field, "value": value}
    try:
        record_ids = visit.sr.records.find(visit.workspace_id, field, value)
    except InvalidInput as refused:  # UndeclaredField among them: 422, as the API says it
        return _records_page(visit, found, collection, [], search=search, refused=refused)
    rows = _found_rows(visit, project_id, collection, record_ids)
    return _records_page(visit, found, collection, rows, search=search, searched=True)


@router.get("/w/{workspace_id}/projects/{project_id}/records/new", response_class=HTMLResponse)
def new_record(
    visit: DataWriter, project_id: ProjectId, collection: OptionalCollection = None
) -> Response:
    typed = {"collection": collection or "", "document": "{\n  \n}"}
    return _new_record_page(visit, _project(visit, project_id), typed)


@router.post("/w/{workspace_id}/projects/{project_id}/records", response_class=HTMLResponse)
def create_record(
    visit: DataWriter,
    project_id: ProjectId,
    collection: Annotated[str, Form(max_length=MAX_FIELD_CHARS)] = "",
    document: Annotated[str, Form()] = "",
) -> Response:
    assert visit.workspace_id is not None
    found = _project(visit, project_id)
    sr = visit.sr
    typed = {"collection": collection, "document": document}
    try:
        parsed = parse_document(document, sr.settings.record_max_bytes)
    except InvalidInput as refused:
        return _new_record_page(visit, found, typed, {"document": str(refused)}, refused)
    try:
        record = sr.records.put(
            visit.workspace_id, project_id, collection, parsed, actor=visit.actor
        )
    except InvalidInput as refused:
        field = "collection" if "collection" in str(refused) else "document"
        return _new_record_page(visit, found, typed, {field: str(refused)}, refused)
    return visit.redirect(
        visit.url(f"/projects/{project_id}/records/{record.id}"), flash="Saved the record."
    )


@router.get(
    "/w/{workspace_id}/projects/{project_id}/records/{record_id}", response_class=HTMLResponse
)
def record(visit: Reader, project_id: ProjectId, record_id: RecordId) -> Response:
    assert visit.workspace_id is not None
    found = _project(visit, project_id)
    shown = visit.sr.records.get(visit.workspace_id, project_id, record_id, actor=visit.actor)
    return visit.render("data_record.html", project=found, record=shown)


@router.get(
    "/w/{workspace_id}/projects/{project_id}/records/{record_id}/delete",
    response_class=HTMLResponse,
)
def confirm_record_delete(
    visit: DataWriter, project_id: ProjectId, record_id: RecordId
) -> Response:
    assert visit.workspace_id is not None
    found = _project(visit, project_id)
    shown = visit.sr.records.get(visit.workspace_id, project_id, record_id, actor=visit.actor)
    return visit.render("data_delete.html", what="record", project=found, record=shown)


@router.post(
    "/w/{workspace_id}/projects/{project_id}/records/{record_id}/delete",
    response_class=HTMLResponse,
)
def delete_record(visit: DataWriter, project_id: ProjectId, record_id: RecordId) -> Response:
    assert visit.workspace_id is not None
    visit.sr.records.delete(visit.workspace_id, project_id, record_id, actor=visit.actor)
    return visit.redirect(
        visit.url(f"/projects/{project_id}/records"),
        flash=f"Moved the record {record_id} to the trash.",
    )


# helpers ----------------------------------------------------------------------------------
class Row(NamedTuple):
    """A record as a list shows it: its JSON text, cut short."""

    id: str
    collection: str
    text: str

    @property
    def preview(self) -> str:
        text = self.text
        return text if len(text) <= PREVIEW_CHARS else text[:PREVIEW_CHARS] + "…"


def _records_page(
    visit: Visit,
    found: Project,
    collection: str | None,
    rows: list[Row],
    *,
    cursor: str | None = None,
    next_cursor: str | None = None,
    search: dict[str, str] | None = None,
    searched: bool = False,
    refused: InvalidInput | None = None,
) -> Response:
    return visit.render(
        "data_records.html",
        status_of(refused)[0] if refused is not None else 200,
        project=found,
        collection=collection,
        rows=rows,
        cursor=cursor,
        next_cursor=next_cursor,
        search=search or {"field": "", "value": ""},
        searched=searched,
        error=str(refused) if refused is not None else None,
    )


def _found_rows(
    visit: Visit, project_id: str, collection: str | None, record_ids: list[str]
) -> list[Row]:
    """The found records of this project (and collection), at most a page of them: the
    blind index answers for the whole workspace."""
    assert visit.workspace_id is not None
    rows: list[Row] = []
    for record_id in record_ids:
        try:
            r = visit.sr.records.get(visit.workspace_id, project_id, record_id, actor=visit.actor)
        except NotFound:  # another project's
            continue
        if collection is None or r.collection == collection:
            rows.append(Row(r.id, r.collection, _compact(r.document)))
        if len(rows) == PAGE:
            break
    return rows


def _new_record_page(
    visit: Visit,
    found: Project,
    typed: dict[str, str],
    errors: dict[str, str] | None = None,
    refused: InvalidInput | None = None,
) -> Response:
    status = status_of(refused)[0] if refused is not None else 200
    return visit.render(
        "data_record_new.html", status, project=found, typed=typed, errors=errors or {}
    )


def _compact(document: dict[str, Any]) -> str:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
