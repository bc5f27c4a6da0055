"""Erasure (GDPR Art. 17) on SQLite and PostgreSQL: a verified deletion request purges the
subject's records now, or redacts them where asked; the files they name go too; a legal
hold leaves its records pending, visibly; a signed certificate verifies; and a restore of
a backup taken before the erasure does not bring the subject back."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest

from strongroom import open_strongroom
from strongroom.bootstrap import Strongroom
from strongroom.clock import FixedClock
from strongroom.config import Settings
from strongroom.errors import Conflict, InvalidInput, NotFound
from strongroom.services.erasure import Erasure
from tests.integration.test_backup import target_dbs

ADA = "ada@example.com"


def _world(sr: Strongroom) -> dict[str, str]:
    ws = sr.workspaces.create("Acme", "owner@acme.example").id
    hiring = sr.projects.create(ws, "Hiring").id
    sales = sr.projects.create(ws, "Sales").id
    sr.records.declare_collection(
        ws,
        "candidates",
        ["email", "name", "referrals[].email", "referrals[].name"],
        file_fields=["resume"],
    )
    sr.records.declare_collection(ws, "deals", ["email", "name"])
    resume = sr.files.put(ws, hiring, "ada.pdf", io.BytesIO(b"ADA-RESUME" * 100)).id
    other_resume = sr.files.put(ws, hiring, "bob.pdf", io.BytesIO(b"BOB-RESUME" * 100)).id
    ada = sr.records.put(
        ws,
        hiring,
        "candidates",
        {"email": "Ada@Example.com", "name": "Ada Lovelace", "resume": resume, "stage": "offer"},
    ).id
    bob = sr.records.put(
        ws,
        hiring,
        "candidates",
        {
            "email": "bob@example.com",
            "name": "Bob",
            "resume": other_resume,
            "referrals": [
                {"email": ADA, "name": "Ada L.", "when": "2026"},
                {"email": "cy@example.com", "name": "Cy"},
            ],
        },
    ).id
    deal = sr.records.put(
        ws,
        sales,
        "deals",
        {"email": ADA, "name": "Ada", "amount": 1200},
    ).id
    trashed = sr.records.put(ws, sales, "deals", {"email": ADA, "amount": 5}).id
    sr.records.delete(ws, sales, trashed)
    return {
        "ws": ws,
        "hiring": hiring,
        "sales": sales,
        "ada": ada,
        "bob": bob,
        "deal": deal,
        "trashed": trashed,
        "resume": resume,
        "other_resume": other_resume,
    }


def _request(sr: Strongroom, ws: str, verified: bool = True) -> str:
    request = sr.privacy.create(ws, type="deletion", law="gdpr", identifiers=[("email", ADA)])
    if verified:
        sr.privacy.verify(ws, request.id, method="reply from the address", by="dpo@acme")
    return request.id


def test_an_erasure_purges_and_redacts_the_subject_and_certifies_it(
    sr: Strongroom, tmp_path: Path
) -> None:
    w = _world(sr)
    ws = w["ws"]
    request = _request(sr, ws)

    status = sr.privacy.erase(ws, request, redact=["candidates"])

    assert status.state == "done" and status.pending == []
    assert status.counts["records_erased"] == 2  # the deal, and the deal in the trash
    assert status.counts["records_redacted"] == 2  # Ada's application, Bob's referral of her
    assert status.counts["files"] == 1
    assert status.per_collection == {
        "candidates": {"erased": 0, "redacted": 2, "pending": 0},
        "deals": {"erased": 2, "redacted": 0, "pending": 0},
    }
    # Gone from every read, find, locate and export.
    with pytest.raises(NotFound):
        sr.records.get(ws, w["sales"], w["deal"])
    assert sr.privacy.locate(ws, request) == []
    assert sr.records.find(ws, "email", ADA) == []
    assert sr.records.find(ws, "referrals[].email", ADA) == []
    assert [e.subject_id for e in sr.trash.list(ws).items] == []  # its entry closed too
    # Redacted: the subject's fields and file went; the rest of each record stayed.
    assert sr.records.get(ws, w["hiring"], w["ada"]).document == {"stage": "offer"}
    bob = sr.records.get(ws, w["hiring"], w["bob"]).document
    assert bob["referrals"] == [{"when": "2026"}, {"email": "cy@example.com", "name": "Cy"}]
    assert bob["email"] == "bob@example.com" and bob["resume"] == w["other_resume"]
    with pytest.raises(NotFound):
        sr.files.info(ws, w["hiring"], w["resume"])
    assert sr.files.info(ws, w["hiring"], w["other_resume"]).id == w["other_resume"]
    sr.exports.write(ws, tmp_path / "after.zip")
    with zipfile.ZipFile(tmp_path / "after.zip") as archive:
        content = b"".join(archive.read(n) for n in archive.namelist())
    assert b"ada@example.com" not in content.lower() and b"ADA-RESUME" not in content
    assert b"Ada L." not in content and b"Lovelace" not in content

    # The request is completed; only digests of the subject remain on it.
    shown = sr.privacy.get(ws, request)
    assert shown.state.value == "completed" and shown.identifiers == ()
    # The certificate: signed, in the ledger, in the audit chain; names the request.
    document = sr.certificates.get(status.certificate_id)
    assert document["subject"] == {
        "kind": "subject",
        "id": request,
        "workspace_id": ws,
        "project_id": None,
    }
    assert document["reason"] == "privacy_request"
    assert document["erasure"]["per_collection"] == status.per_collection
    assert sorted(document["erasure"]["erased_records"]) == sorted([w["deal"], w["trashed"]])
    verified = sr.certificates.verify(json.dumps(document))
    assert verified.certificate_id == status.certificate_id
    assert ADA not in json.dumps(document).lower()


def test_an_unverified_or_other_request_erases_nothing(sr: Strongroom) -> None:
    w = _world(sr)
    ws = w["ws"]
    unverified = _request(sr, ws, verified=False)
    with pytest.raises(Conflict, match="verify"):
        sr.privacy.erase(ws, unverified)
    access = sr.privacy.create(ws, type="access", law="gdpr", identifiers=[("email", ADA)])
    sr.privacy.verify(ws, access.id, method="id", by="dpo")
    with pytest.raises(Conflict, match="cannot erase"):
        sr.privacy.erase(ws, access.id)
    verified = _request(sr, ws)
    with pytest.raises(InvalidInput, match="no declared collection"):
        sr.privacy.erase(ws, verified, redact=["nope"])
    assert sr.records.get(ws, w["sales"], w["deal"]).document["amount"] == 1200
    assert len(sr.privacy.locate(ws, verified)) == 4
    assert sr.privacy.erasure_status(ws, verified) is None


def test_a_hold_leaves_its_records_pending_and_the_rest_goes(sr: Strongroom) -> None:
    w = _world(sr)
    ws = w["ws"]
    hold = sr.plans.set_hold(ws, w["sales"], "Litigation 42")
    request = _request(sr, ws)

    status = sr.privacy.erase(ws, request)

    # Ada's own application is erased; Bob's, where she is only a referral, is redacted.
    assert status.counts["records_erased"] == 1 and status.counts["records_redacted"] == 1
    assert status.counts["records_pending"] == 2
    assert {p["record_id"] for p in status.pending} == {w["deal"], w["trashed"]}
    assert {(p["hold_id"], p["hold_reason"]) for p in status.pending} == {(hold, "Litigation 42")}
    assert sr.records.get(ws, w["sales"], w["deal"]).document["amount"] == 1200
    with pytest.raises(NotFound):
        sr.records.get(ws, w["hiring"], w["ada"])
    assert sr.records.get(ws, w["hiring"], w["bob"]).document["referrals"][0] == {"when": "2026"}
    assert sr.privacy.get(ws, request).state.value == "in_progress"  # what is pending

    sr.plans.clear_hold(ws, w["sales"], "settled")
    again = sr.privacy.erase(ws, request)
    assert again.counts["records_erased"] == 2 and again.pending == []
    assert sr.privacy.locate(ws, request) == []
    assert sr.privacy.get(ws, request).state.value == "completed"


def test_a_restore_of_an_older_backup_does_not_bring_the_subject_back(
    sr: Strongroom, home: Settings, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    w = _world(sr)
    ws = w["ws"]
    backup = sr.backups.create()
    dsr = _request(sr, ws)
    status = sr.privacy.erase(ws, dsr, redact=["candidates"])
    document = sr.certificates.get(status.certificate_id)
    assert [b["backup_id"] for b in document["backups_holding_ciphertext"]] == [backup.id]

    report = sr.backups.restore_home(backup.id, tmp_path / "restored", **target_dbs(request, home))

    assert report.replayed == {"subject": 1}
    with open_strongroom(tmp_path / "restored") as restored:
        with pytest.raises(NotFound):
            restored.records.get(ws, w["sales"], w["deal"])
        assert restored.records.find(ws, "email", ADA) == []
        assert restored.records.find(ws, "name", "Ada") == []
        assert restored.records.get(ws, w["hiring"], w["ada"]).document == {"stage": "offer"}
        with pytest.raises(NotFound):
            restored.files.info(ws, w["hiring"], w["resume"])
        bob = restored.records.get(ws, w["hiring"], w["bob"]).document
        assert ADA not in json.dumps(bob)
        # The restored home has no record of the request (the backup is older): a new one
        # for the same person finds nothing.
        again = restored.privacy.create(ws, type="access", law="gdpr", identifiers=[("email", ADA)])
        assert restored.privacy.locate(ws, again.id) == []
        assert restored.certificates.get(status.certificate_id)["erasure"]["request_id"] == dsr


def test_an_erasure_deletes_no_file_of_another_project_or_tenant(sr: Strongroom) -> None:
    w = _world(sr)
    ws = w["ws"]
    beta = sr.workspaces.create("Beta", "owner@beta.example").id
    beta_project = sr.projects.create(beta, "B").id
    beta_file = sr.files.put(beta, beta_project, "b.pdf", io.BytesIO(b"BETA")).id
    sales_file = sr.files.put(ws, w["sales"], "s.pdf", io.BytesIO(b"SALES")).id
    # A writer may put any id in a file field: another tenant's, another project's.
    sr.records.put(ws, w["hiring"], "candidates", {"email": ADA, "resume": beta_file})
    sr.records.put(ws, w["hiring"], "candidates", {"email": ADA, "resume": sales_file})
    request = _request(sr, ws)

    status = sr.privacy.erase(ws, request, redact=["candidates"])

    assert status.counts["files"] == 1  # her own resume only
    assert sr.files.info(beta, beta_project, beta_file).id == beta_file
    assert sr.files.info(ws, w["sales"], sales_file).id == sales_file
    files = sr.certificates.get(status.certificate_id)["erasure"]["files"]
    assert files == [w["resume"]]


def test_a_workspace_restored_from_an_older_backup_keeps_the_subject_erased(
    sr: Strongroom,
) -> None:
    w = _world(sr)
    ws = w["ws"]
    backup = sr.backups.create()
    sr.privacy.erase(ws, _request(sr, ws), redact=["candidates"])

    report = sr.backups.restore_workspace(backup.id, ws)

    assert report.left_out_purged >= 2  # the deal and the trashed deal, listed by id
    assert sr.records.find(ws, "email", ADA) == []
    assert sr.records.find(ws, "referrals[].email", ADA) == []
    assert sr.records.get(ws, w["hiring"], w["ada"]).document == {"stage": "offer"}
    bob = sr.records.get(ws, w["hiring"], w["bob"]).document
    assert "Ada L." not in json.dumps(bob) and bob["email"] == "bob@example.com"
    with pytest.raises(NotFound):
        sr.records.get(ws, w["sales"], w["deal"])
    with pytest.raises(NotFound):
        sr.files.info(ws, w["hiring"], w["resume"])


def test_a_restore_leaves_what_was_written_after_the_erasure(
    sr: Strongroom,
    clock: FixedClock,
    home: Settings,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    w = _world(sr)
    ws = w["ws"]
    dsr = _request(sr, ws)
    sr.privacy.erase(ws, dsr)
    clock.advance(timedelta(days=200))
    back = sr.records.put(ws, w["sales"], "deals", {"email": ADA, "amount": 7}).id
    backup = sr.backups.create()  # newer than the erasure: she came back as a customer

    sr.backups.restore_home(backup.id, tmp_path / "restored", **target_dbs(request, home))

    with open_strongroom(tmp_path / "restored") as restored:
        assert restored.records.get(ws, w["sales"], back).document["amount"] == 7
        assert restored.records.find(ws, "email", ADA) == [back]
        assert restored.privacy.get(ws, dsr).state.value == "completed"


def test_the_certificate_names_the_workspace_exports_that_still_hold_her(
    sr: Strongroom, tmp_path: Path
) -> None:
    w = _world(sr)
    ws = w["ws"]
    job = sr.exports.create_job(ws)
    sr.worker.run_once()
    status = sr.privacy.erase(ws, _request(sr, ws))
    holding = sr.certificates.get(status.certificate_id)["erasure"]["exports_holding"]
    assert [h["export_id"] for h in holding] == [job.id]


def test_an_erasure_of_a_request_rejected_before_it_ran_is_cancelled(sr: Strongroom) -> None:
    w = _world(sr)
    ws = w["ws"]
    request = _request(sr, ws)
    deadline = Erasure(sr.ctx).schedule(ws, request, (), "test")
    sr.privacy.reject(ws, request, reason="asked by mistake")

    sr.worker.run_once()

    status = sr.privacy.erasure_status(ws, request)
    assert status is not None and (status.deadline_id, status.state) == (deadline, "cancelled")
    assert sr.records.get(ws, w["sales"], w["deal"]).document["amount"] == 1200
