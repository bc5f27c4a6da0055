"""Members and roles, API tokens, and the member's own sessions."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
