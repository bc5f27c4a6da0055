"""The streaming export writer: one ZIP (ZIP64) written front to back into any ``write``
(a file, or the sealed artifact of an API job), entry by entry, each hashed as it is
written; ``manifest.json`` comes last and lists every other entry's size and SHA-256.

Memory: records a page at a time, files a segment at a time, so it does not grow with the
data. It grows with the number of entries (about a kilobyte each: the ZIP's central
directory and the manifest both list every entry).

Compression: on JSON records deflate level 1 runs several times faster than level 6 and
gives up only a little of the size, while random data does not deflate at all; so records,
members, projects and audit events are deflated at level 1, and files are stored, since
most attachments (PDF, images, office files) are compressed already.
"""

from __future__ import annotations

import hashlib
import json
import sys
import zipfile
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any, Generic, Protocol, TypeVar

from strongroom.domain.model import RecordText
from strongroom.errors import Conflict
from strongroom.export import layout
from strongroom.export.layout import Kind
from strongroom.export.replay import Replay
from strongroom.export.rows import CsvRecord, CsvRows, csv_record_of_line, jsonl_line
from strongroom.export.source import Plan, WorkspaceSource
from strongroom.storage.repositories.exports import CollectionStats
from strongroom.version import __version__

#: Called after each entry with (entries written, entries expected).
Progress = Callable[[int, int], None]
DEFLATE_LEVEL = 1


@dataclass(frozen=True)
class ExportSummary:
    workspace_id: str
    created_at: datetime
    counts: dict[str, int]
    entries: int  # including manifest.json
    size: int  # bytes of the ZIP
    sha256: str  # of the ZIP

    def as_json(self) -> dict[str, Any]:
        return {
            "workspace_id": self.workspace_id,
            "created_at": self.created_at.isoformat(),
            "counts": self.counts,
            "entries": self.entries,
            "size": self.size,
            "sha256": self.sha256,
        }


class Sink:
    """Counts and hashes what the ZIP writer emits. It has no ``seek`` or ``tell``, so
    zipfile writes each entry's sizes after its data (a data descriptor) and never goes
    back: the archive streams into an encrypted blob as well as into a file."""

    def __init__(self, write: Callable[[bytes], object]) -> None:
        self._write = write
        self.hash = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes, /) -> int:
        self._write(data)
        self.hash.update(data)
        self.size += len(data)
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass  # the caller owns what ``write`` writes to


