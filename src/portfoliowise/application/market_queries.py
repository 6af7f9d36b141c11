"""Market questions the API answers: quotes of up to 100 symbols, daily history over a
named range, and the existing web app's market data (by type) and price history (by
period, with its day-over-day and year-to-date changes). A symbol no source could price
comes back `unavailable` with no price: a price is never made up."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Final, Protocol

from portfoliowise.application.market_limits import (
    LEGACY_MAX_SYMBOLS,
    LEGACY_TYPE_NAMES,
    MAX_SYMBOLS,
)
from portfoliowise.domain.errors import UnknownSymbolError, ValidationError
from portfoliowise.domain.instruments import Instrument, Market, parse_symbol
from portfoliowise.domain.market import DailyClose, DailyHistory
from portfoliowise.domain.ports import Clock
from portfoliowise.domain.quotes import Quote

RANGES: Final = {
    "1mo": 31,
    "3mo": 92,
    "6mo": 183,
    "1y": 366,
    "2y": 731,
    "5y": 1827,
    "10y": 3653,
}
YTD = "ytd"
LEGACY_TYPES: Final = dict(
    zip(LEGACY_TYPE_NAMES, (Market.US, Market.JP, Market.FUND, Market.FX), strict=True)
)
EXCHANGE_RATE = "exchange-rate"
PRICE_PERIODS: Final = ("1w", "1m", "3m", "6m", "1y", "ytd")
_PERCENT_PLACES = Decimal("0.0001")


@dataclass(frozen=True, slots=True)
class Refusal:
    reason: str  # unknown_symbol, or wrong_type (a rate asked as a stock, or the reverse)
    message: str


@dataclass(frozen=True, slots=True)
class LegacyMarketData:
    """The existing app's market data: `quotes` by the key the app will look the symbol up
    with (priced, stale or unavailable), and `refused` the keys that name no instrument of
    the asked kind, with why."""

    quotes: dict[str, Quote]
    refused: dict[str, Refusal]


@dataclass(frozen=True, slots=True)
class PriceChange:
    amount: Decimal
    percent: Decimal


@dataclass(frozen=True, slots=True)
class PriceHistory:
    """Daily closes over one of `PRICE_PERIODS` (oldest first), and the changes of the
    latest close: against the close before it, and against the last close of the previous
    year (None when there is no such close)."""

    ticker: str
    symbol: str
    currency: str
    period: str
    closes: tuple[DailyClose, ...]
    source: str
    day_over_day: PriceChange | None
    year_to_date: PriceChange | None


class MarketPort(Protocol):
    def get_quotes(self, symbols: list[str]) -> dict[str, Quote]: ...

    def get_rates(self, pairs: list[str]) -> dict[str, Quote]: ...

    def history(self, symbol: str, start: date, end: date) -> DailyHistory: ...


def split_symbols(text: str, limit: int = MAX_SYMBOLS) -> list[str]:
    """`A,B , C` -> [A, B, C]: no duplicates, at least one and at most `limit` (100)."""
    symbols = list(dict.fromkeys(s.strip() for s in text.split(",") if s.strip()))
    if not symbols:
        raise ValidationError("give at least one symbol")
    if len(symbols) > limit:
        raise ValidationError(f"at most {limit} symbols a request, got {len(symbols)}")
    return symbols


@dataclass(frozen=True, slots=True)
class MarketQueries:
    market: MarketPort
    clock: Clock

    def quotes(self, symbols: str) -> dict[str, Quote]:
        return self.market.get_quotes(split_symbols(symbols))

    def history(self, symbol: str, range: str) -> DailyHistory:
        if range != YTD and range not in RANGES:
            raise ValidationError(f"range must be one of {', '.join([*RANGES, YTD])}")
        instrument = parse_symbol(symbol)
        end = self.clock.now().date()
        start = date(end.year, 1, 1) if range == YTD else end - timedelta(days=RANGES[range])
        return self.market.history(instrument.symbol, start, end)

    def legacy_market_data(
        self,
        type: str,
        symbols: str | None = None,
        base: str | None = None,
        target: str | None = None,
    ) -> LegacyMarketData:
        """The existing app's market data of one `type` (us-stock, jp-stock, mutual-fund,
        exchange-rate), keyed as the app looks it up: stocks and funds by the symbol it sent,
        rates by `USD-JPY` (or `{base}-{target}` as sent when it asks with `base` and
        `target` instead of `symbols`).

        The stock types are the app's guess from the symbol's shape (it sends `130A` as a
        US stock): any stock or fund symbol is priced as what it is. A symbol that is not
        one (or an FX pair asked as a stock, a stock asked as a rate) is `refused` with why,
        never failing the others."""
        wanted = LEGACY_TYPES.get(type)
        if wanted is None:
            raise ValidationError(f"type must be one of {', '.join(LEGACY_TYPES)}")
        by_symbols = symbols is not None and bool(symbols.strip())
        if symbols is not None and by_symbols:
            keys = split_symbols(symbols, LEGACY_MAX_SYMBOLS)
        elif wanted is Market.FX and base and target:
            keys = [f"{base.strip()}-{target.strip()}"]
        elif wanted is Market.FX:
            raise ValidationError("give symbols, or base and target (e.g. base=USD&target=JPY)")
        else:
            raise ValidationError("give at least one symbol")
        instruments: dict[str, Instrument] = {}
        refused: dict[str, Refusal] = {}
        for raw in keys:
            try:
                instrument = parse_symbol(raw)
            except UnknownSymbolError as exc:
                refused[raw] = Refusal(exc.code, str(exc))
                continue
            if (instrument.market is Market.FX) != (wanted is Market.FX):
                right = EXCHANGE_RATE if instrument.market is Market.FX else "a stock type"
                message = f"{instrument.symbol} is not a {type} symbol: ask with {right}"
                refused[raw] = Refusal("wrong_type", message)
                continue
            key = instrument.symbol if wanted is Market.FX and by_symbols else raw
            instruments.setdefault(key, instrument)
        unique = list(dict.fromkeys(instruments.values()))
        found: dict[str, Quote] = {}
        for start in range(0, len(unique), MAX_SYMBOLS):
            batch = [i.symbol for i in unique[start : start + MAX_SYMBOLS]]
            if wanted is Market.FX:
                found.update(self.market.get_rates(batch))
            else:
                found.update(self.market.get_quotes(batch))
        quotes = {key: found[i.symbol] for key, i in instruments.items() if i.symbol in found}
        return LegacyMarketData(quotes=quotes, refused=refused)

    def price_history(self, ticker: str, period: str) -> PriceHistory:
        """The existing app's price history of `ticker` over `period` (1w, 1m, 3m, 6m, 1y,
        ytd, calendar periods ending today). Closes are fetched from the last December on
        whatever the period, so that the year-to-date change always has its base. Raises
        as `history` does (`NotFoundError`, `SourceUnavailable`, `ValidationError`)."""
        if period not in PRICE_PERIODS:
            raise ValidationError(f"period must be one of {', '.join(PRICE_PERIODS)}")
        instrument = parse_symbol(ticker)
        end = self.clock.now().date()
        start = period_start(period, end)
        year_start = date(end.year, 1, 1)
        fetch_from = min(start, date(end.year - 1, 12, 1))
        history = self.market.history(instrument.symbol, fetch_from, end)
        closes = history.closes
        latest = closes[-1] if closes else None
        before = closes[-2] if len(closes) > 1 else None
        last_year = [c for c in closes if c.day < year_start]
        return PriceHistory(
            ticker=ticker.strip(),
            symbol=instrument.symbol,
            currency=history.currency,
            period=period,
            closes=tuple(c for c in closes if c.day >= start),
            source=history.source,
            day_over_day=_change(latest, before),
            year_to_date=_change(latest, last_year[-1] if last_year else None),
        )


def period_start(period: str, end: date) -> date:
    """The first day of `period` ending on `end`: a week back, 1/3/6/12 calendar months
    back (the same day of the month, or the month's last day), or January 1st."""
    if period == YTD:
        return date(end.year, 1, 1)
    if period == "1w":
        return end - timedelta(days=7)
    months = {"1m": 1, "3m": 3, "6m": 6, "1y": 12}[period]
    years, month_index = divmod(end.month - 1 - months, 12)
    year, month = end.year + years, month_index + 1
    return date(year, month, min(end.day, calendar.monthrange(year, month)[1]))


def _change(latest: DailyClose | None, base: DailyClose | None) -> PriceChange | None:
    if latest is None or base is None or base.close <= 0:
        return None
    amount = latest.close - base.close
    percent = (amount * 100 / base.close).quantize(_PERCENT_PLACES, ROUND_HALF_UP)
    return PriceChange(amount=amount, percent=percent)
