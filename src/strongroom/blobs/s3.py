"""Blobs as objects in an S3-compatible bucket (AWS S3, SeaweedFS, MinIO, Ceph RGW ...).

A blob is written as one multipart upload whose parts are sent by a few threads while the
next part fills, so a writer holds at most ``UPLOAD_THREADS + 1`` parts in memory whatever
the blob's size (sending one part at a time left the upload waiting on each round trip:
half of boto3's own managed transfer, bench ``s3_file_put_ratio``); a blob smaller than
one part is a single PUT. The object appears only when the upload is completed, on the
writer's clean exit; an exception aborts the upload. A process killed mid-upload leaves an
upload that was never completed (invisible to reads): :meth:`S3BlobStore.sweep_abandoned`
aborts those older than a bound. Reads stream the GET body through a buffered reader.

Credentials come only from boto3's standard chain (environment, profiles, instance
roles); nothing here reads, stores or logs them. The objects are already AES-256-GCM
ciphertext (segments.py): the bucket never sees plaintext or keys.
"""

from __future__ import annotations

import contextlib
import io
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, BinaryIO, cast

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from strongroom.blobs.base import BlobWriter, check_key
from strongroom.errors import InvalidInput, NotFound, StorageUnavailable

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

MiB = 1024 * 1024
#: The first parts' size; S3 wants at least 5 MiB for every part but the last.
PART_SIZE = 8 * MiB
#: S3 allows 10,000 parts: every 1,000 parts the part size grows by PART_SIZE, so a blob may
#: reach about 430 GiB while a writer holds at most 10 parts' worth (80 MiB) at the very end.
PARTS_PER_STEP = 1000
MAX_PARTS = 10_000
#: Parts of one upload in flight at once (each in its own thread, a part's bytes each).
UPLOAD_THREADS = 4
#: Reads fetch the GET body in chunks of this size (one buffer per open blob).
READ_BUFFER = 1 * MiB
_MISSING = {"NoSuchKey", "404", "NotFound"}


