"""Audit positions: each workspace's events numbered 1, 2, 3, … without gaps.

The global sequence shows a tenant how much every other tenant did between two of its
events; a tenant is shown its own position instead. Existing events are numbered in
chain order. (UPDATE … FROM with a window function: PostgreSQL, SQLite 3.33 or later.)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_events") as batch:
        batch.add_column(sa.Column("workspace_position", sa.BigInteger, nullable=True))
    op.execute(
        "UPDATE audit_events SET workspace_position = numbered.position FROM ("
        " SELECT seq, row_number() OVER (PARTITION BY workspace_id ORDER BY seq) AS position"
        " FROM audit_events WHERE workspace_id IS NOT NULL"
        ") AS numbered WHERE audit_events.seq = numbered.seq"
    )
    op.create_index(
        "ux_audit_events_workspace_position",
        "audit_events",
        ["workspace_id", "workspace_position"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index("ux_audit_events_workspace_position", table_name="audit_events")
    with op.batch_alter_table("audit_events") as batch:
        batch.drop_column("workspace_position")
