"""The public endpoints: the service itself, its probes and its metrics."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_PLAIN_0_0_4, generate_latest

from demo_app.faults import Faults
from demo_app.runtime import AppRuntime, runtime_of

MAX_SLOW_DELAY_SECONDS = 5.0

Runtime = Annotated[AppRuntime, Depends(runtime_of)]


async def apply_faults(runtime: Runtime) -> None:
    """Inject the current faults into a request to `/` or `/api/*`."""
    latency = runtime.faults.current.latency_seconds
    if latency > 0:
        await asyncio.sleep(latency)
    if runtime.release_gate():
        raise HTTPException(500, detail="broken release: request failed")
    if runtime.faults.should_fail():
        raise HTTPException(500, detail="injected fault: error_rate")


probes = APIRouter(tags=["probes"])
service = APIRouter(tags=["service"], dependencies=[Depends(apply_faults)])


@probes.get("/health", summary="Liveness: 503 while the unhealthy fault is on")
async def health(runtime: Runtime) -> JSONResponse:
    if runtime.faults.current.unhealthy:
        return JSONResponse({"status": "unhealthy", "reason": "injected fault"}, status_code=503)
    return JSONResponse({"status": "ok"})


@probes.get("/ready", summary="Readiness: 503 while draining, unready or a broken release")
async def ready(runtime: Runtime) -> JSONResponse:
    reason = runtime.not_ready_reason()
    if reason is not None:
        return JSONResponse({"status": "not ready", "reason": reason}, status_code=503)
    return JSONResponse({"status": "ready"})


@probes.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics(runtime: Runtime) -> Response:
    # The classic text format every Prometheus 2.x parses.
    return Response(generate_latest(runtime.metrics.registry), media_type=CONTENT_TYPE_PLAIN_0_0_4)


@service.get("/", summary="What this service is and where to look")
async def root(runtime: Runtime) -> dict[str, Any]:
    return {
        "service": "sre-app",
        "version": runtime.config.version,
        "replica": runtime.config.pod_name,
        "endpoints": [
            "/health",
            "/ready",
            "/metrics",
            "/api/data",
            "/api/status",
            "/api/flaky",
            "/api/slow?delay=SECONDS",
        ],
    }


@service.get("/api/data", summary="A sample payload")
async def data(runtime: Runtime) -> dict[str, Any]:
    return {
        "replica": runtime.config.pod_name,
        "items": [
            {"id": 1, "name": "alpha", "value": 42},
            {"id": 2, "name": "beta", "value": 7},
            {"id": 3, "name": "gamma", "value": 19},
        ],
    }


@service.get("/api/status", summary="Version, replica, uptime and current faults")
async def status(runtime: Runtime) -> dict[str, Any]:
    faults: Faults = runtime.faults.current
    return {
        "version": runtime.config.version,
        "replica": runtime.config.pod_name,
        "uptime_seconds": round(runtime.uptime_seconds, 3),
        "broken": runtime.config.broken.value or None,
        "faults": faults.model_dump(),
    }


@service.get(
    "/api/flaky",
    summary="Fails with 500 at the base rate (APP_FLAKY_RATE, default 10%)",
    responses={500: {"description": "the designed failure"}},
)
async def flaky(runtime: Runtime) -> dict[str, str]:
    if runtime.flaky_gate():
        raise HTTPException(500, detail="flaky endpoint: designed failure")
    return {"status": "ok"}


@service.get("/api/slow", summary="Answers after `delay` seconds")
async def slow(
    delay: Annotated[
        float, Query(ge=0, le=MAX_SLOW_DELAY_SECONDS, allow_inf_nan=False, description="seconds")
    ] = 1.0,
) -> dict[str, float]:
    await asyncio.sleep(delay)
    return {"delay": delay}