def part_size(number: int, base: int = PART_SIZE) -> int:
    """Size of part ``number`` (1-based) of an upload."""
    return base * (1 + (number - 1) // PARTS_PER_STEP)


class S3BlobStore:
    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        endpoint_url: str = "",
        region: str = "",
        client: S3Client | None = None,
        part_bytes: int = PART_SIZE,
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix
        self.endpoint = endpoint_url or "AWS S3"
        self.part_bytes = part_bytes
        self.client: S3Client = client or boto3.session.Session().client(
            "s3",
            endpoint_url=endpoint_url or None,
            region_name=region or None,
            config=Config(
                connect_timeout=5,
                read_timeout=60,
                retries={"mode": "standard", "max_attempts": 3},
                # S3-compatible stores differ in their support of checksum trailers; the
                # ciphertext authenticates itself (AES-GCM), so send checksums when required.
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
            ),
        )

    def __repr__(self) -> str:
        return f"S3BlobStore({self.endpoint!r}, {self.bucket!r}, {self.prefix!r})"

    def name(self, key: str) -> str:
        return self.prefix + check_key(key)

    def writer(self, key: str) -> contextlib.AbstractContextManager[BlobWriter]:
        return self.object_writer(self.name(key))

    def open(self, key: str) -> contextlib.AbstractContextManager[BinaryIO]:
        return self.open_object(self.name(key), key)

    # Objects by their full name (the backup folder on S3, backup/s3_place.py, names its
    # objects itself; a blob's name is the prefix and its checked key).
    @contextlib.contextmanager
    def object_writer(self, name: str) -> Iterator[BlobWriter]:
        """Write object ``name``: it appears on clean exit, an exception aborts it."""
        upload = _Upload(self, name)
        try:
            yield upload
            upload.finish()
        except BaseException:
            upload.abort()
            raise

    @contextlib.contextmanager
    def open_object(self, name: str, label: str) -> Iterator[BinaryIO]:
        """Stream object ``name``; NotFound (naming ``label``) if it does not exist."""
        with self.calls(f"reading blob {label}", missing=label):
            body = self.client.get_object(Bucket=self.bucket, Key=name)["Body"]
        reader = io.BufferedReader(_Body(self, label, body), READ_BUFFER)
        with reader:
            yield cast(BinaryIO, reader)

    def listed(self, prefix: str) -> list[tuple[str, datetime]]:
        """Every object whose name starts with ``prefix``: (name, last modified)."""
        found: list[tuple[str, datetime]] = []
        with self.calls("listing objects"):
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=prefix
            )
            for page in pages:
                found += [(o["Key"], o["LastModified"]) for o in page.get("Contents", [])]
        return found

    def delete_objects(self, names: list[str]) -> None:
        """Delete these objects (a thousand per request); missing ones are not an error."""
        for start in range(0, len(names), 1000):
            batch = [{"Key": n} for n in names[start : start + 1000]]
            with self.calls("deleting objects"):
                answer = self.client.delete_objects(
                    Bucket=self.bucket, Delete={"Objects": cast(Any, batch), "Quiet": True}
                )
            if answer.get("Errors"):
                error = answer["Errors"][0]
                raise StorageUnavailable(
                    f"S3 ({self.endpoint}, bucket {self.bucket}) refused deleting "
                    f"{error.get('Key', '?')}: {error.get('Code', '?')}"
                )

    def versioned(self) -> bool:
        """Whether the bucket keeps old versions of objects (a delete then deletes
        nothing: the bytes stay as a noncurrent version)."""
        with self.calls("reading the bucket's versioning"):
            status = self.client.get_bucket_versioning(Bucket=self.bucket).get("Status", "")
        return status in ("Enabled", "Suspended")

    def delete(self, key: str) -> None:
        with self.calls(f"deleting blob {key}"):
            self.client.delete_object(Bucket=self.bucket, Key=self.name(key))

    def exists(self, key: str) -> bool:
        try:
            with self.calls(f"looking up blob {key}", missing=key):
                self.client.head_object(Bucket=self.bucket, Key=self.name(key))
        except NotFound:
            return False
        return True

    def sweep_abandoned(self, max_age: timedelta, now: float | None = None) -> int:
        """Abort the multipart uploads under the prefix begun more than ``max_age`` ago:
        what writers killed mid-upload left (never visible, but their parts take space).
        ``now`` is a POSIX timestamp (default: the system clock). Returns how many."""
        cutoff = datetime.fromtimestamp(
            (time.time() if now is None else now) - max_age.total_seconds(), UTC
        )
        aborted = 0
        with self.calls("sweeping abandoned uploads"):
            pages = self.client.get_paginator("list_multipart_uploads").paginate(
                Bucket=self.bucket, Prefix=self.prefix
            )
            for page in pages:
                for upload in page.get("Uploads", []):
                    if upload["Initiated"] < cutoff:
                        try:
                            self.client.abort_multipart_upload(
                                Bucket=self.bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                            )
                        except ClientError as e:
                            if _code(e) != "NoSuchUpload":  # finished or aborted meanwhile
                                raise
                            continue
                        aborted += 1
        return aborted

    @contextlib.contextmanager
    def calls(self, doing: str, missing: str | None = None) -> Iterator[None]:
        """Turn boto3's errors into Strongroom's, in one line without credentials:
        a missing object is NotFound; anything else the store could not do is
        StorageUnavailable (503)."""
        try:
            yield
        except ClientError as e:
            code = _code(e)
            if missing is not None and code in _MISSING:
                raise NotFound(f"blob {missing} is missing", blob=missing) from None
            status = e.response.get("ResponseMetadata", {}).get("HTTPStatusCode", "?")
            raise StorageUnavailable(
                f"S3 ({self.endpoint}, bucket {self.bucket}) refused {doing}: {code} ({status})"
            ) from None
        except NoCredentialsError:
            raise StorageUnavailable(
                "no AWS credentials found for S3: set AWS_ACCESS_KEY_ID and "
                "AWS_SECRET_ACCESS_KEY, a profile, or an instance role"
            ) from None
        except BotoCoreError as e:
            raise StorageUnavailable(
                f"S3 ({self.endpoint}) is unreachable while {doing}: {type(e).__name__}"
            ) from None


