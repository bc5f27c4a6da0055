"""Key administration: status, rotation and the cryptography policy."""

from __future__ import annotations

from typing import Any

from strongroom.crypto.keyring import KeyStatus, RootRotation, WorkspaceKeyStatus, WorkspaceRotation
from strongroom.crypto.policy import policy_document
from strongroom.services import audit
from strongroom.services.context import Context
from strongroom.services.guards import require_workspace


class Keys:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def status(self) -> KeyStatus:
        with self.ctx.store.read() as uow:
            workspaces = uow.workspaces.count()
        return self.ctx.keyring.status(workspaces)

    # A rotation commits in the keystore while the data-store transaction holding its audit
    # event is open: a failed rotation leaves no event, and an event is lost only if the
    # data store fails in the instant between the two commits.

    def rotate_root(self, actor: str = "system") -> RootRotation:
        with self.ctx.store.write() as uow:
            result = self.ctx.keyring.rotate_root()
            details = result.as_json()
            audit.append(uow, self.ctx.clock.now(), actor, "key.rotate_root", None, **details)
            uow.commit()
        return result

    def rotate_workspace(self, workspace_id: str, actor: str = "system") -> WorkspaceRotation:
        with self.ctx.store.write() as uow:
            require_workspace(uow, workspace_id)
            result = self.ctx.keyring.rotate_workspace(workspace_id, self.ctx.clock.now())
            details = {k: v for k, v in result.as_json().items() if k != "workspace_id"}
            audit.append(
                uow, self.ctx.clock.now(), actor, "key.rotate_workspace", workspace_id, **details
            )
            uow.commit()
        return result

    def workspace_status(self, workspace_id: str) -> WorkspaceKeyStatus:
        """What a workspace's admins may know of its keys: versions and counts, no bytes."""
        with self.ctx.store.read() as uow:
            require_workspace(uow, workspace_id)
        return self.ctx.keyring.workspace_status(workspace_id)

    def policy(self) -> dict[str, Any]:
        return policy_document()
