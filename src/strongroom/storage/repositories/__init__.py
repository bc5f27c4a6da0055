"""Repositories: one module per aggregate, each a class of small statements on the
connection of a unit of work (storage/unit_of_work.py). Nobody outside ``storage/`` holds
a connection: every statement is a method here.

Data store: users, workspaces (with members and collections), projects, records (with the
blind index), files, audit, tokens, trash, deadlines, holds, billing, exports, shredding
(the deletes of every permanent deletion) and backups (what backups and restores read and
replace). Keystore: keys (wrapped keys, the keyring's only) and ledger (tombstones).
"""
