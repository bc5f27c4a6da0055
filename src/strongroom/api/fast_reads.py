"""The hottest request, one record by id, served without FastAPI's routing and dependency
injection.

:class:`FastReads` is ASGI middleware, the outermost of the app's own (see the middleware
order in api/app.py). It takes only ``GET /v1/workspaces/{ws}/projects/{p}/records/{r}``
whose three ids match their exact formats; everything else, malformed ids included
(FastAPI's 422), goes on to the app. For the requests it takes it does exactly what the
FastAPI route does, through the same code: the bearer header read as
``HTTPBearer(auto_error=False)`` reads it, the same pending
:class:`~strongroom.api.deps.Grant` resolved in one worker-thread call with the read
(:func:`read_record`), errors mapped by :func:`~strongroom.api.problems.from_error`, an
unexpected exception answered and logged as the app's 500 handler does.
``tests/e2e/test_fast_reads.py`` compares its answers with the FastAPI route's, byte for
byte, case by case.
"""

from __future__ import annotations

import logging
import re

from starlette.concurrency import run_in_threadpool

from strongroom.api import problems
from strongroom.api.deps import Grant
from strongroom.api.schemas import record_out
from strongroom.api.security_headers import ASGIApp, Receive, Scope, Send
from strongroom.bootstrap import Strongroom
from strongroom.domain.roles import Action
from strongroom.errors import StrongroomError
from strongroom.ids import pattern

log = logging.getLogger("strongroom.api")


def _id(kind: str) -> str:
    return pattern(kind).removeprefix("^").removesuffix("$")


RECORD_PATH = re.compile(
    f"/v1/workspaces/({_id('workspace')})/projects/({_id('project')})/records/({_id('record')})"
)


def bearer(headers: list[tuple[bytes, bytes]]) -> str | None:
    """The bearer credentials as ``HTTPBearer(auto_error=False)`` finds them, else None."""
    value = next((v for k, v in headers if k == b"authorization"), b"").decode("latin-1")
    scheme, _, credentials = value.partition(" ")
    credentials = credentials.strip()
    if not (value and scheme and credentials) or scheme.lower() != "bearer":
        return None
    return credentials


def read_record(sr: Strongroom, grant: Grant, project_id: str, record_id: str) -> bytes:
    """Check the grant, read and decrypt the record: its JSON body (``RecordOut``)."""
    with sr.ctx.store.lookups():  # the token check and the read: one connection
        grant.resolve()
        record = sr.records.get(grant.workspace_id, project_id, record_id, grant.caller.actor)
    body: str = record_out(record).model_dump_json()
    return body.encode()


class FastReads:
    """ASGI middleware: answers ``GET …/records/{id}`` itself, hands every other request to
    ``app``."""

    def __init__(self, app: ASGIApp, sr: Strongroom) -> None:
        self.app = app
        self.sr = sr

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            found = RECORD_PATH.fullmatch(scope["path"])
            if found is not None:
                await self._answer(found[1], found[2], found[3], scope, receive, send)
                return
        await self.app(scope, receive, send)

    async def _answer(
        self,
        workspace_id: str,
        project_id: str,
        record_id: str,
        scope: Scope,
        receive: Receive,
        send: Send,
    ) -> None:
        query = scope.get("query_string", b"").decode("latin-1")
        what = f"GET {scope['path']}" + (f"?{query}" if query else "")
        token = bearer(scope["headers"])
        grant = Grant(self.sr, token, workspace_id, Action.READ, None, project_id, what, True)
        try:
            body = await run_in_threadpool(read_record, self.sr, grant, project_id, record_id)
        except StrongroomError as error:
            await problems.from_error(error)(scope, receive, send)
            return
        except Exception:  # as the app's 500 handler answers it
            log.exception("unexpected error")
            await problems.unexpected_error()(scope, receive, send)
            return
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-length", str(len(body)).encode()),
                    (b"content-type", b"application/json"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
