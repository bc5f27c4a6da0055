"""durable_file.DurableFile, which every blob and every fetched file is written through:
the bytes land whole and in order though a thread writes them while the caller goes on; a
write that fails in that thread (a full disk) reaches the caller instead of being lost; and
no writer thread outlives its file."""

from __future__ import annotations

import errno
import os
import threading
from pathlib import Path

import pytest

from strongroom.durable_file import WRITE_BATCH_BYTES, DurableFile

SEGMENT = 64 * 1024 + 16  # a ciphertext segment


def _writers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "durable-file-writer"]


def test_the_file_is_written_whole_and_in_order(tmp_path: Path) -> None:
    path = tmp_path / "out.bin"
    expected = bytearray()
    reused = bytearray(SEGMENT)  # a caller that refills one buffer for every write
    with DurableFile(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)) as out:
        for number in range(5 * WRITE_BATCH_BYTES // SEGMENT):
            piece = os.urandom(SEGMENT - number % 7)
            if number % 3 == 0:
                reused[: len(piece)] = piece
                out.write(memoryview(reused)[: len(piece)])
                reused[:] = bytes(len(reused))  # overwritten at once: what was given must stay
            else:
                out.write(piece)
            expected += piece
        out.write(b"")
        out.write(b"tail")
        expected += b"tail"
        out.sync()
        assert _writers() == []
    assert path.read_bytes() == bytes(expected)


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_full_disk_reaches_the_caller() -> None:
    with (
        DurableFile(os.open("/dev/full", os.O_WRONLY)) as out,
        pytest.raises(OSError) as raised,
    ):
        for _ in range(4 * WRITE_BATCH_BYTES // SEGMENT):
            out.write(os.urandom(SEGMENT))
        out.sync()
    assert raised.value.errno == errno.ENOSPC
    assert _writers() == []


def test_a_file_closed_without_sync_leaves_no_writer(tmp_path: Path) -> None:
    path = tmp_path / "out.bin"
    with DurableFile(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)) as out:
        for _ in range(3 * WRITE_BATCH_BYTES // SEGMENT):
            out.write(os.urandom(SEGMENT))
        assert _writers() != []  # the file passed a batch: a thread writes it
    assert _writers() == []
