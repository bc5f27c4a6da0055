"""Records restricted by a privacy request (GDPR Art. 18).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
ID = sa.String(40)


def upgrade() -> None:
    op.create_table(
        "record_restrictions",
        sa.Column("record_id", ID, primary_key=True),
        sa.Column("request_id", ID, primary_key=True),
        sa.Column("workspace_id", ID, nullable=False),
        sa.Column("restricted_at", TS, nullable=False),
        sa.Column("lifted_at", TS, nullable=True),
    )
    op.create_index("ix_record_restrictions_request", "record_restrictions", ["request_id"])


def downgrade() -> None:
    op.drop_index("ix_record_restrictions_request", table_name="record_restrictions")
    op.drop_table("record_restrictions")
