"""The trash: who deleted what and when, days left, restore; owners delete forever."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
