"""Encrypted backups: data backups (a snapshot of the data store and the file ciphertext,
incremental by blob key) and separate keystore backups, each under its own key wrapped by
the root key; retention by absolute date; verify; restore with ledger replay; the drill.

Modules: manifest (format, folder layout), writer (create), reader (verify, decrypt),
restore (new home, ledger replay), workspace (one workspace into the live deployment),
retention (expiry, certificate facts), drill, service (the facade ``sr.backups``).
"""

from strongroom.backup.service import BackupEntry, Backups

__all__ = ["BackupEntry", "Backups"]
