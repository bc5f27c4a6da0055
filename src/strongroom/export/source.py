"""What an export reads, through the same services every other reader uses: the plan
(projects, their collections and file counts), then records page by page, files chunk by
chunk, members and audit events.

An export holds the workspace as of its start (``as_of``): records changed and files added
after it are left out, so the two passes over a collection (JSON Lines, then CSV) see the
same records, and the plan's entry count holds.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from strongroom.domain.model import (
    Member,
    Project,
    RecordText,
    StoredFile,
    Workspace,
    WorkspaceState,
)
from strongroom.errors import Conflict
from strongroom.services.audit import AuditLog, Event
from strongroom.services.context import Context
from strongroom.services.files import Files
from strongroom.services.projects import Projects
from strongroom.services.records import Records
from strongroom.services.workspaces import Workspaces
from strongroom.storage.repositories.exports import CollectionStats

#: About how many bytes of record plaintext one page holds (pages are 1 to 1000 records).
RECORD_PAGE_BYTES = 8 * 1024 * 1024
_PAGE = 1000
#: Entries every export has: projects.json, members.json, audit.jsonl, manifest.json.
FIXED_ENTRIES = 4


@dataclass(frozen=True)
class ProjectPlan:
    project: Project
    collections: list[CollectionStats]
    files: int


@dataclass(frozen=True)
class Plan:
    workspace: Workspace
    as_of: datetime
    projects: list[ProjectPlan]

    @property
    def entries_total(self) -> int:
        per_project = sum(2 * len(p.collections) + p.files for p in self.projects)
        return FIXED_ENTRIES + per_project


def record_page_size(largest: int) -> int:
    """Records per page, so a page of the largest records stays near RECORD_PAGE_BYTES."""
    return max(1, min(_PAGE, RECORD_PAGE_BYTES // max(largest, 1)))


class WorkspaceSource:
    def __init__(self, ctx: Context, actor: str) -> None:
        self.ctx = ctx
        self.actor = actor
        self.workspaces = Workspaces(ctx)
        self.projects = Projects(ctx)
        self.records = Records(ctx)
        self.files = Files(ctx)
        self.audit = AuditLog(ctx.store)

    def plan(self, workspace_id: str) -> Plan:
        """What the export will hold; Conflict for a closed workspace (its data is being
        purged), NotFound for one that does not exist (or was purged)."""
        as_of = self.ctx.clock.now()
        workspace = self.workspaces.get(workspace_id, self.actor)
        check_exportable(workspace)
        plans = []
        for project in self._all_projects(workspace_id):
            with self.ctx.store.read() as uow:
                collections = uow.export_jobs.collections_of(workspace_id, project.id)
                files = uow.export_jobs.file_count(workspace_id, project.id)
            plans.append(ProjectPlan(project, collections, files))
        return Plan(workspace, as_of, plans)

    def _all_projects(self, workspace_id: str) -> Iterator[Project]:
        cursor: str | None = None
        while True:
            page = self.projects.page(workspace_id, cursor, _PAGE, self.actor)
            yield from page.items
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    def record_pages(
        self, plan: Plan, project_id: str, stats: CollectionStats
    ) -> Iterator[list[RecordText]]:
        """The collection's records as of the plan, in id order, a page at a time, each
        document as its stored canonical JSON (the export passes it on unparsed)."""
        workspace_id = plan.workspace.id
        limit = record_page_size(stats.largest)
        cursor: str | None = None
        while True:
            page = self.records.list_text(
                workspace_id, project_id, stats.name, cursor, limit, self.actor
            )
            kept = [r for r in page.items if r.updated_at <= plan.as_of]
            if kept:
                yield kept
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    def project_files(self, plan: Plan, project_id: str) -> Iterator[StoredFile]:
        cursor: str | None = None
        while True:
            page = self.files.page(plan.workspace.id, project_id, cursor, _PAGE, self.actor)
            yield from (f for f in page.items if f.created_at <= plan.as_of)
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    def file_chunks(self, stored: StoredFile) -> Iterator[bytes]:
        """The file's plaintext, segment by segment (IntegrityFailure on tampering)."""
        _info, chunks = self.files.stream(
            stored.workspace_id, stored.project_id, stored.id, self.actor
        )
        return chunks

    def members(self, plan: Plan) -> list[Member]:
        return self.workspaces.members(plan.workspace.id, self.actor)

    def audit_pages(self, plan: Plan) -> Iterator[list[Event]]:
        after = 0
        while True:
            events = self.audit.workspace_events(plan.workspace.id, after, _PAGE)
            kept = [e for e in events if e.at <= plan.as_of]
            if kept:
                yield kept
            if len(events) < _PAGE:
                return
            after = events[-1].position or 0


def check_exportable(workspace: Workspace) -> None:
    """Every state exports but closed: a closed workspace was deleted and awaits its purge."""
    if workspace.state is WorkspaceState.CLOSED:
        raise Conflict(
            f"workspace {workspace.id} is closed: it was deleted and cannot be exported",
            workspace_id=workspace.id,
        )
