"""s3_file_put_ratio and s3_file_get_ratio: a large file through Strongroom's file API on an
S3 blob store against boto3 moving the same bytes to and from the same bucket.

The bench starts its own SeaweedFS (tests/seaweed.py, as the tests do) under the work
folder and a home with ``blob_store = "s3"`` on it; credentials reach boto3 through the
environment, as the standard AWS chain finds them. Each repetition times ``sr.files.put``
and the baseline upload, then ``sr.files.get_to_path`` and the baseline download,
alternating which goes first. The baseline is boto3's own managed transfer
(``upload_file`` / ``download_file`` with its default TransferConfig: 8 MiB parts, up to
10 threads), what a program using boto3 directly would do.
"""

from __future__ import annotations

import gc
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.seaweed import SeaweedS3, credentials_env

from bench.files import MB, Home, _check_round_trip, _sr_get, _sr_put, make_source
from bench.runner import MIB, Config, Result, Target, alternate, median, work_dir
from strongroom.bootstrap import init_home, open_strongroom


@contextmanager
def seaweed(folder: Path) -> Iterator[SeaweedS3]:
    """A SeaweedFS of the bench's own, its identity in the environment meanwhile."""
    saved = {name: os.environ.get(name) for name in credentials_env()}
    os.environ.update(credentials_env())
    server = SeaweedS3(folder / "seaweedfs")
    server.start()
    try:
        yield server
    finally:
        server.stop()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _make_home(folder: Path, server: SeaweedS3, bucket: str) -> tuple[Path, str, str]:
    home = folder / "home"
    init_home(home, **server.settings(bucket, prefix="blobs/"))
    with open_strongroom(home) as sr:
        ws = sr.workspaces.create("Bench S3 Files", "owner@example.com")
        prj = sr.projects.create(ws.id, "Attachments")
    return home, ws.id, prj.id


def _boto_put(client: Any, bucket: str, source: Path) -> float:
    t0 = time.perf_counter()
    client.upload_file(str(source), bucket, "plain/source.bin")
    return time.perf_counter() - t0


def _boto_get(client: Any, bucket: str, destination: Path) -> float:
    t0 = time.perf_counter()
    client.download_file(bucket, "plain/source.bin", str(destination))
    elapsed = time.perf_counter() - t0
    destination.unlink()
    return elapsed


def run(config: Config, wanted: frozenset[str]) -> list[Result]:
    size = config.file_bytes
    times: dict[str, list[float]] = {"sr_put": [], "base_put": [], "sr_get": [], "base_get": []}
    with work_dir(config.work, "s3files-") as folder, seaweed(folder) as server:
        bucket = server.new_bucket()
        client = server.client()
        source = folder / "source.bin"
        make_source(source, size)
        home, ws, prj = _make_home(folder, server, bucket)
        out = folder / "out.bin"
        with open_strongroom(home) as sr:
            h = Home(sr, ws, prj)
            _boto_put(client, bucket, source)  # warm-up: page cache, connections, volumes
            for rep in range(config.file_reps):
                gc.collect()
                for first in (True, False):
                    if first == alternate(rep):
                        seconds, file_id = _sr_put(h, source)
                        times["sr_put"].append(seconds)
                    else:
                        times["base_put"].append(_boto_put(client, bucket, source))
                for first in (True, False):
                    if first == alternate(rep):
                        times["sr_get"].append(_sr_get(h, file_id, out))
                    else:
                        times["base_get"].append(_boto_get(client, bucket, out))
                _check_round_trip(h, file_id, source, out)
                sr.ctx.blobs.delete(file_id)

    def rate(side: str) -> float:
        return median(size / MB / s for s in times[side])

    detail = (
        f"{size // MIB} MiB random file, SeaweedFS (weed mini) on this machine, "
        f"median of {config.file_reps} repetitions"
    )
    results = []
    if "s3_file_put_ratio" in wanted:
        results.append(
            Result(
                "s3_file_put_ratio",
                rate("sr_put"),
                rate("base_put"),
                "MB/s",
                Target("ratio", ">=", 0.70),
                "Strongroom: sr.files.put from an open file on blob_store = 's3' (AES-GCM "
                "segments into one multipart upload, then the files row + audit event). "
                "Baseline: boto3 upload_file of the same file to the same bucket (default "
                f"managed transfer); {detail}.",
            )
        )
    if "s3_file_get_ratio" in wanted:
        results.append(
            Result(
                "s3_file_get_ratio",
                rate("sr_get"),
                rate("base_get"),
                "MB/s",
                Target("ratio", ">=", 0.70),
                "Strongroom: sr.files.get_to_path (one GET streamed, decrypted segment by "
                "segment into a temp file, fsync, rename). Baseline: boto3 download_file of "
                f"the same bytes (default managed transfer); {detail}.",
            )
        )
    return results
