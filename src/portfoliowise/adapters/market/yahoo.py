"""Yahoo Finance through yfinance: quotes for Tokyo (`7203.T`) and US stocks and ETFs, FX
rates (`USDJPY=X`) and daily history.

yfinance imports pandas (and numpy, curl_cffi, peewee): about a second of cold start. Both
are imported inside the methods that call Yahoo, never when this module is imported, so
the market handler pays for them only when a request actually reaches Yahoo.

What yfinance does on the wire, and what this adapter adds:
- `yf.download` is one call for many symbols, but Yahoo's chart API is per symbol: it sends
  one `GET /v8/finance/chart/{symbol}` per symbol (on `threads` threads), after a cookie
  from fc.yahoo.com and a crumb from `/v1/test/getcrumb` (both reused while valid). Each
  symbol would also cost a time-zone lookup (one more chart request): the adapter seeds
  yfinance's time-zone cache from our calendars instead.
- yfinance reports failures as missing data, not exceptions: a symbol that failed (404,
  429, 500, timeout, unreadable body) is absent from the frame or all-NaN, and a frame with
  nothing in it means Yahoo failed as a whole, which this adapter raises as
  `SourceUnavailable`.
- Symbols go in chunks (`chunk_size`); a chunk that brings back nothing stops the call, so
  that a rate-limited Yahoo is not sent the rest (each refused symbol costs yfinance two
  requests). The whole call has a `deadline`; `timeout` bounds each HTTP request.
- Numbers are converted with `Decimal(str(x))` and rounded to 7 significant digits: Yahoo
  serialises its OHLC arrays from single-precision floats (234.07 arrives as
  234.07000732421875), which carry no more than that.
"""

from __future__ import annotations

import logging
import math
import os
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any, TypeVar

from portfoliowise.adapters.clock import SystemClock
from portfoliowise.adapters.market.calendars import calendar_for
from portfoliowise.domain.calendar import TradingCalendar
from portfoliowise.domain.errors import NotFoundError, SourceUnavailable
from portfoliowise.domain.fx import FxRate
from portfoliowise.domain.instruments import Instrument, Market
from portfoliowise.domain.market import DailyClose, DailyHistory
from portfoliowise.domain.money import Currency, Money
from portfoliowise.domain.ports import Clock
from portfoliowise.domain.quotes import Quote, QuoteStatus

log = logging.getLogger(__name__)

YAHOO = "yahoo"
DEFAULT_TIMEOUT_SECONDS = 5.0
DEFAULT_DEADLINE_SECONDS = 20.0  # inside the market function's 30 s and API Gateway's 29 s
DEFAULT_THREADS = 8
DEFAULT_CHUNK_SIZE = 25
DEFAULT_DELAY = timedelta(minutes=20)
"""How late Yahoo's prices may be (Tokyo prices are delayed 20 minutes): a daily bar is
taken as the session's final close only once this long has passed after the close."""

SIGNIFICANT_DIGITS = 7
PERCENT_PLACES = Decimal("0.01")

T = TypeVar("T")


# -- yfinance, loaded on first use ---------------------------------------------------------

_setup_lock = threading.Lock()
_configured_cache_dir: str | None = None
_default_session: object | None = None


def default_cache_dir() -> str:
    """Where yfinance keeps its cookie and time-zone caches unless told (`cache_dir`, from
    `YFINANCE_CACHE_DIR`): a directory under the system temp dir (the only writable place
    inside Lambda)."""
    return os.path.join(tempfile.gettempdir(), "portfoliowise-yfinance")


def _yfinance(cache_dir: str) -> Any:
    """Import yfinance (and with it pandas) and point its caches at `cache_dir`, once per
    process: yfinance keeps process-wide caches, so the first directory wins."""
    global _configured_cache_dir
    import yfinance  # type: ignore[import-untyped]  # heavy: imported on first use

    with _setup_lock:
        if _configured_cache_dir is None:
            os.makedirs(cache_dir, exist_ok=True)
            yfinance.set_tz_cache_location(cache_dir)
            # Raise errors instead of logging them and returning an empty frame, so that
            # history can tell "no such symbol" from "Yahoo failed" (yf.download catches
            # them per symbol either way). Process-wide, like all of yfinance's config.
            yfinance.config.debug.hide_exceptions = False
            # pandas deprecation notices raised from inside yfinance: not ours to fix.
            warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"yfinance")
            _configured_cache_dir = cache_dir
    return yfinance


