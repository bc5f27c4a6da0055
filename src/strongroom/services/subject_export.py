"""The data side of a data subject's export (GDPR Art. 15 access, Art. 20 portability):
which records and files are the subject's, read through the request.

1. The request must be an access or portability request, verified (``check_work``:
   an unverified one is refused, nothing written).
2. The subject's records are found through the blind index only (the request's digests),
   in every project. Live and restricted records are the subject's package (a restricted
   record is readable only this way); records in the trash, or in a trashed project, are
   left out and counted.
3. Their documents are read once, to find the files their collections' file fields name
   (a value that is the id of a live file of the record's project).
4. In one transaction: the request moves to ``in_progress`` and ``privacy.export`` is
   audited with counts, never values. The ZIP is written after (export/subject.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from strongroom import ids
from strongroom.domain.model import Collection, ObjectState, RecordText, Workspace
from strongroom.domain.personal import PersonalField, PersonalKind, parse_path, values_at
from strongroom.domain.privacy import RequestState, RequestType, Work, check_work
from strongroom.domain.roles import Action
from strongroom.domain.rules import decode_document
from strongroom.errors import NotFound
from strongroom.services import audit
from strongroom.services.context import Context
from strongroom.services.guards import require_usable
from strongroom.services.records import Records, record_binding
from strongroom.services.workspaces import Workspaces
from strongroom.storage.rows import PrivacyRequestRow, RecordRow
from strongroom.storage.unit_of_work import DataUnitOfWork

#: Records read (and decrypted) per page.
PAGE = 500
_FILE_ID = re.compile(ids.pattern("file"))


@dataclass(frozen=True)
class SubjectCollection:
    """The subject's records of one collection of one project, by id."""

    project_id: str
    name: str
    record_ids: tuple[str, ...]


@dataclass(frozen=True)
class SubjectFile:
    project_id: str
    file_id: str


@dataclass(frozen=True)
class SubjectSelection:
    """What a subject's package will hold, fixed when the export starts."""

    workspace: Workspace
    request_id: str
    request_type: str
    law: str
    received_on: date
    due: date
    as_of: datetime
    collections: tuple[SubjectCollection, ...]
    files: tuple[SubjectFile, ...]
    restricted: int
    trashed_left_out: int
    declared: tuple[Collection, ...]  # the declarations of the collections it holds
    retention: dict[str, int] = field(default_factory=dict)

    @property
    def records(self) -> int:
        return sum(len(c.record_ids) for c in self.collections)

    @property
    def entries_total(self) -> int:
        """Entries of the ZIP: JSON Lines and CSV per collection, the files, the manifest."""
        return 2 * len(self.collections) + len(self.files) + 1

    def counts(self) -> dict[str, int]:
        return {
            "projects": len({c.project_id for c in self.collections}),
            "collections": len(self.collections),
            "records": self.records,
            "restricted_records": self.restricted,
            "trashed_left_out": self.trashed_left_out,
            "files": len(self.files),
        }


def categories(declared: tuple[Collection, ...]) -> list[dict[str, Any]]:
    """GDPR Art. 15(1)(b): the categories of personal data, as the collections holding the
    subject's records and their declared personal and file fields."""
    return [
        {
            "collection": c.name,
            "personal_fields": [{"path": f.path, "kind": f.kind.value} for f in c.personal],
            "file_fields": list(c.file_fields),
        }
        for c in declared
    ]


