"""Deletion certificates: list, view, download the signed JSON, verify in place."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
