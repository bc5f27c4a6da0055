"""Workspace exports: request one, watch its progress, download it."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
