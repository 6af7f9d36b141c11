"""Market data use cases: quotes, FX rates and daily history through the cache and the
ordered chain of sources, with honest statuses.

Round trips of `get_quotes` for n <= 100 symbols: ONE batched cache read for all of them;
then, for the misses only, at most ONE batched call per source in order (each source is
asked only for what the ones before it could not price); then the fresh quotes are written
back in batches (one `put_many` per distinct expiry; the cache adapter splits those into
its own write requests). A symbol that every source failed is served from the cache as
`stale` with its `asOf`, or else as `unavailable`, with no price. No price is ever made
up, defaulted or carried over from another symbol. `get_prices` (what valuations use)
takes a portfolio's symbols and FX pairs together, any number: still ONE cache read (its
requests sent concurrently by the DynamoDB adapter), then at most one call per source per
100 misses.

Freshness: a fetched quote is `cached` for `QUOTE_FRESH_FOR` (1 h), extended by the
market's trading calendar while the market is closed: the final close of the latest
session stays current until the next session opens (a Friday close is still the latest
price on Saturday and Sunday).

Daily history goes through a small `HistoryCache` port of its own. It is not kept in the
blob store: the market function may only touch the Cache table and outbound HTTPS (seed),
and closes are re-read often enough (risk metrics, performance) that an in-process LRU per
warm container already saves most calls. `InProcessHistoryCache` is that default; a
persistent adapter (a Cache-table item per symbol) can replace it through the port.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Protocol

from portfoliowise.application.market_limits import MAX_HISTORY_DAYS, MAX_SYMBOLS
from portfoliowise.domain.calendar import TradingCalendar
from portfoliowise.domain.errors import (
    NotFoundError,
    SourceUnavailable,
    UnknownSymbolError,
    ValidationError,
)
from portfoliowise.domain.instruments import Instrument, Market, parse_symbol
from portfoliowise.domain.market import DailyHistory
from portfoliowise.domain.money import Currency, Money
from portfoliowise.domain.ports import (
    CachedQuote,
    Clock,
    FxSource,
    HistorySource,
    QuoteCache,
    QuoteSource,
)
from portfoliowise.domain.quotes import QUOTE_FRESH_FOR, Quote, QuoteStatus

log = logging.getLogger(__name__)

HISTORY_SETTLE = timedelta(minutes=30)
"""How long after a session's close its daily bar is taken as final in history."""

Calendars = Callable[[Market], TradingCalendar]


# -- counters ------------------------------------------------------------------------------


@dataclass
class MarketCounters:
    """What the metrics issue emits (EMF): cache hits and misses, per-source calls and
    failures, and how many quotes went out stale or unavailable. Thread-safe."""

    cache_hits: int = 0
    cache_misses: int = 0
    cache_errors: int = 0
    stale_served: int = 0
    unavailable_served: int = 0
    history_cache_hits: int = 0
    history_cache_misses: int = 0
    source_calls: dict[str, int] = field(default_factory=dict)
    source_failures: dict[str, int] = field(default_factory=dict)
    source_millis: dict[str, int] = field(default_factory=dict)  # time spent in calls
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, name: str, amount: int = 1) -> None:
        with self._lock:
            setattr(self, name, getattr(self, name) + amount)

    def source_called(self, source: str) -> None:
        with self._lock:
            self.source_calls[source] = self.source_calls.get(source, 0) + 1

    @contextmanager
    def timing(self, source: str) -> Iterator[None]:
        """Count a call to `source` and add its time (whatever its outcome)."""
        self.source_called(source)
        start = time.perf_counter()
        try:
            yield
        finally:
            millis = round((time.perf_counter() - start) * 1000)
            with self._lock:
                self.source_millis[source] = self.source_millis.get(source, 0) + millis

    def source_failed(self, source: str) -> None:
        with self._lock:
            self.source_failures[source] = self.source_failures.get(source, 0) + 1

    @property
    def cache_hit_rate(self) -> float | None:
        """Hits over lookups, for the "cache miss > 50 %" alarm (None before any lookup)."""
        total = self.cache_hits + self.cache_misses
        return None if total == 0 else self.cache_hits / total

    def snapshot(self) -> dict[str, int]:
        """A flat copy, e.g. {"cache_hits": 3, "source_calls.yahoo": 1, ...}."""
        with self._lock:
            flat = {
                "cache_hits": self.cache_hits,
                "cache_misses": self.cache_misses,
                "cache_errors": self.cache_errors,
                "stale_served": self.stale_served,
                "unavailable_served": self.unavailable_served,
                "history_cache_hits": self.history_cache_hits,
                "history_cache_misses": self.history_cache_misses,
            }
            flat.update({f"source_calls.{k}": v for k, v in self.source_calls.items()})
            flat.update({f"source_failures.{k}": v for k, v in self.source_failures.items()})
            flat.update({f"source_millis.{k}": v for k, v in self.source_millis.items()})
        return flat


