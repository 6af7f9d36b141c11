"""Answers of the performance route."""

from __future__ import annotations

from pydantic import Field

from portfoliowise.handlers.api.schemas.common import DecimalText, Out


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
