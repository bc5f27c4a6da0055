"""Staff (operators as people, their confidentiality agreements) and break-glass grants.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
ID = sa.String(40)


def upgrade() -> None:
    op.create_table(
        "operators",
        sa.Column("id", ID, primary_key=True),
        sa.Column("name_sealed", sa.LargeBinary, nullable=False),
        sa.Column("email_sealed", sa.LargeBinary, nullable=False),
        sa.Column("email_index", sa.LargeBinary(16), nullable=False, unique=True),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "operator_agreements",
        sa.Column("id", ID, primary_key=True),
        sa.Column("operator_id", ID, sa.ForeignKey("operators.id"), nullable=False),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("signed_on", sa.Date, nullable=False),
        sa.Column("recorded_at", TS, nullable=False),
    )
    op.create_index(
        "ix_operator_agreements_operator", "operator_agreements", ["operator_id", "signed_on"]
    )
    op.create_table(
        "operator_tokens",
        sa.Column("token_id", ID, sa.ForeignKey("api_tokens.id"), primary_key=True),
        sa.Column("operator_id", ID, sa.ForeignKey("operators.id"), nullable=False),
    )
    op.create_table(
        "grants",
        sa.Column("id", ID, primary_key=True),
        sa.Column("workspace_id", ID, sa.ForeignKey("workspaces.id"), nullable=False),
        sa.Column("project_id", ID, nullable=True),
        sa.Column("operator_id", ID, sa.ForeignKey("operators.id"), nullable=False),
        sa.Column("reason_sealed", sa.LargeBinary, nullable=False),
        sa.Column("ticket_sealed", sa.LargeBinary, nullable=False),
        sa.Column("hours", sa.Integer, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("emergency", sa.Boolean, nullable=False),
        sa.Column("requested_at", TS, nullable=False),
        sa.Column("requested_by", sa.String(128), nullable=False),
        sa.Column("decided_at", TS, nullable=True),
        sa.Column("decided_by", sa.String(128), nullable=True),
        sa.Column("expires_at", TS, nullable=True),
        sa.Column("revoked_at", TS, nullable=True),
        sa.Column("revoked_by", sa.String(128), nullable=True),
        sa.Column("token_id", ID, nullable=True, unique=True),
    )
    op.create_index("ix_grants_workspace", "grants", ["workspace_id", "requested_at"])
    op.create_table(
        "grant_reads",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("grant_id", ID, sa.ForeignKey("grants.id"), nullable=False),
        sa.Column("workspace_id", ID, nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("what", sa.String(255), nullable=False),
        sa.Column("audit_seq", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_grant_reads_grant", "grant_reads", ["grant_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_grant_reads_grant", table_name="grant_reads")
    op.drop_table("grant_reads")
    op.drop_index("ix_grants_workspace", table_name="grants")
    op.drop_table("grants")
    op.drop_table("operator_tokens")
    op.drop_index("ix_operator_agreements_operator", table_name="operator_agreements")
    op.drop_table("operator_agreements")
    op.drop_table("operators")
