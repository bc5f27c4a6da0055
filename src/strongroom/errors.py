"""The one error hierarchy of Strongroom.

Every error a user can cause or meet is one of these. Entrypoints map them in one
place each (the CLI to exit codes in cli/output.py, the API to problem+json statuses in
api/problems.py)::

    StrongroomError
    ├── InvalidInput                 bad input from the caller; nothing was written
    │   ├── MalformedDocument        not JSON, or not a JSON object
    │   ├── TooLarge                 over a configured size limit
    │   ├── UndeclaredField          a search by a field no collection declares personal
    │   └── NotAccepted              well-formed, but a rule refuses it (a notice too short)
    ├── NotFound                     no such workspace, project, record, file or user
    │   └── InTrash                  it is in the trash (restorable until a named time)
    ├── Unauthenticated              no credentials, or bad, expired or revoked ones
    ├── PermissionDenied             authenticated, but the role does not allow it
    ├── RateLimited                  too many attempts; try again later
    ├── ServerBusy                   every slot for this kind of work is taken; try again soon
    ├── RequestTimeout               the request body stopped arriving
    ├── Conflict                     the request contradicts the current state
    ├── Expired                      it existed, but its time ran out (an export artifact)
    ├── IntegrityFailure             a ciphertext failed authentication (tampered or moved)
    ├── KeyUnavailable               a key needed is destroyed (crypto-shredded) or missing
    ├── KmsFailure                   the KMS or HSM refused or failed
    │   └── KmsAuthenticationFailed  wrong PIN or credentials
    ├── StorageUnavailable           the data store or keystore cannot be reached
    ├── ConfigurationError           settings that are unsafe or break a promise
    ├── AuditChainBroken             the audit log was edited, deleted or reordered
    ├── ExportInvalid                an export archive does not match its manifest
    └── MailNotSent                  the SMTP server did not take a message (or none is set)

Messages are one line, name the ids involved and never contain key material or
customer plaintext.
"""

from __future__ import annotations


class StrongroomError(Exception):
    """Base of every Strongroom error."""

    def __init__(self, message: str, **ids: str | int | None) -> None:
        super().__init__(message)
        self.message = message
        self.ids = {k: v for k, v in ids.items() if v is not None}

    def __str__(self) -> str:
        return self.message


class InvalidInput(StrongroomError):
    """The caller sent something Strongroom cannot accept."""


class MalformedDocument(InvalidInput):
    """A record document that is not a JSON object."""


class TooLarge(InvalidInput):
    """Input over a configured size limit."""


class UndeclaredField(InvalidInput):
    """A blind-index search by a field that no collection of the workspace declares
    personal: it could never match, so saying "no records" would mislead."""


class NotAccepted(InvalidInput):
    """Well-formed input that a rule refuses: a subprocessor entry missing a required
    field, a notice shorter than the notice period (422: the request was understood)."""


class NotFound(StrongroomError):
    """The named object does not exist (or is not visible to the caller)."""


class InTrash(NotFound):
    """The named object was deleted and is in the trash; its ids name the trash entry and
    ``restore_until``."""


class Unauthenticated(StrongroomError):
    """No credentials, or credentials that are malformed, unknown, expired or revoked."""


class PermissionDenied(StrongroomError):
    """The caller is known, but their role does not allow this."""


class RateLimited(StrongroomError):
    """Too many attempts in a short time."""

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ServerBusy(StrongroomError):
    """Every slot the server keeps for this kind of work (uploads, password checks) is
    taken; nothing was done. Another attempt after ``retry_after`` seconds may succeed."""

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RequestTimeout(StrongroomError):
    """The client stopped sending the request body; nothing was kept."""


class Conflict(StrongroomError):
    """The request contradicts the current state."""


class Expired(StrongroomError):
    """The object existed but is gone for good because its time ran out."""


class IntegrityFailure(StrongroomError):
    """A ciphertext failed authentication: it was tampered with or moved."""


class KeyUnavailable(StrongroomError):
    """A key needed to decrypt is destroyed or missing."""


class KmsFailure(StrongroomError):
    """The KMS or HSM backend failed or refused."""


class KmsAuthenticationFailed(KmsFailure):
    """The KMS or HSM rejected the credentials (for example a wrong PIN)."""


class StorageUnavailable(StrongroomError):
    """A database cannot be reached (down, refused, missing, no permission)."""


class ConfigurationError(StrongroomError):
    """Settings that are unsafe, inconsistent or would break a promise."""


class AuditChainBroken(StrongroomError):
    """The hash chain of the audit log does not verify."""

    def __init__(self, message: str, *, position: int, reason: str) -> None:
        super().__init__(message, position=position)
        self.position = position
        self.reason = reason


class ExportInvalid(StrongroomError):
    """An export archive failed verification; ``entry`` names the first bad entry."""

    def __init__(self, message: str, *, entry: str) -> None:
        super().__init__(message, entry=entry)
        self.entry = entry


class MailNotSent(StrongroomError):
    """A message was not handed to the SMTP server: none is set, it refused, or it could
    not be reached (mail.py). The caller records it and tries again later."""
