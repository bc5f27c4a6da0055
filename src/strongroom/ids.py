"""Identifiers: a short prefix naming the kind, then 128 random bits.

Ids are not guessable (128 bits from the OS CSPRNG) and safe to show and log: they
carry no customer data.
"""

from __future__ import annotations

import base64
import re
import secrets

from strongroom.errors import InvalidInput

PREFIXES = {
    "workspace": "ws",
    "project": "prj",
    "record": "rec",
    "file": "fil",
    "user": "usr",
    "key": "key",
    "event": "evt",
    "token": "tok",
    "trash": "trs",
    "deadline": "ddl",
    "hold": "hld",
    "export": "exp",
    "certificate": "crt",
    "backup": "bkp",
    "keystore-backup": "ksb",
    "privacy-request": "dsr",
    "inbox-request": "req",
    "inbox-entry": "ine",
    "agreement": "agr",
    "acceptance": "acc",
    # subprocessors (issue 14, item 3)
    "subprocessor": "sub",
    "subprocessor-notice": "spn",
    "objection": "obj",
    "subscriber": "sbs",
    "delivery": "dlv",
    # staff and break-glass grants (issue 17)
    "operator": "opr",
    "staff-agreement": "sag",
    "grant": "grt",
}

_ID_RE = re.compile(r"^[a-z]{2,3}_[a-z2-7]{26}")


def pattern(kind: str) -> str:
    """The regular expression of an id of ``kind`` (for API schemas)."""
    return f"^{PREFIXES[kind]}_[a-z2-7]{{26}}$"


def new_id(kind: str) -> str:
    raw = secrets.token_bytes(16)
    body = base64.b32encode(raw).decode("ascii").rstrip("=").lower()
    return f"{PREFIXES[kind]}_{body}"


def is_id(kind: str, value: str) -> bool:
    """Whether ``value`` is a well-formed id of ``kind``."""
    return bool(_ID_RE.fullmatch(value)) and value.startswith(PREFIXES[kind] + "_")


def check_id(kind: str, value: str) -> str:
    """Return ``value`` if it is a well-formed id of ``kind``; raise InvalidInput otherwise."""
    if not is_id(kind, value):
        raise InvalidInput(f"not a {kind} id: {value[:64]!r}")
    return value
