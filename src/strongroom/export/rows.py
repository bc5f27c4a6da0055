"""Records as export lines: one JSON object per line (JSON Lines), and CSV rows.

CSV rules (docs/export-format.md): the first three columns are ``$id``, ``$created_at`` and
``$updated_at``; then one column per top-level field, in the order the fields were first
seen in the collection's JSON Lines pass. A field name starting with ``$`` gets one more
``$`` in front, so no field can take a metadata column's name. Past 256 fields, the rest
go into one ``$other`` column as a JSON object. A cell holds a string field
as it is, any other value (number, true/false, null, object, array) as compact JSON, and
nothing when the record lacks the field.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from typing import Any

from strongroom.domain.model import RecordText

META_COLUMNS = ("$id", "$created_at", "$updated_at")

#: A record as the CSV writer takes it: id, created_at and updated_at (ISO 8601), document.
CsvRecord = tuple[str, str, str, dict[str, Any]]


def csv_record_of_line(line: bytes) -> CsvRecord:
    """The CSV view of one JSON Lines line (as :func:`jsonl_line` wrote it)."""
    value = json.loads(line)
    return value["id"], value["created_at"], value["updated_at"], value["document"]


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def jsonl_line(record: RecordText) -> bytes:
    """One line: ``{"created_at", "document", "id", "updated_at"}``, compact, keys sorted;
    the document is spliced in as stored (it is already canonical JSON, the same bytes
    ``json.dumps`` would make here), so it is never parsed and dumped again."""
    return b"".join(
        (
            b'{"created_at":"',
            record.created_at.isoformat().encode(),
            b'","document":',
            record.text,
            b',"id":"',
            record.id.encode(),
            b'","updated_at":"',
            record.updated_at.isoformat().encode(),
            b'"}\n',
        )
    )


def column_name(field: str) -> str:
    return "$" + field if field.startswith("$") else field


def _cell(value: Any) -> str:
    return value if isinstance(value, str) else _json(value)


#: At most this many field columns; the fields seen after them go, per record, into one
#: ``$other`` column as a compact JSON object (a collection whose records each bring new
#: fields would otherwise make a CSV whose size grows with the square of its rows).
MAX_FIELD_COLUMNS = 256
OTHER_COLUMN = "$other"


class CsvRows:
    """Renders pages of records as CSV text under a fixed list of fields."""

    def __init__(self, fields: list[str]) -> None:
        self.fields = fields[:MAX_FIELD_COLUMNS]
        self._columns = frozenset(self.fields)
        self._overflow = len(fields) > MAX_FIELD_COLUMNS
        self._known = frozenset(fields)
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, lineterminator="\r\n")

    def header(self) -> str:
        other = [OTHER_COLUMN] if self._overflow else []
        self._writer.writerow([*META_COLUMNS, *(column_name(f) for f in self.fields), *other])
        return self._take()

    def render(self, records: Iterable[CsvRecord]) -> tuple[str, int]:
        """CSV text of ``records``, and how many rows it holds. Raises ValueError for a
        field outside the header (the caller reads only records it already saw)."""
        rows = 0
        fields = self.fields
        for record_id, created_at, updated_at, doc in records:
            if not self._known.issuperset(doc):
                raise ValueError(f"record {record_id} has fields the header lacks")
            row = [
                record_id,
                created_at,
                updated_at,
                *(_cell(doc[f]) if f in doc else "" for f in fields),
            ]
            if self._overflow:
                rest = {k: v for k, v in doc.items() if k not in self._columns}
                row.append(_json(rest) if rest else "")
            self._writer.writerow(row)
            rows += 1
        return self._take(), rows

    def _take(self) -> str:
        text = self._buffer.getvalue()
        self._buffer.seek(0)
        self._buffer.truncate()
        return text
