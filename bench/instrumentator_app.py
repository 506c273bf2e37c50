"""The baseline demo app instrumented by prometheus-fastapi-instrumentator instead of ours.

The reference a user would pick in place of our middleware: the app built with
instrumentation off, plus the library's middleware with its default metrics on the
same routes (probes and `/metrics` excluded, as ours does). Its metrics go to the app's
own registry, so the app's `/metrics` exposes them; the `instrumentator_` namespace keeps
them apart from the app's own (unused) `http_requests_total`. Served exactly like
`python -m demo_app`, through `build_server` (uvicorn loop="auto", http="auto").

Run: .venv/bin/python bench/instrumentator_app.py [--host H] [--port P]
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace

from fastapi import FastAPI
from prometheus_fastapi_instrumentator import Instrumentator

from demo_app.app import create_app
from demo_app.config import AppConfig
from demo_app.runtime import AppRuntime
from demo_app.server import build_server

METRIC_NAMESPACE = "instrumentator"


def create_instrumentator_app(config: AppConfig) -> FastAPI:
    """The app with APP_INSTRUMENTATION=off, instrumented by the library."""
    app = create_app(replace(config, instrumentation=False))
    runtime: AppRuntime = app.state.runtime
    Instrumentator(
        registry=runtime.metrics.registry,
        excluded_handlers=["^/metrics$", "^/health$", "^/ready$"],
    ).instrument(app, metric_namespace=METRIC_NAMESPACE)
    return app


def main(argv: list[str] | None = None) -> int:
    config = AppConfig.from_env()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=config.host)
    parser.add_argument("--port", type=int, default=config.port)
    args = parser.parse_args(argv)
    config = replace(config, host=args.host, port=args.port)
    server = build_server(create_instrumentator_app(config), config)
    try:
        server.run()
    except KeyboardInterrupt:
        return 130
    return 0 if server.started else 1


if __name__ == "__main__":
    sys.exit(main())
