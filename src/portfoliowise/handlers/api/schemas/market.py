"""Answers of the market routes, the existing app's market data and price history
included (JSON numbers, as that app reads)."""

from __future__ import annotations

from datetime import datetime

from pydantic import ConfigDict, Field

from portfoliowise.handlers.api.schemas.common import DecimalText, ErrorDetail, Out


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
