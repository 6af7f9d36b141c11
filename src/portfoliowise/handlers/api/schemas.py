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
    # Built when first used (validation, the OpenAPI document), not at import: a function
    # imports every answer's schema but uses few (cold start).
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
    attributes: str | None = Field(
        default=None,
        description="A client's own fields (the existing web app's fees, dividends, price "
        "snapshot...) as JSON text, kept as sent; present when there are some",
    )


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
    additionalBudget: MoneyOut | None = Field(
        default=None, description="The budget the owner plans to add (exact); when set"
    )
    aiPromptTemplate: str | None = Field(
        default=None, description="The owner's AI analysis prompt template; when set"
    )
    attributes: str | None = Field(
        default=None,
        description="A client's own fields (the existing web app's target list, exchange "
        "rate...) as JSON text, kept as sent; present when there are some",
    )
    holdingsSource: str | None = Field(
        default=None,
        description="`activities` when the holdings follow the portfolio's activities (a "
        "ledger-based portfolio; `PUT /portfolios/{id}/ledger`); absent: `holdings`, "
        "entered as they are",
    )
    costBasis: str | None = Field(default=None, description="`fifo` when set so; absent: `average`")


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
    """A priced symbol of the existing app's market data (an unpriced one is not in `data`:
    it is in `errors`). Numbers are JSON numbers with exactly their decimal digits."""

    ticker: str = Field(description="The symbol as the app sent it (also the `data` key)")
    id: str = Field(description="The app's id for a holding added from this answer: `ticker`")
    symbol: str = Field(description="Canonical symbol (7203, BRK-B, 0331418A)")
    price: float = Field(description="Per share; per 10,000 units for funds (基準価額)")
    change: float | None
    changePercent: float | None
    name: str
    currency: str
    source: str
    lastUpdated: datetime | None
    status: str = Field(description="live, cached or stale")
    isStale: bool
    isMutualFund: bool


class LegacySingleQuote(LegacyQuote):
    """The answer's `data` when exactly one stock or fund symbol was asked and priced: its
    entry under its key, as always, and the entry's own fields beside it (the app's
    `addTicker` reads `data` as the entry itself)."""

    model_config = ConfigDict(extra="allow")
    __pydantic_extra__: dict[str, LegacyQuote] = Field(init=False)


class LegacyRate(Out):
    """A priced rate: 1 `base` = `rate` `target`. Never a default: `isDefault` is false."""

    pair: str
    base: str
    target: str
    rate: float
    source: str
    lastUpdated: datetime | None
    status: str = Field(description="live, cached or stale")
    isDefault: bool
    isStale: bool


class LegacySymbolError(Out):
    ticker: str = Field(description="The symbol or pair as the app sent it")
    reason: str = Field(
        description="unavailable (no source could price it, nothing cached), "
        "unknown_symbol, or wrong_type"
    )
    message: str


class LegacyMarketData(Out):
    """`success` is false (with `error` and `message`) when nothing asked could be priced;
    then `data` is null, so that the app neither adds a holding without a price nor takes
    a made-up rate."""

    success: bool
    data: dict[str, LegacyQuote] | dict[str, LegacyRate] | LegacySingleQuote | None
    errors: list[LegacySymbolError]
    unavailable: list[str] = Field(description="Keys no source could price")
    source: str
    error: ErrorDetail | None = None
    message: str | None = None


class PricePointOut(Out):
    date: str
    close: float
    source: str


class PriceChangeOut(Out):
    amount: float
    percent: float


class PriceChangesOut(Out):
    dayOverDay: PriceChangeOut | None = Field(description="Latest close against the one before")
    yearToDate: PriceChangeOut | None = Field(
        description="Latest close against the previous year's last close"
    )


class PriceHistoryData(Out):
    ticker: str
    currency: str | None
    period: str
    prices: list[PricePointOut]
    change: PriceChangesOut


class PriceHistoryOut(Out):
    success: bool
    data: PriceHistoryData


class LimitsOut(Out):
    """The limits the API enforces."""

    maxHoldings: int
    maxTargets: int
    maxPortfolioNameLength: int
    maxTextLength: int
    maxDecimalPlaces: int
    maxQuoteSymbols: int
    maxMarketDataSymbols: int
    maxHistoryDays: int
    maxRequestBodyBytes: int


