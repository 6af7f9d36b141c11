"""Market questions the API answers: quotes of up to 100 symbols, daily history over a
named range, and the existing app's market data by type. A symbol no source could price
comes back `unavailable` with no price: a price is never made up."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final, Protocol

from portfoliowise.application.market_service import MAX_SYMBOLS
from portfoliowise.domain.errors import ValidationError
from portfoliowise.domain.instruments import Market, parse_symbol
from portfoliowise.domain.market import DailyHistory
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
LEGACY_TYPES: Final = {
    "us-stock": Market.US,
    "jp-stock": Market.JP,
    "mutual-fund": Market.FUND,
    "exchange-rate": Market.FX,
}


class MarketPort(Protocol):
    def get_quotes(self, symbols: list[str]) -> dict[str, Quote]: ...

    def get_rates(self, pairs: list[str]) -> dict[str, Quote]: ...

    def history(self, symbol: str, start: date, end: date) -> DailyHistory: ...


def split_symbols(text: str) -> list[str]:
    """`A,B , C` -> [A, B, C]: no duplicates, at least one and at most 100."""
    symbols = list(dict.fromkeys(s.strip() for s in text.split(",") if s.strip()))
    if not symbols:
        raise ValidationError("give at least one symbol")
    if len(symbols) > MAX_SYMBOLS:
        raise ValidationError(f"at most {MAX_SYMBOLS} symbols a request, got {len(symbols)}")
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

    def by_type(self, type: str, symbols: str) -> dict[str, Quote]:
        """The existing app's market data: quotes (or rates, keyed `USD-JPY`) by the key
        the app sent, all of one `type` (us-stock, jp-stock, mutual-fund, exchange-rate)."""
        wanted = LEGACY_TYPES.get(type)
        if wanted is None:
            raise ValidationError(f"type must be one of {', '.join(LEGACY_TYPES)}")
        requested: dict[str, str] = {}
        for raw in split_symbols(symbols):
            instrument = parse_symbol(raw)
            if instrument.market is not wanted:
                raise ValidationError(f"{raw[:40]!r} is not a {type} symbol")
            key = instrument.symbol if wanted is Market.FX else raw.strip().upper()
            requested.setdefault(instrument.symbol, key)
        if wanted is Market.FX:
            found = self.market.get_rates(list(requested))
        else:
            found = self.market.get_quotes(list(requested))
        return {requested[s]: q for s, q in found.items()}