# -- the history cache port ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CachedHistory:
    """Closes fetched for [start, end], current until `expires_at`."""

    history: DailyHistory
    start: date
    end: date
    expires_at: datetime

    def covers(self, start: date, end: date) -> bool:
        return self.start <= start and end <= self.end

    def between(self, start: date, end: date) -> DailyHistory:
        closes = tuple(c for c in self.history.closes if start <= c.day <= end)
        return replace(self.history, closes=closes)


class HistoryCache(Protocol):
    """Daily history by instrument cache key (`7203#JP`); one entry per instrument."""

    def get(self, key: str) -> CachedHistory | None: ...

    def put(self, key: str, entry: CachedHistory) -> None: ...


class InProcessHistoryCache:
    """The default `HistoryCache`: the most recently used entries of this process (a warm
    Lambda container, the local server)."""

    def __init__(self, max_entries: int = 256) -> None:
        self._entries: OrderedDict[str, CachedHistory] = OrderedDict()
        self._max = max_entries
        self._lock = threading.Lock()

    def get(self, key: str) -> CachedHistory | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            return entry

    def put(self, key: str, entry: CachedHistory) -> None:
        with self._lock:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)


# -- the service ---------------------------------------------------------------------------


class MarketService:
    """Quotes, FX rates and history for the market handler and the valuation use cases.

    `sources`, `fx_sources` and `history_sources` are tried in order (configuration);
    `calendars` maps a market to its trading calendar."""

    def __init__(
        self,
        cache: QuoteCache,
        sources: Sequence[QuoteSource],
        fx_sources: Sequence[FxSource],
        history_sources: Sequence[HistorySource],
        clock: Clock,
        calendars: Calendars,
        counters: MarketCounters | None = None,
        *,
        history_cache: HistoryCache | None = None,
        fresh_for: timedelta = QUOTE_FRESH_FOR,
    ) -> None:
        self._cache = cache
        self._sources = tuple(sources)
        self._fx_sources = tuple(fx_sources)
        self._history_sources = tuple(history_sources)
        self._clock = clock
        self._calendars = calendars
        self.counters = counters if counters is not None else MarketCounters()
        self._history_cache = history_cache or InProcessHistoryCache()
        self._fresh_for = fresh_for

    # -- quotes and rates ---------------------------------------------------------------

    def get_quotes(self, symbols: Sequence[str]) -> dict[str, Quote]:
        """Quotes by canonical symbol, in request order, for up to 100 symbols of any
        market (FX pairs go through the FX sources). Raises `ValidationError` for more
        than 100 and `UnknownSymbolError` naming a symbol that cannot be parsed."""
        return self._quotes(_parse_all(symbols))

    def get_rates(self, pairs: Sequence[str]) -> dict[str, Quote]:
        """FX quotes by pair (`USD-JPY`, from `USDJPY`, `USD/JPY`, `USDJPY=X`, `JPY=X`): the
        price is the rate in the quote currency (`pricing.rates_from_quotes` makes a
        `RateTable`)."""
        return self._quotes(_parse_all(pairs, only_fx=True))

    def get_prices(self, symbols: Sequence[str], pairs: Sequence[str]) -> dict[str, Quote]:
        """Quotes of `symbols` and FX quotes of `pairs` together, any number of each, by
        canonical symbol: ONE cache read for all of them (`QuoteCache.get_many`, whose
        requests the DynamoDB adapter sends concurrently), then the misses from the
        sources, 100 a call. What the valuation use cases price with (`pricing`)."""
        instruments = dict.fromkeys(_parse_all(symbols, limit=None))
        instruments.update(dict.fromkeys(_parse_all(pairs, only_fx=True, limit=None)))
        return self._quotes(list(instruments))

    def _quotes(self, instruments: list[Instrument]) -> dict[str, Quote]:
        if not instruments:
            return {}
        now = self._clock.now()
        cached = self._read_cache(instruments)
        served: dict[str, Quote] = {}
        missing: list[Instrument] = []
        for instrument in instruments:
            item = cached.get(instrument.symbol)
            if item is not None and item.quote.usable and now < item.expires_at:
                served[instrument.symbol] = replace(item.quote, status=QuoteStatus.CACHED)
            else:
                missing.append(instrument)
        self.counters.add("cache_hits", len(served))
        self.counters.add("cache_misses", len(missing))

        fetched = self._fetch_quotes([i for i in missing if i.market is not Market.FX], now)
        fetched.update(self._fetch_rates([i for i in missing if i.market is Market.FX], now))
        self._write_cache(fetched.values(), now)

        for instrument in missing:
            served[instrument.symbol] = self._fallback(
                instrument, fetched.get(instrument.symbol), cached.get(instrument.symbol)
            )
        return {i.symbol: served[i.symbol] for i in instruments}

    def _fallback(
        self, instrument: Instrument, fetched: Quote | None, cached: CachedQuote | None
    ) -> Quote:
        if fetched is not None:
            return fetched
        if cached is not None and cached.quote.usable:
            self.counters.add("stale_served")
            log.warning(
                "every source failed for %s: serving the quote of %s as stale",
                instrument.symbol,
                cached.quote.as_of,
            )
            return replace(cached.quote, status=QuoteStatus.STALE)
        self.counters.add("unavailable_served")
        return Quote.unavailable(instrument.symbol)

    def _read_cache(self, instruments: list[Instrument]) -> dict[str, CachedQuote]:
        try:
            return self._cache.get_many(instruments)
        except SourceUnavailable as exc:
            self.counters.add("cache_errors")
            log.warning("quote cache read failed, asking the sources: %s", exc)
            return {}

    def _write_cache(self, quotes: Iterable[Quote], now: datetime) -> None:
        by_expiry: dict[datetime, list[Quote]] = {}
        for quote in quotes:
            by_expiry.setdefault(self._expiry(quote, now), []).append(quote)
        for expires_at, group in by_expiry.items():
            try:
                self._cache.put_many(group, expires_at)
            except SourceUnavailable as exc:
                self.counters.add("cache_errors")
                log.warning("quote cache write of %d quotes failed: %s", len(group), exc)

    def _expiry(self, quote: Quote, now: datetime) -> datetime:
        calendar = self._calendars(parse_symbol(quote.symbol).market)
        return calendar.current_until(quote.as_of or now, now, self._fresh_for)

    def _fetch_quotes(self, missing: list[Instrument], now: datetime) -> dict[str, Quote]:
        return _in_batches(self._fetch_quote_batch, missing, now)

    def _fetch_quote_batch(self, missing: list[Instrument], now: datetime) -> dict[str, Quote]:
        """At most one call per source for up to 100 instruments."""
        found: dict[str, Quote] = {}
        for source in self._sources:
            remaining = [i for i in missing if i.symbol not in found]
            if not remaining:
                break
            try:
                with self.counters.timing(source.name):
                    answer = source.fetch(remaining)
            except SourceUnavailable as exc:
                self._failed(source.name, exc)
                continue
            except Exception:
                self.counters.source_failed(source.name)
                log.exception("quote source %s failed unexpectedly", source.name)
                continue
            live = getattr(source, "live", True)
            for instrument in remaining:
                quote = _accepted(
                    source.name, instrument, answer.get(instrument.symbol), now, live=live
                )
                if quote is not None:
                    found[instrument.symbol] = quote
        return found

    def _fetch_rates(self, missing: list[Instrument], now: datetime) -> dict[str, Quote]:
        return _in_batches(self._fetch_rate_batch, missing, now)

    def _fetch_rate_batch(self, missing: list[Instrument], now: datetime) -> dict[str, Quote]:
        """At most one call per FX source for up to 100 pairs."""
        found: dict[str, Quote] = {}
        for source in self._fx_sources:
            remaining = [i for i in missing if i.symbol not in found]
            if not remaining:
                break
            try:
                with self.counters.timing(source.name):
                    rates = source.fetch_rates([_pair(i) for i in remaining])
            except SourceUnavailable as exc:
                self._failed(source.name, exc)
                continue
            except Exception:
                self.counters.source_failed(source.name)
                log.exception("FX source %s failed unexpectedly", source.name)
                continue
            wanted = {i.symbol: i for i in remaining}
            for rate in rates:
                instrument = wanted.get(rate.pair)
                if instrument is not None and rate.pair not in found:
                    found[rate.pair] = Quote(
                        symbol=rate.pair,
                        price=Money(rate.rate, rate.quote),
                        status=_status(getattr(source, "live", True), QuoteStatus.LIVE),
                        source=rate.source or source.name,
                        as_of=rate.as_of or now,
                    )
        return found

    def _failed(self, source: str, exc: Exception) -> None:
        self.counters.source_failed(source)
        log.warning("market source %s failed: %s", source, exc)

    # -- history ------------------------------------------------------------------------

    def history(self, symbol: str, start: date, end: date) -> DailyHistory:
        """Daily closes of `symbol` in [start, end], oldest first. Raises `ValidationError`
        for a bad range, `NotFoundError` when every source says the symbol has none, and
        `SourceUnavailable` when the sources fail and nothing covering it is cached."""
        instrument = parse_symbol(symbol)
        if start > end:
            raise ValidationError(f"history range starts after it ends: {start} > {end}")
        if (end - start).days > MAX_HISTORY_DAYS:
            raise ValidationError("history ranges are limited to 20 years")
        now = self._clock.now()
        calendar = self._calendars(instrument.market)
        last = min(end, calendar.session_date(now))
        if start > last:  # entirely in the future: there is nothing to fetch yet
            return DailyHistory(instrument.symbol, instrument.currency.code, (), "none")

        key = instrument.cache_key
        entry = self._history_cache.get(key)
        if entry is not None and entry.covers(start, last) and now < entry.expires_at:
            self.counters.add("history_cache_hits")
            return entry.between(start, end)
        self.counters.add("history_cache_misses")

        fetch_start = start if entry is None else min(start, entry.start)
        not_found = failed = 0
        for source in self._history_sources:
            try:
                with self.counters.timing(source.name):
                    history = source.history(instrument, fetch_start, last)
            except NotFoundError as exc:
                not_found += 1
                log.info("history source %s has no %s: %s", source.name, symbol, exc)
                continue
            except SourceUnavailable as exc:
                failed += 1
                self._failed(source.name, exc)
                continue
            except Exception:
                failed += 1
                self.counters.source_failed(source.name)
                log.exception("history source %s failed unexpectedly", source.name)
                continue
            if history.currency != instrument.currency.code:
                failed += 1
                log.warning(
                    "history source %s priced %s in %s", source.name, symbol, history.currency
                )
                continue
            fresh = CachedHistory(history, fetch_start, last, self._history_expiry(calendar, now))
            self._history_cache.put(key, fresh)
            return fresh.between(start, end)

        if not_found and not failed:
            raise NotFoundError(f"no daily history for {instrument.symbol}")
        if entry is not None and entry.covers(start, last):
            self.counters.add("stale_served")
            log.warning("every history source failed for %s: serving cached closes", symbol)
            return entry.between(start, end)
        raise SourceUnavailable(f"no history source could answer for {instrument.symbol}")

    def _history_expiry(self, calendar: TradingCalendar, now: datetime) -> datetime:
        latest = calendar.session_date(now)
        if now >= calendar.session_close(latest) + HISTORY_SETTLE:
            return max(now + self._fresh_for, calendar.next_open(now))
        return now + self._fresh_for


