"""Token checks on every backend: each request reads the token row, so a revocation or an
expiry takes effect at once (no cache)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from strongroom.bootstrap import Strongroom
from strongroom.clock import FixedClock
from strongroom.domain.access import PrincipalKind
from strongroom.domain.roles import Role
from strongroom.errors import Unauthenticated


def test_a_token_is_refused_once_revoked_or_expired(sr: Strongroom, clock: FixedClock) -> None:
    ws = sr.workspaces.create("Tokens Co", "owner@tokens.example")
    issued = sr.access.create_token(ws.id, "viewer", expires_days=1)
    caller = sr.access.authenticate(issued.token)
    assert (caller.kind, caller.id, caller.workspace_id, caller.role) == (
        PrincipalKind.TOKEN,
        issued.id,
        ws.id,
        Role.VIEWER,
    )
    clock.advance(timedelta(days=1))
    with pytest.raises(Unauthenticated, match="expired"):
        sr.access.authenticate(issued.token)
    other = sr.access.create_token(ws.id, "viewer")
    assert sr.access.authenticate(other.token).id == other.id
    sr.access.revoke(other.id)
    with pytest.raises(Unauthenticated, match="revoked"):
        sr.access.authenticate(other.token)
    with pytest.raises(Unauthenticated, match="unknown"):
        sr.access.authenticate(other.token[:-1] + ("A" if other.token[-1] != "A" else "B"))
