"""What callers may send (domain/rules.py), who may do what (domain/roles.py) and ids
(ids.py)."""

from __future__ import annotations

import itertools
import json
import math
import re
import unicodedata
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from strongroom import ids
from strongroom.domain import rules
from strongroom.domain.personal import parse_path
from strongroom.domain.roles import MATRIX, Action, Role, may, parse_role
from strongroom.errors import InvalidInput, MalformedDocument, StrongroomError, TooLarge

LIMIT = 1024 * 1024

# documents -------------------------------------------------------------------------------

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53), max_value=2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
json_documents = st.dictionaries(st.text(max_size=8), json_values, max_size=6)


@settings(max_examples=100, deadline=None)
@given(document=json_documents)
def test_documents_encode_to_canonical_json_that_parses_back(document: dict[str, Any]) -> None:
    data = rules.encode_document(document, LIMIT)
    assert json.loads(data) == document
    assert rules.parse_document(data, LIMIT) == document
    assert rules.parse_document(data.decode("utf-8"), LIMIT) == document
    # canonical: re-encoding what was parsed gives the same bytes
    assert rules.encode_document(json.loads(data), LIMIT) == data


def test_encoding_is_compact_utf8_with_sorted_keys() -> None:
    assert rules.encode_document({"name": "Zoë", "n": [1, 2]}, LIMIT) == (
        '{"n":[1,2],"name":"Zoë"}'.encode()
    )


@pytest.mark.parametrize("value", [[], [{"a": 1}], "text", "", 42, 1.5, None, True, b"{}"])
def test_encode_document_refuses_non_objects(value: object) -> None:
    with pytest.raises(MalformedDocument):
        rules.encode_document(value, LIMIT)


@pytest.mark.parametrize("text", ["[]", '"text"', "42", "null", "true", '[{"a": 1}]'])
def test_parse_document_refuses_non_objects(text: str) -> None:
    with pytest.raises(MalformedDocument):
        rules.parse_document(text, LIMIT)


@pytest.mark.parametrize(
    "document",
    [
        {"x": math.nan},
        {"x": math.inf},
        {"x": -math.inf},
        {"deep": [1, {"x": math.nan}]},
        {"x": b"bytes"},
        {"x": {1, 2}},
        {"x": object()},
        {"x": 1 + 2j},
        {(1, 2): "tuple key"},
    ],
)
def test_encode_document_refuses_what_is_not_plain_json(document: dict[Any, Any]) -> None:
    with pytest.raises(MalformedDocument):
        rules.encode_document(document, LIMIT)


def test_encode_document_refuses_a_circular_document() -> None:
    document: dict[str, Any] = {}
    document["self"] = document
    with pytest.raises(MalformedDocument):
        rules.encode_document(document, LIMIT)


def test_encode_document_does_not_merge_keys_into_duplicate_json_keys() -> None:
    """{1: "a", "1": "b"} encodes to '{"1":"a","1":"b"}', which parses back as {"1": "b"}:
    the record would silently lose data. Non-string keys must be refused."""
    with pytest.raises(MalformedDocument):
        rules.encode_document({1: "a", "1": "b"}, LIMIT)


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_parse_document_refuses_nan_and_infinity(literal: str) -> None:
    with pytest.raises(MalformedDocument):
        rules.parse_document('{"x": %s}' % literal, LIMIT)  # noqa: UP031


@pytest.mark.parametrize(
    "text",
    [
        "",
        "{",
        '{"a": 1,}',
        "{'a': 1}",
        '{"a": 1}\n{"b": 2}',
        '{"a":\n\n  }',
        b'{"a": "\xff"}',
        "not json\nat all\n",
    ],
)
def test_parse_document_refuses_malformed_json_with_a_one_line_message(
    text: str | bytes,
) -> None:
    with pytest.raises(MalformedDocument) as error:
        rules.parse_document(text, LIMIT)
    message = str(error.value)
    assert message
    assert "\n" not in message and "\r" not in message


@pytest.mark.parametrize(
    "text",
    [
        "[" * 100_000 + "]" * 100_000,
        '{"a":' * 100_000 + "1" + "}" * 100_000,
    ],
)
def test_parse_document_refuses_deep_nesting_as_a_strongroom_error(text: str) -> None:
    """A caller can send this (about 600 KB, under the limit). It must be refused as
    invalid input, not escape as a RecursionError (a crash / HTTP 500)."""
    assert len(text.encode()) <= LIMIT
    try:
        rules.parse_document(text, LIMIT)
    except StrongroomError as e:
        assert isinstance(e, InvalidInput)
    except RecursionError:
        pytest.fail("parse_document raised RecursionError on deeply nested JSON")
    else:
        pytest.fail("a document nested 100000 deep was accepted")


