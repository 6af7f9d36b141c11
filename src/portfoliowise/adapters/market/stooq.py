"""Stooq (stooq.com): the second, independent free source of Tokyo and US stock and ETF
prices, over plain httpx, so that Yahoo being down or rate-limited does not leave users
without prices.

Quotes: ONE request for up to 100 symbols,
`https://stooq.com/q/l/?s=7203.jp+aapl.us+brk-b.us&f=sd2t2ohlcvn&h&e=csv`, answering
`Symbol,Date,Time,Open,High,Low,Close,Volume,Name` with one row per symbol
(`AAPL.US,2026-11-27,19:00:07,234.1,236.2,233.6,235.4,21513921,APPLE`). A symbol Stooq does
not know comes back as `ZZZZ.US,N/D,N/D,...`: it is left out of the answer, as is any row
whose close does not parse as a positive number. Stooq stamps quotes in its own time zone
(Poland: CET/CEST), which `as_of` converts to UTC. The endpoint has no previous close, so
`change` and `change_percent` stay None rather than being guessed from the open.

History: `https://stooq.com/q/d/l/?s=7203.jp&d1=20260101&d2=20260131&i=d` answering
`Date,Open,High,Low,Close,Volume`; the body `No data` means an unknown symbol (Stooq gives
the same body for a range without any trading day: it is `NotFoundError` either way).

Stooq also answers 200 with bodies that are not CSV: `Exceeded the daily hits limit`
(its quota, raised as `Throttled`) and HTML pages (an API-key notice or a bot check, seen
on the download endpoint since 2026); both fail the source instead of reading as "no data".
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

import httpx

from portfoliowise.adapters.market import http
from portfoliowise.domain.errors import NotFoundError, SourceUnavailable
from portfoliowise.domain.instruments import Instrument, Market
from portfoliowise.domain.market import DailyClose, DailyHistory
from portfoliowise.domain.money import Money
from portfoliowise.domain.quotes import Quote, QuoteStatus

log = logging.getLogger(__name__)

STOOQ = "stooq"
QUOTE_URL = "https://stooq.com/q/l/"
HISTORY_URL = "https://stooq.com/q/d/l/"
QUOTE_FIELDS = "sd2t2ohlcvn"  # symbol, date, time, open, high, low, close, volume, name
STOOQ_TZ = ZoneInfo("Europe/Warsaw")
MAX_SYMBOLS_PER_REQUEST = 100
MARKETS = frozenset({Market.JP, Market.US})
_SUFFIX = {Market.JP: "jp", Market.US: "us"}
_NO_DATA = "N/D"
_QUOTA_BODY = "exceeded the daily hits limit"


def stooq_symbol(instrument: Instrument) -> str | None:
    """`7203` -> `7203.jp`, `130A` -> `130a.jp`, `BRK-B` -> `brk-b.us`; None for the
    markets Stooq is not used for."""
    suffix = _SUFFIX.get(instrument.market)
    return None if suffix is None else f"{instrument.code.lower()}.{suffix}"


def _decimal(text: str | None) -> Decimal | None:
    if text is None:
        return None
    cleaned = text.strip()
    if not cleaned or cleaned.upper() == _NO_DATA:
        return None
    try:
        number = Decimal(cleaned)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _day(text: str) -> date | None:
    """`2026-11-27` (or `20261127`)."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return None


def _clock_time(text: str) -> time | None:
    """`19:00:07` (or `190007`)."""
    try:
        return time.fromisoformat(text.strip())
    except ValueError:
        return None


def _csv_rows(text: str, required: tuple[str, ...]) -> Iterator[dict[str, str]]:
    """Rows of a Stooq CSV as dicts keyed by lower-case column name, after checking that
    the body is a CSV with the `required` columns at all."""
    reader = csv.reader(io.StringIO(text.strip()))
    header = [name.strip().lower() for name in next(reader, [])]
    if any(column not in header for column in required):
        raise SourceUnavailable(f"{STOOQ}: unexpected CSV header {header[:10]}")
    width = len(header)
    for cells in reader:
        if not cells or not any(cell.strip() for cell in cells):
            continue
        if len(cells) > width:  # an unquoted comma in the last column (the name)
            cells = [*cells[: width - 1], ",".join(cells[width - 1 :])]
        yield dict(zip(header, cells, strict=False))


