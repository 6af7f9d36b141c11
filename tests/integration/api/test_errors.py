"""Domain errors map to statuses by type, with the error shape; an unexpected error is a
500 without internals, logged with the request id."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from api_harness import assert_error_shape, call

from portfoliowise.domain.errors import (
    ConflictError,
    Forbidden,
    InvariantViolation,
    NotFoundError,
    PayloadTooLarge,
    RateLimited,
    SourceUnavailable,
    Unauthenticated,
    ValidationError,
)

CASES = [
    (ValidationError("bad"), 400, "validation_error"),
    (InvariantViolation("bad"), 400, "invariant_violation"),
    (Unauthenticated("who?"), 401, "unauthenticated"),
    (Forbidden("no"), 403, "forbidden"),
    (NotFoundError("gone"), 404, "not_found"),
    (ConflictError("stale", 7), 409, "conflict"),
    (PayloadTooLarge("big"), 413, "payload_too_large"),
    (RateLimited("slow down", 42), 429, "rate_limited"),
    (SourceUnavailable("down: secret-host:5432"), 503, "source_unavailable"),
]


def raising(app: Any, exc: Exception) -> None:
    @app.get("/boom")
    def boom() -> dict[str, str]:
        raise exc


@pytest.mark.parametrize(("exc", "status", "code"), CASES, ids=[c[2] for c in CASES])
def test_domain_errors_map_by_type(app: Any, exc: Exception, status: int, code: str) -> None:
    raising(app, exc)
    got, headers, body = call(app, "health.json", path="/boom")
    assert got == status
    assert_error_shape(got, body)
    assert body["error"]["code"] == code
    if status == 409:
        assert body["error"]["details"] == {"currentVersion": 7}
    if status == 429:
        assert headers["Retry-After"] == "42"
    if status == 503:
        assert "secret-host" not in body["error"]["message"]


def test_an_unexpected_error_is_500_without_internals_and_logged(
    app: Any, caplog: pytest.LogCaptureFixture
) -> None:
    raising(app, KeyError("internal_table_name"))
    with caplog.at_level(logging.ERROR):
        status, _, body = call(app, "health.json", path="/boom")
    assert status == 500
    assert_error_shape(status, body)
    assert "internal_table_name" not in str(body)
    request_id = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"
    assert body["error"]["details"] == {"requestId": request_id}
    records = [r for r in caplog.records if getattr(r, "request_id", None) == request_id]
    assert records
    assert records[0].exc_info is not None


def test_an_unknown_route_is_404_with_the_error_shape(app: Any) -> None:
    status, _, body = call(app, "health.json", path="/nowhere")
    assert status == 404
    assert_error_shape(status, body)


def test_health(app: Any) -> None:
    assert call(app, "health.json")[:3:2] == (200, {"status": "ok"})
