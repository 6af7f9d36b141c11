"""MarketService over in-memory fakes: one batched cache read, sources in order for the
misses only, batched write-back, the calendar's freshness, stale and unavailable quotes
(never a made-up price), FX through the same cache, history cached, and the counters."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from portfoliowise.adapters.clock import FixedClock
from portfoliowise.adapters.market.calendars import calendar_for
from portfoliowise.adapters.memory import InMemoryQuoteCache, StaticFxSource, StaticQuoteSource
from portfoliowise.application.market_service import (
    MAX_SYMBOLS,
    InProcessHistoryCache,
    MarketCounters,
    MarketService,
)
from portfoliowise.application.pricing import rates_from_quotes
from portfoliowise.domain.errors import (
    NotFoundError,
    SourceUnavailable,
    UnknownSymbolError,
    ValidationError,
)
from portfoliowise.domain.fx import FxRate
from portfoliowise.domain.instruments import Instrument, parse_symbol
from portfoliowise.domain.market import DailyClose, DailyHistory
from portfoliowise.domain.money import JPY, USD, Money
from portfoliowise.domain.ports import CachedQuote, HistorySource, QuoteSource
from portfoliowise.domain.quotes import QUOTE_FRESH_FOR, Quote, QuoteStatus

JST = ZoneInfo("Asia/Tokyo")
ET = ZoneInfo("America/New_York")
FRIDAY_1100_JST = datetime(2026, 1, 9, 2, 0, tzinfo=UTC)
SATURDAY = datetime(2026, 1, 10, 3, 0, tzinfo=UTC)


def live(symbol: str, price: str, currency: str, as_of: datetime, source: str = "s1") -> Quote:
    return Quote(symbol, Money.of(price, currency), QuoteStatus.LIVE, source, as_of)


class Harness:
    def __init__(
        self,
        now: datetime = FRIDAY_1100_JST,
        sources: Sequence[QuoteSource] = (),
        fx: Sequence[StaticFxSource] = (),
        history: Sequence[HistorySource] = (),
    ) -> None:
        self.clock = FixedClock(now)
        self.cache = InMemoryQuoteCache(self.clock)
        self.counters = MarketCounters()
        self.service = MarketService(
            self.cache, sources, fx, history, self.clock, calendar_for, self.counters
        )

    def seed(self, quotes: list[Quote], expires_at: datetime) -> None:
        self.cache.put_many(quotes, expires_at)
        self.cache.writes = 0


def test_fresh_cached_quotes_need_no_source() -> None:
    source = StaticQuoteSource("s1", {})
    h = Harness(sources=[source])
    h.seed([live("7203", "3365", "JPY", h.clock.now())], h.clock.now() + QUOTE_FRESH_FOR)
    quotes = h.service.get_quotes(["7203.T"])
    assert quotes["7203"].status is QuoteStatus.CACHED
    assert quotes["7203"].price == Money.of("3365", "JPY")
    assert (h.cache.reads, h.cache.writes, source.calls) == (1, 0, [])


def test_misses_go_to_each_source_in_order_with_only_what_is_still_missing() -> None:
    now = FRIDAY_1100_JST
    first = StaticQuoteSource("yahoo", {"7203": live("7203", "3365", "JPY", now, "yahoo")})
    second = StaticQuoteSource(
        "stooq",
        {
            "7203": live("7203", "9999", "JPY", now, "stooq"),  # never asked: already priced
            "AAPL": live("AAPL", "259.37", "USD", now, "stooq"),
        },
    )
    h = Harness(sources=[first, second])
    quotes = h.service.get_quotes(["7203", "AAPL", "MSFT"])
    assert first.calls == [["7203", "AAPL", "MSFT"]]
    assert second.calls == [["AAPL", "MSFT"]]
    assert quotes["7203"].price == Money.of("3365", "JPY")
    assert quotes["7203"].source == "yahoo"
    assert quotes["AAPL"].source == "stooq"
    assert quotes["AAPL"].status is QuoteStatus.LIVE
    assert quotes["MSFT"] == Quote.unavailable("MSFT")
    assert list(quotes) == ["7203", "AAPL", "MSFT"]  # request order
    assert h.cache.reads == 1
    snapshot = h.counters.snapshot()
    millis = {k: snapshot.pop(k) for k in list(snapshot) if k.startswith("source_millis.")}
    assert sorted(millis) == ["source_millis.stooq", "source_millis.yahoo"]  # time per source
    assert all(v >= 0 for v in millis.values())
    assert snapshot == {
        "cache_hits": 0,
        "cache_misses": 3,
        "cache_errors": 0,
        "stale_served": 0,
        "unavailable_served": 1,
        "history_cache_hits": 0,
        "history_cache_misses": 0,
        "source_calls.yahoo": 1,
        "source_calls.stooq": 1,
    }


def test_fetched_quotes_are_written_back_and_then_served_cached() -> None:
    now = FRIDAY_1100_JST
    source = StaticQuoteSource("s1", {"7203": live("7203", "3365", "JPY", now)})
    h = Harness(sources=[source])
    h.service.get_quotes(["7203"])
    h.clock.advance(timedelta(minutes=59))
    assert h.service.get_quotes(["7203"])["7203"].status is QuoteStatus.CACHED
    h.clock.advance(timedelta(minutes=1))  # one hour after the fetch, during the session
    assert h.service.get_quotes(["7203"])["7203"].status is QuoteStatus.LIVE
    assert len(source.calls) == 2


def test_a_friday_close_stays_current_over_the_weekend_and_the_holiday() -> None:
    friday_close = datetime(2026, 1, 9, 15, 30, tzinfo=JST)
    source = StaticQuoteSource("s1", {"7203": live("7203", "3365", "JPY", friday_close)})
    h = Harness(now=SATURDAY, sources=[source])
    h.service.get_quotes(["7203"])
    h.clock.set(datetime(2026, 1, 12, 10, 0, tzinfo=JST))  # 成人の日: still closed
    assert h.service.get_quotes(["7203"])["7203"].status is QuoteStatus.CACHED
    h.clock.set(datetime(2026, 1, 13, 9, 0, tzinfo=JST))  # Tuesday's open
    assert h.service.get_quotes(["7203"])["7203"].status is QuoteStatus.LIVE
    assert len(source.calls) == 2


def test_every_source_failing_serves_the_cached_quote_as_stale_with_its_time() -> None:
    h = Harness(sources=[StaticQuoteSource("s1", {}, failing=True)])
    taken = h.clock.now() - timedelta(hours=3)
    h.seed([live("AAPL", "259.37", "USD", taken)], taken + QUOTE_FRESH_FOR)
    quote = h.service.get_quotes(["AAPL"])["AAPL"]
    assert quote.status is QuoteStatus.STALE
    assert quote.price == Money.of("259.37", "USD")
    assert quote.as_of == taken
    assert h.counters.stale_served == 1
    assert h.counters.source_failures == {"s1": 1}


def test_with_nothing_cached_a_failed_quote_is_unavailable_and_has_no_price() -> None:
    h = Harness(sources=[StaticQuoteSource("s1", {}, failing=True)])
    quote = h.service.get_quotes(["AAPL"])["AAPL"]
    assert quote.status is QuoteStatus.UNAVAILABLE
    assert quote.price is None
    assert h.cache.get_many([parse_symbol("AAPL")]) == {}  # and it is not cached


def test_a_quote_in_the_wrong_currency_is_not_a_price() -> None:
    now = FRIDAY_1100_JST
    wrong = StaticQuoteSource("bad", {"7203": live("7203", "22.5", "USD", now, "bad")})
    right = StaticQuoteSource("good", {"7203": live("7203", "3365", "JPY", now, "good")})
    quotes = Harness(sources=[wrong, right]).service.get_quotes(["7203"])
    assert quotes["7203"].price == Money.of("3365", "JPY")


class BrokenSource:
    name = "broken"

    def fetch(self, instruments: Sequence[Instrument]) -> dict[str, Quote]:
        raise KeyError("a bug in an adapter")


def test_a_source_that_breaks_unexpectedly_is_skipped() -> None:
    now = FRIDAY_1100_JST
    good = StaticQuoteSource("good", {"AAPL": live("AAPL", "259.37", "USD", now)})
    h = Harness(sources=[BrokenSource(), good])
    assert h.service.get_quotes(["AAPL"])["AAPL"].status is QuoteStatus.LIVE
    assert h.counters.source_failures == {"broken": 1}


class FailingCache(InMemoryQuoteCache):
    def get_many(self, instruments: Sequence[Instrument]) -> dict[str, CachedQuote]:
        raise SourceUnavailable("DynamoDB throttled")

    def put_many(self, quotes: Sequence[Quote], expires_at: datetime) -> None:
        raise SourceUnavailable("DynamoDB throttled")


def test_a_failing_cache_does_not_stop_quotes() -> None:
    clock = FixedClock(FRIDAY_1100_JST)
    source = StaticQuoteSource("s1", {"AAPL": live("AAPL", "259.37", "USD", clock.now())})
    counters = MarketCounters()
    service = MarketService(FailingCache(clock), [source], [], [], clock, calendar_for, counters)
    assert service.get_quotes(["AAPL"])["AAPL"].status is QuoteStatus.LIVE
    assert counters.cache_errors == 2


def test_symbols_are_validated_and_deduplicated() -> None:
    h = Harness(sources=[StaticQuoteSource("s1", {})])
    with pytest.raises(ValidationError, match="at most 100"):
        h.service.get_quotes([str(1300 + n) for n in range(MAX_SYMBOLS + 1)])
    with pytest.raises(UnknownSymbolError, match=r"'not a symbol'"):
        h.service.get_quotes(["7203", "not a symbol"])
    assert list(h.service.get_quotes(["7203", "7203.T", "7203.JP"])) == ["7203"]
    assert h.service.get_quotes([]) == {}
    assert len(h.service.get_quotes([str(1300 + n) for n in range(MAX_SYMBOLS)])) == 100


# -- FX ------------------------------------------------------------------------------------


def test_rates_come_from_the_fx_sources_and_share_the_quote_cache() -> None:
    now = FRIDAY_1100_JST
    fx = StaticFxSource("yahoo", [FxRate(USD, JPY, Decimal("157.892"), now, "yahoo")])
    quote_source = StaticQuoteSource("s1", {})
    h = Harness(sources=[quote_source], fx=[fx])
    rates = h.service.get_rates(["USDJPY=X"])
    assert rates["USD-JPY"].price == Money(Decimal("157.892"), JPY)
    assert rates["USD-JPY"].status is QuoteStatus.LIVE
    assert quote_source.calls == []  # FX pairs never go to the quote sources
    assert set(h.cache.get_many([parse_symbol("USD-JPY")])) == {"USD-JPY"}  # USD-JPY#FX
    again = h.service.get_quotes(["USD/JPY"])
    assert again["USD-JPY"].status is QuoteStatus.CACHED
    table = rates_from_quotes(again.values())
    assert table.convert(Money.of("100", "USD"), JPY) == Money(Decimal("15789.200"), JPY)


def test_a_failed_rate_is_unavailable_and_converting_through_it_raises() -> None:
    h = Harness(fx=[StaticFxSource("yahoo", [], failing=True)])
    rates = h.service.get_rates(["USD-JPY"])
    assert rates["USD-JPY"].status is QuoteStatus.UNAVAILABLE
    assert not rates_from_quotes(rates.values()).has(USD, JPY)


def test_get_rates_takes_fx_pairs_only() -> None:
    with pytest.raises(UnknownSymbolError, match="AAPL"):
        Harness().service.get_rates(["USD-JPY", "AAPL"])


# -- history -------------------------------------------------------------------------------


class ScriptedHistory:
    def __init__(self, name: str = "h1", error: Exception | None = None) -> None:
        self.name = name
        self.error = error
        self.calls: list[tuple[str, date, date]] = []

    def history(self, instrument: Instrument, start: date, end: date) -> DailyHistory:
        self.calls.append((instrument.symbol, start, end))
        if self.error is not None:
            raise self.error
        days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
        closes = tuple(
            DailyClose(day, Decimal(3000 + n)) for n, day in enumerate(days) if day.weekday() < 5
        )
        return DailyHistory(instrument.symbol, instrument.currency.code, closes, self.name)


def test_history_is_fetched_once_then_served_from_the_cache() -> None:
    source = ScriptedHistory()
    h = Harness(now=SATURDAY, history=[source])
    december = h.service.history("7203", date(2025, 12, 1), date(2025, 12, 31))
    assert december.closes[0].day == date(2025, 12, 1)
    week = h.service.history("7203.T", date(2025, 12, 8), date(2025, 12, 12))
    assert [c.day.day for c in week.closes] == [8, 9, 10, 11, 12]
    assert len(source.calls) == 1
    assert (h.counters.history_cache_hits, h.counters.history_cache_misses) == (1, 1)
    # A wider range is fetched once more, over the union of both.
    h.service.history("7203", date(2025, 11, 1), date(2025, 12, 31))
    assert source.calls[-1] == ("7203", date(2025, 11, 1), date(2025, 12, 31))


def test_history_never_asks_for_days_that_have_not_happened() -> None:
    source = ScriptedHistory()
    h = Harness(now=SATURDAY, history=[source])
    h.service.history("7203", date(2026, 1, 5), date(2026, 12, 31))
    assert source.calls == [("7203", date(2026, 1, 5), date(2026, 1, 9))]
    empty = h.service.history("7203", date(2026, 2, 1), date(2026, 2, 28))
    assert empty.closes == ()
    assert len(source.calls) == 1


def test_history_falls_back_then_serves_cached_closes_then_fails() -> None:
    down = ScriptedHistory("down", SourceUnavailable("429"))
    up = ScriptedHistory("up")
    h = Harness(now=SATURDAY, history=[down, up])
    assert h.service.history("AAPL", date(2025, 12, 1), date(2025, 12, 31)).source == "up"
    up.error = SourceUnavailable("500")
    h.clock.advance(timedelta(days=10))  # the cached entry has expired
    stale = h.service.history("AAPL", date(2025, 12, 1), date(2025, 12, 31))
    assert stale.closes[0] == DailyClose(date(2025, 12, 1), Decimal(3000))
    with pytest.raises(SourceUnavailable):
        h.service.history("MSFT", date(2025, 12, 1), date(2025, 12, 31))


def test_history_of_a_symbol_no_source_knows_is_not_found() -> None:
    h = Harness(now=SATURDAY, history=[ScriptedHistory("h1", NotFoundError("no such symbol"))])
    with pytest.raises(NotFoundError):
        h.service.history("ZZZZ", date(2025, 12, 1), date(2025, 12, 31))


def test_history_ranges_are_validated() -> None:
    h = Harness(now=SATURDAY, history=[ScriptedHistory()])
    with pytest.raises(ValidationError, match="starts after"):
        h.service.history("7203", date(2025, 12, 31), date(2025, 12, 1))
    with pytest.raises(UnknownSymbolError):
        h.service.history("not a symbol", date(2025, 12, 1), date(2025, 12, 31))


def test_the_in_process_history_cache_keeps_the_most_recent_entries() -> None:
    cache = InProcessHistoryCache(max_entries=2)
    source = ScriptedHistory()
    clock = FixedClock(SATURDAY)
    service = MarketService(
        InMemoryQuoteCache(clock), [], [], [source], clock, calendar_for, history_cache=cache
    )
    for symbol in ("7203", "6758", "9984", "7203"):
        service.history(symbol, date(2025, 12, 1), date(2025, 12, 5))
    assert [call[0] for call in source.calls] == ["7203", "6758", "9984", "7203"]
    assert cache.get("6758#JP") is None