def _check_body(text: str) -> None:
    stripped = text.strip()
    lowered = stripped.lower()
    if lowered.startswith(_QUOTA_BODY):
        raise http.Throttled(f"{STOOQ}: daily hits limit exceeded")
    if not stripped:
        raise SourceUnavailable(f"{STOOQ}: empty body")
    if lowered.startswith("<") or "<html" in lowered[:500]:
        raise SourceUnavailable(f"{STOOQ}: HTML page instead of CSV: {stripped[:80]!r}")


class StooqQuoteSource:
    """Latest Tokyo and US quotes from Stooq, one request per 100 symbols."""

    markets = MARKETS

    def __init__(self, client: httpx.Client, *, url: str = QUOTE_URL, name: str = STOOQ) -> None:
        self._client = client
        self._url = url
        self.name = name

    def fetch(self, instruments: Sequence[Instrument]) -> dict[str, Quote]:
        wanted: dict[str, Instrument] = {}
        for instrument in instruments:
            symbol = stooq_symbol(instrument)
            if symbol is not None:
                wanted.setdefault(symbol.upper(), instrument)
        symbols = list(wanted)
        found: dict[str, Quote] = {}
        for start in range(0, len(symbols), MAX_SYMBOLS_PER_REQUEST):
            chunk = symbols[start : start + MAX_SYMBOLS_PER_REQUEST]
            found.update(self._fetch_chunk(chunk, wanted))
        return found

    def _fetch_chunk(self, symbols: list[str], wanted: dict[str, Instrument]) -> dict[str, Quote]:
        joined = "+".join(symbol.lower() for symbol in symbols)
        url = f"{self._url}?s={joined}&f={QUOTE_FIELDS}&h&e=csv"
        response = http.get(self._client, url, source=self.name)
        text = http.text_of(response, source=self.name)
        _check_body(text)
        found: dict[str, Quote] = {}
        for row in _csv_rows(text, ("symbol", "date", "time", "close")):
            instrument = wanted.get(row.get("symbol", "").strip().upper())
            if instrument is None:
                continue
            quote = self._quote(instrument, row)
            if quote is not None:
                found[instrument.symbol] = quote
        return found

    def _quote(self, instrument: Instrument, row: dict[str, str]) -> Quote | None:
        if row.get("date", "").strip().upper() == _NO_DATA:
            return None  # Stooq does not know the symbol
        close = _decimal(row.get("close"))
        day = _day(row.get("date", ""))
        at = _clock_time(row.get("time", ""))
        if close is None or close <= 0 or day is None or at is None:
            log.warning("%s: malformed row for %s ignored: %s", self.name, instrument, row)
            return None
        volume = _decimal(row.get("volume"))
        name = (row.get("name") or "").strip()
        return Quote(
            symbol=instrument.symbol,
            price=Money(close, instrument.currency),
            status=QuoteStatus.LIVE,
            source=self.name,
            as_of=datetime.combine(day, at, tzinfo=STOOQ_TZ).astimezone(UTC),
            volume=volume if volume is not None and volume >= 0 else None,
            name=name if name and name.upper() != row.get("symbol", "").strip().upper() else None,
        )


class StooqHistorySource:
    """Daily closes of a Tokyo or US stock or ETF from Stooq, one request per range."""

    markets = MARKETS

    def __init__(self, client: httpx.Client, *, url: str = HISTORY_URL, name: str = STOOQ) -> None:
        self._client = client
        self._url = url
        self.name = name

    def history(self, instrument: Instrument, start: date, end: date) -> DailyHistory:
        symbol = stooq_symbol(instrument)
        if symbol is None:
            raise NotFoundError(f"{self.name} has no {instrument.market.value} history")
        params = {
            "s": symbol,
            "d1": start.strftime("%Y%m%d"),
            "d2": end.strftime("%Y%m%d"),
            "i": "d",
        }
        response = http.get(self._client, self._url, source=self.name, params=params)
        text = http.text_of(response, source=self.name)
        if text.strip().lower() == "no data":
            raise NotFoundError(f"{self.name}: no daily history for {instrument.symbol}")
        _check_body(text)
        closes: dict[date, DailyClose] = {}
        for row in _csv_rows(text, ("date", "close")):
            day = _day(row.get("date", ""))
            close = _decimal(row.get("close"))
            if day is None or close is None or close <= 0:
                log.warning("%s: malformed history row for %s: %s", self.name, instrument, row)
                continue
            if start <= day <= end:
                volume = _decimal(row.get("volume"))
                kept = volume if volume is not None and volume >= 0 else None
                closes[day] = DailyClose(day, close, kept)
        return DailyHistory(
            symbol=instrument.symbol,
            currency=instrument.currency.code,
            closes=tuple(closes[day] for day in sorted(closes)),
            source=self.name,
        )
