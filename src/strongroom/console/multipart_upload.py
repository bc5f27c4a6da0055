"""The one file of a ``multipart/form-data`` upload, as a stream to encrypt.

A browser's upload form sends its fields and its file as parts of one multipart body. The
console's upload route must not spool that body to disk (Starlette's ``request.form()``
would write the plaintext file to a temporary file), so :class:`MultipartUpload` parses it
incrementally, as the files service reads:

1. :meth:`~MultipartUpload.open` pulls the body until the file part's headers are in,
   skipping the fields before it (the CSRF token, which asgi-csrf has checked already),
   and returns the file's name as the browser sent it;
2. :meth:`~MultipartUpload.read` then hands out the file's bytes, pulling more of the body
   only as they are asked for, so at most a chunk and a segment are ever held;
3. once the file part ends, the rest of the body is read before the last bytes are handed
   out: a second file part, or a body that stops before its closing boundary, fails that
   read, and so the whole upload (the files service keeps nothing of a failed one).
"""

from __future__ import annotations

from typing import Protocol

from python_multipart import MultipartParser
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import parse_options_header

from strongroom.errors import InvalidInput

#: How much of the body one pull asks the source for.
CHUNK = 64 * 1024


class Readable(Protocol):
    def read(self, n: int = -1, /) -> bytes: ...


class NoFile(InvalidInput):
    """The form came without a file chosen (refused before anything is stored)."""


class MultipartUpload:
    """``read(n)`` over the file part of a multipart body read from ``source``."""

    def __init__(self, source: Readable, content_type: str) -> None:
        kind, options = parse_options_header(content_type)
        boundary = options.get(b"boundary")
        if kind != b"multipart/form-data" or not boundary:
            raise InvalidInput("an upload is sent as multipart/form-data with a boundary")
        self._source = source
        self._parser = MultipartParser(
            boundary,
            {
                "on_part_begin": self._part_begins,
                "on_header_field": self._header_field,
                "on_header_value": self._header_value,
                "on_header_end": self._header_ends,
                "on_headers_finished": self._headers_finished,
                "on_part_data": self._part_data,
                "on_part_end": self._part_ends,
                "on_end": self._body_ends,
            },
        )
        self._field = bytearray()
        self._value = bytearray()
        self._headers: dict[bytes, bytes] = {}
        self._in_file = False
        self._file_name: str | None = None
        self._file_done = False
        self._ended = False
        self._buffer = bytearray()

    # the parser's callbacks -------------------------------------------------------------
    def _part_begins(self) -> None:
        self._headers = {}

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._field += data[start:end]

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def _header_ends(self) -> None:
        self._headers[bytes(self._field).strip().lower()] = bytes(self._value).strip()
        self._field.clear()
        self._value.clear()

    def _headers_finished(self) -> None:
        disposition = self._headers.get(b"content-disposition", b"").decode("latin-1")
        _, options = parse_options_header(disposition)
        if b"filename" not in options:
            return  # a plain field: its value is not needed here
        if self._file_name is not None:
            raise InvalidInput("an upload carries one file; this one has more")
        try:
            name = options[b"filename"].decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidInput("the file's name is not UTF-8 text") from None
        if not name:
            raise NoFile("choose a file to upload")
        self._file_name = name
        self._in_file = True

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._in_file:
            self._buffer += data[start:end]

    def _part_ends(self) -> None:
        if self._in_file:
            self._in_file = False
            self._file_done = True

    def _body_ends(self) -> None:
        self._ended = True

    # reading ----------------------------------------------------------------------------
    def _pull(self) -> None:
        """Feed the parser one more chunk of the body; a body that ends early is refused."""
        chunk = self._source.read(CHUNK)
        if not chunk:
            if self._file_name is None:
                raise NoFile("choose a file to upload")
            raise InvalidInput("the upload ended before the end of its form")
        try:
            self._parser.write(chunk)
        except MultipartParseError:
            raise InvalidInput("the upload is not a well-formed multipart form") from None

    def open(self) -> str:
        """Read up to the start of the file's content; the name the browser gave it."""
        while self._file_name is None:
            if self._ended:
                raise NoFile("choose a file to upload")
            self._pull()
        return self._file_name

    def read(self, n: int = -1, /) -> bytes:
        if self._file_name is None:
            self.open()
        while not self._file_done and (n < 0 or len(self._buffer) < n):
            self._pull()
        if self._file_done:
            while not self._ended:  # anything after the file must still be a good form
                self._pull()
        if n < 0 or n > len(self._buffer):
            n = len(self._buffer)
        out = bytes(self._buffer[:n])
        del self._buffer[:n]
        return out
