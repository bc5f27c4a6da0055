"""Encrypted backups: data backups (a snapshot of the data store and the file ciphertext,
incremental by blob key) and separate keystore backups, each under its own key wrapped by
the root key; retention by absolute date; verify; restore with ledger replay; the drill.

Modules: manifest (format, layout, the BackupPlace port and the folder), s3_place (the
same on S3), places (the one the settings name), writer (create), reader (verify, decrypt),
restore (new home, ledger replay), workspace (one workspace into the live deployment),
retention (expiry, certificate facts), drill, service (the facade ``sr.backups``), marker
(the unfinished restore's marker, which every open of a home looks for).

The facade is imported on first use (``from strongroom.backup import Backups``), so that
importing one small module of the package (the marker) does not import all of it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from strongroom.backup.service import BackupEntry, Backups

__all__ = ["BackupEntry", "Backups"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from strongroom.backup.service import BackupEntry, Backups

        return {"BackupEntry": BackupEntry, "Backups": Backups}[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
