"""Sign-in, the operators' key endpoints, health and security.txt."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import PlainTextResponse

from strongroom.api.admission import Lanes
from strongroom.api.admission import lanes as lanes_of
from strongroom.api.deps import SR, Operator
from strongroom.api.schemas import LoginIn, TokenOut
from strongroom.api.strict_json import StrictJSONRoute
from strongroom.errors import ConfigurationError, StorageUnavailable
from strongroom.tls.certificates import certificate_expiry, expiry_message

router = APIRouter(route_class=StrictJSONRoute)


@router.post(
    "/v1/sessions",
    status_code=201,
    tags=["accounts"],
    summary="Sign in with email and password; returns a session token",
)
async def login(
    sr: SR,
    body: LoginIn,
    request: Request,
    response: Response,
    lanes: Annotated[Lanes, Depends(lanes_of)],
) -> TokenOut:
    """Password checks run in the sign-ins' own two threads, with a bounded line of
    sign-ins waiting for them (as coroutines); past it, 503 at once (api/admission.py).
    Failures count per email and per client address (the TCP peer: behind a proxy, every
    client shares the proxy's address)."""
    address = request.client.host if request.client else None
    with lanes.sign_ins.admit():
        issued = await lanes.sign_ins.run(
            lambda: sr.access.login(body.email, body.password, address=address)
        )
    response.headers["Cache-Control"] = "no-store"
    return TokenOut(id=issued.id, token=issued.token, expires_at=issued.expires_at)


@router.get("/v1/keys", tags=["operators"], summary="Root key and keystore status")
def key_status(sr: SR, _operator: Operator) -> dict[str, Any]:
    return sr.keys.status().as_json()


@router.post(
    "/v1/keys/rotate",
    tags=["operators"],
    summary="Rotate the root key: rewrap every workspace key, re-encrypt nothing",
)
def rotate_root(sr: SR, operator: Operator) -> dict[str, Any]:
    return sr.keys.rotate_root(actor=operator.actor).as_json()


@router.get("/health", tags=["meta"])
def health(sr: SR) -> dict[str, Any]:
    now = sr.ctx.clock.now()
    cert = Path(sr.settings.tls_cert)
    out: dict[str, Any] = {"status": "ok"}
    # Counts only, never whom or which workspace: /health answers without a token.
    try:
        requests = sr.privacy.due_counts()
    except StorageUnavailable:
        out["status"] = "warning"
        out["warnings"] = ["the data store cannot be reached"]
    else:
        out["privacy_requests"] = requests
        if requests["overdue"]:
            out["status"] = "warning"
            out["warnings"] = [f"{requests['overdue']} privacy request(s) overdue"]
    if cert.is_file():
        try:
            expires = certificate_expiry(cert)
        except ConfigurationError:
            # Mid-renewal or a bad replacement: the server keeps serving the pair it loaded
            # (the reloader refuses this one), so the node is up; say so, not a 500.
            out["status"] = "warning"
            out.setdefault("warnings", []).append(
                f"the certificate file {cert.name} cannot be read as PEM"
            )
            return out
        out["certificate_expires_at"] = expires.isoformat()
        warning = expiry_message(cert.name, expires, now)  # the name only, never the path
        if warning:
            out["status"] = "warning"
            out.setdefault("warnings", []).append(warning)
    return out


@router.get("/.well-known/security.txt", response_class=PlainTextResponse, tags=["meta"])
def security_txt(sr: SR) -> str:
    """RFC 9116, from the settings: the security contact, then the request inbox's form;
    Expires is 180 days from each request (the RFC wants under a year), so it renews
    itself."""
    expires = (sr.ctx.clock.now() + timedelta(days=180)).replace(microsecond=0)
    public_url = sr.settings.public_url
    lines = [
        f"Contact: {sr.settings.security_contact}",
        f"Contact: {public_url}/contact",
        f"Expires: {expires.isoformat().replace('+00:00', 'Z')}",
        f"Canonical: {public_url}/.well-known/security.txt",
        "Preferred-Languages: en",
    ]
    if sr.settings.security_policy_url:
        lines.append(f"Policy: {sr.settings.security_policy_url}")
    return "\n".join(lines) + "\n"
