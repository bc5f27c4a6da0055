"""Making deadline rows: due work, durable, performed by the worker in steps."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from strongroom import ids
from strongroom.domain.lifecycle import FIRST_STEP, DeadlineAction, DeadlineState
from strongroom.storage.rows import DeadlineRow


def new_deadline(
    action: DeadlineAction,
    workspace_id: str,
    subject_id: str,
    reason: str,
    due_at: datetime,
    now: datetime,
    **progress: Any,
) -> DeadlineRow:
    return DeadlineRow(
        id=ids.new_id("deadline"),
        action=action.value,
        workspace_id=workspace_id,
        subject_id=subject_id,
        reason=reason,
        due_at=due_at,
        state=DeadlineState.PENDING,
        step=FIRST_STEP,
        progress=json.dumps(progress, sort_keys=True),
        attempts=0,
        lease_owner=None,
        lease_until=None,
        last_error=None,
        created_at=now,
        finished_at=None,
    )
