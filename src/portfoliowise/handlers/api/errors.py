"""Domain errors to HTTP statuses, by type (never by message text). Every error body is
`{"success": false, "error": {"code", "message", "details"?}, "message"}`: our own
`{"error": {...}}` shape, plus the two fields the existing web app reads on every answer
(`success`, and `message` at the top). An unexpected error is logged with the request id and
answered 500 without its internals."""

from __future__ import annotations

import decimal
import json
import logging
from collections.abc import Callable
from http import HTTPStatus
from typing import Any, TypeVar

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError as RouteNotFound
from aws_lambda_powertools.event_handler.exceptions import ServiceError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from portfoliowise.domain.errors import (
    ConflictError,
    DomainError,
    Forbidden,
    MissingRateError,
    NotFoundError,
    PayloadTooLarge,
    RateLimited,
    SourceUnavailable,
    Unauthenticated,
    UnknownSymbolError,
    UnpricedTargetError,
    ValidationError,
)
from portfoliowise.handlers.api.access import UnsupportedMediaType

log = logging.getLogger(__name__)

E = TypeVar("E", bound=Exception)


def _on(
    app: APIGatewayRestResolver, exc_class: type[E], handler: Callable[[E], Response[str]]
) -> None:
    app.exception_handler(exc_class)(handler)


def error_response(
    status: int,
    code: str,
    message: str,
    details: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[str]:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=error_body(code, message, details),
        headers=headers,
    )


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> str:
    """The JSON text of an error answer (see the module docstring)."""
    error: dict[str, Any] = {"code": code, "message": message}
    if details:
        error["details"] = details
    body = {"success": False, "error": error, "message": message}
    return json.dumps(body, ensure_ascii=False, default=str)


def _validation_details(exc: ValidationError) -> dict[str, Any] | None:
    field, limit = getattr(exc, "field", None), getattr(exc, "limit", None)
    if isinstance(field, str) and limit is not None:  # the domain's OutOfRange
        return {"field": field, "limit": str(limit)}
    if isinstance(exc, UnknownSymbolError):
        return {"symbol": exc.symbol}
    if isinstance(exc, UnpricedTargetError):
        return {"symbols": exc.symbols}
    return None


def _request_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    """Where and what, without echoing the input back."""
    return [
        {"loc": [str(part) for part in error.get("loc", ())], "msg": str(error.get("msg", ""))}
        for error in exc.errors()
    ]


def register_error_handlers(app: APIGatewayRestResolver) -> None:
    def request_invalid(exc: RequestValidationError) -> Response[str]:
        return error_response(
            400, "validation_error", "the request is not valid", {"errors": _request_errors(exc)}
        )

    _on(app, RequestValidationError, request_invalid)

    def too_large(exc: PayloadTooLarge) -> Response[str]:
        return error_response(413, exc.code, str(exc))

    _on(app, PayloadTooLarge, too_large)

    def unsupported(exc: UnsupportedMediaType) -> Response[str]:
        return error_response(415, exc.code, str(exc))

    _on(app, UnsupportedMediaType, unsupported)

    def invalid(exc: ValidationError) -> Response[str]:
        return error_response(400, exc.code, str(exc), _validation_details(exc))

    _on(app, ValidationError, invalid)

    def unauthenticated(exc: Unauthenticated) -> Response[str]:
        return error_response(401, exc.code, str(exc) or "sign in first")

    _on(app, Unauthenticated, unauthenticated)

    def forbidden(exc: Forbidden) -> Response[str]:
        return error_response(403, exc.code, str(exc) or "forbidden")

    _on(app, Forbidden, forbidden)

    def not_found(exc: NotFoundError) -> Response[str]:
        return error_response(404, exc.code, str(exc) or "not found")

    _on(app, NotFoundError, not_found)

    def no_route(exc: RouteNotFound) -> Response[str]:
        return error_response(404, "not_found", "no such route")

    _on(app, RouteNotFound, no_route)

    def conflict(exc: ConflictError) -> Response[str]:
        return error_response(409, exc.code, str(exc), {"currentVersion": exc.current_version})

    _on(app, ConflictError, conflict)

    def rate_limited(exc: RateLimited) -> Response[str]:
        retry = max(1, int(exc.retry_after_seconds))
        return error_response(
            429, exc.code, str(exc), {"retryAfterSeconds": retry}, {"Retry-After": str(retry)}
        )

    _on(app, RateLimited, rate_limited)

    def unavailable(exc: SourceUnavailable) -> Response[str]:
        return error_response(503, exc.code, "a data source is unavailable, try again later")

    _on(app, SourceUnavailable, unavailable)

    def missing_rate(exc: MissingRateError) -> Response[str]:
        return error_response(503, exc.code, str(exc), {"base": exc.base, "quote": exc.quote})

    _on(app, MissingRateError, missing_rate)

    def out_of_range(exc: decimal.DecimalException) -> Response[str]:
        log.warning("decimal arithmetic failed on request input: %r", exc)
        return error_response(400, "out_of_range", "a number is outside the supported range")

    _on(app, decimal.DecimalException, out_of_range)

    def overflow(exc: OverflowError) -> Response[str]:
        log.warning("arithmetic overflow on request input: %r", exc)
        return error_response(
            400, "out_of_range", "a date or number is outside the supported range"
        )

    _on(app, OverflowError, overflow)

    def service_error(exc: ServiceError) -> Response[str]:
        status = HTTPStatus(exc.status_code)
        code = status.phrase.lower().replace(" ", "_")
        message = str(exc.msg) if status < 500 else status.phrase
        return error_response(status.value, code, message)

    _on(app, ServiceError, service_error)

    def other_domain(exc: DomainError) -> Response[str]:
        return _internal(app, exc)

    _on(app, DomainError, other_domain)

    def unexpected(exc: Exception) -> Response[str]:
        return _internal(app, exc)

    _on(app, Exception, unexpected)


def _internal(app: APIGatewayRestResolver, exc: Exception) -> Response[str]:
    request_id = _request_id(app)
    log.error(
        "unexpected error answering a request",
        exc_info=exc,
        extra={"request_id": request_id},
    )
    return error_response(
        500, "internal_error", "something went wrong on our side", {"requestId": request_id}
    )


def _request_id(app: APIGatewayRestResolver) -> str:
    try:
        context = app.current_event.raw_event.get("requestContext") or {}
        return str(context.get("requestId") or "")
    except Exception:  # no event: nothing better to log
        return ""
