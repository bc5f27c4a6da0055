"""Keystore: the deployment's signing key and the deletion ledger.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
ID = sa.String(40)


def upgrade() -> None:
    op.create_table(
        "signing_keys",
        sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("root_version", sa.Integer, nullable=False),
        sa.Column("wrapped", sa.LargeBinary, nullable=False),
        sa.Column("public_key", sa.LargeBinary(32), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "ledger",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("certificate_id", ID, nullable=False, unique=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("subject_id", ID, nullable=False),
        sa.Column("workspace_id", ID, nullable=False),
        sa.Column("project_id", ID, nullable=True),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("deleted_at", TS, nullable=False),
        sa.Column("purged_at", TS, nullable=False),
        sa.Column("certificate", sa.Text, nullable=False),
        sa.Column("certificate_sha256", sa.String(64), nullable=False),
    )
    op.create_index("ix_ledger_subject_id", "ledger", ["subject_id"])
    op.create_index("ix_ledger_workspace_id", "ledger", ["workspace_id"])


def downgrade() -> None:
    op.drop_table("ledger")
    op.drop_table("signing_keys")
