"""The audit log: filtered, paged, and its chain verified."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
