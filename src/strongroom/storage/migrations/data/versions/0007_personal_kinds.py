"""Personal fields with kinds: the index keyed per kind, file fields, an index version.

Existing index entries were made under per-field keys; their collections get index
version 1 and are reindexed by Strongroom when it opens the home (records are sealed, so
only the running service, holding the keys, can rebuild their entries).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("collections") as batch:
        batch.add_column(sa.Column("file_fields", sa.Text, nullable=False, server_default="[]"))
        batch.add_column(sa.Column("index_version", sa.Integer, nullable=False, server_default="1"))
    with op.batch_alter_table("record_index") as batch:
        batch.add_column(sa.Column("kind", sa.String(16), nullable=False, server_default=""))
    op.create_index("ix_record_index_kind", "record_index", ["workspace_id", "kind", "digest"])


def downgrade() -> None:
    op.drop_index("ix_record_index_kind", table_name="record_index")
    with op.batch_alter_table("record_index") as batch:
        batch.drop_column("kind")
    with op.batch_alter_table("collections") as batch:
        batch.drop_column("index_version")
        batch.drop_column("file_fields")
