"""A new file written in large chunks, by a thread of its own while the caller makes the
next ones, whose data starts going to disk while it is still being written, and which is
fsynced before anyone may rely on it.

Large files (a blob, a file the user asked for) are written segment by segment, 64 KiB at
a time. Three things made that slow as a whole process, and this module answers each:

- One ``write`` per segment is a system call per 64 KiB: the segments are gathered into
  batches of ``WRITE_BATCH_BYTES`` and each batch goes to the kernel in one ``writev``,
  straight from the segments (no copy into a buffer of our own first).
- Copying a batch into the page cache is most of a large file's system time, and the
  caller (encrypting or decrypting the next segments) waited for it. Once a file passes
  one batch, a writer thread does the ``writev`` calls (which release the GIL) while the
  caller goes on; at most ``QUEUED_BATCHES`` batches wait for it, so memory stays bounded
  and a slow disk slows the caller down instead of filling the memory. A small file never
  starts the thread: it is written at :meth:`DurableFile.sync`.
- The kernel keeps what was written in memory until the ``fsync`` at the end, which then
  waits for the whole file to reach the disk while nothing else happens. Every
  ``WRITEBACK_EVERY_BYTES`` the part written so far is handed to the disk (Linux
  ``sync_file_range(SYNC_FILE_RANGE_WRITE)``: start writing, do not wait), so the disk
  works while the next segments are made, and the final ``fsync`` waits only for the
  tail. Elsewhere the hint is skipped.

None of it changes durability: :meth:`DurableFile.sync` returns once every byte given to
:meth:`DurableFile.write` has been written and ``fsync`` has returned, and callers do that
before they rename the file into place or record it. A write that fails in the thread
(a full disk) is raised by the caller's next ``write`` or by ``sync``.
"""

from __future__ import annotations

import ctypes
import os
import queue
import sys
import threading
from collections.abc import Callable
from types import TracebackType

#: What the ``strongroom file get -o -`` stdout writer gathers before a ``write``.
WRITE_BUFFER_BYTES = 256 * 1024
#: What a ``writev`` of a DurableFile carries. Measured encrypting 1 GiB into a blob:
#: 1 MiB batches were slower (the thread hands over twice as often), 4 MiB no faster.
WRITE_BATCH_BYTES = 2 * 1024 * 1024
#: Batches handed to the writer thread and not yet written, at most.
QUEUED_BATCHES = 2
WRITEBACK_EVERY_BYTES = 8 * 1024 * 1024
_SYNC_FILE_RANGE_WRITE = 2  # linux/fs.h: start writeback of dirty pages, do not wait
#: Buffers per ``writev`` (Linux's IOV_MAX is 1024).
_MAX_BUFFERS = 512


def _find_sync_file_range() -> Callable[[int, int, int, int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        function = ctypes.CDLL(None, use_errno=True).sync_file_range
    except (OSError, AttributeError):
        return None
    function.argtypes = (ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint)
    function.restype = ctypes.c_int
    return function


_sync_file_range = _find_sync_file_range()


def start_writeback(fd: int, offset: int, length: int) -> None:
    """Ask the kernel to start writing this range to disk; a hint (failures are ignored:
    the fsync that follows is what makes the data durable)."""
    if _sync_file_range is not None and length > 0:
        _sync_file_range(fd, offset, length, _SYNC_FILE_RANGE_WRITE)


def write_all(fd: int, buffers: list[bytes]) -> None:
    """Write every buffer, in order, with as few ``writev`` calls as the kernel allows."""
    for start in range(0, len(buffers), _MAX_BUFFERS):
        chunk = buffers[start : start + _MAX_BUFFERS]
        left = sum(len(b) for b in chunk)
        written = os.writev(fd, chunk)
        while written < left:  # a short write: the rest, from where it stopped
            rest = memoryview(b"".join(chunk))[written:]
            written += os.write(fd, rest)


class _Writer(threading.Thread):
    """Writes the batches it is given, in order, and starts writeback as it goes; keeps
    the first error and writes nothing after it."""

    def __init__(self, fd: int) -> None:
        super().__init__(name="durable-file-writer", daemon=True)
        self.fd = fd
        self.batches: queue.Queue[list[bytes] | None] = queue.Queue(maxsize=QUEUED_BATCHES)
        self.error: BaseException | None = None
        self.abandoned = False  # the file was closed without sync: skip what is left
        self._written = 0
        self._handed_over = 0  # bytes whose writeback has been started

    def run(self) -> None:
        while (batch := self.batches.get()) is not None:
            if self.error is not None or self.abandoned:
                continue
            try:
                write_all(self.fd, batch)
                self._written += sum(len(b) for b in batch)
                if self._written - self._handed_over >= WRITEBACK_EVERY_BYTES:
                    start_writeback(self.fd, self._handed_over, self._written - self._handed_over)
                    self._handed_over = self._written
            except BaseException as error:  # raised in the caller's thread
                self.error = error

    def finish(self) -> None:
        """Return once every batch given has been written (or the writer failed)."""
        self.batches.put(None)
        self.join()


class DurableFile:
    """Writes to an open file descriptor (which it owns and closes) in large batches,
    from a writer thread once the file passes one batch, starting writeback as it goes;
    :meth:`sync` waits for every write, then fsyncs."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._pending: list[bytes] = []
        self._pending_bytes = 0
        self._writer: _Writer | None = None
        self._closed = False

    def write(self, data: bytes | bytearray | memoryview) -> int:
        """Take ``data`` (copied unless it is ``bytes``, so the caller may reuse its buffer)."""
        self._raise_failure()
        chunk = data if isinstance(data, bytes) else bytes(data)
        self._pending.append(chunk)
        self._pending_bytes += len(chunk)
        if self._pending_bytes >= WRITE_BATCH_BYTES:
            self._hand_over()
        return len(chunk)

    def _hand_over(self) -> None:
        if self._writer is None:
            self._writer = _Writer(self._fd)
            self._writer.start()
        self._writer.batches.put(self._pending)  # waits while QUEUED_BATCHES wait already
        self._pending = []
        self._pending_bytes = 0

    def _raise_failure(self) -> None:
        if self._writer is not None and self._writer.error is not None:
            raise self._writer.error

    def sync(self) -> None:
        """Everything written is on disk when this returns."""
        writer, self._writer = self._writer, None
        pending, self._pending, self._pending_bytes = self._pending, [], 0
        if writer is None:
            write_all(self._fd, pending)
        else:
            if pending:
                writer.batches.put(pending)
            writer.finish()
            if writer.error is not None:
                raise writer.error
        os.fsync(self._fd)

    def fileno(self) -> int:
        return self._fd

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._writer is not None:  # closed without sync (the caller failed): stop it
            self._writer.abandoned = True
            self._writer.finish()
        os.close(self._fd)

    def __enter__(self) -> DurableFile:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
