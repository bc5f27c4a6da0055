"""Personal fields with kinds, on SQLite and PostgreSQL: nested and array paths are
indexed, one kind's lookup finds a subject in every field of that kind in every project,
a changed declaration reindexes what is already stored, an upgraded home is reindexed when
it opens, and a privacy request locates its subject through the index alone."""

from __future__ import annotations

import random

import pytest

from strongroom.bootstrap import Strongroom, open_strongroom
from strongroom.clock import FixedClock
from strongroom.config import Settings
from strongroom.errors import InvalidInput, UndeclaredField


def _workspace(sr: Strongroom) -> tuple[str, str, str]:
    ws = sr.workspaces.create("Acme", "owner@acme.example").id
    return ws, sr.projects.create(ws, "Hiring").id, sr.projects.create(ws, "Sales").id


def test_nested_and_array_fields_are_found_by_their_path(sr: Strongroom) -> None:
    ws, hiring, _ = _workspace(sr)
    declared = sr.records.declare_collection(
        ws, "candidates", ["candidate.email", "referrals[].email", "national_id:identifier"]
    )
    assert [(f.path, f.kind.value) for f in declared.personal] == [
        ("candidate.email", "email"),
        ("national_id", "identifier"),
        ("referrals[].email", "email"),
    ]
    ada = sr.records.put(
        ws,
        hiring,
        "candidates",
        {
            "candidate": {"email": "Ada@Example.com"},
            "referrals": [{"email": "bob@example.com"}, {"email": "cy@example.com"}],
            "national_id": "AB 12 34",
        },
    ).id
    assert sr.records.find(ws, "candidate.email", "ada@example.com") == [ada]
    assert sr.records.find(ws, "referrals[].email", "CY@example.com") == [ada]
    assert sr.records.find(ws, "national_id", "ab 12 34") == [ada]
    assert sr.records.find(ws, "candidate.email", "bob@example.com") == []
    with pytest.raises(UndeclaredField):
        sr.records.find(ws, "candidate.name", "Ada")


def test_a_bad_declaration_changes_nothing(sr: Strongroom) -> None:
    ws, _, _ = _workspace(sr)
    sr.records.declare_collection(ws, "contacts", ["email"])
    for bad in (["email:mail"], ["a..b"], ["email", "email:identifier"], ["x" * 65]):
        with pytest.raises(InvalidInput):
            sr.records.declare_collection(ws, "contacts", bad)
    [contacts] = sr.records.collections(ws)
    assert [f.declaration for f in contacts.personal] == ["email:email"]


def test_a_subject_is_located_in_every_field_of_a_kind_in_every_project(sr: Strongroom) -> None:
    ws, hiring, sales = _workspace(sr)
    sr.records.declare_collection(ws, "candidates", ["candidate.email", "referrals[].email"])
    sr.records.declare_collection(ws, "contacts", ["work_email", "mobile:phone", "name"])
    as_candidate = sr.records.put(
        ws, hiring, "candidates", {"candidate": {"email": "ada@example.com"}, "referrals": []}
    ).id
    as_referrer = sr.records.put(
        ws,
        hiring,
        "candidates",
        {"candidate": {"email": "zed@example.com"}, "referrals": [{"email": "ADA@example.com"}]},
    ).id
    as_contact = sr.records.put(
        ws, sales, "contacts", {"work_email": " ada@example.com", "name": "Someone Else"}
    ).id
    by_phone = sr.records.put(ws, sales, "contacts", {"mobile": "+44 (0)20 8366 1177"}).id
    sr.records.put(ws, sales, "contacts", {"work_email": "strasse@example.com", "name": "Ada"})
    trashed = sr.records.put(ws, sales, "contacts", {"work_email": "ada@example.com"}).id
    sr.records.delete(ws, sales, trashed)

    request = sr.privacy.create(
        ws,
        type="access",
        law="gdpr",
        identifiers=[("email", "Ada@Example.com"), ("phone", "+442083661177")],
    )
    matches = {m.record_id: m for m in sr.privacy.locate(ws, request.id)}
    assert set(matches) == {as_candidate, as_referrer, as_contact, by_phone, trashed}
    assert matches[as_referrer].fields == ("referrals[].email",)
    assert matches[as_contact].fields == ("work_email",)
    assert matches[by_phone].fields == ("mobile",)
    assert (matches[as_candidate].project_id, matches[as_contact].project_id) == (hiring, sales)
    assert [m.trashed for m in matches.values() if m.record_id == trashed] == [True]
    assert not matches[as_contact].trashed
    # a name is a name: "Ada" as a name does not match Ada's email
    named = sr.privacy.create(ws, type="access", law="gdpr", identifiers=[("name", "ADA")])
    assert [m.fields for m in sr.privacy.locate(ws, named.id)] == [("name",)]


def test_a_changed_declaration_indexes_records_already_stored(sr: Strongroom) -> None:
    ws, hiring, _ = _workspace(sr)
    before = sr.records.put(ws, hiring, "notes", {"author": {"email": "ada@example.com"}}).id
    with pytest.raises(UndeclaredField):
        sr.records.find(ws, "author.email", "ada@example.com")
    sr.records.declare_collection(ws, "notes", ["author.email"])
    assert sr.records.find(ws, "author.email", "ada@example.com") == [before]
    sr.records.declare_collection(ws, "notes", ["author.email:identifier"])  # case matters less
    assert sr.records.find(ws, "author.email", "ADA@EXAMPLE.COM") == [before]
    sr.records.declare_collection(ws, "notes", [])
    with pytest.raises(UndeclaredField):
        sr.records.find(ws, "author.email", "ada@example.com")


