"""A privacy request finds one person's records by email, and only theirs.

Emails are matched ignoring case but not folded further: ``straße@…`` and ``strasse@…``
are two mailboxes (two people), and must stay two subjects in the blind index and two
users in the directory. (Full case folding maps ß to ss and would merge them.)"""

from __future__ import annotations

import pytest

from strongroom.bootstrap import Strongroom

PAIRS = [
    ("stra\u00dfe@example.com", "strasse@example.com"),  # ß and ss
    ("\u1e9ee@example.com", "sse@example.com"),  # capital sharp s and ss
]


@pytest.mark.parametrize(("first", "second"), PAIRS)
def test_two_mailboxes_that_fold_alike_are_two_subjects(
    sr: Strongroom, first: str, second: str
) -> None:
    ws = sr.workspaces.create("Privacy", "owner@privacy.example").id
    sr.records.declare_collection(ws, "contacts", ["email"])
    project = sr.projects.create(ws, "CRM").id
    mine = sr.records.put(ws, project, "contacts", {"email": first, "name": "Anna"}).id
    theirs = sr.records.put(ws, project, "contacts", {"email": second, "name": "Bert"}).id

    assert sr.records.find(ws, "email", first) == [mine]
    assert sr.records.find(ws, "email", second) == [theirs]
    # case still does not matter (upper() would turn ß into SS: only the first letter here)
    assert sr.records.find(ws, "email", first[0].upper() + first[1:]) == [mine]
    assert sr.records.find(ws, "email", second.upper()) == [theirs]


def test_two_mailboxes_that_fold_alike_are_two_users(sr: Strongroom) -> None:
    a = sr.workspaces.create("A", "stra\u00dfe@example.com").id
    b = sr.workspaces.create("B", "strasse@example.com").id
    owner_a = sr.workspaces.members(a)[0]
    owner_b = sr.workspaces.members(b)[0]
    assert owner_a.user_id != owner_b.user_id
    assert (owner_a.email, owner_b.email) == ("stra\u00dfe@example.com", "strasse@example.com")
    # and the same mailbox in another case is the same user
    c = sr.workspaces.create("C", "STRASSE@example.com").id
    assert sr.workspaces.members(c)[0].user_id == owner_b.user_id
