"""Validation rules for what callers send."""

from __future__ import annotations

import json
import re
import unicodedata
from typing import Any

from strongroom.errors import InvalidInput, MalformedDocument, TooLarge

MAX_NAME_CHARS = 200
#: Control characters (C0, DEL, C1) and line/paragraph separators.
_REFUSED_CATEGORIES = frozenset({"Cc", "Zl", "Zp"})
#: Deepest nesting of objects and arrays a record may have.
MAX_DEPTH = 64
_COLLECTION = re.compile(r"^[a-z][a-z0-9_]{0,63}")
_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}")


def check_name(kind: str, name: str) -> str:
    """Workspace, project and file names: 1 to 200 characters, no control characters."""
    name = name.strip()
    if not name:
        raise InvalidInput(f"a {kind} name cannot be empty")
    if len(name) > MAX_NAME_CHARS:
        raise InvalidInput(f"a {kind} name has at most {MAX_NAME_CHARS} characters")
    if any(unicodedata.category(c) in _REFUSED_CATEGORIES for c in name):
        raise InvalidInput(f"a {kind} name cannot contain control or line-break characters")
    return name


def check_email(email: str) -> str:
    email = email.strip()
    if not _EMAIL.fullmatch(email):
        raise InvalidInput("not an email address")
    return email


def check_collection(name: str) -> str:
    if not _COLLECTION.fullmatch(name):
        raise InvalidInput(
            f"collection names are lowercase letters, digits and _ (max 64): {name[:64]!r}"
        )
    return name


def check_field(name: str) -> str:
    if not _FIELD.fullmatch(name):
        raise InvalidInput(f"not a field name: {name[:64]!r}")
    return name


def encode_document(document: Any, max_bytes: int) -> bytes:
    """The canonical bytes of a record document; refuse non-objects and oversize ones."""
    if not isinstance(document, dict):
        raise MalformedDocument("a record is a JSON object")
    _check_structure(document)
    try:
        data = json.dumps(
            document, ensure_ascii=False, separators=(",", ":"), allow_nan=False
        ).encode("utf-8")
    except (TypeError, ValueError) as e:
        raise MalformedDocument(f"a record must be plain JSON: {e}") from None
    if len(data) > max_bytes:
        raise TooLarge(f"record is {len(data)} bytes; the limit is {max_bytes}")
    return data


def parse_document(text: str | bytes, max_bytes: int) -> dict[str, Any]:
    """Parse JSON text sent by a caller into a document, with the same limits."""
    if len(text) > max_bytes * 4:
        raise TooLarge(f"record text is over the limit of {max_bytes} bytes")
    try:
        document = json.loads(text)
    except (ValueError, UnicodeDecodeError) as e:
        raise MalformedDocument(f"not valid JSON: {e}") from None
    except RecursionError:
        raise MalformedDocument(f"JSON nested deeper than {MAX_DEPTH} levels") from None
    encode_document(document, max_bytes)
    return document  # type: ignore[no-any-return]


def _check_structure(document: dict[str, Any]) -> None:
    """Refuse keys that are not strings (JSON would turn 1 and "1" into one key) and
    nesting deeper than MAX_DEPTH. On the write path of every record, so it walks level by
    level without recursion, tests keys in C (``map``) and visits only containers."""
    level: list[Any] = [document]
    depth = 1
    while level:
        if depth > MAX_DEPTH:
            raise MalformedDocument(f"a record is nested deeper than {MAX_DEPTH} levels")
        below: list[Any] = []
        for container in level:
            if type(container) is dict:
                if not all(map(_is_str, container)):
                    raise MalformedDocument("record keys must be strings")
                container = container.values()
            for item in container:
                kind = type(item)
                if kind is dict or kind is list:
                    below.append(item)
        level = below
        depth += 1


_is_str = str.__instancecheck__
