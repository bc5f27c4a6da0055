"""A data subject's package (GDPR Art. 15 access, Art. 20 portability): one ZIP in the
family of the workspace export, so ``export verify`` accepts it.

Entries: per project and collection the subject's records as JSON Lines and as CSV (the
workspace export's rules, export/rows.py), then the files the records' file fields name,
and ``manifest.json`` last (format ``strongroom-subject-export``): the request, counts,
the Art. 15(1) facts Strongroom knows and every entry's size and SHA-256.

The archive is a generator of bytes: records a page at a time, files a segment at a time,
each piece passed on as soon as the ZIP writer emits it. So it streams into a file
(``write``) or an HTTP response (``stream``) in constant memory, without a thread.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from strongroom.atomic_file import write_atomically
from strongroom.export import layout
from strongroom.export.archive import Archive, Progress, Sink, collection_steps, zip_info
from strongroom.export.layout import Kind
from strongroom.export.subject_import import ImportSummary, import_package
from strongroom.services.context import Context
from strongroom.services.files import Files
from strongroom.services.records import Records
from strongroom.services.subject_export import SubjectExport, SubjectSelection, categories
from strongroom.version import __version__

#: What Strongroom says of recipients until the deployment declares its processors
#: (the trust center's subprocessor registry will fill this list).
NO_RECIPIENTS: list[dict[str, str]] = []


@dataclass(frozen=True)
class PackageSummary:
    workspace_id: str
    request_id: str
    created_at: datetime
    counts: dict[str, int]
    entries: int  # including manifest.json
    size: int  # bytes of the ZIP
    sha256: str  # of the ZIP

    def as_json(self) -> dict[str, Any]:
        return {
            "workspace_id": self.workspace_id,
            "request_id": self.request_id,
            "created_at": self.created_at.isoformat(),
            "counts": self.counts,
            "entries": self.entries,
            "size": self.size,
            "sha256": self.sha256,
        }


class SubjectPackages:
    """``sr.privacy.export`` and ``sr.privacy.import_package`` (handed to Privacy by the
    composition root: services do not import the export package)."""

    def __init__(self, ctx: Context, records: Records) -> None:
        self.ctx = ctx
        self._records = records
        self._subjects = SubjectExport(ctx, records)
        self._files = Files(ctx)

    def write(
        self,
        workspace_id: str,
        request_id: str,
        target: Path | str,
        actor: str = "system",
        progress: Progress | None = None,
        on_bytes: Callable[[int], None] | None = None,
    ) -> PackageSummary:
        """Write the subject's package to ``target``: the file appears, mode 0600, only
        once the archive is complete."""
        selection = self._subjects.begin(workspace_id, request_id, actor)

        def produce(write: Callable[[bytes], object]) -> PackageSummary:
            out = _Package(self, selection, progress)
            for chunk in out.chunks():
                write(chunk)
                if on_bytes is not None:
                    on_bytes(len(chunk))
            return out.summary()

        return write_atomically(Path(target), produce)

    def stream(
        self, workspace_id: str, request_id: str, actor: str = "system"
    ) -> tuple[str, Iterator[bytes]]:
        """A file name and the package's bytes as they are made (the request is checked
        and moved to in_progress now, before the first byte)."""
        selection = self._subjects.begin(workspace_id, request_id, actor)
        name = f"strongroom-subject-{workspace_id}-{request_id}.zip"
        return name, _Package(self, selection, None).chunks()

    def import_package(
        self, workspace_id: str, project_id: str, path: Path | str, actor: str = "system"
    ) -> ImportSummary:
        return import_package(self.ctx, self._records, workspace_id, project_id, Path(path), actor)


class _Package:
    def __init__(
        self, packages: SubjectPackages, selection: SubjectSelection, progress: Progress | None
    ) -> None:
        self._packages = packages
        self.selection = selection
        self._pending: list[bytes] = []
        self._sink = Sink(self._pending.append)
        self._archive = Archive(self._sink, selection, progress)
        self.counts: dict[str, int] = {}

    def _take(self) -> Iterator[bytes]:
        if self._pending:
            data = b"".join(self._pending)
            self._pending.clear()
            yield data

    def chunks(self) -> Iterator[bytes]:
        selection, archive = self.selection, self._archive
        subjects = self._packages._subjects
        counts = {**selection.counts(), "records": 0, "files": 0, "file_bytes": 0}
        with archive.zip:
            for group in selection.collections:
                steps = collection_steps(
                    archive,
                    group.project_id,
                    group.name,
                    lambda g=group: subjects.record_pages(selection, g.project_id, g.name),  # type: ignore[misc]
                )
                while True:
                    try:
                        next(steps)
                    except StopIteration as done:
                        counts["records"] += int(done.value)
                        break
                    yield from self._take()
            files = self._packages._files
            for ref in selection.files:
                stored, segments = files.stream(
                    selection.workspace.id, ref.project_id, ref.file_id, "system"
                )
                path = layout.file_path(ref.project_id, stored.id, stored.name)
                extra = {"project_id": ref.project_id, "file_id": stored.id, "name": stored.name}
                with archive.entry(path, Kind.FILE, deflate=False, **extra) as e:
                    for chunk in segments:
                        e.write(chunk)
                        yield from self._take()
                counts["files"] += 1
                counts["file_bytes"] += e.size
            self.counts = counts
            manifest = _manifest(selection, counts, archive.listed)
            with archive.zip.open(zip_info(layout.MANIFEST, selection.as_of, True), "w") as raw:
                raw.write(manifest)
            archive.listed.append({"path": layout.MANIFEST})
            archive.tick()
        yield from self._take()

    def summary(self) -> PackageSummary:
        s = self.selection
        return PackageSummary(
            s.workspace.id,
            s.request_id,
            s.as_of,
            self.counts,
            len(self._archive.listed),
            self._sink.size,
            self._sink.hash.hexdigest(),
        )


def _manifest(selection: SubjectSelection, counts: dict[str, int], listed: list[Any]) -> bytes:
    workspace = selection.workspace
    manifest = {
        "format": layout.SUBJECT_FORMAT,
        "format_version": layout.FORMAT_VERSION,
        "generator": f"strongroom {__version__}",
        "created_at": selection.as_of.isoformat(),
        "workspace": {
            "id": workspace.id,
            "name": workspace.name,
            "state": workspace.state.value,
            "created_at": workspace.created_at.isoformat(),
        },
        "request": {
            "id": selection.request_id,
            "type": selection.request_type,
            "law": selection.law,
            "received_on": selection.received_on.isoformat(),
            "due": selection.due.isoformat(),
        },
        "counts": counts,
        # GDPR Art. 15(1): what Strongroom knows of the processing of the subject's data.
        "facts": {
            "categories": categories(selection.declared),
            "retention": selection.retention,
            "recipients": NO_RECIPIENTS,
            "source": {
                "workspace_id": workspace.id,
                "description": "kept by the controller in this Strongroom workspace",
            },
        },
        "entries": listed,
    }
    return json.dumps(manifest, ensure_ascii=False, indent=1).encode("utf-8")
