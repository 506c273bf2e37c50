"""schemathesis over the app's own OpenAPI: no 5xx but the designed ones."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import Case
from schemathesis.checks import allow_header_conformance, not_a_server_error

from tests.app.support import AUTH, build_app

app = build_app()
schema = schemathesis.openapi.from_asgi("/openapi.json", app)

DESIGNED_FAILURES = {
    "flaky endpoint: designed failure",
    "injected fault: error_rate",
}


@schema.parametrize()
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_api_answers_within_its_schema_and_fails_only_by_design(case: Case) -> None:
    try:
        if case.path == "/api/slow" and isinstance(case.query, dict) and "delay" in case.query:
            # Keep the run short: valid delays above 0.2 s add time, not coverage.
            case.query["delay"] = _shortened(case.query.get("delay"))
        response = case.call(headers=AUTH)
        # 5xx are judged below. Starlette's 405 lists only the methods of the first
        # route on a path in `Allow` (GET of /admin/faults), a framework quirk.
        case.validate_response(
            response, excluded_checks=[not_a_server_error, allow_header_conformance]
        )
        if response.status_code >= 500:
            assert response.json().get("detail") in DESIGNED_FAILURES, response.text
    finally:
        # A fuzzed PATCH may have injected faults; every case starts without them.
        app.state.runtime.faults.clear()


def _shortened(delay: object) -> object:
    try:
        seconds = float(delay)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return delay
    return 0.2 if 0.2 < seconds <= 5 else delay
