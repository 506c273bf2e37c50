"""`create_app()`: the demo service as an ASGI app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from demo_app import admin, routes
from demo_app.config import AppConfig
from demo_app.metrics import AppMetrics, MetricsMiddleware
from demo_app.runtime import AppRuntime


def create_app(config: AppConfig | None = None) -> FastAPI:
    """Build the app; `config` defaults to the process environment."""
    config = AppConfig.from_env() if config is None else config
    runtime = AppRuntime(config=config, metrics=AppMetrics(config.version))

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            runtime.faults.close()

    app = FastAPI(
        title="sre-app",
        version=config.version,
        summary="The demo service of sreshow: real metrics, injectable faults.",
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.include_router(routes.probes)
    app.include_router(routes.service)
    app.include_router(admin.router)
    if config.instrumentation:
        app.add_middleware(MetricsMiddleware, metrics=runtime.metrics)
        runtime.metrics.initialise_routes(
            route.path for route in routes.service.routes if isinstance(route, APIRoute)
        )
    return app


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    """422 without echoing the input: it may be a NaN that JSON cannot carry."""
    if not isinstance(exc, RequestValidationError):
        raise exc
    errors = [{k: v for k, v in error.items() if k != "input"} for error in exc.errors()]
    return JSONResponse({"detail": jsonable_encoder(errors)}, status_code=422)
