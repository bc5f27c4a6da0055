"""The console's streamed multipart reader: the file part of a browser's upload form, read
as the files service reads, whatever way the body arrives in chunks."""

from __future__ import annotations

import io

import pytest

from strongroom.console.multipart_upload import MultipartUpload, NoFile
from strongroom.errors import InvalidInput

BOUNDARY = "----WebKitFormBoundaryq3b1Z9xkT0m4Y2aA"
CONTENT_TYPE = f"multipart/form-data; boundary={BOUNDARY}"
CONTENT = b"line one\r\n--not the boundary\r\n\r\n" + bytes(range(256)) * 3 + b"\r\n-"


def part(name: str, value: bytes, filename: str | None = None) -> bytes:
    disposition = f'form-data; name="{name}"'
    if filename is not None:
        disposition += f'; filename="{filename}"'
    head = f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n"
    if filename is not None:
        head += "Content-Type: application/octet-stream\r\n"
    return head.encode() + b"\r\n" + value + b"\r\n"


def body(*parts: bytes) -> bytes:
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


FORM = body(part("csrftoken", b"token-value"), part("file", CONTENT, "cv é.pdf"))


class Chunks:
    """A source that hands out the body in the given pieces, one per read, as a socket."""

    def __init__(self, pieces: list[bytes]) -> None:
        self.pieces = list(pieces)
        self.reads = 0

    def read(self, n: int = -1, /) -> bytes:
        self.reads += 1
        return self.pieces.pop(0) if self.pieces else b""


def read_all(upload: MultipartUpload, size: int) -> bytes:
    out = bytearray()
    while chunk := upload.read(size):
        out += chunk
    return bytes(out)


def test_a_file_is_read_whole_with_its_name() -> None:
    upload = MultipartUpload(io.BytesIO(FORM), CONTENT_TYPE)
    assert upload.open() == "cv é.pdf"
    assert read_all(upload, 100) == CONTENT


@pytest.mark.parametrize("cut", range(1, len(FORM)))
def test_a_body_split_in_two_anywhere_reads_the_same(cut: int) -> None:
    upload = MultipartUpload(Chunks([FORM[:cut], FORM[cut:]]), CONTENT_TYPE)
    assert upload.open() == "cv é.pdf"
    assert read_all(upload, 7) == CONTENT


def test_a_body_that_comes_a_byte_at_a_time_reads_the_same() -> None:
    pieces = [FORM[i : i + 1] for i in range(len(FORM))]
    upload = MultipartUpload(Chunks(pieces), CONTENT_TYPE)
    assert upload.open() == "cv é.pdf"
    assert read_all(upload, 1000) == CONTENT


def test_reads_pull_the_body_only_as_far_as_they_need() -> None:
    big = b"x" * 10_000
    form = body(part("csrftoken", b"t"), part("file", big, "big.bin"))
    source = Chunks([form[i : i + 100] for i in range(0, len(form), 100)])
    upload = MultipartUpload(source, CONTENT_TYPE)
    upload.open()
    assert source.reads < 5
    assert upload.read(1000) == b"x" * 1000
    assert source.reads < 15  # not the whole body (over a hundred pieces)


def test_an_empty_file_is_a_file() -> None:
    upload = MultipartUpload(io.BytesIO(body(part("file", b"", "empty.txt"))), CONTENT_TYPE)
    assert upload.open() == "empty.txt"
    assert upload.read(10) == b""


def test_a_form_without_a_file_part_is_refused() -> None:
    upload = MultipartUpload(io.BytesIO(body(part("csrftoken", b"t"))), CONTENT_TYPE)
    with pytest.raises(NoFile):
        upload.open()


def test_a_file_field_left_empty_is_refused() -> None:
    form = body(part("csrftoken", b"t"), part("file", b"", ""))
    with pytest.raises(NoFile):
        MultipartUpload(io.BytesIO(form), CONTENT_TYPE).open()


def test_a_second_file_part_fails_the_upload() -> None:
    first = part("file", CONTENT, "one.txt")
    form = body(first, part("other", b"second", "two.txt"))
    upload = MultipartUpload(
        Chunks([form[:100], form[100 : len(first)], form[len(first) :]]), CONTENT_TYPE
    )
    assert upload.open() == "one.txt"
    with pytest.raises(InvalidInput, match="one file"):
        read_all(upload, 10_000)


def test_fields_after_the_file_are_read_past() -> None:
    form = body(part("file", CONTENT, "one.txt"), part("note", b"after"))
    upload = MultipartUpload(io.BytesIO(form), CONTENT_TYPE)
    upload.open()
    assert read_all(upload, 64) == CONTENT


def test_a_body_cut_off_inside_the_file_is_refused() -> None:
    cut = FORM[: FORM.index(CONTENT) + 100]
    upload = MultipartUpload(io.BytesIO(cut), CONTENT_TYPE)
    upload.open()
    with pytest.raises(InvalidInput, match="ended before"):
        read_all(upload, 10)


def test_a_body_without_its_closing_boundary_is_refused() -> None:
    unclosed = FORM[: -len(f"--{BOUNDARY}--\r\n")]
    upload = MultipartUpload(io.BytesIO(unclosed), CONTENT_TYPE)
    upload.open()
    with pytest.raises(InvalidInput, match="ended before"):
        read_all(upload, 10_000)


@pytest.mark.parametrize(
    "content_type",
    ["application/octet-stream", "multipart/form-data", "text/plain; boundary=x", ""],
)
def test_anything_but_a_multipart_form_is_refused(content_type: str) -> None:
    with pytest.raises(InvalidInput, match="multipart/form-data"):
        MultipartUpload(io.BytesIO(FORM), content_type)


def test_the_name_is_the_last_segment_of_a_windows_path() -> None:
    form = body(part("file", b"x", "C:\\Users\\ann\\cv.pdf"))
    assert MultipartUpload(io.BytesIO(form), CONTENT_TYPE).open() == "cv.pdf"
