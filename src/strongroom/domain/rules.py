"""Validation rules for what callers send."""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable
from typing import Any

import orjson

from strongroom.errors import InvalidInput, MalformedDocument, TooLarge

MAX_NAME_CHARS = 200
#: Control characters (C0, DEL, C1) and line/paragraph separators.
_REFUSED_CATEGORIES = frozenset({"Cc", "Zl", "Zp"})
#: The formats, also published in the API's schema (one source for both).
COLLECTION_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"
EMAIL_PATTERN = r"^[^@\s]{1,64}@[^@\s]{1,255}$"
#: Bidirectional overrides and isolates: a name holding them can display as another
#: (``invoice\u202etxt.exe`` shows as ``invoiceexe.txt``).
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
#: A name: some non-space character, and no control, line-break or bidi control characters.
_NO_CONTROL = r"\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069"
NAME_PATTERN = rf"^[^{_NO_CONTROL}]*[^\s{_NO_CONTROL}][^{_NO_CONTROL}]*$"
_COLLECTION = re.compile(COLLECTION_PATTERN)
_EMAIL = re.compile(EMAIL_PATTERN)

#: How deep a record document may nest (``{"a": 1}`` is 1 deep). Every reader must be able
#: to render what was stored: pydantic's JSON serialiser (the API's responses) stops at
#: 255 levels and its parser at 200, Ruby's JSON at 100, serde_json at 128; a page of
#: records adds three levels around each document. Deeper documents are refused at write.
MAX_DOCUMENT_DEPTH = 64
#: The largest integer magnitude a document may hold. JSON readers that hold numbers as
#: IEEE doubles (JavaScript, jq, many spreadsheets) render any integer beyond 2**53 as a
#: different number; such values belong in strings (RFC 7493, I-JSON, section 2.2).
MAX_DOCUMENT_INT = 2**53


def check_text(kind: str, text: str) -> str:
    """Refuse a string with a lone surrogate: it is not Unicode text, so it cannot be
    encoded as UTF-8 to be sealed, indexed or shown (a JSON body's ``"\\ud800"`` or a
    command-line argument of undecodable bytes can hold one)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput(f"a {kind} must be Unicode text (it holds a lone surrogate)") from None
    return text


def check_name(kind: str, name: str) -> str:
    """Workspace, project and file names: 1 to 200 characters, no control characters."""
    name = check_text(f"{kind} name", name).strip()
    if not name:
        raise InvalidInput(f"a {kind} name cannot be empty")
    if len(name) > MAX_NAME_CHARS:
        raise InvalidInput(f"a {kind} name has at most {MAX_NAME_CHARS} characters")
    if any(unicodedata.category(c) in _REFUSED_CATEGORIES for c in name):
        raise InvalidInput(f"a {kind} name cannot contain control or line-break characters")
    if any(c in _BIDI_CONTROLS for c in name):
        raise InvalidInput(f"a {kind} name cannot contain bidirectional control characters")
    return name


def check_email(email: str) -> str:
    email = check_text("email address", email).strip()
    if not _EMAIL.fullmatch(email):
        raise InvalidInput("not an email address")
    return email


def check_collection(name: str) -> str:
    if not _COLLECTION.fullmatch(name):
        raise InvalidInput(
            f"collection names are lowercase letters, digits and _ (max 64): {name[:64]!r}"
        )
    return name


def encode_document(document: Any, max_bytes: int) -> bytes:
    """The canonical bytes of a record document: UTF-8 JSON with sorted keys.

    Refuses non-objects, NaN and infinities, values JSON cannot hold (lone surrogates
    among them), nesting deeper than MAX_DOCUMENT_DEPTH, integers beyond MAX_DOCUMENT_INT,
    and oversize documents: whatever is stored, every reader can render. Sorting the keys also
    refuses a dict mixing string and non-string keys (1 and "1" would become one JSON
    key, silently losing a value); a dict of only non-string keys is stored with them as
    strings, as JSON does.
    """
    if not isinstance(document, dict):
        raise MalformedDocument("a record is a JSON object")
    _check_readable(document)
    try:
        data = json.dumps(
            document, ensure_ascii=False, separators=(",", ":"), allow_nan=False, sort_keys=True
        ).encode("utf-8")
    except TypeError as e:
        raise MalformedDocument(f"a record must be plain JSON with string keys: {e}") from None
    except ValueError as e:
        raise MalformedDocument(f"a record must be plain JSON: {e}") from None
    except RecursionError:
        raise MalformedDocument("a record is nested too deeply") from None
    if len(data) > max_bytes:
        raise TooLarge(f"record is {len(data)} bytes; the limit is {max_bytes}")
    return data


def decode_document(data: bytes) -> dict[str, Any]:
    """A stored document (what :func:`encode_document` made) parsed back.

    orjson instead of ``json.loads``: faster on the read path, and the same
    result for everything :func:`encode_document` lets through (integers within ±2**53,
    no NaN or infinities, no lone surrogates, unique keys); tests/unit/test_document_parity.py
    holds the two parsers to that.
    """
    document: dict[str, Any] = orjson.loads(data)
    return document


def _check_readable(document: dict[Any, Any]) -> None:
    """Refuse a document some reader could not render: too deep, or an integer a double
    cannot hold. The walk descends only into containers and stops at MAX_DOCUMENT_DEPTH,
    so a document of any depth (or a cycle) is refused before the interpreter's recursion
    limit; strings, the bulk of a record, cost one type check each (on the write path)."""
    _check_children(document.values(), 1)


def _check_children(children: Iterable[Any], depth: int) -> None:
    for child in children:
        kind = type(child)
        if kind is str or kind is float or kind is bool or child is None:
            continue
        if kind is dict or kind is list or kind is tuple or isinstance(child, dict | list | tuple):
            if depth >= MAX_DOCUMENT_DEPTH:
                raise MalformedDocument(
                    f"a record nests at most {MAX_DOCUMENT_DEPTH} levels of objects and arrays"
                )
            _check_children(child.values() if isinstance(child, dict) else child, depth + 1)
        elif isinstance(child, int) and abs(child) > MAX_DOCUMENT_INT:
            raise MalformedDocument(
                "a record's integers lie within ±2**53 (JSON readers change larger ones); "
                "send larger numbers as strings"
            )


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise InvalidInput(
            f"a JSON object names the key {_first_repeated(pairs)[:64]!r} more than once"
        )
    return obj


def _first_repeated(pairs: list[tuple[str, Any]]) -> str:
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            return key
        seen.add(key)
    return ""


def load_json(text: str | bytes) -> Any:
    """JSON text as Python values, refusing an object that names a key twice (at any
    depth): readers disagree on which value wins, so such a request is ambiguous.
    Raises InvalidInput for a repeated key, ValueError for text that is not JSON."""
    return json.loads(text, object_pairs_hook=_unique_keys)


def parse_document(text: str | bytes, max_bytes: int) -> dict[str, Any]:
    """Parse JSON text sent by a caller into a document, with the same limits."""
    if len(text) > max_bytes * 4:
        raise TooLarge(f"record text is over the limit of {max_bytes} bytes")
    try:
        document = load_json(text)
    except (ValueError, UnicodeDecodeError) as e:
        raise MalformedDocument(f"not valid JSON: {e}") from None
    except RecursionError:
        raise MalformedDocument("a record is nested too deeply") from None
    encode_document(document, max_bytes)
    return document  # type: ignore[no-any-return]