# -- helpers -------------------------------------------------------------------------------


def _in_batches(
    fetch: Callable[[list[Instrument], datetime], dict[str, Quote]],
    missing: list[Instrument],
    now: datetime,
) -> dict[str, Quote]:
    """`fetch` over `missing`, `MAX_SYMBOLS` at a time (one call per source per batch)."""
    found: dict[str, Quote] = {}
    for start in range(0, len(missing), MAX_SYMBOLS):
        found.update(fetch(missing[start : start + MAX_SYMBOLS], now))
    return found


def _as_list(symbols: Sequence[str]) -> list[str]:
    return [symbols] if isinstance(symbols, str) else list(symbols)


def _parse_all(
    symbols: Sequence[str], only_fx: bool = False, limit: int | None = MAX_SYMBOLS
) -> list[Instrument]:
    """Parsed and de-duplicated (`7203` and `7203.T` are one instrument), in order; at most
    `limit` of them (None: any number)."""
    raw = _as_list(symbols)
    if limit is not None and len(raw) > limit:
        raise ValidationError(f"at most {limit} symbols a request, got {len(raw)}")
    instruments: dict[Instrument, None] = {}
    for symbol in raw:
        instrument = parse_symbol(symbol)
        if only_fx and instrument.market is not Market.FX:
            raise UnknownSymbolError(symbol, "not an FX pair (e.g. USD-JPY)")
        instruments[instrument] = None
    return list(instruments)


