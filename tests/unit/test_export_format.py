"""The export's pure parts: safe file names, the CSV rules, and the push-mode segment writer
(whose output the ordinary stream reader must accept)."""

from __future__ import annotations

import csv
import io
import json
import os
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from strongroom.crypto import segments
from strongroom.crypto.envelope import Binding
from strongroom.crypto.secret import SecretKey
from strongroom.crypto.segment_writer import SegmentWriter
from strongroom.domain.model import RecordText
from strongroom.domain.rules import encode_document
from strongroom.errors import IntegrityFailure
from strongroom.export.layout import MAX_NAME_BYTES, file_path, safe_name
from strongroom.export.rows import CsvRecord, CsvRows, csv_record_of_line, jsonl_line


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("cv.pdf", "cv.pdf"),
        ("../../etc/passwd", "_.._etc_passwd"),
        ("..", "file"),
        (".bashrc", "bashrc"),
        ('a\\b:c*d?e"f<g>h|i', "a_b_c_d_e_f_g_h_i"),
        ("tab\there\x00", "tab_here_"),
        ("NUL", "_NUL"),
        ("com1.txt", "_com1.txt"),
        ("report. ", "report"),
        ("Cafe\u0301.txt", "Caf\u00e9.txt"),
    ],
)
def test_safe_name(name: str, safe: str) -> None:
    assert safe_name(name) == safe


@given(st.text(min_size=1, max_size=300))
def test_any_name_stays_one_component_inside_its_folder(name: str) -> None:
    path = file_path("prj_a", "fil_b", name)
    parts = path.split("/")
    assert parts[:3] == ["files", "prj_a", "fil_b"] and len(parts) == 4
    assert parts[3] not in ("", ".", "..") and not parts[3].startswith(".")
    assert len(parts[3].encode("utf-8")) <= MAX_NAME_BYTES


def test_a_long_name_keeps_its_extension() -> None:
    out = safe_name("x" * 400 + ".pdf")
    assert out.endswith(".pdf") and len(out.encode()) <= MAX_NAME_BYTES


def _record(i: int, doc: dict[str, object]) -> CsvRecord:
    t = datetime(2026, 1, 1, tzinfo=UTC)
    return csv_record_of_line(jsonl_line(RecordText(f"rec_{i}", t, t, encode_document(doc, 4096))))


def test_a_json_lines_line_is_what_json_dumps_would_write() -> None:
    t = datetime(2026, 1, 1, 12, 30, tzinfo=UTC)
    doc = {"zeta": "Ünïcode ✓", "alpha": [1, 2.5, None, {"b": True}], "quote": 'say "hi"\n'}
    line = jsonl_line(RecordText("rec_x", t, t, encode_document(doc, 4096)))
    expected = {"id": "rec_x", "created_at": t.isoformat(), "updated_at": t.isoformat()}
    as_dumps = json.dumps(
        {**expected, "document": doc}, ensure_ascii=False, separators=(",", ":"), sort_keys=True
    )
    assert line == as_dumps.encode("utf-8") + b"\n"


def test_csv_cells_follow_the_documented_rules() -> None:
    rows = CsvRows(["name", "$x", "n", "ok", "none", "list"])
    text = rows.header()
    body, count = rows.render(
        [
            _record(1, {"name": 'a,b\n"c"', "$x": {"k": 1}, "n": 2.5, "ok": False, "none": None}),
            _record(2, {"list": [1, "two"]}),
        ]
    )
    assert count == 2
    parsed = list(csv.reader(io.StringIO(text + body)))
    assert parsed[0] == [
        "$id",
        "$created_at",
        "$updated_at",
        "name",
        "$$x",
        "n",
        "ok",
        "none",
        "list",
    ]
    assert parsed[1][3:] == ['a,b\n"c"', '{"k":1}', "2.5", "false", "null", ""]
    assert parsed[2][3:] == ["", "", "", "", "", '[1,"two"]']
    assert (text + body).endswith("\r\n")


def test_a_field_outside_the_header_is_refused() -> None:
    with pytest.raises(ValueError, match="rec_1"):
        CsvRows(["a"]).render([_record(1, {"b": 1})])


BINDING = Binding("export", "ws_a", "", "exp_a")


@pytest.mark.parametrize("size", [0, 1, 99, 100, 101, 300, 1000])
@pytest.mark.parametrize("write_size", [1, 7, 100, 1000])
def test_the_segment_writer_makes_what_the_reader_reads(size: int, write_size: int) -> None:
    key = SecretKey(os.urandom(32), "test")
    data = os.urandom(size)
    out = io.BytesIO()
    writer = SegmentWriter(out.write, key, "ws_a", 1, BINDING, segment_size=100)
    for i in range(0, size, write_size):
        writer.write(data[i : i + write_size])
    writer.close()
    sealed = out.getvalue()
    got = b"".join(segments.iter_decrypt(io.BytesIO(sealed), BINDING, lambda _k, _v: key))
    assert got == data


def test_a_stream_cut_at_a_segment_boundary_fails() -> None:
    key = SecretKey(os.urandom(32), "test")
    out = io.BytesIO()
    writer = SegmentWriter(out.write, key, "ws_a", 1, BINDING, segment_size=100)
    writer.write(os.urandom(250))
    writer.close()
    cut = out.getvalue()[: -(50 + 16)]  # without the last segment (50 bytes + tag)
    with pytest.raises(IntegrityFailure):
        b"".join(segments.iter_decrypt(io.BytesIO(cut), BINDING, lambda _k, _v: key))


def test_same_output_format_as_encrypt_stream() -> None:
    key = SecretKey(os.urandom(32), "test")
    data = os.urandom(250)
    pushed = io.BytesIO()
    writer = SegmentWriter(pushed.write, key, "ws_a", 1, BINDING, segment_size=100)
    writer.write(data)
    writer.close()
    pulled = io.BytesIO()
    segments.encrypt_stream(io.BytesIO(data), pulled.write, key, "ws_a", 1, BINDING, 100)
    assert len(pushed.getvalue()) == len(pulled.getvalue())


def test_csv_columns_are_capped_and_the_rest_goes_into_other() -> None:
    from strongroom.export.rows import MAX_FIELD_COLUMNS, OTHER_COLUMN

    fields = [f"f{i}" for i in range(MAX_FIELD_COLUMNS + 50)]
    rows = CsvRows(fields)
    header = rows.header().strip().split(",")
    assert len(header) == 3 + MAX_FIELD_COLUMNS + 1 and header[-1] == OTHER_COLUMN
    body, count = rows.render([_record(1, {"f0": "a", "f300": 7}), _record(2, {"f1": "b"})])
    lines = body.strip().split("\r\n")
    assert count == 2
    assert lines[0].endswith('"{""f300"":7}"') and lines[0].split(",")[3] == "a"
    assert lines[1].endswith(",")  # nothing beyond the columns: $other is empty


def test_bidirectional_controls_cannot_disguise_a_file_name() -> None:
    assert safe_name("cv\u202efdp.exe") == "cv_fdp.exe"
    assert "\u2067" not in safe_name("a\u2067b.txt")