class SubjectExport:
    """Select a subject's records and files for a verified access or portability request,
    and read them (restricted ones included) for the package writer."""

    def __init__(self, ctx: Context, records: Records) -> None:
        self.ctx = ctx
        self._records = records

    def begin(self, workspace_id: str, request_id: str, actor: str) -> SubjectSelection:
        """Check the request, select what the package holds, move the request to
        ``in_progress`` and audit the counts. Conflict (nothing written) for a request
        that is not verified, or not an access or portability request."""
        as_of = self.ctx.clock.now()
        with self.ctx.store.read() as uow:
            row = _request(uow, workspace_id, request_id, as_of)
            check_work(RequestType(row.kind), RequestState(row.state), Work.EXPORT)
            digests = uow.privacy_requests.digests(request_id)
            located = uow.record_index.locate(workspace_id, digests)
        declared = {c.name: c for c in self._records.collections(workspace_id)}
        live: dict[tuple[str, str], list[str]] = {}
        trashed: set[str] = set()
        for m in located:
            gone = m.state == ObjectState.TRASHED or m.project_state != ObjectState.LIVE
            if gone or m.state not in (ObjectState.LIVE, ObjectState.RESTRICTED):
                trashed.add(m.record_id)
                continue
            ids_ = live.setdefault((m.project_id, m.collection), [])
            if not ids_ or ids_[-1] != m.record_id:
                ids_.append(m.record_id)
        groups = tuple(SubjectCollection(p, c, tuple(r)) for (p, c), r in sorted(live.items()))
        files, restricted = self._files(workspace_id, groups, declared)
        workspace = Workspaces(self.ctx).get(workspace_id, actor)
        selection = SubjectSelection(
            workspace=workspace,
            request_id=row.id,
            request_type=row.kind,
            law=row.law,
            received_on=row.received_on,
            due=row.due_on,
            as_of=as_of,
            collections=groups,
            files=files,
            restricted=restricted,
            trashed_left_out=len(trashed),
            declared=tuple(declared[n] for n in sorted({g.name for g in groups}) if n in declared),
            retention=self._retention(),
        )
        self._start(workspace_id, request_id, selection, actor)
        return selection

    def record_pages(
        self, selection: SubjectSelection, project_id: str, collection: str
    ) -> Iterator[list[RecordText]]:
        """The selected records of one collection, a page at a time, restricted ones
        included, each document as stored (canonical JSON). A record deleted or purged
        since the selection is left out."""
        group = next(
            g for g in selection.collections if (g.project_id, g.name) == (project_id, collection)
        )
        for rows in self._pages(selection.workspace.id, group.record_ids):
            yield [RecordText(r.id, r.created_at, r.updated_at, self._text(r)) for r in rows]

    # internals ------------------------------------------------------------------------
    def _pages(self, workspace_id: str, record_ids: tuple[str, ...]) -> Iterator[list[RecordRow]]:
        for start in range(0, len(record_ids), PAGE):
            with self.ctx.store.read() as uow:
                rows = uow.records.of_subject(workspace_id, record_ids[start : start + PAGE])
            if rows:
                yield rows

    def _text(self, row: RecordRow) -> bytes:
        binding = record_binding(row.workspace_id, row.project_id, row.id)
        return self.ctx.open(row.project_id, binding, row.sealed, "system")

    def _files(
        self,
        workspace_id: str,
        groups: tuple[SubjectCollection, ...],
        declared: dict[str, Collection],
    ) -> tuple[tuple[SubjectFile, ...], int]:
        """The live files the records' file fields name, and how many records are
        restricted (a first read of the documents)."""
        named: set[tuple[str, str]] = set()
        restricted = 0
        for group in groups:
            collection = declared.get(group.name)
            paths = [_as_field(p) for p in (collection.file_fields if collection else ())]
            for rows in self._pages(workspace_id, group.record_ids):
                restricted += sum(r.state == ObjectState.RESTRICTED for r in rows)
                if not paths:
                    continue
                for row in rows:
                    document = decode_document(self._text(row))
                    for path in paths:
                        named.update(
                            (row.project_id, v)
                            for v in values_at(document, path)
                            if _FILE_ID.fullmatch(v)
                        )
        found = []
        with self.ctx.store.read() as uow:
            for project_id, file_id in sorted(named):
                stored = uow.files.get(workspace_id, project_id, file_id)
                if stored is not None and stored.state == ObjectState.LIVE:
                    found.append(SubjectFile(project_id, file_id))
        return tuple(found), restricted

    def _retention(self) -> dict[str, int]:
        s = self.ctx.settings
        return {
            "trash_days": s.trash_days,
            "backup_purge_window_days": s.backup_purge_window_days,
            "backup_retention_days": s.backup_retention_days,
            "trial_retention_days": s.trial_retention_days,
            "cancellation_window_days": s.cancellation_window_days,
        }

    def _start(
        self, workspace_id: str, request_id: str, selection: SubjectSelection, actor: str
    ) -> None:
        now = self.ctx.clock.now()
        with self.ctx.store.write() as uow:
            row = _request(uow, workspace_id, request_id, now)
            after = check_work(RequestType(row.kind), RequestState(row.state), Work.EXPORT)
            uow.privacy_requests.update(workspace_id, request_id, state=after.value)
            audit.append(
                uow,
                now,
                actor,
                "privacy.export",
                workspace_id,
                request_id=request_id,
                state=after.value,
                **selection.counts(),
            )
            uow.commit()


def _request(
    uow: DataUnitOfWork, workspace_id: str, request_id: str, now: datetime
) -> PrivacyRequestRow:
    require_usable(uow, workspace_id, Action.PRIVACY, now)
    ids.check_id("privacy-request", request_id)
    row = uow.privacy_requests.get(workspace_id, request_id)
    if row is None:
        raise NotFound(
            f"no privacy request {request_id} in workspace {workspace_id}",
            workspace_id=workspace_id,
        )
    return row


def _as_field(path: str) -> PersonalField:
    """A file field's path as a field to read values at (its kind is not used)."""
    return PersonalField(path, PersonalKind.IDENTIFIER, parse_path(path))
