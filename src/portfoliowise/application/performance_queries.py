"""A portfolio's performance over a range (`domain.performance.performance_report`), with
the daily closes and FX rates read from the market history the runtime has.

- **Basis.** A portfolio with activities, or a ledger-based one, is measured from its
  activities (`basis: "activities"`). A holdings-only portfolio without any activity is
  measured as if its current holdings had been held, unchanged, through the whole range
  (`basis: "holdings"`): each holding is an opening position on the range's base day
  (the day before its start), so the time-weighted return and the gain are the holdings'
  price and currency moves; `invested`, the cost and unrealized P/L (what was paid is not
  known) and the XIRR (no cash flow is known) are null. Its `MAX` range starts on the day
  the portfolio was created.
- **Closes and rates** come from the `HistoryService` port, one call per symbol held at
  the range's base day or traded in the range and per currency pair needed, from
  `HISTORY_LOOKBACK` before the base day (a close carried over a long holiday) to the
  range's end, and for a currency from its first activity without its own rate (the
  ledger converts every activity at its day's rate, never a later one). A history that
  cannot be read (no source, the source down, an unknown symbol) is reported in
  `unavailable` with why, and the days it leaves without a value are `unknown` in the
  report: no close, rate or value is ever invented. The market's daily closes are
  split-adjusted (Yahoo's `Close`), so the quantities are expressed in today's shares
  (`split_adjusted`). Where the runtime has no history source (the portfolio function
  prices from the Cache table only, and the Cache table holds no history), every
  history is unavailable and the report says so.
- **Currency.** The report's currency is the portfolio's base currency unless asked
  otherwise (JPY or USD); an activity's own `fx_rate` is into the base currency, so in
  another currency every activity is converted at the market's rate of its day.
- A rate an activity needs and that the market history does not give is an error
  (`MissingRateError`, 503), never an unconverted number."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Final, Protocol

from portfoliowise.domain.activities import Activity, ActivityType, HoldingsSource
from portfoliowise.domain.errors import DomainError, ValidationError
from portfoliowise.domain.events import JsonValue
from portfoliowise.domain.instruments import parse_symbol
from portfoliowise.domain.ledger import FxHistory, replay
from portfoliowise.domain.market import DailyHistory
from portfoliowise.domain.money import JPY, USD, Currency
from portfoliowise.domain.performance import (
    DateRange,
    PerformanceReport,
    performance_report,
    resolve_range,
)
from portfoliowise.domain.portfolio import Portfolio
from portfoliowise.domain.ports import ActivityLedger, Clock, PortfolioRepository

log = logging.getLogger(__name__)

REPORT_CURRENCIES: Final = (JPY, USD)
HISTORY_LOOKBACK: Final = timedelta(days=10)
"""Closes read before the base day: the last close before it, over Golden Week or the
New Year holidays (up to 9 days without a session in Tokyo)."""
MAX_HISTORY_SPAN: Final = timedelta(days=366 * 20)
"""The market history's longest range (`market_service.MAX_HISTORY_DAYS`): older days of
a longer range are unknown."""
CUSTOM: Final = "custom"


class HistoryService(Protocol):
    def history(self, symbol: str, start: date, end: date) -> DailyHistory:
        """Daily closes in [start, end] (`MarketService.history`)."""
        ...


class Basis(StrEnum):
    ACTIVITIES = "activities"
    HOLDINGS = "holdings"


@dataclass(frozen=True, slots=True)
class MissingHistory:
    symbol: str  # a symbol or an FX pair (`USD-JPY`)
    reason: str  # the error's code: source_unavailable, not_found, unknown_symbol...


@dataclass(frozen=True, slots=True)
class PortfolioPerformance:
    portfolio: Portfolio
    basis: Basis
    as_of: date
    report: PerformanceReport
    unavailable: tuple[MissingHistory, ...]

    def to_json(self, *, series: bool = False) -> dict[str, JsonValue]:
        """The report's JSON (`PerformanceReport.to_json`: amounts as decimal strings
        rounded to the currency's minor unit, returns to ten decimals) with the
        portfolio, the basis, the as-of date and the histories that were unavailable; on
        the holdings basis the figures that need what was paid are null."""
        data: dict[str, JsonValue] = {
            "portfolioId": self.portfolio.portfolio_id,
            "basis": self.basis.value,
            "asOf": self.as_of.isoformat(),
        }
        data.update(self.report.to_json(series=series))
        for key in ("twr", "xirr"):  # a zero return quantized is `0E-10`: plain decimals
            value = data.get(key)
            if isinstance(value, str):
                data[key] = format(Decimal(value), "f")
        data["unavailable"] = [{"symbol": m.symbol, "reason": m.reason} for m in self.unavailable]
        if self.basis is Basis.HOLDINGS:
            for key in ("invested", "unrealized", "xirr"):
                data[key] = None
            for item in _dicts(data.get("holdings")):
                item["cost"] = item["unrealized"] = None
            for point in _dicts(data.get("series")):
                point["invested"] = None
        return data


def _dicts(value: JsonValue) -> list[dict[str, JsonValue]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _pair(currency: Currency, report: Currency) -> str:
    """The market's FX pair between the two (`USD-JPY` either way)."""
    if report == USD:
        return f"USD-{currency.code}"
    return f"{currency.code}-{report.code}"


