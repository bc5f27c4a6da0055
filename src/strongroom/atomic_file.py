"""Writing a file the user asked for so that it appears whole or not at all."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from strongroom.durable_file import DurableFile

T = TypeVar("T")
Write = Callable[[bytes], object]


def write_atomically(path: Path, produce: Callable[[Write], T]) -> T:
    """Call ``produce`` with a writer into an owner-only temporary file beside ``path``;
    fsync it and rename it to ``path`` only if ``produce`` returns (it is removed if it
    raises). Returns what ``produce`` returned."""
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    try:
        with DurableFile(fd) as out:
            result = produce(out.write)
            out.sync()
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise
    return result
