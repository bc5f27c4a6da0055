"""Promise checks: what each check of a trust-page promise found, and when.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "promise_checks",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("promise_id", sa.String(64), nullable=False),
        sa.Column("checked_at", TS, nullable=False),
        sa.Column("holds", sa.Boolean, nullable=False),
        sa.Column("evidence", sa.Text, nullable=False),
    )
    op.create_index(
        "ix_promise_checks_promise_checked", "promise_checks", ["promise_id", "checked_at"]
    )
    op.create_index("ix_promise_checks_checked", "promise_checks", ["checked_at"])


def downgrade() -> None:
    op.drop_index("ix_promise_checks_checked", table_name="promise_checks")
    op.drop_index("ix_promise_checks_promise_checked", table_name="promise_checks")
    op.drop_table("promise_checks")
