"""Agreements: immutable DPA and SCC versions, and owners' acceptances of them.

The store itself refuses to change a published version: triggers raise on every UPDATE
and DELETE of ``agreement_versions`` (and, on PostgreSQL, on TRUNCATE), whoever issues it,
and on every INSERT whose id or (kind, version) is already there. SQLite's
``INSERT OR REPLACE`` deletes the old row without firing DELETE triggers, and an upsert
(``INSERT ... ON CONFLICT DO UPDATE``) would otherwise reach the UPDATE trigger only after
the conflict: the INSERT trigger refuses both before anything happens.

Revision ID: 0012
Revises: 0009
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

#: The message both databases raise; tests look for it.
REFUSAL = "agreement versions are immutable"

#: A row already holding this id or this (kind, version): an insert would replace it.
_EXISTING = """SELECT 1 FROM agreement_versions
    WHERE id = NEW.id OR (kind = NEW.kind AND version = NEW.version)"""

_SQLITE = [
    f"""CREATE TRIGGER agreement_versions_no_replace BEFORE INSERT ON agreement_versions
    WHEN EXISTS ({_EXISTING})
    BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END""",
    f"""CREATE TRIGGER agreement_versions_no_update BEFORE UPDATE ON agreement_versions
    BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END""",
    f"""CREATE TRIGGER agreement_versions_no_delete BEFORE DELETE ON agreement_versions
    BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END""",
]
_POSTGRESQL = [
    f"""CREATE FUNCTION agreement_versions_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION '{REFUSAL}' USING ERRCODE = 'restrict_violation'; END $$""",
    """CREATE TRIGGER agreement_versions_no_change BEFORE UPDATE OR DELETE
    ON agreement_versions FOR EACH ROW EXECUTE FUNCTION agreement_versions_refuse()""",
    """CREATE TRIGGER agreement_versions_no_truncate BEFORE TRUNCATE
    ON agreement_versions FOR EACH STATEMENT EXECUTE FUNCTION agreement_versions_refuse()""",
    f"""CREATE FUNCTION agreement_versions_refuse_existing() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF EXISTS ({_EXISTING}) THEN
            RAISE EXCEPTION '{REFUSAL}' USING ERRCODE = 'restrict_violation';
        END IF;
        RETURN NEW;
    END $$""",
    """CREATE TRIGGER agreement_versions_no_replace BEFORE INSERT ON agreement_versions
    FOR EACH ROW EXECUTE FUNCTION agreement_versions_refuse_existing()""",
]


def upgrade() -> None:
    op.create_table(
        "agreement_versions",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("effective_on", sa.Date, nullable=False),
        sa.Column("scc_version", sa.String(64), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_by", sa.String(128), nullable=False),
        sa.UniqueConstraint("kind", "version", name="uq_agreement_versions_kind_version"),
    )
    op.create_table(
        "agreement_acceptances",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("workspace_id", sa.String(40), nullable=False),
        sa.Column(
            "version_id", sa.String(40), sa.ForeignKey("agreement_versions.id"), nullable=False
        ),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String(40), nullable=True),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("receipt_sealed", sa.LargeBinary, nullable=False),
        sa.Column("receipt_sha256", sa.String(64), nullable=False),
        sa.UniqueConstraint("workspace_id", "version_id", name="uq_agreement_acceptances_once"),
    )
    op.create_index(
        "ix_agreement_acceptances_workspace",
        "agreement_acceptances",
        ["workspace_id", "accepted_at"],
    )
    dialect = op.get_bind().dialect.name
    for statement in _POSTGRESQL if dialect == "postgresql" else _SQLITE:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER agreement_versions_no_replace ON agreement_versions")
        op.execute("DROP FUNCTION agreement_versions_refuse_existing()")
        op.execute("DROP TRIGGER agreement_versions_no_truncate ON agreement_versions")
        op.execute("DROP TRIGGER agreement_versions_no_change ON agreement_versions")
        op.execute("DROP FUNCTION agreement_versions_refuse()")
    else:
        op.execute("DROP TRIGGER agreement_versions_no_replace")
        op.execute("DROP TRIGGER agreement_versions_no_delete")
        op.execute("DROP TRIGGER agreement_versions_no_update")
    op.drop_index("ix_agreement_acceptances_workspace", table_name="agreement_acceptances")
    op.drop_table("agreement_acceptances")
    op.drop_table("agreement_versions")