def _pair(instrument: Instrument) -> tuple[Currency, Currency]:
    return Currency.of(instrument.code[:3]), Currency.of(instrument.code[4:])


def _status(live_source: bool, said: QuoteStatus) -> QuoteStatus:
    """What a fetched quote is: `live` from a live source, unless the source itself says
    less (`cached`, `stale`); a source of recorded prices (the bundled sample file,
    `live = False`) is never live, whatever its file says."""
    if said in (QuoteStatus.CACHED, QuoteStatus.STALE):
        return said
    return QuoteStatus.LIVE if live_source else QuoteStatus.CACHED


def _accepted(
    source: str,
    instrument: Instrument,
    quote: Quote | None,
    now: datetime,
    *,
    live: bool = True,
) -> Quote | None:
    """A source's answer for `instrument` as a quote (see `_status`), or None when it has no
    price (or a price in another currency, which would be a wrong number, not a quote)."""
    if quote is None or quote.price is None:
        return None
    if quote.price.currency != instrument.currency:
        log.warning(
            "%s priced %s in %s, not %s: ignored",
            source,
            instrument.symbol,
            quote.price.currency.code,
            instrument.currency.code,
        )
        return None
    return replace(
        quote,
        symbol=instrument.symbol,
        status=_status(live, quote.status),
        source=quote.source or source,
        as_of=quote.as_of or now,
    )
