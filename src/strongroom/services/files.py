"""Files: binary attachments of any size, streamed through authenticated segments into
the blob store, in constant memory."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from strongroom import ids
from strongroom.atomic_file import write_atomically
from strongroom.crypto import segments
from strongroom.crypto.envelope import Binding
from strongroom.crypto.keyring import DATA_KEY_VERSION
from strongroom.domain.lifecycle import TrashKind
from strongroom.domain.model import ObjectState, Page, StoredFile, make_page, page_limit
from strongroom.domain.roles import Action
from strongroom.domain.rules import check_name
from strongroom.errors import IntegrityFailure, KeyUnavailable, NotFound
from strongroom.services import audit
from strongroom.services.context import Context
from strongroom.services.guards import require_project, require_usable, require_writable
from strongroom.services.trash import TrashEntry, move_to_trash
from strongroom.storage.rows import FileRow
from strongroom.storage.unit_of_work import DataUnitOfWork

Progress = Callable[[int], None]


def content_binding(workspace_id: str, project_id: str, file_id: str) -> Binding:
    return Binding("file", workspace_id, project_id, file_id)


def name_binding(workspace_id: str, project_id: str, file_id: str) -> Binding:
    return Binding("file-name", workspace_id, project_id, file_id)


class Files:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def put(
        self,
        workspace_id: str,
        project_id: str,
        name: str,
        source: BinaryIO,
        actor: str = "system",
        on_progress: Progress | None = None,
    ) -> StoredFile:
        """Encrypt ``source`` into the blob store, then record it; all or nothing."""
        name = check_name("file", name)
        with self.ctx.store.read() as uow:
            require_writable(uow, workspace_id, project_id, self.ctx.clock.now())
        file_id = ids.new_id("file")
        key = self.ctx.keyring.data_key(project_id)
        with self.ctx.blobs.writer(file_id) as blob:
            size = segments.encrypt_stream(
                source,
                blob.write,
                key,
                project_id,
                DATA_KEY_VERSION,
                content_binding(workspace_id, project_id, file_id),
                on_progress=on_progress,
            )
        try:
            sealed_name = self.ctx.seal(
                project_id, name_binding(workspace_id, project_id, file_id), name.encode()
            )
            now = self.ctx.clock.now()
            with self.ctx.store.write() as uow:
                require_writable(uow, workspace_id, project_id, now)
                uow.files.add(
                    FileRow(
                        file_id,
                        workspace_id,
                        project_id,
                        sealed_name,
                        size,
                        file_id,
                        ObjectState.LIVE,
                        now,
                    )
                )
                audit.append(
                    uow,
                    now,
                    actor,
                    "file.put",
                    workspace_id,
                    project_id=project_id,
                    file_id=file_id,
                    size=size,
                )
                uow.commit()
        except BaseException:
            self.ctx.blobs.delete(file_id)
            raise
        return StoredFile(file_id, workspace_id, project_id, name, size, now)

    def delete(
        self, workspace_id: str, project_id: str, file_id: str, actor: str = "system"
    ) -> TrashEntry:
        """Move a file to the trash: gone from reads and lists at once, restorable until
        its deadline."""
        now = self.ctx.clock.now()
        with self.ctx.store.write() as uow:
            require_usable(uow, workspace_id, Action.WRITE_DATA, now)
            self._live(uow, workspace_id, project_id, file_id)
            entry = move_to_trash(
                self.ctx, uow, TrashKind.FILE, workspace_id, project_id, file_id, actor, now
            )
            uow.commit()
        return entry

    def info(
        self, workspace_id: str, project_id: str, file_id: str, actor: str = "system"
    ) -> StoredFile:
        with self.ctx.store.read() as uow:
            row = self._live(uow, workspace_id, project_id, file_id)
        return self._file(row, actor)

    def list(self, workspace_id: str, project_id: str, actor: str = "system") -> list[StoredFile]:
        with self.ctx.store.read() as uow:
            require_project(uow, workspace_id, project_id)
            rows = uow.files.list(workspace_id, project_id)
        return [self._file(r, actor) for r in rows]

    def page(
        self,
        workspace_id: str,
        project_id: str,
        cursor: str | None = None,
        limit: int | None = None,
        actor: str = "system",
    ) -> Page[StoredFile]:
        if cursor is not None:
            ids.check_id("file", cursor)
        limit = page_limit(limit)
        with self.ctx.store.read() as uow:
            require_project(uow, workspace_id, project_id)
            rows = uow.files.list(workspace_id, project_id, cursor, limit + 1)
        return make_page(rows, limit, lambda r: r.id, lambda r: self._file(r, actor))

    def read_into(
        self,
        workspace_id: str,
        project_id: str,
        file_id: str,
        write: Callable[[bytes], object],
        actor: str = "system",
        on_progress: Progress | None = None,
    ) -> StoredFile:
        """Decrypt a file segment by segment into ``write``. On IntegrityFailure some
        authenticated segments may have been written already: discard them (see
        :meth:`get_to_path`, which does)."""
        info = self.info(workspace_id, project_id, file_id, actor)
        binding = content_binding(workspace_id, project_id, file_id)
        try:
            with self.ctx.blobs.open(file_id) as blob:
                size = segments.decrypt_stream(
                    blob, write, binding, self.ctx.expect_key(project_id), on_progress
                )
            if size != info.size:
                raise IntegrityFailure(
                    f"file {file_id} has {size} bytes, expected {info.size}", file_id=file_id
                )
        except IntegrityFailure:
            self.ctx.audit_failure(actor, binding)
            raise
        return info

    def stream(
        self, workspace_id: str, project_id: str, file_id: str, actor: str = "system"
    ) -> tuple[StoredFile, Iterator[bytes]]:
        """The file's details and an iterator of its plaintext, segment by segment. The
        blob opens on the first ``next``; a tampered segment raises IntegrityFailure there
        (audited), after the segments before it were yielded."""
        info = self.info(workspace_id, project_id, file_id, actor)
        binding = content_binding(workspace_id, project_id, file_id)

        def chunks() -> Iterator[bytes]:
            # One segment is held back until the total is known: a stream shorter or longer
            # than the recorded size fails before its last byte is sent.
            try:
                total, held = 0, b""
                with self.ctx.blobs.open(file_id) as blob:
                    key_for = self.ctx.expect_key(project_id)
                    for plain in segments.iter_decrypt(blob, binding, key_for):
                        total += len(plain)
                        if total > info.size:
                            break  # never send past the recorded size
                        if held:
                            yield held
                        held = plain
                if total != info.size:
                    raise IntegrityFailure(
                        f"file {file_id} has {total} bytes, expected {info.size}", file_id=file_id
                    )
                yield held
            except IntegrityFailure:
                self.ctx.audit_failure(actor, binding)
                raise

        return info, chunks()

    def get_to_path(
        self,
        workspace_id: str,
        project_id: str,
        file_id: str,
        path: Path,
        actor: str = "system",
        on_progress: Progress | None = None,
    ) -> StoredFile:
        """Decrypt into ``path``; the file appears only if every segment authenticated."""
        return write_atomically(
            Path(path),
            lambda write: self.read_into(
                workspace_id, project_id, file_id, write, actor, on_progress
            ),
        )

    def names(
        self, workspace_id: str, files: Iterable[tuple[str, str]], actor: str = "system"
    ) -> dict[str, str]:
        """The names of files (``(project_id, file_id)`` pairs) live or in the trash, by
        id (the trash page says what it holds); one whose key is already destroyed, or not
        of this workspace, is left out."""
        with self.ctx.store.read() as uow:
            rows = [uow.files.get(workspace_id, p, f) for p, f in set(files)]
        names: dict[str, str] = {}
        for row in rows:
            if row is not None:
                with contextlib.suppress(KeyUnavailable):
                    names[row.id] = self._file(row, actor).name
        return names

    def _live(
        self, uow: DataUnitOfWork, workspace_id: str, project_id: str, file_id: str
    ) -> FileRow:
        require_project(uow, workspace_id, project_id)
        ids.check_id("file", file_id)
        row = uow.files.get(workspace_id, project_id, file_id)
        if row is None or row.state != ObjectState.LIVE:
            raise NotFound(
                f"no file {file_id} in project {project_id}", file_id=file_id, project_id=project_id
            )
        return row

    def _file(self, row: FileRow, actor: str) -> StoredFile:
        name = self.ctx.open(
            row.project_id,
            name_binding(row.workspace_id, row.project_id, row.id),
            row.name_sealed,
            actor,
        ).decode()
        return StoredFile(row.id, row.workspace_id, row.project_id, name, row.size, row.created_at)
