"""Responses a route renders itself.

A route that returns a model has FastAPI validate it again against its response model and
then serialise it (paid on every read). A route whose model is built from trusted
values returns :func:`json_response` instead, declaring ``response_model=`` so the
OpenAPI document stays the same."""

from __future__ import annotations

from fastapi import Response
from pydantic import BaseModel


def json_response(model: BaseModel, status_code: int = 200) -> Response:
    """``model`` as the JSON body FastAPI would have sent for it."""
    return Response(model.model_dump_json(), status_code, media_type="application/json")
