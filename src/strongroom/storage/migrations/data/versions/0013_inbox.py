"""The request inbox: requests from the public (sealed) and what operators did with them.

Revision ID: 0013
Revises: 0009
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
ID = sa.String(40)


def upgrade() -> None:
    op.create_table(
        "inbox_requests",
        sa.Column("id", ID, primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("email_sealed", sa.LargeBinary, nullable=False),
        sa.Column("subject_sealed", sa.LargeBinary, nullable=False),
        sa.Column("body_sealed", sa.LargeBinary, nullable=False),
        sa.Column("address_index", sa.LargeBinary(16), nullable=True),
        sa.Column("received_at", TS, nullable=False),
        sa.Column("due_at", TS, nullable=False),
        sa.Column("assigned_to", sa.String(128), nullable=True),
        sa.Column("answered_at", TS, nullable=True),
        sa.Column("warned_at", TS, nullable=True),
        sa.Column("breached_at", TS, nullable=True),
    )
    op.create_index("ix_inbox_requests_open", "inbox_requests", ["answered_at", "due_at"])
    op.create_index("ix_inbox_requests_address", "inbox_requests", ["address_index", "received_at"])
    op.create_table(
        "inbox_entries",
        sa.Column("id", ID, primary_key=True),
        sa.Column("request_id", ID, sa.ForeignKey("inbox_requests.id"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("author", sa.String(128), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("text_sealed", sa.LargeBinary, nullable=True),
        sa.Column("detail", sa.String(255), nullable=True),
        sa.Column("message_id", sa.String(255), nullable=True),
        sa.Column("position", sa.Integer, nullable=False),
        sa.UniqueConstraint("request_id", "position", name="uq_inbox_entries_position"),
    )


def downgrade() -> None:
    op.drop_table("inbox_entries")
    op.drop_index("ix_inbox_requests_address", table_name="inbox_requests")
    op.drop_index("ix_inbox_requests_open", table_name="inbox_requests")
    op.drop_table("inbox_requests")
