"""Where each thing goes in an export archive, and the format's version.

STORED FORMAT: the names and the layout here are what docs/export-format.md promises and
what ``export verify`` and customers' own tools read. Changing one is a new format version.
"""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum

FORMAT = "strongroom-export"
#: A data subject's package (access, portability): the same family, a manifest of its own.
SUBJECT_FORMAT = "strongroom-subject-export"
#: Bumped on any change a reader could notice (see docs/export-format.md, "Versions").
FORMAT_VERSION = 1

MANIFEST = "manifest.json"
PROJECTS = "projects.json"
MEMBERS = "members.json"
AUDIT = "audit.jsonl"
#: Longest sanitised file name, in UTF-8 bytes (common file systems allow 255).
MAX_NAME_BYTES = 200

# Control characters, path and shell-special characters, line separators, and the
# bidirectional controls that would make "cv\u202efdp.exe" display as "cvexe.pdf".
_UNSAFE = re.compile(
    r'[\x00-\x1f\x7f-\x9f/\\:*?"<>|\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]'
)
_WINDOWS_RESERVED = frozenset(
    {
        "con",
        "prn",
        "aux",
        "nul",
        *(f"com{i}" for i in range(1, 10)),
        *(f"lpt{i}" for i in range(1, 10)),
    }
)


class Kind(StrEnum):
    """What an entry holds (the manifest's ``kind``)."""

    PROJECTS = "projects"
    MEMBERS = "members"
    AUDIT = "audit"
    RECORDS_JSONL = "records-jsonl"
    RECORDS_CSV = "records-csv"
    FILE = "file"


def records_path(project_id: str, collection: str, suffix: str) -> str:
    """``records/<project id>/<collection>.jsonl`` or ``.csv`` (ids and collection names
    are already safe: lowercase letters, digits and ``_``)."""
    return f"records/{project_id}/{collection}.{suffix}"


def file_path(project_id: str, file_id: str, name: str) -> str:
    """``files/<project id>/<file id>/<safe name>``: the file id keeps two files of the same
    name apart, the safe name keeps every entry inside its folder."""
    return f"files/{project_id}/{file_id}/{safe_name(name)}"


def safe_name(name: str) -> str:
    """A file name that is one harmless path component on Linux, macOS and Windows:
    NFC-normalised; separators, control characters and ``:*?"<>|`` become ``_``; no leading
    dot or space, no trailing dot or space; Windows device names get a ``_`` in front;
    at most MAX_NAME_BYTES bytes of UTF-8 (the extension is kept when it is short)."""
    cleaned = _UNSAFE.sub("_", unicodedata.normalize("NFC", name))
    cleaned = cleaned.strip(" .")
    cleaned = cleaned.lstrip(".")
    if not cleaned:
        return "file"
    if cleaned.split(".", 1)[0].lower() in _WINDOWS_RESERVED:
        cleaned = "_" + cleaned
    return _truncate(cleaned, MAX_NAME_BYTES)


def _truncate(name: str, limit: int) -> str:
    if len(name.encode("utf-8")) <= limit:
        return name
    stem, dot, extension = name.rpartition(".")
    if not dot or len(extension.encode("utf-8")) > 16:
        stem, extension = name, ""
    room = limit - len(extension.encode("utf-8")) - (1 if extension else 0)
    cut = stem.encode("utf-8")[:room].decode("utf-8", "ignore").rstrip(" .")
    return f"{cut or 'file'}.{extension}" if extension else (cut or "file")
