"""The blob store contract, run against every store: the folder and S3 (a real SeaweedFS,
signatures checked). A blob is visible only once its writer finished without error; reads
and writes stream in bounded memory whatever the blob's size; what a writer abandoned is
swept once old enough."""

from __future__ import annotations

import logging
import os
import time
import tracemalloc
from collections.abc import Iterator
from contextlib import AbstractContextManager
from datetime import timedelta
from pathlib import Path

import pytest

from strongroom.blobs import folder
from strongroom.blobs.base import BlobStore, BlobWriter, SweepsAbandoned
from strongroom.blobs.folder import FolderBlobStore
from strongroom.blobs.s3 import PART_SIZE, UPLOAD_THREADS, S3BlobStore
from strongroom.errors import InvalidInput, NotFound, StorageUnavailable
from tests.s3_support import REGION, SeaweedS3

MiB = 1024 * 1024
DAY = timedelta(days=1)


class Broken(Exception):
    pass


@pytest.fixture(params=["folder", "s3"])
def store(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[FolderBlobStore | S3BlobStore]:
    if request.param == "folder":
        yield FolderBlobStore(tmp_path / "blobs")
        return
    server: SeaweedS3 = request.getfixturevalue("s3_server")
    request.getfixturevalue("s3_credentials")
    yield S3BlobStore(server.new_bucket(), "blobs/", endpoint_url=server.endpoint, region=REGION)


def leftovers(store: BlobStore) -> list[str]:
    """What abandoned writes left: partial files, or multipart uploads still open."""
    if isinstance(store, FolderBlobStore):
        return [p.name for p in store.root.glob("*/.*.partial")]
    assert isinstance(store, S3BlobStore)
    listed = store.client.list_multipart_uploads(Bucket=store.bucket)
    return [u["Key"] for u in listed.get("Uploads", [])]


def pattern(size: int) -> bytes:
    block = os.urandom(MiB)
    return (block * (size // MiB + 1))[:size]


def read_all(store: BlobStore, key: str, chunk: int) -> bytes:
    out = bytearray()
    with store.open(key) as blob:
        while data := blob.read(chunk):
            out += data
    return bytes(out)


@pytest.mark.parametrize("size", [0, 1, 100_000, PART_SIZE, 2 * PART_SIZE + 12_345])
def test_a_blob_reads_back_as_written(store: BlobStore, size: int) -> None:
    data = pattern(size)
    with store.writer("fil_roundtrip") as out:
        for i in range(0, size, 65_536 + 7):  # writes that do not line up with parts
            out.write(data[i : i + 65_536 + 7])
    assert store.exists("fil_roundtrip")
    assert read_all(store, "fil_roundtrip", 1_000_003) == data
    assert read_all(store, "fil_roundtrip", 4_093) == data


def test_a_blob_is_invisible_until_its_writer_finishes(store: BlobStore) -> None:
    with store.writer("fil_pending") as out:
        out.write(pattern(PART_SIZE + 1))  # on S3, a part is already uploaded
        assert not store.exists("fil_pending")
        with pytest.raises(NotFound), store.open("fil_pending"):
            pass
    assert store.exists("fil_pending")


@pytest.mark.parametrize("size", [10, 2 * PART_SIZE + 1])
def test_a_writer_that_raises_leaves_no_blob_and_nothing_behind(
    store: BlobStore, size: int
) -> None:
    with pytest.raises(Broken), store.writer("fil_broken") as out:
        out.write(pattern(size))
        raise Broken
    assert not store.exists("fil_broken")
    with pytest.raises(NotFound), store.open("fil_broken"):
        pass
    assert leftovers(store) == []


def test_missing_blobs_are_not_found_and_deleting_them_is_fine(store: BlobStore) -> None:
    with pytest.raises(NotFound, match="fil_nothere"), store.open("fil_nothere"):
        pass
    assert not store.exists("fil_nothere")
    store.delete("fil_nothere")
    with store.writer("fil_there") as out:
        out.write(b"ciphertext")
    store.delete("fil_there")
    assert not store.exists("fil_there")
    with pytest.raises(NotFound), store.open("fil_there"):
        pass


@pytest.mark.parametrize("key", ["../etc/passwd", "FIL_UPPER", "a/b_c", "x" * 129, "ab"])
def test_keys_that_are_not_blob_keys_are_refused(store: BlobStore, key: str) -> None:
    with pytest.raises(InvalidInput):
        store.exists(key)
    with pytest.raises(InvalidInput), store.writer(key):
        pass


def test_what_a_killed_writer_left_is_swept_once_old_enough(
    store: FolderBlobStore | S3BlobStore,
) -> None:
    # A writer abandoned half-way, as by a process killed mid-upload (tested with a real
    # kill -9 in test_s3_killed_upload.py): its context is entered and never left.
    abandoned: AbstractContextManager[BlobWriter] = store.writer("fil_killed")
    abandoned.__enter__().write(pattern(PART_SIZE + 5))
    assert isinstance(store, SweepsAbandoned)
    assert len(leftovers(store)) == 1
    assert store.sweep_abandoned(DAY) == 0  # it could still be writing
    assert len(leftovers(store)) == 1
    assert store.sweep_abandoned(DAY, now=time.time() + 2 * DAY.total_seconds()) == 1
    assert leftovers(store) == []
    assert not store.exists("fil_killed")


def test_a_large_blob_streams_both_ways_in_bounded_memory(store: BlobStore) -> None:
    size = 72 * MiB  # more than 64 MiB, nine S3 parts
    chunk = os.urandom(64 * 1024)
    tracemalloc.start()
    try:
        with store.writer("fil_large") as out:
            for _ in range(size // len(chunk)):
                out.write(chunk)
        _, write_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        total, same = 0, True
        with store.open("fil_large") as blob:
            while data := blob.read(len(chunk)):
                same = same and data == chunk
                total += len(data)
        _, read_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert total == size and same
    # One part filling and UPLOAD_THREADS in flight at most (sent as they are, not
    # copied); a read buffer of 1 MiB.
    bound = (UPLOAD_THREADS + 2) * PART_SIZE
    assert write_peak < bound, f"writing held {write_peak / MiB:.1f} MiB"
    assert read_peak < 8 * MiB, f"reading held {read_peak / MiB:.1f} MiB"
    print(f"\n{store!r}: peak {write_peak / MiB:.1f} MiB writing, {read_peak / MiB:.1f} reading")


# S3 only: the server checks who asks, and its failures are StorageUnavailable -----------------


def test_s3_refuses_a_wrong_secret(
    s3_server: SeaweedS3, monkeypatch: pytest.MonkeyPatch, s3_credentials: dict[str, str]
) -> None:
    bucket = s3_server.new_bucket()
    store = S3BlobStore(bucket, endpoint_url=s3_server.endpoint, region=REGION)
    with store.writer("fil_signed") as out:
        out.write(b"sealed")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret-" + "x" * 25)
    forged = S3BlobStore(bucket, endpoint_url=s3_server.endpoint, region=REGION)
    with (
        pytest.raises(StorageUnavailable, match="SignatureDoesNotMatch") as refused,
        forged.open("fil_signed"),
    ):
        pass
    assert "not-the-secret" not in str(refused.value)
    with pytest.raises(StorageUnavailable), forged.writer("fil_forged") as out:
        out.write(b"x")
    assert s3_server.objects(bucket) == ["fil_signed"]


def test_s3_unreachable_is_storage_unavailable_in_one_line(
    s3_credentials: dict[str, str],
) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens there once closed
    store = S3BlobStore("srtest-gone", endpoint_url=f"http://127.0.0.1:{port}", region=REGION)
    started = time.monotonic()
    for attempt in (
        lambda: store.exists("fil_x"),
        lambda: store.open("fil_x").__enter__(),
        lambda: store.delete("fil_x"),
    ):
        with pytest.raises(StorageUnavailable, match="unreachable") as down:
            attempt()
        assert "\n" not in str(down.value)
    assert time.monotonic() - started < 30


def test_s3_never_logs_the_secret_even_at_debug(
    s3_server: SeaweedS3, s3_credentials: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    store = S3BlobStore(s3_server.new_bucket(), endpoint_url=s3_server.endpoint, region=REGION)
    with caplog.at_level(logging.DEBUG):
        with store.writer("fil_logged") as out:
            out.write(pattern(PART_SIZE + 1))
        assert read_all(store, "fil_logged", MiB)
        store.delete("fil_logged")
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "fil_logged" in logged  # botocore did log its requests
    assert s3_credentials["AWS_SECRET_ACCESS_KEY"] not in logged


@pytest.mark.parametrize("size", [100_000, 3 * MiB])
def test_a_full_disk_is_storage_unavailable_and_leaves_no_partial(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, size: int
) -> None:
    """The folder store on a full disk: its blobs written to /dev/full, which answers every
    write with ENOSPC as a full disk does (failing in the last flush or mid-stream)."""
    real = folder.DurableFile

    def on_a_full_disk(fd: int) -> folder.DurableFile:
        os.close(fd)  # the temporary file stays: the store must remove it
        return real(os.open("/dev/full", os.O_WRONLY))

    monkeypatch.setattr(folder, "DurableFile", on_a_full_disk)
    store = FolderBlobStore(tmp_path / "blobs")
    with pytest.raises(StorageUnavailable, match="is full"), store.writer("fil_full") as out:
        out.write(pattern(size))
    assert not store.exists("fil_full")
    assert leftovers(store) == []
