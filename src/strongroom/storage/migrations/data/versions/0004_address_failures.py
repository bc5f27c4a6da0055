"""Failed sign-ins by client address (beside the per-email count of 0002).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "address_failures",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("address_index", sa.LargeBinary(16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_address_failures_address_index", "address_failures", ["address_index"])
    # every sign-in prunes the failures older than the window: by time, not by address
    op.create_index("ix_address_failures_at", "address_failures", ["at"])


def downgrade() -> None:
    op.drop_table("address_failures")
