"""A new file written in large chunks, whose data starts going to disk while it is still
being written, and which is fsynced before anyone may rely on it.

Large files (a blob, a file the user asked for) are written segment by segment, 64 KiB at
a time. Two things make that slow as a whole process, and this module answers both:

- One ``write`` per segment is a system call per 64 KiB: the writes are gathered into
  ``WRITE_BUFFER_BYTES`` before they reach the kernel. Not more: a buffer larger than the
  CPU's cache no longer stays in it between the copy into it and the kernel's copy out,
  which made much larger writes cost more than 64 KiB ones (the figures are bench/'s).
- The kernel keeps what was written in memory until the ``fsync`` at the end, which then
  waits for the whole file to reach the disk while nothing else happens. Every
  ``WRITEBACK_EVERY_BYTES`` the part written so far is handed to the disk (Linux
  ``sync_file_range(SYNC_FILE_RANGE_WRITE)``: start writing, do not wait), so the disk
  works while the next segments are encrypted, and the final ``fsync`` waits only for the
  tail. Elsewhere the hint is skipped.

The hint changes nothing about durability: :meth:`DurableFile.sync` is still the
``fsync`` after which the data is on disk, and callers do that before they rename the file
into place or record it.
"""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Callable
from types import TracebackType

WRITE_BUFFER_BYTES = 256 * 1024
WRITEBACK_EVERY_BYTES = 8 * 1024 * 1024
_SYNC_FILE_RANGE_WRITE = 2  # linux/fs.h: start writeback of dirty pages, do not wait


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


class DurableFile:
    """Writes to an open file descriptor (which it owns and closes) in large chunks,
    starting writeback as it goes; :meth:`sync` flushes and fsyncs."""

    def __init__(self, fd: int) -> None:
        self._file = os.fdopen(fd, "wb", buffering=WRITE_BUFFER_BYTES)
        self._written = 0
        self._handed_over = 0  # bytes whose writeback has been started

    def write(self, data: bytes) -> int:
        written = self._file.write(data)
        self._written += written
        if self._written - self._handed_over >= WRITEBACK_EVERY_BYTES:
            self._file.flush()
            start = self._handed_over
            start_writeback(self._file.fileno(), start, self._written - start)
            self._handed_over = self._written
        return written

    def sync(self) -> None:
        """Everything written is on disk when this returns."""
        self._file.flush()
        os.fsync(self._file.fileno())

    def fileno(self) -> int:
        return self._file.fileno()

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> DurableFile:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