class ClientFeaturesOut(Out):
    useProxy: bool
    useMockApi: bool
    useDirectApi: bool
    googleDrive: bool
    billing: bool


class CacheTimeOut(Out):
    marketData: int = Field(description="Seconds a price is served from the cache")


class ClientConfigData(Out):
    apiVersion: str
    marketDataApiUrl: str
    apiStage: str
    googleClientId: str
    features: ClientFeaturesOut
    limits: LimitsOut
    supportedMarkets: list[str]
    cacheTime: CacheTimeOut


class ClientConfigOut(Out):
    success: bool
    data: ClientConfigData


class SubscriptionStatusData(Out):
    planType: str = Field(description="Always free: there is no billing")
    limits: LimitsOut
    subscription: None
    hasStripeCustomer: bool


class SubscriptionStatusOut(Out):
    success: bool
    data: SubscriptionStatusData


class NotAvailableOut(Out):
    """A feature this deployment does not offer, in the existing app's failure shape (a
    2xx answer with `success: false`, the only one whose `message` the app shows)."""

    success: bool
    error: ErrorDetail
    message: str
    errorCode: str


class WebAppAssetOut(BaseModel):
    """One of the existing web app's holdings, every field as the app last sent it (`id`,
    `name`, `price`, `source`, `lastUpdated`, `fundType`, `annualFee`, `feeSource`,
    `feeIsEstimated`, `dividendYield`, `hasDividend`, `dividendFrequency`,
    `dividendIsEstimated`, `isStock`, `isMutualFund`, `purchasePrice`, `purchaseDate`,
    `symbol`, `region`, ...; numbers are JSON numbers with their digits). `ticker`,
    `holdings` (shares; lots of 10,000 units for a fund), `currency`, `name` and `region`
    are the portfolio's own values. `price` is the app's own snapshot, never our quote."""

    model_config = ConfigDict(extra="allow", defer_build=True)  # as `Out`

    ticker: str


class WebAppTargetOut(BaseModel):
    """One of the existing web app's targets (`id`, `ticker`, `name`, `targetPercentage`),
    as the app last sent it; `targetPercentage` is the portfolio's target whenever the
    portfolio has targets."""

    model_config = ConfigDict(extra="allow", defer_build=True)  # as `Out`

    ticker: str


class WebAppBudgetOut(BaseModel):
    model_config = ConfigDict(extra="allow", defer_build=True)  # as `Out`

    amount: float = Field(description="A JSON number with exactly its digits")
    currency: str


class WebAppPortfolioData(Out):
    currentAssets: list[WebAppAssetOut]
    targetPortfolio: list[WebAppTargetOut]
    baseCurrency: str
    exchangeRate: Any = Field(
        description="The app's own `{rate, source, lastUpdated, isDefault?, isStale?}` as it "
        "last sent it (null when it has not): never a rate we convert with"
    )
    additionalBudget: WebAppBudgetOut | None
    aiPromptTemplate: str | None
    version: int = Field(description="Send it back with the next PUT")
    updatedAt: datetime


class WebAppPortfolioOut(Out):
    """`GET /api/portfolio`: `data` is null when the user has no portfolio yet."""

    success: bool
    data: WebAppPortfolioData | None


class WebAppSavedData(Out):
    version: int
    updatedAt: datetime


class WebAppSavedOut(Out):
    success: bool
    data: WebAppSavedData


class WebAppConflictDetails(Out):
    serverVersion: int | None = Field(description="The version stored now")


class WebAppConflictDetail(Out):
    code: str = Field(description="VERSION_CONFLICT")
    message: str
    userFriendly: bool = Field(
        description="Always true: the existing app passes such an error on as it is"
    )
    details: WebAppConflictDetails


class WebAppConflictOut(Out):
    """The existing app's version conflict (409)."""

    success: bool
    error: WebAppConflictDetail
    message: str


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


class ActivityOut(Out):
    """One activity of a portfolio's ledger: every field, decimals as strings."""

    id: str
    type: str = Field(
        description="buy, sell, dividend, interest, fee, tax, split, deposit or withdrawal"
    )
    date: str = Field(description="YYYY-MM-DD")
    currency: str
    symbol: str | None
    quantity: DecimalText = Field(description="A trade's shares (fund units); a split's ratio")
    unitPrice: DecimalText = Field(description="Per share; per 10,000 units for a fund")
    amount: DecimalText = Field(description="Income, charge, deposit or withdrawal")
    fees: DecimalText
    taxes: DecimalText
    fxRate: DecimalText | None = Field(
        description="1 unit of `currency` in the portfolio's base currency, as settled"
    )
    note: str | None