def _shared_session() -> object:
    """One browser-impersonating session per process (what yfinance would create), so the
    Yahoo cookie and crumb are reused across calls."""
    global _default_session
    with _setup_lock:
        if _default_session is None:
            from curl_cffi import requests as curl_requests

            _default_session = curl_requests.Session(impersonate="chrome")
        return _default_session


def _seed_time_zones(yf: Any, zones: Iterable[tuple[str, str]]) -> None:
    """Tell yfinance each symbol's exchange time zone (`(symbol, tz)` pairs, from our
    calendars, which use Yahoo's zone names), which it would otherwise look up with one
    extra chart request per symbol."""
    try:
        tz_cache = yf.cache.get_tz_cache()
        for symbol, tz in zones:
            if tz_cache.lookup(symbol) != tz:
                tz_cache.store(symbol, tz)
    except Exception:  # an optimisation only: yfinance then looks the zone up itself
        log.debug("could not seed yfinance's time-zone cache", exc_info=True)


def _forget_responses(yf: Any) -> None:
    """yfinance memoises responses for past date ranges in-process, failed ones included;
    forget them after a failure so that the next call asks Yahoo again."""
    try:
        yf.data.YfData.cache_get.cache_clear()
    except Exception:
        log.debug("could not clear yfinance's response cache", exc_info=True)


def _with_deadline(fn: Callable[[], T], seconds: float, what: str) -> T:
    """Run `fn` on a worker thread and give up after `seconds` (yfinance has no overall
    timeout; the abandoned call finishes in the background)."""
    box: dict[str, Any] = {}
    done = threading.Event()

    def run() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # handed to the caller below
            box["error"] = exc
        finally:
            done.set()

    threading.Thread(target=run, name=f"{YAHOO}-{what}", daemon=True).start()
    if not done.wait(seconds):
        raise SourceUnavailable(f"{YAHOO}: no answer for {what} within {seconds:g} s")
    if "error" in box:
        error = box["error"]
        if isinstance(error, (SourceUnavailable, NotFoundError)):
            raise error
        raise SourceUnavailable(f"{YAHOO}: {what} failed: {error!r}") from error
    value: T = box["value"]
    return value


# -- numbers -------------------------------------------------------------------------------