class _Upload:
    """One blob being written: a buffer of at most one part, a multipart upload begun when
    the first part is full."""

    def __init__(self, store: S3BlobStore, name: str) -> None:
        self.store = store
        self.name = name
        self.buffer = io.BytesIO()  # sent as it is: no copy of a part is made
        self.upload_id: str | None = None
        self.parts: list[dict[str, Any]] = []
        self.sent = 0  # parts handed to the threads
        self.pool: ThreadPoolExecutor | None = None
        self.pending: list[Future[dict[str, Any]]] = []

    def write(self, data: bytes) -> int:
        view = memoryview(data)
        while view:
            limit = part_size(self.sent + 1, self.store.part_bytes)
            room = limit - self.buffer.tell()
            self.buffer.write(view[:room])
            view = view[room:]
            if self.buffer.tell() >= limit:
                self._send_part()
        return len(data)

    def _send_part(self) -> None:
        """Hand the full buffer to a thread; first wait for the oldest part in flight if
        ``UPLOAD_THREADS`` are (the bound on memory)."""
        store = self.store
        if self.sent >= MAX_PARTS:
            raise InvalidInput(f"a blob on S3 may have at most {MAX_PARTS} parts")
        if self.upload_id is None:
            with store.calls("writing a blob"):
                self.upload_id = store.client.create_multipart_upload(
                    Bucket=store.bucket, Key=self.name
                )["UploadId"]
            self.pool = ThreadPoolExecutor(UPLOAD_THREADS, thread_name_prefix="s3-upload")
        assert self.pool is not None
        while len(self.pending) >= UPLOAD_THREADS:
            self.parts.append(self.pending.pop(0).result())
        self.sent += 1
        self.buffer.seek(0)
        self.pending.append(self.pool.submit(self._upload_part, self.sent, self.buffer))
        self.buffer = io.BytesIO()

    def _upload_part(self, number: int, body: io.BytesIO) -> dict[str, Any]:
        store = self.store
        with store.calls("writing a blob"):
            etag = store.client.upload_part(
                Bucket=store.bucket,
                Key=self.name,
                UploadId=cast(str, self.upload_id),
                PartNumber=number,
                Body=body,
            )["ETag"]
        return {"PartNumber": number, "ETag": etag}

    def _drain(self) -> None:
        """Wait for every part in flight (the first failure raises, after all ended)."""
        pending, self.pending = self.pending, []
        failure: BaseException | None = None
        for future in pending:
            try:
                self.parts.append(future.result())
            except BaseException as e:
                failure = failure or e
        if self.pool is not None:
            self.pool.shutdown(wait=True)
            self.pool = None
        if failure is not None:
            raise failure

    def finish(self) -> None:
        store = self.store
        if self.upload_id is None:  # smaller than one part: one PUT
            self.buffer.seek(0)
            with store.calls("writing a blob"):
                store.client.put_object(Bucket=store.bucket, Key=self.name, Body=self.buffer)
            self.buffer = io.BytesIO()
            return
        if self.buffer.tell():
            self._send_part()
        self._drain()
        with store.calls("writing a blob"):
            store.client.complete_multipart_upload(
                Bucket=store.bucket,
                Key=self.name,
                UploadId=self.upload_id,
                MultipartUpload={"Parts": cast(Any, self.parts)},
            )

    def abort(self) -> None:
        """Drop what was sent; best effort (a failure here leaves an invisible upload that
        the sweep aborts later)."""
        self.buffer = io.BytesIO()
        with contextlib.suppress(Exception):
            self._drain()  # no part may land after the abort
        if self.upload_id is None:
            return
        with contextlib.suppress(ClientError, BotoCoreError):
            self.store.client.abort_multipart_upload(
                Bucket=self.store.bucket, Key=self.name, UploadId=self.upload_id
            )


class _Body(io.RawIOBase):
    """The GET body as a raw stream: ``readinto`` reads from the socket, never more."""

    def __init__(self, store: S3BlobStore, key: str, body: Any) -> None:
        self.store = store
        self.key = key
        self.body = body

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        with self.store.calls(f"reading blob {self.key}"):
            data = self.body.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        return n

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.body.close()
        super().close()


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", "?"))
