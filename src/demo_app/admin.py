"""The fault admin API under `/admin`, behind a bearer token.

No token configured: 403 (the API is off). Missing or wrong token: 401. The
token is compared in constant time and never echoed.

The token comes as `Authorization: Bearer TOKEN`, or, from behind a proxy that takes
`Authorization` for itself, as `X-Forwarded-Authorization: Bearer TOKEN` (the header
such proxies forward the caller's credentials in). The Kubernetes API server is one:
it removes `Authorization` from every request it authenticates, its pod proxy
included, so sreshow reaches a pod's admin API through it with the forwarded header.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from demo_app import FORWARDED_AUTHORIZATION
from demo_app.config import ENV_ADMIN_TOKEN, ENV_ADMIN_TOKEN_FILE
from demo_app.faults import FaultPatch, Faults
from demo_app.runtime import AppRuntime, runtime_of

_bearer = HTTPBearer(auto_error=False, description="the admin token")


async def require_admin(
    runtime: Annotated[AppRuntime, Depends(runtime_of)],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    forwarded: Annotated[
        str | None,
        Header(
            alias=FORWARDED_AUTHORIZATION,
            description="`Bearer TOKEN`, when a proxy in between takes `Authorization`",
        ),
    ] = None,
) -> AppRuntime:
    """Let the request through only with the configured admin token."""
    if credentials is None and forwarded is not None:
        scheme, _, token = forwarded.partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            credentials = HTTPAuthorizationCredentials(scheme="Bearer", credentials=token.strip())
    expected = runtime.config.admin_token
    if expected is None:
        raise HTTPException(
            403,
            detail=f"admin API disabled: set {ENV_ADMIN_TOKEN} or {ENV_ADMIN_TOKEN_FILE} "
            "to enable it",
        )
    challenge = {"WWW-Authenticate": "Bearer"}
    if credentials is None:
        raise HTTPException(401, detail="missing bearer token", headers=challenge)
    if not hmac.compare_digest(credentials.credentials.encode(), expected.encode()):
        raise HTTPException(401, detail="invalid bearer token", headers=challenge)
    return runtime


Admin = Annotated[AppRuntime, Depends(require_admin)]
router = APIRouter(
    prefix="/admin",
    tags=["admin"],
    responses={
        400: {"description": "the body is not JSON"},
        401: {"description": "missing or wrong token"},
        403: {"description": "no token configured"},
    },
)


@router.get("/faults", summary="The faults currently injected")
async def get_faults(runtime: Admin) -> Faults:
    return runtime.faults.current


@router.patch("/faults", summary="Change some faults; out-of-range values change nothing (422)")
async def patch_faults(patch: FaultPatch, runtime: Admin) -> Faults:
    faults = runtime.faults.apply(patch)
    runtime.metrics.show_faults(faults)
    return faults


@router.delete("/faults", summary="Clear every fault")
async def clear_faults(runtime: Admin) -> Faults:
    faults = runtime.faults.clear()
    runtime.metrics.show_faults(faults)
    return faults
