"""One JSON reader for what callers send: a key named twice in one object, at any depth,
is refused (InvalidInput), never silently decided for the value read last."""

from __future__ import annotations

import json

import pytest

from strongroom.crypto import certificates
from strongroom.domain import rules
from strongroom.errors import InvalidInput

REPEATED = [
    '{"role": "viewer", "role": "owner"}',
    '{"a": {"b": 1, "c": 2, "b": 1}}',
    '{"a": [1, {"x": null, "x": null}]}',
    '[{"k": 1}, {"k": 2, "k": 3}]',
    '{"\\u0061": 1, "a": 2}',  # the same key, spelled two ways
]


@pytest.mark.parametrize("text", REPEATED)
def test_a_repeated_key_is_refused_naming_it(text: str) -> None:
    with pytest.raises(InvalidInput, match="more than once"):
        rules.load_json(text)


@pytest.mark.parametrize("text", REPEATED[:3])
def test_a_record_document_with_a_repeated_key_is_refused(text: str) -> None:
    with pytest.raises(InvalidInput, match="more than once"):
        rules.parse_document(text, 1024 * 1024)


def test_distinct_keys_read_as_plain_json_does() -> None:
    text = '{"a": {"b": [1, {"b": 2}], "c": "b"}, "b": {"a": {}}, "": 0}'
    assert rules.load_json(text) == json.loads(text)
    with pytest.raises(ValueError):
        rules.load_json('{"a": 1,}')


def test_a_certificate_with_a_repeated_key_is_not_a_certificate() -> None:
    text = json.dumps({"format": certificates.FORMAT, "kind": "project"})
    doubled = text[:-1] + ', "kind": "workspace"}'
    with pytest.raises(InvalidInput, match="'kind' more than once"):
        certificates.parse(doubled)
    assert certificates.parse(text)["kind"] == "project"
