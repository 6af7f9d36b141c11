"""Answers of the portfolio routes (also `PortfolioOut` for the ledger routes)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from portfoliowise.handlers.api.schemas.common import DecimalText, Out


class MoneyOut(Out):
    amount: DecimalText
    currency: str = Field(min_length=3, max_length=3)


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