class ActivityPageOut(Out):
    portfolioId: str
    version: int
    holdingsSource: str = Field(description="holdings or activities")
    costBasis: str = Field(description="average or fifo")
    total: int = Field(description="The portfolio's activities, all pages")
    activities: list[ActivityOut]
    nextCursor: str | None = Field(description="Pass as `cursor` for the next page")


class ActivitiesChangedOut(Out):
    portfolioId: str
    version: int = Field(description="The portfolio's version after the change (also ETag)")
    holdingsSource: str
    activities: list[ActivityOut] = Field(description="The activities added")


class RejectedRowOut(Out):
    line: int = Field(description="1-based, as a spreadsheet or an editor shows it")
    reason: str
    code: str


class ActivitiesImportOut(Out):
    portfolioId: str
    version: int
    holdingsSource: str
    batchId: str = Field(
        description="sha256 of the portfolio id, the read options and the file: importing "
        "the same file again adds nothing"
    )
    sha256: str = Field(description="The file's")
    format: str
    encoding: str
    rows: int = Field(description="Data rows (CSV) or items (JSON) read")
    imported: int
    duplicates: int = Field(description="The file's activities the portfolio already had")
    alreadyImported: bool
    rejectedCount: int
    rejected: list[RejectedRowOut] = Field(
        description="partial mode: the rows not imported (the first 1,000)"
    )


class PerformanceRangeOut(Out):
    label: str
    start: str
    end: str
    base: str = Field(description="The day before `start`: returns are measured from its close")


class HoldingPerformanceOut(Out):
    symbol: str
    currency: str
    quantity: DecimalText
    price: DecimalText | None
    value: DecimalText | None
    cost: DecimalText | None
    unrealized: DecimalText | None
    realized: DecimalText | None
    income: DecimalText | None
    priceEffect: DecimalText | None
    currencyEffect: DecimalText | None
    filled: int
    unknown: int


class SeriesPointOut(Out):
    date: str
    value: DecimalText | None = Field(description="End of day; null when unknown")
    flow: DecimalText | None
    invested: DecimalText | None


class MissingHistoryOut(Out):
    symbol: str = Field(description="A symbol or an FX pair (USD-JPY)")
    reason: str = Field(description="source_unavailable, not_found, unknown_symbol...")


class PerformanceOut(Out):
    """Amounts in `currency`, rounded to its minor unit; returns as fractions with ten
    decimals (0.0123 = 1.23 %)."""

    portfolioId: str
    basis: str = Field(
        description="activities, or holdings: a holdings-only portfolio without activities, "
        "its current holdings taken as held through the range (invested, cost, unrealized "
        "and xirr are then null)"
    )
    asOf: str
    range: PerformanceRangeOut
    currency: str
    method: str
    flowBasis: str
    value: DecimalText | None
    startValue: DecimalText | None
    invested: DecimalText | None
    netFlows: DecimalText | None
    gain: DecimalText | None
    income: DecimalText | None
    fees: DecimalText | None
    taxes: DecimalText | None
    realized: DecimalText | None
    unrealized: DecimalText | None
    twr: DecimalText | None = Field(description="Time-weighted return over the range")
    xirr: DecimalText | None = Field(description="Money-weighted annual rate; null when none")
    priceEffect: DecimalText | None
    currencyEffect: DecimalText | None
    cashCurrencyEffect: DecimalText | None
    holdings: list[HoldingPerformanceOut]
    cash: dict[str, DecimalText]
    filled: dict[str, int] = Field(
        description="Values carried from an earlier day: total, per symbol"
    )
    unknown: dict[str, int] = Field(
        description="`days` without a value, and per symbol or FX pair the days it had none"
    )
    unavailable: list[MissingHistoryOut] = Field(
        description="Daily histories that could not be read: their days are unknown"
    )
    series: list[SeriesPointOut] | None = Field(
        default=None, description="The daily values (series=true only)"
    )


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


class ClientLogsAcceptedOut(Out):
    """`POST /client-logs`: how many console entries were written."""

    accepted: int
