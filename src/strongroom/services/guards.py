"""Checks every use case starts with: the workspace exists and its plan allows the
action; the project is live."""

from __future__ import annotations

from datetime import datetime

from strongroom import ids
from strongroom.domain.lifecycle import check_plan_allows, effective_state
from strongroom.domain.model import ObjectState, WorkspaceState
from strongroom.domain.roles import Action
from strongroom.errors import NotFound
from strongroom.storage.rows import ProjectRow, WorkspaceRow
from strongroom.storage.unit_of_work import DataUnitOfWork


def require_workspace(uow: DataUnitOfWork, workspace_id: str) -> WorkspaceRow:
    ids.check_id("workspace", workspace_id)
    row = uow.workspaces.get(workspace_id)
    if row is None or row.state == WorkspaceState.CLOSED:
        raise NotFound(f"no workspace {workspace_id}", workspace_id=workspace_id)
    return row


def require_usable(
    uow: DataUnitOfWork, workspace_id: str, action: Action, now: datetime
) -> WorkspaceRow:
    """The workspace, if its plan state allows ``action`` at ``now`` (a cancelled
    workspace is read-only, an ended trial is kept but not usable); else Conflict."""
    row = require_workspace(uow, workspace_id)
    check_plan_allows(workspace_id, effective_state(row.state, row.trial_ends_at, now), action)
    return row


def require_project(uow: DataUnitOfWork, workspace_id: str, project_id: str) -> ProjectRow:
    """The live project ``project_id`` of ``workspace_id``, or NotFound."""
    ids.check_id("workspace", workspace_id)
    ids.check_id("project", project_id)
    row = uow.projects.get(workspace_id, project_id)
    if row is None or row.state != ObjectState.LIVE:
        raise NotFound(
            f"no project {project_id} in workspace {workspace_id}",
            workspace_id=workspace_id,
            project_id=project_id,
        )
    return row


def require_writable(
    uow: DataUnitOfWork, workspace_id: str, project_id: str, now: datetime
) -> ProjectRow:
    """The live project, if its workspace's plan allows writing data at ``now``."""
    require_usable(uow, workspace_id, Action.WRITE_DATA, now)
    return require_project(uow, workspace_id, project_id)


def require_existing(uow: DataUnitOfWork, workspace_id: str) -> WorkspaceRow:
    """The workspace, closed (deleted, awaiting its purge) or not: for what operators must
    still be able to do then, such as a legal hold."""
    ids.check_id("workspace", workspace_id)
    row = uow.workspaces.get(workspace_id)
    if row is None:
        raise NotFound(f"no workspace {workspace_id}", workspace_id=workspace_id)
    return row
