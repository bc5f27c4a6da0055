"""Personal fields: declarations with kinds and paths, the canonical form of each kind,
and finding, replacing and removing one person's values inside a document."""

from __future__ import annotations

import copy

import pytest

from strongroom.domain.personal import (
    PersonalField,
    PersonalKind,
    Redaction,
    describes_the_record,
    normalise,
    parse_declaration,
    parse_declarations,
    redact_person,
    replace,
    values_at,
)
from strongroom.errors import InvalidInput

K = PersonalKind


@pytest.mark.parametrize(
    ("text", "path", "kind"),
    [
        ("email", "email", K.EMAIL),
        ("work_email", "work_email", K.EMAIL),
        ("phone", "phone", K.PHONE),
        ("mobile_phone", "mobile_phone", K.PHONE),
        ("name", "name", K.NAME),
        ("full_name", "full_name", K.NAME),
        ("national_id", "national_id", K.IDENTIFIER),
        ("emails", "emails", K.IDENTIFIER),  # not "email": no guess from a plural
        ("candidate.email", "candidate.email", K.EMAIL),
        ("referrals[].email", "referrals[].email", K.EMAIL),
        ("contact:email", "contact", K.EMAIL),
        ("email:identifier", "email", K.IDENTIFIER),
        ("tags[]:name", "tags[]", K.NAME),
    ],
)
def test_a_declaration_has_a_path_and_a_kind(text: str, path: str, kind: PersonalKind) -> None:
    field = parse_declaration(text)
    assert (field.path, field.kind) == (path, kind)


@pytest.mark.parametrize(
    "text", ["", "1abc", "a..b", "a.", "a[]]", "a[0].b", "a b", "a:mail", "a.b.c.d.e.f.g.h.i"]
)
def test_a_bad_declaration_is_refused(text: str) -> None:
    with pytest.raises(InvalidInput):
        parse_declaration(text)


def test_a_field_declared_twice_is_refused() -> None:
    with pytest.raises(InvalidInput, match="twice"):
        parse_declarations(["email", "email:identifier"])
    assert [f.path for f in parse_declarations(["phone", "email"])] == ["email", "phone"]


def test_emails_are_lower_cased_never_case_folded() -> None:
    assert normalise(K.EMAIL, "  Ada.Lovelace@Example.COM ") == "ada.lovelace@example.com"
    assert normalise(K.EMAIL, "STRASSE@example.com") != normalise(K.EMAIL, "straße@example.com")
    assert normalise(K.EMAIL, "Straße@example.com") == "straße@example.com"


def test_phones_become_e164() -> None:
    assert normalise(K.PHONE, "+44 20 8366 1177") == "+442083661177"
    assert normalise(K.PHONE, "+44 (0)20 8366-1177") == "+442083661177"
    assert normalise(K.PHONE, "020 8366 1177", region="GB") == "+442083661177"
    assert normalise(K.PHONE, "(415) 555-0132", region="US") == "+14155550132"
    # Full-width and Arabic-Indic digits are the same digits.
    full_width = "".join(chr(ord(c) + 0xFEE0) if c != " " else c for c in "+44 20 8366 1177")
    assert normalise(K.PHONE, full_width) == "+442083661177"
    assert normalise(K.PHONE, "+٤٤٢٠٨٣٦٦١١٧٧") == "+442083661177"
    # Without a country code and without a region, the digits as written still match.
    assert normalise(K.PHONE, "020 8366 1177") == "02083661177"


def test_names_are_nfkc_case_folded_with_whitespace_collapsed() -> None:
    assert normalise(K.NAME, "  Ada   LOVELACE ") == "ada lovelace"
    assert normalise(K.NAME, "Straße") == normalise(K.NAME, "STRASSE")
    assert normalise(K.NAME, "ﬁona") == "fiona"  # the ligature is two letters
    assert normalise(K.IDENTIFIER, " AB 12\t34 ") == "ab 12 34"


DOC = {
    "email": "ada@example.com",
    "candidate": {"email": "ada@example.com", "name": "Ada"},
    "referrals": [
        {"email": "bob@example.com"},
        {"email": "ada@example.com"},
        {"name": "no email here"},
        "not an object",
    ],
    "aliases": ["a1", 7, True, None, {"x": 1}],
    "nested": {"deep": {"id": {"not": "a scalar"}}},
}