def test_encode_document_refuses_deep_nesting_as_a_strongroom_error() -> None:
    document: dict[str, Any] = {}
    inner = document
    for _ in range(100_000):
        inner["a"] = {}
        inner = inner["a"]
    try:
        rules.encode_document(document, 64 * LIMIT)
    except StrongroomError as e:
        assert isinstance(e, InvalidInput)
    except RecursionError:
        pytest.fail("encode_document raised RecursionError on a deeply nested document")


def test_records_over_the_limit_are_too_large_and_exactly_at_the_limit_pass() -> None:
    document = {"text": "x" * 100}
    size = len(rules.encode_document(document, LIMIT))
    assert (
        rules.encode_document(document, size)
        == json.dumps(document, separators=(",", ":")).encode()
    )
    with pytest.raises(TooLarge):
        rules.encode_document(document, size - 1)
    text = json.dumps(document, indent=4)  # the limit is on canonical bytes, not the text
    assert len(text) > size
    assert rules.parse_document(text, size) == document
    with pytest.raises(TooLarge):
        rules.parse_document(text, size - 1)


def test_the_limit_counts_utf8_bytes_not_characters() -> None:
    document = {"t": "é" * 100}  # 100 characters, 200 bytes
    size = len(rules.encode_document(document, LIMIT))
    assert size == len('{"t":""}') + 200
    with pytest.raises(TooLarge):
        rules.encode_document(document, size - 1)
    assert rules.parse_document(json.dumps(document, ensure_ascii=False), size) == document


def test_huge_text_is_refused_before_parsing() -> None:
    with pytest.raises(TooLarge):
        rules.parse_document("{" + " " * (4 * 1024 + 10) + "}", 1024)


def test_too_large_and_malformed_are_invalid_input() -> None:
    assert issubclass(TooLarge, InvalidInput)
    assert issubclass(MalformedDocument, InvalidInput)


# names -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name,expected",
    [
        ("Acme", "Acme"),
        ("  Acme Ltd  ", "Acme Ltd"),
        ("Zoë & Co — Ünïcode 名前", "Zoë & Co — Ünïcode 名前"),
        ("x" * 200, "x" * 200),
        ("  " + "y" * 200 + "  ", "y" * 200),
    ],
)
def test_check_name_accepts_and_trims(name: str, expected: str) -> None:
    assert rules.check_name("workspace", name) == expected


@pytest.mark.parametrize(
    "name",
    ["", "   ", "\t\n", "x" * 201, "a\nb", "a\rb", "a\x00b", "a\x1bb", "a\x7fb", "tab\there"],
)
def test_check_name_refuses(name: str) -> None:
    with pytest.raises(InvalidInput) as error:
        rules.check_name("project", name)
    assert "project" in str(error.value)


@pytest.mark.parametrize("char", ["\x85", "\x9b"])
def test_check_name_refuses_c1_control_characters(char: str) -> None:
    """U+0080..U+009F are control characters too (category Cc): U+0085 is a line break
    (NEL) and U+009B is the terminal control sequence introducer."""
    assert unicodedata.category(char) == "Cc"
    with pytest.raises(InvalidInput):
        rules.check_name("workspace", f"Acme{char}Ltd")


@pytest.mark.parametrize("char", ["\u202e", "\u202a", "\u2066", "\u2069"])
def test_check_name_refuses_bidirectional_controls(char: str) -> None:
    """``invoice\u202etxt.exe`` would be listed as ``invoiceexe.txt``."""
    with pytest.raises(InvalidInput, match="bidirectional"):
        rules.check_name("file", f"invoice{char}txt.exe")
    assert not re.fullmatch(rules.NAME_PATTERN, f"invoice{char}txt.exe")


@settings(max_examples=100, deadline=None)
@given(name=st.text(min_size=1, max_size=50))
def test_an_accepted_name_has_no_control_characters(name: str) -> None:
    try:
        accepted = rules.check_name("file", name)
    except InvalidInput:
        return
    assert 1 <= len(accepted) <= 200
    assert accepted == accepted.strip()
    assert not any(unicodedata.category(c) == "Cc" for c in accepted), repr(accepted)


@pytest.mark.parametrize("name", ["users", "a", "orders_2024", "a" + "b" * 63, "x_1_"])
def test_check_collection_accepts(name: str) -> None:
    assert rules.check_collection(name) == name


@pytest.mark.parametrize(
    "name",
    [
        "",
        "Users",
        "1users",
        "_users",
        "user-s",
        "user s",
        "users.x",
        "a" * 65,
        "usërs",
        "users\n",
        "users\x00",
    ],
)
def test_check_collection_refuses(name: str) -> None:
    with pytest.raises(InvalidInput):
        rules.check_collection(name)