def _bought_symbols(activities: Iterable[Activity]) -> set[str]:
    return {a.symbol for a in activities if a.type is ActivityType.BUY and a.symbol}


@dataclass(frozen=True, slots=True)
class PerformanceQueries:
    repository: PortfolioRepository
    ledger: ActivityLedger
    history: HistoryService
    clock: Clock

    def report(
        self,
        user_id: str,
        portfolio_id: str,
        *,
        period: str | None = None,
        start: date | None = None,
        end: date | None = None,
        currency: str | None = None,
    ) -> PortfolioPerformance:
        """The report over `period` (1D, WTD, MTD, YTD, 1Y, 5Y, MAX, default MAX; or
        `YYYY-MM-DD..YYYY-MM-DD`), or the custom range `start`..`end` (either may be left
        out: the first activity, today), as of today (UTC), in `currency` (JPY or USD,
        default the portfolio's base currency)."""
        portfolio = self.repository.get(user_id, portfolio_id)
        activities = self.ledger.activities(user_id, portfolio_id)
        report_currency = self._currency(currency, portfolio.base_currency)
        spec = self._spec(period, start, end)
        as_of = self.clock.now().date()
        basis = (
            Basis.ACTIVITIES
            if activities or portfolio.holdings_source is HoldingsSource.ACTIVITIES
            else Basis.HOLDINGS
        )
        if basis is Basis.ACTIVITIES:
            first_day = min((a.day for a in activities), default=None)
        else:
            first_day = portfolio.created_at.date()
        window = resolve_range(spec, as_of, first_day=first_day)
        if basis is Basis.HOLDINGS:
            activities = self._held_through(portfolio, window)
        if report_currency != portfolio.base_currency:
            # `fx_rate` is into the base currency: the market's rates convert instead.
            activities = [replace(a, fx_rate=None) if a.fx_rate else a for a in activities]
        missing: list[MissingHistory] = []
        closes = self._closes(activities, window, report_currency, missing)
        fx = self._rates(activities, window, report_currency, missing)
        if basis is Basis.HOLDINGS:
            activities = self._priced_openings(activities, fx, window)
        report = performance_report(
            activities,
            base_currency=report_currency,
            closes=closes,
            fx=fx,
            period=window,
            as_of=as_of,
            method=portfolio.cost_basis,
            split_adjusted=True,
        )
        return PortfolioPerformance(portfolio, basis, as_of, report, tuple(missing))

    # -- parameters -----------------------------------------------------------------------

    @staticmethod
    def _currency(code: str | None, base: Currency) -> Currency:
        if code is None or not code.strip():
            return base
        wanted = Currency.of(code)
        if wanted not in REPORT_CURRENCIES:
            names = " or ".join(c.code for c in REPORT_CURRENCIES)
            raise ValidationError(f"currency must be {names}, not {code.strip()[:10]!r}")
        return wanted

    @staticmethod
    def _spec(period: str | None, start: date | None, end: date | None) -> str:
        chosen = (period or "").strip()
        if start is None and end is None:
            if chosen.lower() == CUSTOM:
                raise ValidationError("a custom range needs from and/or to (YYYY-MM-DD)")
            return chosen or "MAX"
        if chosen and chosen.lower() != CUSTOM:
            raise ValidationError("give a range or from/to, not both")
        return f"{start.isoformat() if start else ''}..{end.isoformat() if end else ''}"

    # -- the holdings basis ---------------------------------------------------------------

    @staticmethod
    def _held_through(portfolio: Portfolio, window: DateRange) -> list[Activity]:
        """The current holdings as opening buys on the base day, at no price (what was paid
        is not known; the figures that need it are null in the answer)."""
        return [
            Activity(
                activity_id=f"holding-{holding.symbol}",
                type=ActivityType.BUY,
                day=window.base,
                currency=holding.instrument.currency,
                symbol=holding.symbol,
                quantity=holding.quantity,
                unit_price=Decimal(0),
            )
            for holding in portfolio.holdings
            if holding.quantity > 0
        ]

    @staticmethod
    def _priced_openings(
        openings: Sequence[Activity], fx: FxHistory, window: DateRange
    ) -> list[Activity]:
        """The opening buys' rate: the market's on the base day when it has one, else 1.
        Either way it multiplies nothing (the buys are at no price and before the range):
        the ledger only needs one to replay them; the holdings are valued at the market's
        rates of each day, or are unknown without them."""
        return [
            a
            if a.currency == fx.base
            else replace(a, fx_rate=fx.rate(a.currency, window.base) or Decimal(1))
            for a in openings
        ]

    # -- the market history ---------------------------------------------------------------

    def _read(
        self, symbol: str, start: date, end: date, missing: list[MissingHistory]
    ) -> DailyHistory | None:
        start = max(start, end - MAX_HISTORY_SPAN)
        try:
            return self.history.history(symbol, start, end)
        except DomainError as exc:
            log.info("no daily history of %s for a performance report: %s", symbol, exc)
            missing.append(MissingHistory(symbol, getattr(exc, "code", "unavailable")))
            return None

    def _closes(
        self,
        activities: Sequence[Activity],
        window: DateRange,
        currency: Currency,
        missing: list[MissingHistory],
    ) -> list[DailyHistory]:
        """The closes of every symbol held at the base day or traded in the range."""
        held = replay(activities, base_currency=currency, until=window.base).open_positions
        symbols = {p.symbol for p in held} | _bought_symbols(
            a for a in activities if window.base < a.day <= window.end
        )
        found = []
        for symbol in sorted(symbols):
            history = self._read(symbol, window.base - HISTORY_LOOKBACK, window.end, missing)
            if history is not None:
                found.append(history)
        return found

    def _rates(
        self,
        activities: Sequence[Activity],
        window: DateRange,
        currency: Currency,
        missing: list[MissingHistory],
    ) -> FxHistory:
        """The daily rates into `currency` of every other currency the ledger has: its
        activities' and its instruments'."""
        since: dict[Currency, date] = {}
        for activity in activities:
            if activity.day > window.end:
                continue
            involved = {activity.currency}
            if activity.symbol:
                involved.add(parse_symbol(activity.symbol).currency)
            for other in involved - {currency}:
                day = window.base  # holdings and cash are valued from the base day
                if other == activity.currency and not activity.fx_rate:
                    day = min(day, activity.day)  # and the activity converted on its day
                since[other] = min(since.get(other, day), day)
        histories = []
        for other, first in sorted(since.items(), key=lambda item: item[0].code):
            pair = _pair(other, currency)
            history = self._read(pair, first - HISTORY_LOOKBACK, window.end, missing)
            if history is not None:
                histories.append(history)
        return FxHistory.from_histories(currency, histories)
