"""Deleting the workspace (owners): what happens, then its name typed to confirm, then the
service the API's ``DELETE /v1/workspaces/{ws}`` calls.

The service checks the typed name itself; a wrong one is 422 with the reason next to the
field and nothing deleted. Once deleted, the workspace is closed at once (every member
locked out, every API token revoked) and purged by the worker, so the member is sent to
their list of workspaces."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form
from starlette.responses import HTMLResponse, Response

from strongroom.console.visit import Visit, WorkspaceDeleter
from strongroom.errors import InvalidInput

router = APIRouter()

MAX_NAME = 200


def _delete_page(visit: Visit, typed: str = "", error: str | None = None) -> HTMLResponse:
    assert visit.workspace_id is not None
    return visit.render(
        "deletion_confirm.html",
        422 if error else 200,
        plan=visit.sr.plans.status(visit.workspace_id),
        now=visit.sr.ctx.clock.now(),
        typed=typed,
        error=error,
    )


@router.get("/w/{workspace_id}/delete", response_class=HTMLResponse)
def delete_form(visit: WorkspaceDeleter) -> Response:
    return _delete_page(visit)


@router.post("/w/{workspace_id}/delete", response_class=HTMLResponse)
def delete_workspace(
    visit: WorkspaceDeleter, confirm_name: Annotated[str, Form(max_length=MAX_NAME)] = ""
) -> Response:
    assert visit.workspace_id is not None
    if not confirm_name.strip():
        return _delete_page(visit, confirm_name, "Type the workspace's name to delete it.")
    try:
        visit.sr.plans.delete_workspace(visit.workspace_id, confirm_name, visit.actor)
    except InvalidInput as refused:
        return _delete_page(visit, confirm_name, f"Nothing was deleted: {refused}.")
    return visit.redirect(
        "/console/",
        flash=f"{visit.workspace_name} was deleted: it is closed, and its data is being purged.",
    )
