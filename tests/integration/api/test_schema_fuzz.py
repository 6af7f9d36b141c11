"""Schema-driven fuzzing with schemathesis, from the API's own OpenAPI document (served by
the API at /openapi.json): for every operation, generated requests (valid and invalid),
signed in as a user with a portfolio, through the same proxy events the local server and
API Gateway send. Whatever comes in: no 5xx, every status and media type is one the
document gives for that operation, and every body (2xx and errors) matches its documented
schema (errors: `ErrorBody`)."""

from __future__ import annotations

from typing import Any

import schemathesis
from api_harness import NOW, call, fake_container
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from wsgi_adapter import wsgi_app

from portfoliowise.adapters.clock import FixedClock
from portfoliowise.handlers.api.app import build_app

APP = build_app(fake_container(FixedClock(NOW)))
assert call(APP, "create_portfolio.json")[0] == 201  # p-0001 of userA
schema = schemathesis.openapi.from_wsgi("/openapi.json", wsgi_app(APP.resolve))
SESSION = {"session": "userA"}  # the fake authenticator's cookie (see api_harness)
CSRF = {"X-CSRF-Token": "csrf-userA"}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@schema.parametrize()
@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_the_api_keeps_to_its_document(case: Any) -> None:
    response = case.call(cookies=SESSION, headers=CSRF)
    case.validate_response(response, checks=CHECKS)
