"""Every JSON request body parsed one way: a body whose objects name a key twice is
refused with 400 before any route sees it.

RFC 8259 leaves the meaning of a repeated key open, so a client, a proxy and this server
may each read a different value (a token request with two ``role`` keys). Every router
of the API uses :class:`StrictJSONRoute`; ``tests/e2e/test_ambiguous_requests.py``
checks that no route is left out.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException

from strongroom.domain.rules import load_json
from strongroom.errors import InvalidInput


class StrictJSONRequest(Request):
    """A request whose ``json()`` refuses repeated keys (400) at any depth."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            try:
                self._json = load_json(await self.body())
            except InvalidInput as error:
                # Raised as HTTPException: FastAPI passes it through its body parsing
                # unchanged (any other exception there becomes a generic 400).
                raise HTTPException(400, str(error)) from None
        return self._json


class StrictJSONRoute(APIRoute):
    """An API route whose handler reads its body through :class:`StrictJSONRequest`."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def strict(request: Request) -> Response:
            return await handler(StrictJSONRequest(request.scope, request.receive))

        return strict
