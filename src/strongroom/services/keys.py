"""Key administration: status, rotation and the cryptography policy."""

from __future__ import annotations

from typing import Any

from strongroom import ids
from strongroom.crypto.policy import policy_document
from strongroom.services import audit
from strongroom.services.context import Context
from strongroom.services.projects import require_workspace


class Keys:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def status(self) -> dict[str, Any]:
        status = self.ctx.keyring.status()
        with self.ctx.store.read() as uow:
            status["workspaces"] = uow.workspaces.count()
        return status

    def rotate_root(self, actor: str = "system") -> dict[str, Any]:
        result = self.ctx.keyring.rotate_root()
        audit.record(self.ctx.store, self.ctx.clock.now(), actor, "key.rotate_root", None, **result)
        return result

    def rotate_workspace(self, workspace_id: str, actor: str = "system") -> dict[str, Any]:
        ids.check_id("workspace", workspace_id)
        with self.ctx.store.read() as uow:
            require_workspace(uow, workspace_id)
        result = self.ctx.keyring.rotate_workspace(workspace_id, self.ctx.clock.now())
        details = {k: v for k, v in result.items() if k != "workspace_id"}
        audit.record(
            self.ctx.store,
            self.ctx.clock.now(),
            actor,
            "key.rotate_workspace",
            workspace_id,
            **details,
        )
        return result

    def policy(self) -> dict[str, Any]:
        return policy_document()
