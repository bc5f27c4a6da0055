"""Privacy requests: the inbox by due date, and every step of a request."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
