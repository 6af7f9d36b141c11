"""The market service with Yahoo (over recorded wire responses) first in the chain: when
Yahoo fails in each of the ways it does (429, 500, its outage page, a timeout, a malformed
body, an unknown symbol) the quote comes from the next source, or from the cache as
`stale`, or is `unavailable` - and its price is never anything but a source's price."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from yahoo_recorded import FAILURES, SERVER_ERROR, RecordedYahoo, chart_reply

from portfoliowise.adapters.clock import FixedClock
from portfoliowise.adapters.market.calendars import calendar_for
from portfoliowise.adapters.market.yahoo import YahooFxSource, YahooQuoteSource
from portfoliowise.adapters.memory import InMemoryQuoteCache, StaticFxSource, StaticQuoteSource
from portfoliowise.application.market_service import MarketCounters, MarketService
from portfoliowise.domain.fx import FxRate
from portfoliowise.domain.money import JPY, USD, Money
from portfoliowise.domain.quotes import QUOTE_FRESH_FOR, Quote, QuoteStatus

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:yfinance")

FRIDAY_CLOSE_TOKYO = datetime(2026, 1, 9, 15, 30, tzinfo=ZoneInfo("Asia/Tokyo"))
FRIDAY_CLOSE_NY = datetime(2026, 1, 9, 16, 0, tzinfo=ZoneInfo("America/New_York"))
SECOND = {
    "7203": Quote("7203", Money.of("3360", "JPY"), QuoteStatus.LIVE, "stooq", FRIDAY_CLOSE_TOKYO),
    "AAPL": Quote("AAPL", Money.of("259.36", "USD"), QuoteStatus.LIVE, "stooq", FRIDAY_CLOSE_NY),
}


class Chain:
    def __init__(
        self, yahoo: RecordedYahoo, clock: FixedClock, cache_dir: str, second_fails: bool
    ) -> None:
        self.cache = InMemoryQuoteCache(clock)
        self.second = StaticQuoteSource("stooq", SECOND, failing=second_fails)
        self.counters = MarketCounters()
        source = YahooQuoteSource(yahoo.session(), clock=clock, cache_dir=cache_dir)
        self.service = MarketService(
            self.cache, [source, self.second], [], [], clock, calendar_for, self.counters
        )


@pytest.mark.parametrize("failure", sorted(FAILURES))
def test_the_next_source_prices_what_yahoo_could_not(
    failure: str, clock: FixedClock, yahoo_cache_dir: str
) -> None:
    chain = Chain(RecordedYahoo(default=FAILURES[failure]), clock, yahoo_cache_dir, False)
    quotes = chain.service.get_quotes(["7203", "AAPL"])
    assert quotes["7203"].source == quotes["AAPL"].source == "stooq"
    assert quotes["7203"].price == Money.of("3360", "JPY")
    assert quotes["AAPL"].price == Money.of("259.36", "USD")
    assert {q.status for q in quotes.values()} == {QuoteStatus.LIVE}
    assert chain.counters.source_failures == {"yahoo": 1}
    assert chain.second.calls == [["7203", "AAPL"]]


@pytest.mark.parametrize("failure", sorted(FAILURES))
def test_the_cache_serves_its_last_quote_as_stale_when_every_source_fails(
    failure: str, clock: FixedClock, yahoo_cache_dir: str
) -> None:
    chain = Chain(RecordedYahoo(default=FAILURES[failure]), clock, yahoo_cache_dir, True)
    taken = clock.now() - timedelta(days=2)
    old = Quote("7203", Money.of("3318", "JPY"), QuoteStatus.LIVE, "yahoo", taken)
    chain.cache.put_many([old], taken + QUOTE_FRESH_FOR)
    quotes = chain.service.get_quotes(["7203", "AAPL"])
    assert quotes["7203"].status is QuoteStatus.STALE
    assert quotes["7203"].price == Money.of("3318", "JPY")
    assert quotes["7203"].as_of == taken
    assert quotes["AAPL"] == Quote.unavailable("AAPL")  # nothing cached: no price at all
    assert chain.counters.source_failures == {"yahoo": 1, "stooq": 1}


def test_only_what_yahoo_failed_goes_to_the_next_source(
    clock: FixedClock, yahoo_cache_dir: str
) -> None:
    yahoo = RecordedYahoo({"7203.T": chart_reply("7203.T_5d"), "AAPL": SERVER_ERROR})
    chain = Chain(yahoo, clock, yahoo_cache_dir, False)
    quotes = chain.service.get_quotes(["7203", "AAPL"])
    assert (quotes["7203"].source, quotes["7203"].price) == ("yahoo", Money.of("3365", "JPY"))
    assert (quotes["AAPL"].source, quotes["AAPL"].price) == ("stooq", Money.of("259.36", "USD"))
    assert chain.second.calls == [["AAPL"]]
    assert chain.counters.source_failures == {}


@pytest.mark.parametrize("failure", sorted(FAILURES))
def test_fx_falls_back_to_the_next_rate_source(
    failure: str, clock: FixedClock, yahoo_cache_dir: str
) -> None:
    yahoo = YahooFxSource(
        RecordedYahoo(default=FAILURES[failure]).session(), clock=clock, cache_dir=yahoo_cache_dir
    )
    ecb = StaticFxSource("frankfurter", [FxRate(USD, JPY, Decimal("157.61"), clock.now())])
    cache = InMemoryQuoteCache(clock)
    service = MarketService(cache, [], [yahoo, ecb], [], clock, calendar_for)
    rate = service.get_rates(["USD-JPY"])["USD-JPY"]
    assert (rate.source, rate.price) == ("frankfurter", Money(Decimal("157.61"), JPY))
