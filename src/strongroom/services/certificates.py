"""Deletion certificates as users see them: listed from the deletion ledger, and verified
against this deployment's signing keys, the ledger and the audit chain."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from strongroom import ids
from strongroom.crypto import certificates
from strongroom.errors import IntegrityFailure, NotFound
from strongroom.services import audit
from strongroom.services.context import Context


@dataclass(frozen=True)
class Verification:
    certificate_id: str
    sha256: str
    signing_key: str
    ledger_seq: int
    audit_seq: int
    audit_events_verified: int

    def as_json(self) -> dict[str, Any]:
        return {
            "valid": True,
            "certificate_id": self.certificate_id,
            "sha256": self.sha256,
            "signing_key": self.signing_key,
            "ledger_seq": self.ledger_seq,
            "audit_seq": self.audit_seq,
            "audit_events_verified": self.audit_events_verified,
        }


class Certificates:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def get(self, certificate_id: str) -> dict[str, Any]:
        ids.check_id("certificate", certificate_id)
        row = self.ctx.ledger.get(certificate_id)
        if row is None:
            raise NotFound(f"no certificate {certificate_id}")
        document: dict[str, Any] = json.loads(row.certificate)
        return document

    def list(
        self, workspace_id: str | None = None, after_seq: int = 0, limit: int = 1000
    ) -> list[dict[str, Any]]:
        """Ledger entries (tombstones), oldest first: what was purged, why and when."""
        rows = self.ctx.ledger.page(workspace_id, after_seq, limit)
        return [
            {
                "seq": r.seq,
                "certificate_id": r.certificate_id,
                "kind": r.kind,
                "subject_id": r.subject_id,
                "workspace_id": r.workspace_id,
                "project_id": r.project_id,
                "reason": r.reason,
                "deleted_at": r.deleted_at.isoformat(),
                "purged_at": r.purged_at.isoformat(),
                "sha256": r.certificate_sha256,
            }
            for r in rows
        ]

    def verify(self, text: str | bytes) -> Verification:
        """Check a certificate: signed by this deployment's key, recorded in the deletion
        ledger unchanged, and its hash in an audit chain that verifies. IntegrityFailure
        names the first check that fails."""
        document = certificates.parse(text)
        public = certificates.check_signature(document, self.ctx.keyring.public_keys())
        sha = certificates.digest(document)
        certificate_id = str(document.get("certificate_id", ""))
        row = self.ctx.ledger.get(certificate_id)
        if row is None:
            raise IntegrityFailure(f"the deletion ledger holds no certificate {certificate_id}")
        if row.certificate_sha256 != sha:
            raise IntegrityFailure("the certificate differs from the one in the deletion ledger")
        with self.ctx.store.read() as uow:
            seq = uow.audit.find_certificate(certificate_id, sha)
        if seq is None:
            raise IntegrityFailure("the audit chain holds no event for this certificate")
        verified = audit.verify(self.ctx.store)
        return Verification(
            certificate_id, sha, certificates.key_fingerprint(public), row.seq, seq, verified
        )
