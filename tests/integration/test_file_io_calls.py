"""Files move through the kernel in large chunks: storing or fetching a file costs a
system call per few segments, not one (or two) per 64 KiB segment. Counted with Linux's
``/proc/self/io`` (read and write system calls of this process), on SQLite and
PostgreSQL."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from strongroom.bootstrap import Strongroom

PROC_IO = Path("/proc/self/io")
SIZE = 16 * 1024 * 1024  # 256 segments
SEGMENTS = SIZE // (64 * 1024)

pytestmark = pytest.mark.skipif(not PROC_IO.exists(), reason="needs Linux /proc/self/io")


def _calls() -> tuple[int, int]:
    fields = dict(line.split(": ") for line in PROC_IO.read_text().splitlines())
    return int(fields["syscr"]), int(fields["syscw"])


def test_put_and_get_make_a_system_call_per_few_segments(sr: Strongroom, tmp_path: Path) -> None:
    ws = sr.workspaces.create("Acme", "owner@acme.example")
    project = sr.projects.create(ws.id, "Hiring")
    data = os.urandom(SIZE)
    source = tmp_path / "in.bin"
    source.write_bytes(data)

    reads_before, writes_before = _calls()
    with open(source, "rb") as f:
        stored = sr.files.put(ws.id, project.id, "in.bin", f)
    reads, writes = _calls()
    # before: a read and a write per segment (256 each); the database adds a few
    assert reads - reads_before < SEGMENTS // 4
    assert writes - writes_before < SEGMENTS // 2

    out = tmp_path / "out.bin"
    reads_before, writes_before = _calls()
    sr.files.get_to_path(ws.id, project.id, stored.id, out)
    reads, writes = _calls()
    # before: two reads and a write per segment
    assert reads - reads_before < SEGMENTS // 4
    assert writes - writes_before < SEGMENTS // 2
    assert out.read_bytes() == data


def test_a_stream_read_from_a_pipe_like_source_is_the_same_file(
    sr: Strongroom, tmp_path: Path
) -> None:
    """A source that returns short reads (an upload, stdin) still gives the same file."""

    class Trickle(io.RawIOBase):
        def __init__(self, data: bytes) -> None:
            self._data = io.BytesIO(data)

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
            chunk = self._data.read(min(len(buffer), 10_000))
            buffer[: len(chunk)] = chunk
            return len(chunk)

    ws = sr.workspaces.create("Acme", "owner@acme.example")
    project = sr.projects.create(ws.id, "Hiring")
    data = os.urandom(3 * 1024 * 1024 + 17)
    stored = sr.files.put(ws.id, project.id, "in.bin", io.BufferedReader(Trickle(data), 4096))
    out = tmp_path / "out.bin"
    sr.files.get_to_path(ws.id, project.id, stored.id, out)
    assert out.read_bytes() == data
