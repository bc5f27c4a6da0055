"""Files of a project: list, upload (streamed, encrypted as it arrives), download, delete."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