def _values(decl: str) -> list[str]:
    return list(values_at(DOC, parse_declaration(decl)))


def test_values_are_found_at_nested_and_array_paths() -> None:
    assert _values("email") == ["ada@example.com"]
    assert _values("candidate.email") == ["ada@example.com"]
    assert _values("referrals[].email") == ["bob@example.com", "ada@example.com"]
    assert _values("aliases") == ["a1", "7"]  # booleans, nulls and objects are not values
    assert _values("aliases[]") == ["a1", "7"]
    assert _values("nested.deep.id") == []
    assert _values("missing.path") == []
    assert _values("email.inner") == []  # a string has no keys


def _is_ada(value: str) -> bool:
    return normalise(K.EMAIL, value) == "ada@example.com"


def _ada(kind: PersonalKind, value: str) -> bool:
    return kind is K.EMAIL and _is_ada(value)


def _person(*declarations: str) -> tuple[PersonalField, ...]:
    return parse_declarations(list(declarations))


def test_a_person_is_removed_with_every_field_of_theirs_and_no_one_elses() -> None:
    fields = _person("email", "name", "aliases[]:name", "candidate.email", "candidate.name")
    doc = {
        "email": "Ada@Example.com",
        "name": "Ada",
        "aliases": ["A. L."],
        "candidate": {"email": "bob@example.com", "name": "Bob"},
        "stage": "offer",
        "cv": "fil_" + "a" * 26,
    }
    done = redact_person(doc, fields, _ada, ("cv",))
    # The record's own person matched: her fields, her list of names and her file go; the
    # nested object is another person's (Bob) and stays, as does what is not personal.
    assert doc == {"candidate": {"email": "bob@example.com", "name": "Bob"}, "stage": "offer"}
    assert done == Redaction(4, ("fil_" + "a" * 26,))
    assert redact_person(doc, fields, _ada, ("cv",)) == Redaction(0, ())  # nothing left of her


def test_in_an_array_of_objects_only_her_element_loses_its_personal_fields() -> None:
    fields = _person("email", "referrals[].email", "referrals[].name")
    doc = {
        "email": "bob@example.com",
        "referrals": [
            {"email": "bob@example.com", "name": "Bob", "at": 1},
            {"email": "ada@example.com", "name": "Ada", "at": 2, "letter": "fil_x"},
            "not an object",
        ],
    }
    done = redact_person(doc, fields, _ada, ("referrals[].letter",))
    assert doc["email"] == "bob@example.com"
    assert doc["referrals"] == [
        {"email": "bob@example.com", "name": "Bob", "at": 1},
        {"at": 2},
        "not an object",
    ]
    assert done == Redaction(3, ("fil_x",))


def test_a_list_of_values_loses_only_her_value_and_a_nested_object_is_its_own_person() -> None:
    fields = _person("from:email", "to[]:email", "rep.email", "contact.email", "contact.name")
    doc = {
        "from": "bob@example.com",
        "to": ["ADA@example.com", "cy@example.com"],
        "rep": {"email": "ada@example.com", "phone": "1"},
        "contact": {"email": "cust@example.com", "name": "Customer"},
        "amount": 9000,
    }
    done = redact_person(doc, fields, _ada)
    assert doc == {
        "from": "bob@example.com",
        "to": ["cy@example.com"],
        "rep": {"phone": "1"},  # her object loses its personal fields, nothing else
        "contact": {"email": "cust@example.com", "name": "Customer"},
        "amount": 9000,
    }
    assert done.values == 2


def test_only_a_top_level_single_value_names_the_records_own_person() -> None:
    assert describes_the_record("email")
    assert describes_the_record("full_name")
    for path in ("to[]", "rep.email", "candidate.email", "referrals[].email"):
        assert not describes_the_record(path)


def test_replacement_sets_only_the_subjects_values() -> None:
    doc = copy.deepcopy(DOC)
    assert replace(doc, parse_declaration("referrals[].email"), _is_ada, "ada@new.example") == 1
    assert [r.get("email") for r in doc["referrals"][:3]] == [
        "bob@example.com",
        "ada@new.example",
        None,
    ]
    assert replace(doc, parse_declaration("email"), _is_ada, "ada@new.example") == 1
    assert doc["email"] == "ada@new.example"
    assert replace(doc, parse_declaration("email"), _is_ada, "x") == 0  # no longer Ada's
