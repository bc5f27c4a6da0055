"""Subprocessors: notices of changes, objections, subscribers and deliveries, and the
public subscription's rate limit.

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

ID = 40
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "subprocessor_notices",
        sa.Column("id", sa.String(ID), primary_key=True),
        sa.Column("subprocessor_id", sa.String(ID), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("details", sa.Text, nullable=True),
        sa.Column("effective_on", sa.Date, nullable=False),
        sa.Column("published_at", TS, nullable=False),
        sa.Column("published_by", sa.String(128), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False, unique=True),
    )
    op.create_index(
        "ix_subprocessor_notices_subprocessor_id", "subprocessor_notices", ["subprocessor_id"]
    )
    op.create_table(
        "subprocessor_objections",
        sa.Column("id", sa.String(ID), primary_key=True),
        sa.Column(
            "notice_id", sa.String(ID), sa.ForeignKey("subprocessor_notices.id"), nullable=False
        ),
        sa.Column("workspace_id", sa.String(ID), nullable=False),
        sa.Column("user_id", sa.String(ID), nullable=False),
        sa.Column("reason_sealed", sa.LargeBinary, nullable=True),
        sa.Column("at", TS, nullable=False),
    )
    op.create_index(
        "ux_subprocessor_objections_notice_ws",
        "subprocessor_objections",
        ["notice_id", "workspace_id"],
        unique=True,
    )
    op.create_table(
        "subprocessor_subscribers",
        sa.Column("id", sa.String(ID), primary_key=True),
        sa.Column("email_sealed", sa.LargeBinary, nullable=False),
        sa.Column("email_index", sa.LargeBinary(16), nullable=False, unique=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("changed_at", TS, nullable=False),
        sa.Column("opted_out", sa.Boolean, nullable=False),
        sa.Column("confirm_queued_at", TS, nullable=True),
    )
    op.create_table(
        "subprocessor_deliveries",
        sa.Column("id", sa.String(ID), primary_key=True),
        sa.Column(
            "notice_id", sa.String(ID), sa.ForeignKey("subprocessor_notices.id"), nullable=False
        ),
        sa.Column(
            "subscriber_id",
            sa.String(ID),
            sa.ForeignKey("subprocessor_subscribers.id"),
            nullable=False,
        ),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("message_id", sa.String(255), nullable=True),
        sa.Column("last_error", sa.String(300), nullable=True),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("failing_since", TS, nullable=True),
    )
    op.create_index(
        "ux_subprocessor_deliveries_pair",
        "subprocessor_deliveries",
        ["notice_id", "subscriber_id"],
        unique=True,
    )
    op.create_index("ix_subprocessor_deliveries_state", "subprocessor_deliveries", ["state"])
    op.create_table(
        "subscribe_attempts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("address_index", sa.LargeBinary(16), nullable=False),
        sa.Column("at", TS, nullable=False),
    )
    op.create_index("ix_subscribe_attempts_address_index", "subscribe_attempts", ["address_index"])
    op.create_index("ix_subscribe_attempts_at", "subscribe_attempts", ["at"])


def downgrade() -> None:
    op.drop_table("subscribe_attempts")
    op.drop_table("subprocessor_deliveries")
    op.drop_table("subprocessor_subscribers")
    op.drop_table("subprocessor_objections")
    op.drop_table("subprocessor_notices")
