"""Privacy requests: the requests of data subjects, and their identifiers as digests.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
ID = sa.String(40)


def upgrade() -> None:
    op.create_table(
        "privacy_requests",
        sa.Column("id", ID, primary_key=True),
        sa.Column("workspace_id", ID, sa.ForeignKey("workspaces.id"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("law", sa.String(8), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("channel", sa.String(64), nullable=False),
        sa.Column("time_zone", sa.String(64), nullable=False),
        sa.Column("received_at", TS, nullable=False),
        sa.Column("received_on", sa.Date, nullable=False),
        sa.Column("confirm_by", sa.Date, nullable=True),
        sa.Column("original_due_on", sa.Date, nullable=False),
        sa.Column("due_on", sa.Date, nullable=False),
        sa.Column("extended_at", TS, nullable=True),
        sa.Column("extension_reason_sealed", sa.LargeBinary, nullable=True),
        sa.Column("verified_at", TS, nullable=True),
        sa.Column("verified_by_sealed", sa.LargeBinary, nullable=True),
        sa.Column("verification_sealed", sa.LargeBinary, nullable=True),
        sa.Column("closed_at", TS, nullable=True),
        sa.Column("outcome_reason_sealed", sa.LargeBinary, nullable=True),
        sa.Column("subject_sealed", sa.LargeBinary, nullable=True),
        sa.Column("created_by", sa.String(128), nullable=False),
    )
    op.create_index(
        "ix_privacy_requests_workspace_due",
        "privacy_requests",
        ["workspace_id", "state", "due_on"],
    )
    op.create_index("ix_privacy_requests_due", "privacy_requests", ["state", "due_on"])
    op.create_table(
        "privacy_subjects",
        sa.Column(
            "request_id",
            ID,
            sa.ForeignKey("privacy_requests.id"),
            primary_key=True,
        ),
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("digest", sa.LargeBinary(32), primary_key=True),
    )


def downgrade() -> None:
    op.drop_table("privacy_subjects")
    op.drop_index("ix_privacy_requests_due", table_name="privacy_requests")
    op.drop_index("ix_privacy_requests_workspace_due", table_name="privacy_requests")
    op.drop_table("privacy_requests")
