"""Projects, collections, records and files: browse, search, write, upload, download, delete."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
