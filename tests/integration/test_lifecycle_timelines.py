"""The lifecycle's timelines on a durable clock, through the library, on SQLite and
PostgreSQL: trash (restorable on day 29, refused and purged after day 30), trials,
cancellation, workspace deletion and legal holds. Time passes only through the injected
clock; the worker runs only when the test says so."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from pathlib import Path

import pytest

from strongroom.bootstrap import Strongroom
from strongroom.clock import FixedClock
from strongroom.domain.lifecycle import EntryState
from strongroom.domain.model import WorkspaceState
from strongroom.domain.roles import Action, Role
from strongroom.errors import (
    Conflict,
    IntegrityFailure,
    InvalidInput,
    KeyUnavailable,
    NotFound,
    PermissionDenied,
)

DAY = timedelta(days=1)


@pytest.fixture
def acme(sr: Strongroom) -> dict[str, str]:
    ws = sr.workspaces.create("Acme", "owner@acme.example")
    project = sr.projects.create(ws.id, "Hiring")
    record = sr.records.put(ws.id, project.id, "notes", {"text": "call back"}).id
    stored = sr.files.put(ws.id, project.id, "cv.pdf", io.BytesIO(b"%PDF resume"))
    return {"ws": ws.id, "project": project.id, "record": record, "file": stored.id}


def _certificates(sr: Strongroom, ws: str) -> list[dict[str, object]]:
    return sr.certificates.list(ws)


# trash ------------------------------------------------------------------------------------
def test_a_deleted_record_is_gone_at_once_restorable_on_day_29_and_back_intact(
    sr: Strongroom, clock: FixedClock, acme: dict[str, str]
) -> None:
    ws, p, r = acme["ws"], acme["project"], acme["record"]
    entry = sr.records.delete(ws, p, r)
    with pytest.raises(NotFound):
        sr.records.get(ws, p, r)
    assert sr.records.list(ws, p, "notes").items == []
    listed = sr.trash.list(ws).items
    assert [(e.id, e.subject_id) for e in listed] == [(entry.id, r)]
    assert listed[0].restore_until == entry.deleted_at + 30 * DAY

    clock.advance(29 * DAY)
    assert sr.worker.run_once().done == []  # nothing is due before its time
    sr.trash.restore(ws, entry.id)
    assert sr.records.get(ws, p, r).document == {"text": "call back"}
    assert sr.trash.list(ws).items == []
    clock.advance(5 * DAY)
    assert sr.worker.run_once().done == []  # the restore cancelled the purge
    assert _certificates(sr, ws) == []


def test_after_day_30_a_restore_is_refused_and_the_purge_certifies_it(
    sr: Strongroom, clock: FixedClock, acme: dict[str, str]
) -> None:
    ws, p, f = acme["ws"], acme["project"], acme["file"]
    entry = sr.files.delete(ws, p, f)
    blob = sr.ctx.blobs
    assert blob.exists(f)
    clock.advance(30 * DAY)
    with pytest.raises(Conflict, match="restore deadline passed"):
        sr.trash.restore(ws, entry.id)
    report = sr.worker.run_once()
    assert len(report.done) == 1
    assert not blob.exists(f)
    with pytest.raises(NotFound):
        sr.files.info(ws, p, f)
    (cert,) = _certificates(sr, ws)
    assert (cert["kind"], cert["subject_id"], cert["reason"]) == ("file", f, "trash_expired")
    document = sr.certificates.get(str(cert["certificate_id"]))
    assert document["counts"]["files"] == 1
    assert document["counts"]["file_bytes"] == len(b"%PDF resume")
    assert document["destroyed_keys"] == []  # a file is not shredded by key: its row and blob go
    assert document["retained_keys"] == [f"{p} v1"]  # copies made before stay readable with it
    assert document["backups_holding_ciphertext"] == []
    assert sr.certificates.verify(json.dumps(document)).certificate_id == cert["certificate_id"]
    assert sr.trash.get(ws, entry.id).state is EntryState.PURGED
    # the rest of the project is untouched
    assert sr.records.get(ws, p, acme["record"]).document == {"text": "call back"}


def test_restoring_a_project_brings_back_exactly_what_its_deletion_took(
    sr: Strongroom, clock: FixedClock, acme: dict[str, str]
) -> None:
    ws, p = acme["ws"], acme["project"]
    kept = sr.records.put(ws, p, "notes", {"text": "kept"}).id
    earlier = sr.records.delete(ws, p, acme["record"])  # deleted on its own, first
    clock.advance(DAY)
    project_entry = sr.projects.delete(ws, p)
    with pytest.raises(NotFound):
        sr.records.get(ws, p, kept)
    with pytest.raises(NotFound):
        sr.projects.get(ws, p)
    with pytest.raises(Conflict, match="restore the project first"):
        sr.trash.restore(ws, earlier.id)

    sr.trash.restore(ws, project_entry.id)
    assert sr.records.get(ws, p, kept).document == {"text": "kept"}
    assert sr.files.info(ws, p, acme["file"]).name == "cv.pdf"
    with pytest.raises(NotFound):  # not brought back: it has its own entry and deadline
        sr.records.get(ws, p, acme["record"])
    assert [e.id for e in sr.trash.list(ws).items] == [earlier.id]


def test_a_purged_project_is_crypto_shredded_with_everything_in_it(
    sr: Strongroom, clock: FixedClock, acme: dict[str, str]
) -> None:
    ws, p = acme["ws"], acme["project"]
    sealed = _sealed_record(sr, acme["record"])
    sr.records.put(ws, p, "notes", {"text": "second"})
    inner = sr.records.delete(ws, p, acme["record"])  # its own entry, due a moment earlier
    clock.advance(timedelta(seconds=1))
    entry = sr.projects.delete(ws, p)
    clock.advance(31 * DAY)
    sr.worker.run_once()
    with pytest.raises(KeyUnavailable):  # a copy of the ciphertext (a backup) is unreadable
        sr.ctx.keyring.data_key(p)
    assert sealed  # (the copy taken before the purge)
    with sr.ctx.store.read() as uow:
        assert uow.shredding.counts("project_id", p) == {
            "records": 0,
            "record_bytes": 0,
            "files": 0,
            "file_bytes": 0,
        }
        assert uow.projects.get(ws, p) is None
    certs = {c["subject_id"]: c for c in _certificates(sr, ws)}
    document = sr.certificates.get(str(certs[p]["certificate_id"]))
    assert document["destroyed_keys"] == [f"{p} v1"]
    assert document["retained_keys"] == []
    assert document["counts"]["records"] == 1 and document["counts"]["files"] == 1
    assert document["reason"] == "trash_expired"
    assert certs[acme["record"]]["reason"] == "trash_expired"  # purged on its own deadline
    assert sr.trash.get(ws, entry.id).state is EntryState.PURGED
    assert sr.trash.get(ws, inner.id).state is EntryState.PURGED
    assert sr.audit.verify() > 0


def test_a_record_still_in_the_trash_goes_with_its_purged_project(
    sr: Strongroom, clock: FixedClock, acme: dict[str, str]
) -> None:
    """A record trashed on its own, its deadline 30 days away, then its project deleted and
    purged at once: the record goes with the project, long before its own deadline."""
    ws, p, r = acme["ws"], acme["project"], acme["record"]
    sealed = _sealed_record(sr, r)
    inner = sr.records.delete(ws, p, r)
    clock.advance(DAY)
    entry = sr.projects.delete(ws, p)
    with pytest.raises(NotFound):  # (nothing can be deleted inside a trashed project)
        sr.files.delete(ws, p, acme["file"])
    clock.advance(DAY)
    sr.trash.purge_now(ws, entry.id)
    sr.worker.run_once()
    (cert,) = _certificates(sr, ws)
    assert cert["subject_id"] == p
    document = sr.certificates.get(str(cert["certificate_id"]))
    assert document["counts"]["records"] == 1 and document["counts"]["files"] == 1
    with sr.ctx.store.read() as uow:
        assert uow.shredding.counts("project_id", p)["records"] == 0
    with pytest.raises(KeyUnavailable):  # the trashed record's ciphertext cannot open
        sr.ctx.keyring.data_key(p)
    assert sealed
    assert sr.trash.get(ws, inner.id).state is EntryState.PURGED
    with pytest.raises((Conflict, NotFound)):
        sr.trash.restore(ws, inner.id)
    clock.advance(30 * DAY)  # the record's own deadline passes: nothing left to purge
    sr.worker.run_once()
    assert [c["subject_id"] for c in _certificates(sr, ws)] == [p]
    assert sr.audit.verify() > 0


def _sealed_record(sr: Strongroom, record_id: str) -> bytes:
    with sr.ctx.store.read() as uow:
        from sqlalchemy import select

        from strongroom.storage import tables as t

        row = uow.conn.execute(select(t.records.c.sealed).where(t.records.c.id == record_id))
        return bytes(row.scalar_one())


def test_owners_delete_forever_before_the_deadline(
    sr: Strongroom, clock: FixedClock, acme: dict[str, str]
) -> None:
    ws, p = acme["ws"], acme["project"]
    entry = sr.records.delete(ws, p, acme["record"])
    clock.advance(DAY)
    deadline = sr.trash.purge_now(ws, entry.id)
    assert sr.worker.run_once().done == [deadline]
    (cert,) = _certificates(sr, ws)
    assert cert["reason"] == "deleted_forever"
    with pytest.raises(Conflict):
        sr.trash.restore(ws, entry.id)
    with pytest.raises(Conflict):
        sr.trash.purge_now(ws, entry.id)


def test_restore_rights_follow_the_role_matrix(sr: Strongroom, acme: dict[str, str]) -> None:
    ws, p = acme["ws"], acme["project"]
    mine = sr.records.put(ws, p, "notes", {"n": 1}).id
    theirs = sr.records.put(ws, p, "notes", {"n": 2}).id
    e_mine = sr.records.delete(ws, p, mine, actor="token:alice")
    e_theirs = sr.records.delete(ws, p, theirs, actor="token:bob")
    with pytest.raises(PermissionDenied):
        sr.trash.restore(ws, e_theirs.id, actor="token:alice", role=Role.MEMBER)
    with pytest.raises(PermissionDenied):  # viewers delete nothing, so restore nothing
        sr.trash.restore(ws, e_mine.id, actor="token:alice", role=Role.VIEWER)
    sr.trash.restore(ws, e_mine.id, actor="token:alice", role=Role.MEMBER)
    sr.trash.restore(ws, e_theirs.id, actor="token:carol", role=Role.ADMIN)
    project_entry = sr.projects.delete(ws, p, actor="token:alice")
    with pytest.raises(PermissionDenied):  # members may not delete (or restore) projects
        sr.trash.restore(ws, project_entry.id, actor="token:alice", role=Role.MEMBER)


# trials -----------------------------------------------------------------------------------
def test_an_ended_trial_is_kept_29_days_then_purged(
    sr: Strongroom, clock: FixedClock, acme: dict[str, str]
) -> None:
    ws = acme["ws"]
    sr.plans.billing_event(ws, "trial_started", "evt-1", trial_days=14)
    assert sr.plans.status(ws).state is WorkspaceState.TRIAL
    clock.advance(14 * DAY)
    status = sr.plans.status(ws)
    assert status.state is WorkspaceState.EXPIRED
    assert status.purge_due_at == status.trial_ends_at + 30 * DAY  # type: ignore[operator]
    with pytest.raises(Conflict, match="trial has ended"):
        sr.records.put(ws, acme["project"], "notes", {"n": 1})
    clock.advance(29 * DAY)
    assert sr.worker.run_once().done == []
    assert sr.records.get(ws, acme["project"], acme["record"]).document == {"text": "call back"}
    clock.advance(DAY + timedelta(seconds=1))
    assert len(sr.worker.run_once().done) == 1
    with pytest.raises(NotFound):
        sr.workspaces.get(ws)
    (cert,) = _certificates(sr, ws)
    assert (cert["kind"], cert["reason"]) == ("workspace", "trial_expired")
    document = sr.certificates.get(str(cert["certificate_id"]))
    assert f"wsk:{ws} v1" in document["destroyed_keys"]
    assert document["counts"]["records"] == 1 and document["counts"]["files"] == 1


def test_a_trial_activated_on_day_20_after_its_end_keeps_everything(
    sr: Strongroom, clock: FixedClock, acme: dict[str, str]
) -> None:
    ws = acme["ws"]
    sr.plans.billing_event(ws, "trial_started", "evt-1", trial_days=14)
    clock.advance(14 * DAY + 20 * DAY)
    assert sr.plans.status(ws).state is WorkspaceState.EXPIRED
    status = sr.plans.billing_event(ws, "activated", "evt-2")
    assert status.state is WorkspaceState.ACTIVE and status.purge_due_at is None
    clock.advance(60 * DAY)
    assert sr.worker.run_once().done == []
    assert sr.records.get(ws, acme["project"], acme["record"]).document == {"text": "call back"}
    sr.records.put(ws, acme["project"], "notes", {"n": "usable again"})


# cancellation -----------------------------------------------------------------------------
def test_a_cancelled_workspace_is_read_only_exportable_on_day_29_then_purged(
    sr: Strongroom, clock: FixedClock, acme: dict[str, str], tmp_path: Path
) -> None:
    ws, p = acme["ws"], acme["project"]
    sr.plans.billing_event(ws, "cancelled", "evt-9")
    with pytest.raises(Conflict, match="read-only"):
        sr.records.put(ws, p, "notes", {"n": 1})
    with pytest.raises(Conflict, match="read-only"):
        sr.records.delete(ws, p, acme["record"])
    clock.advance(29 * DAY)
    assert sr.records.get(ws, p, acme["record"]).document == {"text": "call back"}
    archive = tmp_path / "export.zip"
    sr.exports.write(ws, archive)  # everything, on day 29
    assert sr.exports.verify(archive).workspace_id == ws
    assert sr.worker.run_once().done == []
    clock.advance(DAY + timedelta(seconds=1))
    with pytest.raises(Conflict, match="window has closed"):
        sr.plans.billing_event(ws, "reactivated", "evt-10")
    assert len(sr.worker.run_once().done) == 1
    (cert,) = _certificates(sr, ws)
    assert cert["reason"] == "cancellation"


def test_reactivation_inside_the_window_restores_full_use(
    sr: Strongroom, clock: FixedClock, acme: dict[str, str]
) -> None:
    ws = acme["ws"]
    sr.plans.billing_event(ws, "cancelled", "evt-1")
    clock.advance(10 * DAY)
    sr.plans.billing_event(ws, "reactivated", "evt-2")
    clock.advance(40 * DAY)
    assert sr.worker.run_once().done == []
    sr.records.put(ws, acme["project"], "notes", {"n": 1})


def test_billing_events_are_idempotent_by_event_id(
    sr: Strongroom, clock: FixedClock, acme: dict[str, str]
) -> None:
    ws = acme["ws"]
    first = sr.plans.billing_event(ws, "cancelled", "evt-1")
    events_before = len(sr.audit.events(ws))
    clock.advance(DAY)
    again = sr.plans.billing_event(ws, "cancelled", "evt-1")
    assert again == first
    assert len(sr.audit.events(ws)) == events_before
    with pytest.raises(Conflict, match="already used"):
        sr.plans.billing_event(ws, "reactivated", "evt-1")
    with pytest.raises(Conflict):
        sr.plans.billing_event(ws, "cancelled", "evt-2")  # already cancelled
    with pytest.raises(InvalidInput):
        sr.plans.billing_event(ws, "refunded", "evt-3")
    with pytest.raises(InvalidInput):
        sr.plans.billing_event(ws, "trial_started", "evt-4")  # no trial days


# workspace deletion -----------------------------------------------------------------------
def test_workspace_deletion_needs_the_name_and_closes_access_at_once(
    sr: Strongroom, acme: dict[str, str]
) -> None:
    ws = acme["ws"]
    token = sr.access.create_token(ws, "owner")
    with pytest.raises(InvalidInput, match="does not match"):
        sr.plans.delete_workspace(ws, "Acme Inc")
    assert sr.access.authenticate(token.token).workspace_id == ws
    status = sr.plans.delete_workspace(ws, "Acme")
    assert status.state is WorkspaceState.CLOSED
    with pytest.raises(Exception, match="revoked"):
        sr.access.authenticate(token.token)
    with pytest.raises(NotFound):
        sr.workspaces.get(ws)
    assert ws not in [w.id for w in sr.workspaces.list()]
    assert len(sr.worker.run_once().done) == 1
    (cert,) = _certificates(sr, ws)
    assert cert["reason"] == "workspace_deleted"
    with sr.ctx.keyring.keystore.read() as keys:
        assert keys.keys.data_keys_of(ws) == []
        assert keys.keys.workspace_key_versions(ws) == []


# legal holds ------------------------------------------------------------------------------
def test_a_legal_hold_blocks_due_purges_visibly_until_cleared(
    sr: Strongroom, clock: FixedClock, acme: dict[str, str]
) -> None:
    ws, p = acme["ws"], acme["project"]
    entry = sr.records.delete(ws, p, acme["record"])
    hold = sr.plans.set_hold(ws, p, "litigation hold 2026-17")
    assert sr.plans.hold_reason(ws, hold) == "litigation hold 2026-17"
    clock.advance(45 * DAY)
    report = sr.worker.run_once()
    assert report.done == [] and len(report.held) == 1
    (scheduled,) = sr.plans.scheduled(workspace_id=ws)
    assert scheduled.held and scheduled.subject_id == entry.id
    assert sr.plans.status(ws).holds[0]["id"] == hold
    sr.plans.clear_hold(ws, p, "case closed")
    assert len(sr.worker.run_once().done) == 1  # overdue: runs at once
    assert _certificates(sr, ws)[0]["subject_id"] == acme["record"]


def test_a_workspace_hold_blocks_its_workspace_purge(
    sr: Strongroom, clock: FixedClock, acme: dict[str, str]
) -> None:
    ws = acme["ws"]
    sr.plans.set_hold(ws, None, "regulator request")
    sr.plans.billing_event(ws, "cancelled", "evt-1")
    clock.advance(90 * DAY)
    assert sr.worker.run_once().done == []
    assert sr.records.get(ws, acme["project"], acme["record"]).document == {"text": "call back"}
    with pytest.raises(NotFound):
        sr.plans.clear_hold(ws, acme["project"], "wrong scope")
    sr.plans.clear_hold(ws, None, "released")
    assert len(sr.worker.run_once().done) == 1


# certificates -----------------------------------------------------------------------------
def test_a_tampered_or_foreign_certificate_fails_verification(
    sr: Strongroom, clock: FixedClock, acme: dict[str, str]
) -> None:
    ws, p = acme["ws"], acme["project"]
    entry = sr.records.delete(ws, p, acme["record"])
    sr.trash.purge_now(ws, entry.id)
    sr.worker.run_once()
    (cert,) = _certificates(sr, ws)
    good = sr.certificates.get(str(cert["certificate_id"]))
    edited = {**good, "counts": {**good["counts"], "records": 0}}
    with pytest.raises(IntegrityFailure, match="signature"):
        sr.certificates.verify(json.dumps(edited))
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from strongroom.crypto import certificates

    body = {k: v for k, v in good.items() if k not in ("signature", "signing_key")}
    facts = certificates.Facts(
        certificate_id=good["certificate_id"],
        kind="record",
        subject_id=acme["record"],
        workspace_id=ws,
        project_id=p,
        reason=body["reason"],
        deleted_at=entry.deleted_at,
        purged_at=entry.deleted_at,
        counts=body["counts"],
        destroyed_keys=[],
        backups=[],
    )
    forged = certificates.issue(facts, Ed25519PrivateKey.generate(), entry.deleted_at)
    with pytest.raises(IntegrityFailure, match="not this deployment"):
        sr.certificates.verify(json.dumps(forged))
    with pytest.raises(InvalidInput):
        sr.certificates.verify(b"not json")


# found in review: races and holds ----------------------------------------------------------
def test_a_restore_that_wins_a_race_with_the_purge_keeps_the_key(
    sr: Strongroom, clock: FixedClock, acme: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The purge read the entry as trashed, then the restore committed first: the purge's
    conditional transition fails, it is cancelled, and nothing is destroyed."""
    ws, p = acme["ws"], acme["project"]
    entry = sr.projects.delete(ws, p)
    clock.advance(31 * DAY)
    with sr.ctx.store.read() as uow:
        stale = uow.trash.get(ws, entry.id)
    from strongroom.storage.repositories import trash as lr

    real_get = lr.Trash.get

    def get_then_restore(self: lr.Trash, workspace_id: str, entry_id: str) -> object:
        row = real_get(self, workspace_id, entry_id)
        if entry_id == entry.id:  # the restore commits between the worker's read and write
            self.conn.execute(
                lr.update(lr.t.trash_entries)
                .where(lr.t.trash_entries.c.id == entry_id)
                .values(state="restored")
            )
            return stale
        return row

    monkeypatch.setattr(lr.Trash, "get", get_then_restore)
    assert sr.worker.run_once().done != []  # the deadline ends, as cancelled
    monkeypatch.undo()
    assert sr.ctx.keyring.data_key(p) is not None
    assert _certificates(sr, ws) == []
    with sr.ctx.store.read() as uow:
        (deadline,) = uow.deadlines.finished_for(entry.id) or [None]
    assert deadline is None  # cancelled, not done


