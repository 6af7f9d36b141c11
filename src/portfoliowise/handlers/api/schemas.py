"""Response bodies of the HTTP API as pydantic models: the OpenAPI document describes every
answer with these (`ok(...)` in the route decorators), and the fuzz test checks every 2xx
body the API sends against them. Amounts, quantities and percentages are decimal strings;
the existing app's market data (`/api/market-data`) has JSON numbers, as that app reads."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from pydantic import BaseModel, ConfigDict, Field

DecimalText = str  # a plain decimal string: "1234.5", never exponent notation


class Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorDetail(Out):
    code: str
    message: str
    details: dict[str, Any] | None = None


class ErrorBody(Out):
    """Every 4xx and 5xx answer."""

    error: ErrorDetail


class MoneyOut(Out):
    amount: DecimalText
    currency: str = Field(min_length=3, max_length=3)


class Health(Out):
    status: str


class HoldingOut(Out):
    symbol: str
    market: str
    quantity: DecimalText
    assetClass: str
    currency: str
    costBasis: MoneyOut | None
    sector: str | None
    region: str | None
    name: str | None


class PortfolioOut(Out):
    portfolioId: str
    name: str
    baseCurrency: str
    allowFractional: bool
    holdings: list[HoldingOut]
    targets: dict[str, DecimalText]
    createdAt: datetime
    updatedAt: datetime
    version: int


class PortfolioFile(PortfolioOut):
    """`portfoliowise/portfolio@1`, as `GET /portfolios/{id}/export?format=json` writes."""

    format: str


class PortfolioList(Out):
    portfolios: list[PortfolioOut]


class QuoteStatusOut(Out):
    status: str
    source: str | None
    asOf: datetime | None


class ValuedHolding(Out):
    symbol: str
    name: str | None
    market: str
    quantity: DecimalText
    price: MoneyOut
    priceUnit: DecimalText
    localValue: MoneyOut | None
    value: MoneyOut | None
    weight: DecimalText
    fxRate: DecimalText
    costBasis: MoneyOut | None
    unrealizedPL: MoneyOut | None
    unrealizedPLPercent: DecimalText | None
    quote: QuoteStatusOut
    stale: bool


class UnpricedOut(Out):
    symbol: str
    reason: str
    detail: str | None


class SliceOut(Out):
    key: str
    value: MoneyOut | None
    weight: DecimalText


class DriftOut(Out):
    symbol: str
    target: DecimalText
    current: DecimalText
    drift: DecimalText
    gap: MoneyOut | None


class ValuationOut(Out):
    portfolioId: str
    currency: str
    asOf: datetime
    total: MoneyOut | None
    costBasis: MoneyOut | None
    unrealizedPL: MoneyOut | None
    holdings: list[ValuedHolding]
    unpriced: list[str]
    unpricedDetails: list[UnpricedOut]
    stale: list[str]
    allocation: dict[str, list[SliceOut]]
    drift: list[DriftOut]


class AllocationOut(Out):
    portfolioId: str
    by: str
    currency: str
    asOf: datetime
    total: MoneyOut | None
    slices: list[SliceOut]
    drift: list[DriftOut]
    unpriced: list[str]


class OrderOut(Out):
    symbol: str
    side: str
    quantity: DecimalText
    price: MoneyOut
    localAmount: MoneyOut | None
    cost: MoneyOut | None


class WeightOut(Out):
    symbol: str
    target: DecimalText
    before: DecimalText
    after: DecimalText


class SimulationOut(Out):
    mode: str
    budget: MoneyOut | None
    orders: list[OrderOut]
    bought: MoneyOut | None
    sold: MoneyOut | None
    spent: MoneyOut | None
    leftover: MoneyOut | None
    weights: list[WeightOut]
    distanceBefore: DecimalText
    distanceAfter: DecimalText
    excluded: list[str]


class AuditEntryOut(Out):
    date: str
    timestamp: datetime
    userId: str
    action: str
    resource: str
    changes: dict[str, Any]
    ip: str
    userAgent: str
    eventId: str


class AuditPageOut(Out):
    portfolioId: str
    since: datetime
    until: datetime
    order: str
    entries: list[AuditEntryOut]
    nextCursor: str | None = Field(description="Pass as `cursor` for the next page")


class QuoteOut(Out):
    symbol: str
    price: DecimalText | None
    currency: str | None
    change: DecimalText | None
    changePercent: DecimalText | None
    volume: DecimalText | None
    name: str | None
    asOf: datetime | None
    source: str | None
    status: str = Field(description="live, cached, stale or unavailable")


class QuotesOut(Out):
    quotes: dict[str, QuoteOut]


class CloseOut(Out):
    date: str
    close: DecimalText
    volume: DecimalText | None


class HistoryOut(Out):
    symbol: str
    currency: str | None
    source: str | None
    range: str
    closes: list[CloseOut]


class LegacyQuote(Out):
    ticker: str
    symbol: str
    price: float | None  # a JSON number with exactly its decimal digits
    change: float | None
    changePercent: float | None
    name: str
    currency: str | None
    source: str | None
    lastUpdated: datetime | None
    status: str
    isStale: bool
    error: str | None = None


class LegacyMarketData(Out):
    success: bool
    data: dict[str, LegacyQuote]
    unavailable: list[str]
    source: str


class RuleResultOut(Out):
    rule: str
    outcome: str = Field(description="pass, fail or not_computed")
    message: str
    value: DecimalText | None
    threshold: DecimalText | None
    figures: dict[str, str]
    reason: str | None = Field(description="why it could not be computed, e.g. no history")


class SuggestionOut(Out):
    text: str
    rule: str | None


class AnalysisReportOut(Out):
    analyst: str = Field(description="rules or openai")
    model: str | None
    language: str
    summary: str
    rules: list[RuleResultOut]
    risks: list[str]
    suggestions: list[SuggestionOut]
    fallbackReason: str | None = Field(
        description="why the AI did not answer: no_key, refusal, timeout, rate_limited, "
        "invalid_output, unavailable"
    )


class AnalysisJobOut(Out):
    jobId: str
    portfolioId: str
    language: str
    kind: str
    status: str = Field(description="pending, running, done or failed")
    createdAt: datetime
    updatedAt: datetime
    expiresAt: datetime
    result: AnalysisReportOut | None
    error: str | None


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
