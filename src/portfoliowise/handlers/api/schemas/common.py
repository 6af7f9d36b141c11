"""Response bodies of the HTTP API as pydantic models, split by router so that a Lambda
function builds only its own routers' answers (cold start): this module holds what every
router uses (`Out`, the error body, `ok(...)` and the other response helpers); the module
named after a router holds that router's answers. Nothing imports them all but the OpenAPI
document's generation (`api.app`, every router). The OpenAPI document describes every answer
with these (`ok(...)` in the route decorators), and the fuzz test checks every 2xx body the
API sends against them. Amounts, quantities and percentages are decimal strings; the
existing app's market data (`/api/market-data`) has JSON numbers, as that app reads."""

from __future__ import annotations

from typing import Any, Final

from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from pydantic import BaseModel, ConfigDict

DecimalText = str  # a plain decimal string: "1234.5", never exponent notation


class Out(BaseModel):
    # Built when first used (validation, the OpenAPI document), not at import: a function
    # imports its routers' answers but an invocation uses one (cold start).
    model_config = ConfigDict(extra="forbid", defer_build=True)


class ErrorDetail(Out):
    code: str
    message: str
    details: dict[str, Any] | None = None


class ErrorBody(Out):
    """Every 4xx and 5xx answer (`success` and `message` are for the existing web app)."""

    success: bool = False
    error: ErrorDetail
    message: str


class Health(Out):
    status: str


ERROR_DESCRIPTIONS: Final = {
    400: "Invalid request (validation_error and the domain's rule codes)",
    401: "No valid session",
    403: "Refused (CSRF token missing or wrong)",
    404: "No such resource (or another user's)",
    409: "Stale version: details.currentVersion",
    413: "Request body too large",
    415: "Body of a media type this route does not take",
    429: "Rate limited: see Retry-After",
    500: "Unexpected error: details.requestId",
    503: "A data source is unavailable",
}


def ok(model: type[BaseModel], description: str = "OK") -> OpenAPIResponse:
    return {"description": description, "content": {"application/json": {"model": model}}}


def no_content(description: str) -> OpenAPIResponse:
    return {"description": description}


def json_or_csv(model: type[BaseModel], description: str) -> OpenAPIResponse:
    return {
        "description": description,
        "content": {
            "application/json": {"model": model},
            "text/csv": {"schema": {"type": "string"}},
        },
    }


def errors(*statuses: int) -> dict[int, OpenAPIResponse]:
    """The error answers a route gives (400 and 500 always), all in the `ErrorBody` shape."""
    wanted = sorted({400, 500, *statuses})
    return {
        status: {
            "description": ERROR_DESCRIPTIONS[status],
            "content": {"application/json": {"model": ErrorBody}},
        }
        for status in wanted
    }