def to_decimal(raw: object) -> Decimal | None:
    """A positive finite number from the frame as a Decimal rounded to the precision Yahoo
    has, or None (NaN, missing, zero or negative: never a price)."""
    try:
        number = float(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    if not math.isfinite(number) or number <= 0:
        return None
    exact = Decimal(str(number))
    exponent = exact.adjusted() - (SIGNIFICANT_DIGITS - 1)
    rounded = exact.quantize(Decimal(1).scaleb(min(exponent, 0)))
    normal = rounded.normalize()  # 2800.000 -> 2.8E+3: back to 2800 below
    places = normal.as_tuple().exponent
    if isinstance(places, int) and places > 0:
        return normal.quantize(Decimal(1))
    return normal


def _volume(raw: object) -> Decimal | None:
    try:
        number = float(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    if not math.isfinite(number) or number < 0:
        return None
    return Decimal(int(number))


@dataclass(frozen=True, slots=True)
class Bar:
    """One daily row with a usable close."""

    day: date
    close: Decimal
    volume: Decimal | None


def bars_of(frame: Any, yahoo_symbol: str) -> list[Bar]:
    """The rows of `yahoo_symbol` in a `group_by="ticker"` frame that have a close, oldest
    first. A symbol missing from the frame, or without any close, has none."""
    if frame is None or getattr(frame, "empty", True):
        return []
    columns = frame.columns
    if getattr(columns, "nlevels", 1) > 1:
        if yahoo_symbol not in set(columns.get_level_values(0)):
            return []
        table = frame[yahoo_symbol]
    else:
        table = frame
    if "Close" not in table.columns:
        return []
    volumes = table["Volume"] if "Volume" in table.columns else [None] * len(table)
    bars = []
    for index, close, volume in zip(table.index, table["Close"], volumes, strict=True):
        price = to_decimal(close)
        if price is not None:
            bars.append(Bar(index.date(), price, _volume(volume)))
    bars.sort(key=lambda bar: bar.day)
    return bars


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# -- the adapters --------------------------------------------------------------------------


class _Yahoo:
    """What the three Yahoo adapters share: the session, the limits and the clock.

    `session`: a `requests.Session` or curl_cffi session to send Yahoo's requests through
    (default: one shared browser-impersonating curl_cffi session)."""

    name = YAHOO

    def __init__(
        self,
        session: object | None = None,
        *,
        clock: Clock | None = None,
        calendars: Callable[[Market], TradingCalendar] = calendar_for,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        deadline: float = DEFAULT_DEADLINE_SECONDS,
        threads: int = DEFAULT_THREADS,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        delay: timedelta = DEFAULT_DELAY,
        cache_dir: str | None = None,
    ) -> None:
        if chunk_size < 1 or threads < 1:
            raise ValueError("chunk_size and threads must be at least 1")
        self._session = session
        self._clock = clock or SystemClock()
        self._calendars = calendars
        self._timeout = timeout
        self._deadline = deadline
        self._threads = threads
        self._chunk_size = chunk_size
        self._delay = delay
        self._cache_dir = cache_dir

    def _yf(self) -> Any:
        return _yfinance(self._cache_dir or default_cache_dir())

    def _http(self) -> object:
        return self._session if self._session is not None else _shared_session()

    def _as_of(self, market: Market, day: date, now: datetime) -> datetime:
        """When the price of `day`'s bar was current: the session's close once Yahoo's
        delay has passed after it (the final close), else how late Yahoo may be."""
        calendar = self._calendars(market)
        close = calendar.session_close(day)
        seen = now - self._delay
        if seen >= close:
            return close
        return min(now, max(seen, calendar.session_open(day)))

    def _daily_bars(self, symbols: Sequence[tuple[str, Market]]) -> dict[str, list[Bar]]:
        """The last few daily bars per Yahoo symbol, in batched downloads. Raises
        `SourceUnavailable` when nothing at all came back."""
        yf = self._yf()
        _seed_time_zones(yf, [(symbol, self._calendars(market).tz) for symbol, market in symbols])
        names = list(dict.fromkeys(symbol for symbol, _ in symbols))
        found: dict[str, list[Bar]] = {}
        problem = "deadline reached"
        started = time.monotonic()
        for chunk in _chunks(names, self._chunk_size):
            left = self._deadline - (time.monotonic() - started)
            if left <= 0:
                break
            try:
                frame = _with_deadline(partial(self._download, yf, chunk), left, "download")
            except SourceUnavailable as exc:
                problem = str(exc)
                break
            bars = {symbol: bars_of(frame, symbol) for symbol in chunk}
            bars = {symbol: rows for symbol, rows in bars.items() if rows}
            if not bars:  # failing as a whole (or rate-limiting us): do not send the rest
                problem = f"nothing came back for {len(chunk)} symbols"
                break
            found.update(bars)
        else:
            return found
        if not found:
            raise SourceUnavailable(f"{YAHOO}: no data for {len(names)} symbols: {problem}")
        log.warning("%s: stopped early (%s); %d symbols priced", YAHOO, problem, len(found))
        return found

    def _download(self, yf: Any, symbols: Sequence[str]) -> Any:
        threads = min(self._threads, len(symbols))
        return yf.download(
            tickers=list(symbols),
            period="5d",
            interval="1d",
            group_by="ticker",
            auto_adjust=False,
            actions=False,
            progress=False,
            threads=threads if threads > 1 else False,
            timeout=self._timeout,
            session=self._http(),
            multi_level_index=True,
        )


class YahooQuoteSource(_Yahoo):
    """`QuoteSource` for Tokyo and US listings (and FX pairs): the last daily close as the
    price, change and changePercent against the close before it. Funds have no Yahoo
    symbol and are never asked for."""

    def fetch(self, instruments: Sequence[Instrument]) -> dict[str, Quote]:
        wanted = [(i, i.yahoo_symbol) for i in instruments if i.yahoo_symbol is not None]
        if not wanted:
            return {}
        bars = self._daily_bars([(symbol, i.market) for i, symbol in wanted])
        now = self._clock.now()
        quotes: dict[str, Quote] = {}
        for instrument, symbol in wanted:
            rows = bars.get(symbol)
            if rows:
                quotes[instrument.symbol] = self._quote(instrument, rows, now)
        return quotes

    def _quote(self, instrument: Instrument, rows: list[Bar], now: datetime) -> Quote:
        last = rows[-1]
        change = change_percent = None
        if len(rows) > 1:
            previous = rows[-2].close
            change = last.close - previous
            change_percent = (change / previous * 100).quantize(PERCENT_PLACES)
        volume = last.volume if instrument.market is not Market.FX else None
        return Quote(
            symbol=instrument.symbol,
            price=Money(last.close, instrument.currency),
            status=QuoteStatus.LIVE,
            source=YAHOO,
            as_of=self._as_of(instrument.market, last.day, now),
            change=change,
            change_percent=change_percent,
            volume=volume,
        )


class YahooFxSource(_Yahoo):
    """`FxSource`: `USDJPY=X`-style symbols, the last daily close as the rate."""

    def fetch_rates(self, pairs: Sequence[tuple[Currency, Currency]]) -> list[FxRate]:
        wanted = {f"{base.code}{quote.code}=X": (base, quote) for base, quote in pairs}
        if not wanted:
            return []
        bars = self._daily_bars([(symbol, Market.FX) for symbol in wanted])
        now = self._clock.now()
        rates = []
        for symbol, (base, quote) in wanted.items():
            rows = bars.get(symbol)
            if rows:
                as_of = self._as_of(Market.FX, rows[-1].day, now)
                rates.append(FxRate(base, quote, rows[-1].close, as_of, YAHOO))
        return rates


class YahooHistorySource(_Yahoo):
    """`HistorySource`: daily closes (split-adjusted, not dividend-adjusted: Yahoo's
    `Close`) in [start, end]."""

    def history(self, instrument: Instrument, start: date, end: date) -> DailyHistory:
        symbol = instrument.yahoo_symbol
        if symbol is None:
            raise NotFoundError(f"{YAHOO} has no history for {instrument.symbol}")
        yf = self._yf()
        _seed_time_zones(yf, [(symbol, self._calendars(instrument.market).tz)])
        try:
            frame = _with_deadline(
                lambda: self._history_frame(yf, symbol, start, end), self._deadline, "history"
            )
        except SourceUnavailable:
            _forget_responses(yf)
            raise
        closes = tuple(
            DailyClose(bar.day, bar.close, bar.volume)
            for bar in bars_of(frame, symbol)
            if start <= bar.day <= end
        )
        return DailyHistory(instrument.symbol, instrument.currency.code, closes, YAHOO)

    def _history_frame(self, yf: Any, symbol: str, start: date, end: date) -> Any:
        ticker = yf.Ticker(symbol, session=self._http())
        try:
            return ticker.history(
                start=start.isoformat(),
                end=(end + timedelta(days=1)).isoformat(),  # yfinance's end is exclusive
                interval="1d",
                auto_adjust=False,
                actions=False,
                timeout=self._timeout,
            )
        except yf.exceptions.YFPricesMissingError as exc:
            if getattr(exc, "yahoo_reason", None):  # Yahoo said why: no such symbol
                raise NotFoundError(f"{YAHOO}: {symbol}: {exc.yahoo_reason}") from exc
            raise SourceUnavailable(f"{YAHOO}: no prices for {symbol}: {exc}") from exc
        except yf.exceptions.YFRateLimitError as exc:
            raise SourceUnavailable(f"{YAHOO}: rate limited (HTTP 429)") from exc
