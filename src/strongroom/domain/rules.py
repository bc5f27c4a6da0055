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
#: The formats, also published in the API's schema (one source for both).
COLLECTION_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"
FIELD_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]{0,63}$"
EMAIL_PATTERN = r"^[^@\s]{1,64}@[^@\s]{1,255}$"
#: A name: some non-space character, and no control or line-break characters.
_NO_CONTROL = r"\x00-\x1f\x7f-\x9f\u2028\u2029"
NAME_PATTERN = rf"^[^{_NO_CONTROL}]*[^\s{_NO_CONTROL}][^{_NO_CONTROL}]*$"
_COLLECTION = re.compile(COLLECTION_PATTERN)
_FIELD = re.compile(FIELD_PATTERN)
_EMAIL = re.compile(EMAIL_PATTERN)


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
    """The canonical bytes of a record document: UTF-8 JSON with sorted keys.

    Refuses non-objects, NaN and infinities, values JSON cannot hold, nesting deeper than
    the interpreter's recursion limit, and oversize documents. Sorting the keys also
    refuses a dict mixing string and non-string keys (1 and "1" would become one JSON
    key, silently losing a value); a dict of only non-string keys is stored with them as
    strings, as JSON does.
    """
    if not isinstance(document, dict):
        raise MalformedDocument("a record is a JSON object")
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


def parse_document(text: str | bytes, max_bytes: int) -> dict[str, Any]:
    """Parse JSON text sent by a caller into a document, with the same limits."""
    if len(text) > max_bytes * 4:
        raise TooLarge(f"record text is over the limit of {max_bytes} bytes")
    try:
        document = json.loads(text)
    except (ValueError, UnicodeDecodeError) as e:
        raise MalformedDocument(f"not valid JSON: {e}") from None
    except RecursionError:
        raise MalformedDocument("a record is nested too deeply") from None
    encode_document(document, max_bytes)
    return document  # type: ignore[no-any-return]
