"""Lifecycle: plans, trash, deadlines, legal holds, billing events, export jobs.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
ID = sa.String(40)


def upgrade() -> None:
    with op.batch_alter_table("workspaces") as batch:
        batch.add_column(sa.Column("trial_ends_at", TS, nullable=True))
        batch.add_column(sa.Column("state_since", TS, nullable=True))
    for table in ("projects", "records", "files"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("trash_id", ID, nullable=True))
    op.create_table(
        "trash_entries",
        sa.Column("id", ID, primary_key=True),
        sa.Column("workspace_id", ID, sa.ForeignKey("workspaces.id"), nullable=False),
        sa.Column("project_id", ID, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("subject_id", ID, nullable=False),
        sa.Column("deleted_by", sa.String(128), nullable=False),
        sa.Column("deleted_at", TS, nullable=False),
        sa.Column("restore_until", TS, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("closed_at", TS, nullable=True),
    )
    op.create_index(
        "ix_trash_entries_workspace_state", "trash_entries", ["workspace_id", "state", "id"]
    )
    op.create_table(
        "deadlines",
        sa.Column("id", ID, primary_key=True),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("workspace_id", ID, nullable=False),
        sa.Column("subject_id", ID, nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("due_at", TS, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("step", sa.String(32), nullable=False),
        sa.Column("progress", sa.Text, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("lease_owner", sa.String(64), nullable=True),
        sa.Column("lease_until", TS, nullable=True),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("finished_at", TS, nullable=True),
    )
    op.create_index("ix_deadlines_workspace_id", "deadlines", ["workspace_id"])
    op.create_index("ix_deadlines_due", "deadlines", ["state", "due_at"])
    op.create_table(
        "holds",
        sa.Column("id", ID, primary_key=True),
        sa.Column("workspace_id", ID, nullable=False),
        sa.Column("project_id", ID, nullable=True),
        sa.Column("reason_sealed", sa.LargeBinary, nullable=False),
        sa.Column("set_by", sa.String(128), nullable=False),
        sa.Column("set_at", TS, nullable=False),
        sa.Column("cleared_by", sa.String(128), nullable=True),
        sa.Column("cleared_at", TS, nullable=True),
        sa.Column("clear_reason_sealed", sa.LargeBinary, nullable=True),
    )
    op.create_index("ix_holds_workspace_id", "holds", ["workspace_id"])
    op.create_table(
        "billing_events",
        sa.Column("event_id", sa.String(128), primary_key=True),
        sa.Column("workspace_id", ID, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("trial_days", sa.Integer, nullable=True),
        sa.Column("at", TS, nullable=False),
        sa.Column("state_after", sa.String(16), nullable=False),
    )
    op.create_index("ix_billing_events_workspace_id", "billing_events", ["workspace_id"])
    op.create_table(
        "export_jobs",
        sa.Column("id", ID, primary_key=True),
        sa.Column("workspace_id", ID, nullable=False),
        sa.Column("requested_by", sa.String(128), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("started_at", TS, nullable=True),
        sa.Column("finished_at", TS, nullable=True),
        sa.Column("expires_at", TS, nullable=True),
        sa.Column("entries_done", sa.Integer, nullable=False),
        sa.Column("entries_total", sa.Integer, nullable=True),
        sa.Column("blob_key", sa.String(128), nullable=True),
        sa.Column("size", sa.BigInteger, nullable=True),
        sa.Column("sha256", sa.String(64), nullable=True),
        sa.Column("error", sa.Text, nullable=True),
    )
    op.create_index("ix_export_jobs_workspace_id", "export_jobs", ["workspace_id"])


def downgrade() -> None:
    for table in ("export_jobs", "billing_events", "holds", "deadlines", "trash_entries"):
        op.drop_table(table)
    for table in ("files", "records", "projects"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("trash_id")
    with op.batch_alter_table("workspaces") as batch:
        batch.drop_column("state_since")
        batch.drop_column("trial_ends_at")