def test_an_upgraded_home_is_reindexed_when_it_opens(home: Settings, clock: FixedClock) -> None:
    with open_strongroom(settings=home, clock=clock) as sr:
        ws, hiring, _ = _workspace(sr)
        sr.records.declare_collection(ws, "contacts", ["email", "phone"])
        ids = sr.records.put_many(
            ws,
            hiring,
            "contacts",
            [{"email": f"p{i}@example.com", "phone": f"+4420836611{i:02d}"} for i in range(1200)],
        )
        # As a home made before kinds: entries under the old keys, index version 1.
        with sr.ctx.store.write() as uow:
            uow.record_index.remove_for_many(ids)
            uow.collections.upsert(ws, "contacts", '["email", "phone"]', clock.now())
            uow.commit()
        assert sr.records.find(ws, "email", "p7@example.com") == []
    with open_strongroom(settings=home, clock=clock) as sr:
        assert sr.records.find(ws, "email", "p7@example.com") == [ids[7]]
        assert sr.records.find(ws, "phone", "+44 20 8366 1199") == [ids[99]]
        assert sr.records.find(ws, "email", "P1199@example.com") == [ids[1199]]
        with sr.ctx.store.read() as uow:
            assert uow.collections.outdated(2) == []


def test_phone_numbers_without_a_country_code_take_the_region(tmp_path, backend) -> None:  # type: ignore[no-untyped-def]
    from strongroom.bootstrap import init_home

    settings = init_home(tmp_path / "gb", phone_region="GB", **backend)
    with open_strongroom(settings=settings) as sr:
        ws, hiring, _ = _workspace(sr)
        sr.records.declare_collection(ws, "contacts", ["phone"])
        local = sr.records.put(ws, hiring, "contacts", {"phone": "020 8366 1177"}).id
        assert sr.records.find(ws, "phone", "+44 20 8366 1177") == [local]


def test_locate_finds_every_planted_record_of_a_seeded_corpus_and_nothing_else(
    sr: Strongroom,
) -> None:
    rng = random.Random(12)
    ws = sr.workspaces.create("Corpus", "owner@corpus.example").id
    projects = [sr.projects.create(ws, f"P{i}").id for i in range(3)]
    sr.records.declare_collection(
        ws, "people", ["email", "contact.phone:phone", "name", "ids[]:identifier"]
    )
    sr.records.declare_collection(ws, "notes", ["to[]:email", "refs[].email", "refs[].name"])
    # The subject's values in the spellings people write them, and near misses that are
    # other people (straße is not strasse; a name is not an email; another number).
    hers = {
        "email": [" Ada@Example.com", "ADA@EXAMPLE.COM", "ada@example.com"],
        "phone": ["+44 20 8366 1177", "+442083661177", "+44 (20) 8366-1177"],
        "name": ["Ada  Lovelace", "ADA LOVELACE", "ada lovelace"],
        "identifier": ["AB-123456", " ab-123456"],  # identifiers: trimmed, case-folded
    }
    others = {
        "email": ["straße@example.com", "ada@example.org", "bob@example.com"],
        "phone": ["+44 20 8366 1178", "+1 202 555 0100"],
        "name": ["Ada Byron", "Lovelace Ada", "Bob"],
        "identifier": ["AB-1234567", "AB-654321"],
    }

    def value(kind: str, planted: bool) -> str:
        return rng.choice((hers if planted else others)[kind])

    planted: set[str] = set()
    for n in range(240):
        project = rng.choice(projects)
        plant = rng.random() < 0.15
        if rng.random() < 0.5:
            kind = rng.choice(["email", "phone", "name", "identifier"])
            doc: dict[str, object] = {
                "email": value("email", plant and kind == "email"),
                "contact": {"phone": value("phone", plant and kind == "phone")},
                "name": value("name", plant and kind == "name"),
                "ids": [value("identifier", plant and kind == "identifier"), f"X-{n}"],
                "note": value("email", True),  # not a declared field: never a match
            }
            collection = "people"
        else:
            at = rng.randrange(3)
            doc = {
                "to": [value("email", plant and at == 0), value("email", False)],
                "refs": [
                    {"email": value("email", plant and at == 1), "name": value("name", False)},
                    {"email": value("email", False), "name": value("name", plant and at == 2)},
                ],
            }
            collection = "notes"
        record = sr.records.put(ws, project, collection, doc).id
        if plant:
            planted.add(record)
    request = sr.privacy.create(
        ws,
        type="access",
        law="gdpr",
        identifiers=[
            ("email", "ada@example.com"),
            ("phone", "+44 20 8366 1177"),
            ("name", "Ada Lovelace"),
            ("identifier", "AB-123456"),
        ],
    )
    found = {m.record_id for m in sr.privacy.locate(ws, request.id)}
    assert len(planted) > 20
    assert found == planted
