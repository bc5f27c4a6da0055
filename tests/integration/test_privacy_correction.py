"""Correction on SQLite and PostgreSQL: the subject's values change in every record of
theirs and only theirs, the index follows, and the audit log keeps digests, never values."""

from __future__ import annotations

import pytest

from strongroom.bootstrap import Strongroom
from strongroom.errors import Conflict, UndeclaredField


def test_a_correction_changes_only_the_subjects_values_everywhere(sr: Strongroom) -> None:
    ws = sr.workspaces.create("Acme", "owner@acme.example").id
    hiring, sales = sr.projects.create(ws, "Hiring").id, sr.projects.create(ws, "Sales").id
    sr.records.declare_collection(ws, "candidates", ["candidate.email", "refs[].email"])
    sr.records.declare_collection(ws, "contacts", ["email", "name"])
    own = sr.records.put(
        ws,
        hiring,
        "candidates",
        {"candidate": {"email": "ADA@old.example"}, "refs": [{"email": "bob@example.com"}]},
    ).id
    referred = sr.records.put(
        ws,
        hiring,
        "candidates",
        {
            "candidate": {"email": "cy@example.com"},
            "refs": [{"email": "ada@old.example"}, {"email": "dee@example.com"}],
        },
    ).id
    contact = sr.records.put(ws, sales, "contacts", {"email": "ada@old.example", "name": "Ada"}).id
    other = sr.records.put(ws, sales, "contacts", {"email": "eve@example.com"}).id

    request = sr.privacy.create(
        ws, type="correction", law="gdpr", identifiers=[("email", "ada@old.example")]
    )
    with pytest.raises(Conflict, match="verify"):
        sr.privacy.correct(ws, request.id, [("email", "ada@new.example")])
    sr.privacy.verify(ws, request.id, method="signed letter", by="dpo")
    with pytest.raises(UndeclaredField):
        sr.privacy.correct(ws, request.id, [("phone", "+1")])

    done = sr.privacy.correct(
        ws,
        request.id,
        [
            ("candidate.email", "ada@new.example"),
            ("refs[].email", "ada@new.example"),
            ("email", "ada@new.example"),
        ],
    )
    assert done == {"records": 3, "values": 3}
    assert sr.records.get(ws, hiring, own).document["candidate"]["email"] == "ada@new.example"
    assert sr.records.get(ws, hiring, own).document["refs"] == [{"email": "bob@example.com"}]
    assert sr.records.get(ws, hiring, referred).document["refs"] == [
        {"email": "ada@new.example"},
        {"email": "dee@example.com"},
    ]
    assert sr.records.get(ws, hiring, referred).document["candidate"]["email"] == "cy@example.com"
    assert sr.records.get(ws, sales, contact).document == {
        "email": "ada@new.example",
        "name": "Ada",
    }
    assert sr.records.get(ws, sales, other).document == {"email": "eve@example.com"}
    assert sr.records.find(ws, "email", "ada@old.example") == []
    assert sr.records.find(ws, "email", "ada@new.example") == [contact]
    assert sr.privacy.get(ws, request.id).state.value == "in_progress"

    [event] = [e for e in sr.audit.events(ws) if e.action == "privacy.correct"]
    text = repr(event)
    assert "ada@" not in text.lower() and "new.example" not in text
    assert sorted(event.subject["records"]) == sorted([own, referred, contact])