class _Entry:
    """One archive entry being written: the bytes go to the ZIP and into its SHA-256."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self.hash = hashlib.sha256()
        self.size = 0
        self.rows: int | None = None

    def write(self, data: bytes) -> None:
        self._raw.write(data)
        self.hash.update(data)
        self.size += len(data)


def zip_info(path: str, when: datetime, deflate: bool) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(path, date_time=when.timetuple()[:6])
    info.external_attr = 0o600 << 16
    if deflate:
        info.compress_type = zipfile.ZIP_DEFLATED
        if sys.version_info >= (3, 13):
            info.compress_level = DEFLATE_LEVEL
        else:
            info._compresslevel = DEFLATE_LEVEL  # type: ignore[attr-defined]
    return info


class ArchivePlan(Protocol):
    """What the archive writer needs of a plan: the time its entries are dated, and how
    many entries to expect (for progress)."""

    @property
    def as_of(self) -> datetime: ...

    @property
    def entries_total(self) -> int: ...


P = TypeVar("P", bound=ArchivePlan)


class Archive(Generic[P]):
    def __init__(self, sink: Sink, plan: P, progress: Progress | None) -> None:
        self.zip = zipfile.ZipFile(sink, "w", allowZip64=True)
        self.plan = plan
        self.progress = progress
        self.listed: list[dict[str, Any]] = []

    @contextmanager
    def entry(self, path: str, kind: Kind, deflate: bool = True, **extra: Any) -> Iterator[_Entry]:
        info = zip_info(path, self.plan.as_of, deflate)
        with self.zip.open(info, "w", force_zip64=True) as raw:
            entry = _Entry(raw)
            yield entry
        listed = {"path": path, "kind": kind.value, "size": entry.size}
        listed["sha256"] = entry.hash.hexdigest()
        if entry.rows is not None:
            listed["rows"] = entry.rows
        self.listed.append({**listed, **extra})
        self.tick()

    def tick(self) -> None:
        if self.progress is not None:
            done = len(self.listed)
            self.progress(done, max(done, self.plan.entries_total))

    def json_entry(self, path: str, kind: Kind, value: Any) -> None:
        with self.entry(path, kind) as e:
            e.write(json.dumps(value, ensure_ascii=False, indent=1).encode("utf-8"))


def write_export(
    source: WorkspaceSource,
    plan: Plan,
    write: Callable[[bytes], object],
    progress: Progress | None = None,
) -> ExportSummary:
    """Write the export of ``plan`` into ``write``; return what it holds."""
    sink = Sink(write)
    archive = Archive(sink, plan, progress)
    counts = dict.fromkeys(
        ("projects", "collections", "records", "files", "file_bytes", "members", "audit_events"),
        0,
    )
    with archive.zip:
        _projects(archive, source, counts)
        counts["members"] = _members(archive, source)
        for project_plan in plan.projects:
            project_id = project_plan.project.id
            for stats in project_plan.collections:
                counts["records"] += _collection(archive, source, project_id, stats)
            for stored in source.project_files(plan, project_id):
                path = layout.file_path(project_id, stored.id, stored.name)
                extra = {"project_id": project_id, "file_id": stored.id, "name": stored.name}
                with archive.entry(path, Kind.FILE, deflate=False, **extra) as e:
                    for chunk in source.file_chunks(stored):
                        e.write(chunk)
                counts["files"] += 1
                counts["file_bytes"] += e.size
        counts["audit_events"] = _audit(archive, source)
        manifest = _manifest(plan, counts, archive.listed)
        with archive.zip.open(zip_info(layout.MANIFEST, plan.as_of, True), "w") as raw:
            raw.write(manifest)
        archive.listed.append({"path": layout.MANIFEST})
        archive.tick()
    return ExportSummary(
        plan.workspace.id, plan.as_of, counts, len(archive.listed), sink.size, sink.hash.hexdigest()
    )


def _projects(archive: Archive[Plan], source: WorkspaceSource, counts: dict[str, int]) -> None:
    plan = archive.plan
    declared = source.records.collections(plan.workspace.id)
    projects = [
        {
            "id": p.project.id,
            "name": p.project.name,
            "created_at": p.project.created_at.isoformat(),
            "collections": [c.name for c in p.collections],
            "files": p.files,
        }
        for p in plan.projects
    ]
    counts["projects"] = len(projects)
    counts["collections"] = sum(len(p.collections) for p in plan.projects)
    value = {
        "projects": projects,
        "declared_collections": [
            {"name": c.name, "personal_fields": sorted(c.personal_fields)} for c in declared
        ],
    }
    archive.json_entry(layout.PROJECTS, Kind.PROJECTS, value)


def _members(archive: Archive[Plan], source: WorkspaceSource) -> int:
    members = [
        {"user_id": m.user_id, "email": m.email, "role": m.role.value}
        for m in source.members(archive.plan)
    ]
    archive.json_entry(layout.MEMBERS, Kind.MEMBERS, members)
    return len(members)


def _collection(
    archive: Archive[Plan], source: WorkspaceSource, project_id: str, stats: CollectionStats
) -> int:
    plan = archive.plan
    return drain(
        collection_steps(
            archive,
            project_id,
            stats.name,
            lambda: source.record_pages(plan, project_id, stats),
        )
    )


def drain(steps: Generator[None, None, int]) -> int:
    """Run a generator of steps to its end; return what it returns."""
    while True:
        try:
            next(steps)
        except StopIteration as done:
            return int(done.value)


def collection_steps(
    archive: Archive[Any],
    project_id: str,
    collection: str,
    record_pages: Callable[[], Iterator[list[RecordText]]],
) -> Generator[None, None, int]:
    """The collection as JSON Lines (noting every top-level field), then as CSV: from the
    JSON Lines kept compressed in memory when they fit (see replay.py), else read again
    (``record_pages`` is called a second time). Yields after each page written, so a
    caller streaming the archive can pass on what it holds; returns the rows written."""
    fields: dict[str, None] = {}  # insertion-ordered set
    replay = Replay()
    with archive.entry(
        layout.records_path(project_id, collection, "jsonl"), Kind.RECORDS_JSONL
    ) as jsonl:
        jsonl.rows = 0
        for page in record_pages():
            for r in page:
                fields.update(dict.fromkeys(json.loads(r.text)))
            lines = b"".join(jsonl_line(r) for r in page)
            jsonl.write(lines)
            replay.add(lines)
            jsonl.rows += len(page)
            yield
    pages: Iterator[list[CsvRecord]]
    if replay.complete:
        pages = replay.pages()
    else:
        pages = ([csv_record_of_line(jsonl_line(r)) for r in p] for p in record_pages())
    rows = CsvRows(list(fields))
    with archive.entry(layout.records_path(project_id, collection, "csv"), Kind.RECORDS_CSV) as csv:
        csv.rows = 0
        csv.write(rows.header().encode("utf-8"))
        for csv_page in pages:
            try:
                text, n = rows.render(csv_page)
            except ValueError:
                raise Conflict(
                    f"records of collection {collection} in project {project_id} changed while "
                    "the export ran; run it again",
                    project_id=project_id,
                ) from None
            csv.write(text.encode("utf-8"))
            csv.rows += n
            yield
    return jsonl.rows


def _audit(archive: Archive[Plan], source: WorkspaceSource) -> int:
    count = 0
    with archive.entry(layout.AUDIT, Kind.AUDIT) as e:
        for events in source.audit_pages(archive.plan):
            text = "".join(
                json.dumps(ev.as_tenant_json(), ensure_ascii=False, separators=(",", ":")) + "\n"
                for ev in events
            )
            e.write(text.encode("utf-8"))
            count += len(events)
        e.rows = count
    return count


def _manifest(plan: Plan, counts: dict[str, int], listed: list[dict[str, Any]]) -> bytes:
    workspace = plan.workspace
    manifest = {
        "format": layout.FORMAT,
        "format_version": layout.FORMAT_VERSION,
        "generator": f"strongroom {__version__}",
        "created_at": plan.as_of.isoformat(),
        "workspace": {
            "id": workspace.id,
            "name": workspace.name,
            "state": workspace.state.value,
            "created_at": workspace.created_at.isoformat(),
        },
        "counts": counts,
        "entries": listed,
    }
    return json.dumps(manifest, ensure_ascii=False, indent=1).encode("utf-8")
