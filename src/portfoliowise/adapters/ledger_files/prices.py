"""Daily closes and FX rates from a CSV file, for the performance of a ledger:

    date,symbol,close[,currency]
    2024-01-04,7203,2650
    2024-01-04,VTI,236.12,USD
    2024-01-04,USD-JPY,143.52

- `symbol`: any spelling `parse_symbol` accepts (`7203.T`, `BRK.B`, `0331418A`); an FX
  pair (`USD-JPY`, `USDJPY`, `USD/JPY`) gives the rate of 1 unit of the first currency
  in the second.
- `close`: a decimal (`1,234.5` in a quoted cell); per share, per 10,000 units for a
  Japanese fund (its 基準価額), as quotes are. Closes meet the limits of a quote's price
  (`check_price`), rates those of an FX rate (`check_rate`).
- `currency`: default the instrument's (USD for US symbols, JPY otherwise; an FX pair's
  second currency, the only one it may name). All of a symbol's rows have the same one.
- One close per symbol and date; dates `YYYY-MM-DD` or `YYYY/MM/DD`. Rows in any order.
- UTF-8 (with or without BOM) or Shift-JIS (CP932), as activities files; at most
  `MAX_PRICE_ROWS` rows. Refused rows are reported with their line numbers, under the
  same two modes as `read_ledger`."""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Final

from portfoliowise.adapters.ledger_files.collect import Collector
from portfoliowise.adapters.ledger_files.csv_rows import (
    CsvRow,
    cell,
    check_row_shape,
    find_columns,
    parse_day,
    parse_decimal,
    read_table,
)
from portfoliowise.adapters.ledger_files.encoding import check_size, decode
from portfoliowise.adapters.ledger_files.model import (
    ALL_OR_NOTHING,
    MODES,
    ImportMode,
    LedgerRejected,
    RejectedRow,
    in_file,
)
from portfoliowise.domain.errors import DomainError, ValidationError, preview
from portfoliowise.domain.fx import FxRate
from portfoliowise.domain.instruments import Instrument, Market, parse_symbol
from portfoliowise.domain.limits import check_price, check_rate
from portfoliowise.domain.market import DailyClose, DailyHistory
from portfoliowise.domain.money import Currency

MAX_PRICE_ROWS: Final = 500_000
"""Rows of a prices file: 200 instruments' closes over ten years."""

COLUMNS: Final[dict[str, tuple[str, ...]]] = {
    "date": ("date", "day", "日付"),
    "symbol": ("symbol", "ticker", "code", "pair", "銘柄コード", "コード"),
    "close": ("close", "price", "rate", "終値"),
    "currency": ("currency", "ccy", "通貨"),
}


@dataclass(frozen=True, slots=True)
class PriceFile:
    """Closes by symbol and FX rates by pair (`USD-JPY`), each oldest first."""

    encoding: str
    closes: Mapping[str, DailyHistory]
    fx: Mapping[str, DailyHistory]  # a pair's closes are its rates; currency: the quote
    rejected: tuple[RejectedRow, ...] = ()
    rows: int = 0

    def close_on(self, symbol: str, day: date) -> DailyClose | None:
        """The symbol's last close on or before `day` (never a later one)."""
        history = self.closes.get(parse_symbol(symbol).symbol)
        return None if history is None else _last_on(history, day)

    def rates_on(self, day: date) -> tuple[FxRate, ...]:
        """Each pair's last rate on or before `day`, as of that rate's date (00:00 UTC)."""
        rates = []
        for pair, history in self.fx.items():
            close = _last_on(history, day)
            if close is not None:
                base, quote = pair.split("-")
                at = datetime.combine(close.day, time(), UTC)
                rates.append(
                    FxRate(Currency.of(base), Currency.of(quote), close.close, at, history.source)
                )
        return tuple(rates)


def _last_on(history: DailyHistory, day: date) -> DailyClose | None:
    index = bisect.bisect_right(history.closes, day, key=lambda c: c.day)
    return history.closes[index - 1] if index else None


@dataclass(slots=True)
class _Series:
    instrument: Instrument
    currency: Currency
    line: int
    closes: dict[date, Decimal] = field(default_factory=dict)


def read_prices(
    data: bytes,
    *,
    filename: str | None,
    mode: ImportMode = "all_or_nothing",
    source: str = "file",
) -> PriceFile:
    """The closes and rates of a prices CSV (`source` names them in the histories)."""
    if mode not in MODES:
        raise ValidationError(f"mode must be one of {', '.join(MODES)}, not {preview(mode)}")
    collector = Collector("price")
    series: dict[str, _Series] = {}
    try:
        check_size(data)
        text, encoding = decode(data)
        table = read_table(
            text,
            lambda cells: {"date", "symbol", "close"} <= set(find_columns(cells, COLUMNS)),
            max_rows=MAX_PRICE_ROWS,
            what="price rows",
        )
        columns = find_columns(table.header, COLUMNS)
        for row in table.rows:
            collector.rows += 1
            try:
                _row(row, columns, len(table.header), series)
            except DomainError as exc:
                collector.reject(row.line, exc)
    except DomainError as exc:
        raise in_file(exc, filename) from None
    if mode == ALL_OR_NOTHING and collector.rejected:
        raise LedgerRejected(collector.rejected, collector.rows, filename)
    closes: dict[str, DailyHistory] = {}
    fx: dict[str, DailyHistory] = {}
    for symbol, s in series.items():
        history = DailyHistory(
            symbol,
            s.currency.code,
            tuple(DailyClose(day, s.closes[day]) for day in sorted(s.closes)),
            source,
        )
        (fx if s.instrument.market is Market.FX else closes)[symbol] = history
    return PriceFile(encoding, closes, fx, tuple(collector.rejected), collector.rows)


def _row(row: CsvRow, columns: dict[str, int], width: int, series: dict[str, _Series]) -> None:
    check_row_shape(row, width)
    raw_day = cell(row, columns, "date")
    if not raw_day:
        raise ValidationError("no date")
    day = parse_day(raw_day)
    instrument = parse_symbol(cell(row, columns, "symbol"))
    symbol = instrument.symbol
    close = parse_decimal(cell(row, columns, "close"), "close")
    if close is None:
        raise ValidationError(f"{symbol}: no close")
    currency_text = cell(row, columns, "currency")
    currency = Currency.of(currency_text) if currency_text else instrument.currency
    if instrument.market is Market.FX:
        if currency != instrument.currency:
            raise ValidationError(
                f"{symbol} is a rate in {instrument.currency.code}, not {currency.code}"
            )
        check_rate(close, f"{symbol} rate")
    else:
        check_price(close, f"{symbol} close")
    known = series.get(symbol)
    if known is None:
        known = series[symbol] = _Series(instrument, currency, row.line)
    elif known.currency != currency:
        raise ValidationError(
            f"{symbol} has closes in {known.currency.code} (line {known.line}), not {currency.code}"
        )
    if day in known.closes:
        raise ValidationError(f"a second close for {symbol} on {day.isoformat()}")
    known.closes[day] = close
