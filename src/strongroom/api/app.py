"""The FastAPI application: routes, error mapping, body limits, security headers."""

from __future__ import annotations

from fastapi import FastAPI

from strongroom import __version__
from strongroom.api import problems
from strongroom.api.limits import BodyLimit
from strongroom.api.routes_admin import router as admin_router
from strongroom.api.routes_data import router as data_router
from strongroom.api.routes_workspaces import router as workspaces_router
from strongroom.api.security_headers import SecurityHeaders
from strongroom.bootstrap import Strongroom

DESCRIPTION = """Custody of SaaS customer data: every record, file and name is encrypted
under a key hierarchy whose root stays in a KMS or HSM. Authenticate with
`Authorization: Bearer <token>`. Errors are RFC 9457 problem details."""


def create_app(sr: Strongroom) -> FastAPI:
    app = FastAPI(
        title="Strongroom",
        version=__version__,
        description=DESCRIPTION,
        openapi_url="/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    app.state.strongroom = sr
    problems.install(app)
    app.include_router(workspaces_router)
    app.include_router(data_router)
    app.include_router(admin_router)
    app.add_middleware(
        BodyLimit,
        json_limit=sr.settings.record_max_bytes * 2 + 65536,
        upload_limit=sr.settings.file_max_bytes,
    )
    app.add_middleware(SecurityHeaders)
    return app