@pytest.mark.parametrize(
    "name", ["email", "Email", "_id", "first_name", "x1", "A" * 64, "a.b", "refs[].email"]
)
def test_a_field_path_is_accepted(name: str) -> None:
    assert parse_path(name)


@pytest.mark.parametrize(
    "name",
    ["", "1st", "first-name", "first name", "A" * 65, "é", "email\n", "$where", "a[]b", "a..b"],
)
def test_a_field_path_is_refused(name: str) -> None:
    with pytest.raises(InvalidInput):
        parse_path(name)


@pytest.mark.parametrize("email", ["alice@example.com", "  bob+tag@example.co.uk  "])
def test_check_email_accepts(email: str) -> None:
    assert rules.check_email(email) == email.strip()


@pytest.mark.parametrize("email", ["", "alice", "@example.com", "alice@", "a@b@c", "a b@c.d"])
def test_check_email_refuses(email: str) -> None:
    with pytest.raises(InvalidInput):
        rules.check_email(email)


# roles -----------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["owner", "admin", "member", "viewer"])
def test_parse_role_accepts_the_four_roles(value: str) -> None:
    assert parse_role(value).value == value


@pytest.mark.parametrize("value", ["", "Owner", "OWNER", "root", "superuser", " admin", "x" * 500])
def test_parse_role_refuses_unknown_roles(value: str) -> None:
    with pytest.raises(InvalidInput) as error:
        parse_role(value)
    message = str(error.value)
    assert "owner, admin, member, viewer" in message
    assert len(message) < 200  # a long input is cut, not echoed whole


def test_only_the_owner_may_delete_the_workspace() -> None:
    assert may(Role.OWNER, Action.DELETE_WORKSPACE)
    assert not may(Role.ADMIN, Action.DELETE_WORKSPACE)
    assert not may(Role.MEMBER, Action.DELETE_WORKSPACE)
    assert not may(Role.VIEWER, Action.DELETE_WORKSPACE)


def test_the_role_matrix() -> None:
    expected = {
        Role.OWNER: set(Action),
        Role.ADMIN: set(Action)
        - {
            Action.DELETE_WORKSPACE,
            Action.PURGE_TRASH,
            Action.OBJECT_SUBPROCESSOR,
            Action.DECIDE_GRANTS,
        },
        Role.MEMBER: {Action.READ, Action.WRITE_DATA},
        Role.VIEWER: {Action.READ},
    }
    for role in Role:
        assert {a for a in Action if may(role, a)} == expected[role], role
    assert set(MATRIX) == set(Role)


def test_roles_are_ordered_by_power() -> None:
    order = [Role.VIEWER, Role.MEMBER, Role.ADMIN, Role.OWNER]
    for weaker, stronger in itertools.pairwise(order):
        assert MATRIX[weaker] < MATRIX[stronger]


# ids -------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(ids.PREFIXES))
def test_new_id_has_the_prefix_and_format_and_passes_check_id(kind: str) -> None:
    value = ids.new_id(kind)
    prefix, _, body = value.partition("_")
    assert prefix == ids.PREFIXES[kind]
    assert len(body) == 26 and set(body) <= set("abcdefghijklmnopqrstuvwxyz234567")
    assert ids.check_id(kind, value) == value


def test_ids_carry_128_random_bits() -> None:
    values = [ids.new_id("record") for _ in range(1000)]
    assert len(set(values)) == 1000
    # every body character position varies (no fixed or counter-like part)
    bodies = [v.split("_", 1)[1] for v in values]
    for position in range(25):
        assert len({b[position] for b in bodies}) > 16, position


def test_check_id_refuses_an_id_of_another_kind() -> None:
    project = ids.new_id("project")
    with pytest.raises(InvalidInput) as error:
        ids.check_id("workspace", project)
    assert "workspace" in str(error.value)
    record = ids.new_id("record")
    with pytest.raises(InvalidInput):
        ids.check_id("file", record)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "ws_",
        "ws_" + "a" * 25,
        "ws_" + "a" * 27,
        "ws_" + "A" * 26,
        "ws_" + "1" * 26,  # 0, 1, 8, 9 are not base32
        "ws-" + "a" * 26,
        "WS_" + "a" * 26,
        " ws_" + "a" * 26,
        "ws_" + "a" * 26 + " ",
        "ws_" + "a" * 26 + "\n",
        "ws_" + "a" * 26 + "/../x",
    ],
)
def test_check_id_refuses_malformed_ids(value: str) -> None:
    with pytest.raises(InvalidInput):
        ids.check_id("workspace", value)


def test_check_id_message_cuts_long_input() -> None:
    with pytest.raises(InvalidInput) as error:
        ids.check_id("workspace", "x" * 10_000)
    assert len(str(error.value)) < 200
