"""Rows are built positionally from query results (``RowType(*result)``, and at the driver
level ``RowType._make``): each row type must name its table's columns, in their order, or
a reordered column would silently land in the wrong field."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Table

from strongroom.storage import keystore_tables as k
from strongroom.storage import rows
from strongroom.storage import tables as t

#: Row types read with ``select(table)``: every column, in table order.
WHOLE_ROWS: list[tuple[Any, Table]] = [
    (rows.WorkspaceRow, t.workspaces),
    (rows.MemberRow, t.members),
    (rows.ProjectRow, t.projects),
    (rows.RecordRow, t.records),
    (rows.FileRow, t.files),
    (rows.AuditRow, t.audit_events),
    (rows.TokenRow, t.api_tokens),
    (rows.TrashRow, t.trash_entries),
    (rows.DeadlineRow, t.deadlines),
    (rows.HoldRow, t.holds),
    (rows.BillingEventRow, t.billing_events),
    (rows.ExportJobRow, t.export_jobs),
    (rows.PrivacyRequestRow, t.privacy_requests),
    (rows.CollectionRow, t.collections),
    (rows.LedgerRow, k.ledger),
    (rows.InboxRequestRow, t.inbox_requests),
    (rows.InboxEntryRow, t.inbox_entries),
]

#: Row types read with a selection of columns, named in the query: each field a column.
PROJECTIONS: list[tuple[Any, Table]] = [
    (rows.UserRow, t.users),
    (rows.IndexEntry, t.record_index),
    (rows.Plan, t.workspaces),
]


def _columns(table: Table) -> tuple[str, ...]:
    return tuple(c.name for c in table.columns)


@pytest.mark.parametrize(("row", "table"), WHOLE_ROWS, ids=lambda x: getattr(x, "name", ""))
def test_a_whole_row_names_its_tables_columns_in_order(row: Any, table: Table) -> None:
    assert row._fields == _columns(table)


@pytest.mark.parametrize(("row", "table"), PROJECTIONS, ids=lambda x: getattr(x, "name", ""))
def test_a_projected_row_names_columns_of_its_table(row: Any, table: Table) -> None:
    columns = _columns(table)
    assert set(row._fields) <= set(columns)
    positions = [columns.index(f) for f in row._fields]
    assert positions == sorted(positions)


def test_the_driver_level_reads_convert_the_timestamps_where_they_stand() -> None:
    """Records.get_live and Tokens.with_plan convert fields by position (storage/driver)."""
    assert rows.RecordRow._fields[7:9] == ("created_at", "updated_at")
    assert rows.TokenRow._fields[6:9] == ("created_at", "expires_at", "revoked_at")
    assert len(rows.TokenRow._fields) == 9  # then the workspace's state and trial end