def test_a_project_hold_blocks_the_workspace_purge_too(
    sr: Strongroom, clock: FixedClock, acme: dict[str, str]
) -> None:
    ws = acme["ws"]
    sr.plans.set_hold(ws, acme["project"], "matter 17")
    sr.plans.billing_event(ws, "cancelled", "evt-1")
    clock.advance(31 * DAY)
    report = sr.worker.run_once()
    assert report.done == [] and len(report.held) == 1
    assert sr.plans.scheduled(workspace_id=ws)[0].held


def test_holds_can_be_set_and_cleared_on_a_deleted_workspace_before_its_purge(
    sr: Strongroom, clock: FixedClock, acme: dict[str, str]
) -> None:
    ws = acme["ws"]
    sr.plans.set_hold(ws, None, "regulator")
    sr.plans.delete_workspace(ws, "Acme")
    assert sr.worker.run_once().done == []
    second = sr.plans.set_hold(ws, acme["project"], "second matter")
    assert second.startswith("hld_")
    sr.plans.clear_hold(ws, None, "released")
    sr.plans.clear_hold(ws, acme["project"], "released")
    assert len(sr.worker.run_once().done) == 1


def test_an_owner_can_revoke_a_token_in_a_cancelled_workspace(
    sr: Strongroom, acme: dict[str, str]
) -> None:
    ws = acme["ws"]
    stolen = sr.access.create_token(ws, "admin")
    sr.plans.billing_event(ws, "cancelled", "evt-1")
    owner = sr.access.authenticate(sr.access.create_token(ws, "owner").token)
    sr.access.require(owner, ws, Action.MANAGE_MEMBERS)
    sr.access.revoke(stolen.id, owner.actor, ws)
    with pytest.raises(Exception, match="revoked"):
        sr.access.authenticate(stolen.token)
