"""Deleting the whole workspace (owners only, confirmed by typing its name)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
