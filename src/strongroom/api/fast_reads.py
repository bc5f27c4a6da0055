"""The hottest request, one record by id, served without FastAPI's routing and dependency
injection (about 160 µs of the ~300 µs a request costs the server).

:class:`FastReads` answers before anything else of the app runs
(:class:`~strongroom.api.app.StrongroomAPI` asks it first). It takes only
``GET /v1/workspaces/{ws}/projects/{p}/records/{r}`` whose three ids match their exact
formats; everything else, malformed ids included (FastAPI's 422), goes on to FastAPI. For
the requests it takes it does exactly what the FastAPI route does, through the same code:
the bearer header read as ``HTTPBearer(auto_error=False)`` reads it, the same pending
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
from strongroom.api.security_headers import Receive, Scope, Send
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
    """Answers ``GET …/records/{id}`` for :class:`~strongroom.api.app.StrongroomAPI`, in
    front of everything FastAPI and Starlette would run for it."""

    def __init__(self, sr: Strongroom) -> None:
        self.sr = sr

    def match(self, scope: Scope) -> tuple[str, str, str] | None:
        """The (workspace, project, record) ids if this request is one to answer."""
        if scope["type"] != "http" or scope["method"] != "GET":
            return None
        found = RECORD_PATH.fullmatch(scope["path"])
        return None if found is None else (found[1], found[2], found[3])

    async def answer(
        self, ids: tuple[str, str, str], scope: Scope, receive: Receive, send: Send
    ) -> None:
        workspace_id, project_id, record_id = ids
        grant = Grant(self.sr, bearer(scope["headers"]), workspace_id, Action.READ)
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
