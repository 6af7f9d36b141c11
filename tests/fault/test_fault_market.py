"""Market sources failing on the wire - a timeout, a 429, a 500, garbage - one at a time and
all together, driven through the API (`GET /market/quotes`, `GET /portfolios/{id}/valuation`)
on the chain the product builds (`build_quote_sources`: each source guarded by its token
bucket and circuit breaker): Yahoo through yfinance on a recorded `requests` transport, then
Stooq on a recorded httpx transport. The answer is always 200, every price is one a source
or the cache answered (never invented), and a symbol nobody could price is `stale` (from
the cache, with its `asOf`) or `unavailable` without a price. (The service-level fallbacks
are in tests/integration/market/test_market_fallback.py.)"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import recorded_http
from api_harness import call, fake_container
from dependency_injector import providers
from yahoo_recorded import (
    MALFORMED,
    RATE_LIMITED,
    SERVER_ERROR,
    TIMEOUT,
    RecordedYahoo,
    chart_reply,
)

from portfoliowise.adapters.clock import FixedClock
from portfoliowise.adapters.market.calendars import calendar_for
from portfoliowise.adapters.market.chain import (
    Registries,
    build_fx_sources,
    build_quote_sources,
    merge_registries,
    yahoo_registries,
)
from portfoliowise.adapters.market.stooq import StooqQuoteSource
from portfoliowise.adapters.memory import InMemoryQuoteCache
from portfoliowise.application.market_service import MarketService
from portfoliowise.domain.money import Money
from portfoliowise.domain.quotes import QUOTE_FRESH_FOR, Quote, QuoteStatus
from portfoliowise.handlers.api.app import build_app

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:yfinance")

NOW = datetime(2026, 1, 10, 3, 0, tzinfo=UTC)  # Saturday: both markets closed
CACHED_AT = NOW - timedelta(days=2)
CACHED_7203 = "3318"  # what the cache holds from before (no source answers it today)
YAHOO_7203, YAHOO_AAPL = "3365", "259.37"  # the recorded charts' prices
STOOQ_7203, STOOQ_AAPL = "3021", "235.41"  # the recorded CSV's prices

YAHOO_FAILURES: dict[str, Any] = {
    "timeout": TIMEOUT,
    "429": RATE_LIMITED,
    "500": SERVER_ERROR,
    "garbage": MALFORMED,
}
STOOQ_FAILURES: dict[str, recorded_http.Answer] = {
    "timeout": recorded_http.TIMEOUT,
    "429": recorded_http.TOO_MANY_REQUESTS,
    "500": recorded_http.SERVER_ERROR,
    "garbage": recorded_http.NOT_TEXT,
}
STOOQ_OK = recorded_http.body("stooq_quotes.csv", content_type="text/csv")


@pytest.fixture(autouse=True)
def _fresh_yfinance() -> Iterator[None]:
    """yfinance keeps a process-wide session and memoised answers: reset after each test."""
    yield
    data = sys.modules.get("yfinance.data")
    if data is not None:
        data.YfData.cache_get.cache_clear()
        data.YfData._instances.clear()


class World:
    def __init__(self, yahoo: RecordedYahoo, stooq: recorded_http.Answer, cache_dir: str) -> None:
        self.yahoo = yahoo
        self.stooq = recorded_http.Recorder(stooq)
        clock = FixedClock(NOW)

        def stooq_client(limits: Any) -> httpx.Client:
            return self.stooq.client(limits.timeout_seconds)

        registries = merge_registries(
            yahoo_registries(clock, session=yahoo.session(), cache_dir=cache_dir),
            Registries(quotes={"stooq": lambda limits: StooqQuoteSource(stooq_client(limits))}),
        )
        config = {"QUOTE_SOURCES": "yahoo,stooq", "FX_SOURCES": "yahoo"}
        cache = InMemoryQuoteCache(clock)
        old = Quote("7203", Money.of(CACHED_7203, "JPY"), QuoteStatus.LIVE, "yahoo", CACHED_AT)
        cache.put_many([old], CACHED_AT + QUOTE_FRESH_FOR)
        service = MarketService(
            cache,
            build_quote_sources(config, registries.quotes, clock),
            build_fx_sources(config, registries.fx, clock),
            [],
            clock,
            calendar_for,
        )
        container = fake_container(clock)
        container.market.override(providers.Object(service))
        self.app = build_app(container)

    def quotes(self, symbols: str = "7203,AAPL,USDJPY") -> dict[str, Any]:
        status, _, body = call(self.app, "market_quotes.json", query={"symbols": symbols})
        assert status == 200, body
        quotes: dict[str, Any] = body["quotes"]
        return quotes


def _yahoo_ok(default: Any = None) -> RecordedYahoo:
    charts = {"7203.T": chart_reply("7203.T_5d"), "AAPL": chart_reply("AAPL_5d")}
    return RecordedYahoo(charts) if default is None else RecordedYahoo(default=default)


def _priced(quote: dict[str, Any]) -> tuple[str | None, str, str | None]:
    return quote["price"], quote["status"], quote["source"]


def test_with_no_failure_yahoo_prices_everything(yahoo_cache_dir: str) -> None:
    world = World(_yahoo_ok(), STOOQ_OK, yahoo_cache_dir)
    quotes = world.quotes("7203,AAPL")
    assert _priced(quotes["7203"]) == (YAHOO_7203, "live", "yahoo")
    assert _priced(quotes["AAPL"]) == (YAHOO_AAPL, "live", "yahoo")
    assert world.stooq.count == 0


@pytest.mark.parametrize("failure", sorted(YAHOO_FAILURES))
def test_yahoo_failing_alone_is_answered_by_stooq(failure: str, yahoo_cache_dir: str) -> None:
    world = World(_yahoo_ok(YAHOO_FAILURES[failure]), STOOQ_OK, yahoo_cache_dir)
    quotes = world.quotes("7203,AAPL")
    assert _priced(quotes["7203"]) == (STOOQ_7203, "live", "stooq")
    assert _priced(quotes["AAPL"]) == (STOOQ_AAPL, "live", "stooq")
    assert world.stooq.count == 1  # one batched request for both


@pytest.mark.parametrize("failure", sorted(STOOQ_FAILURES))
def test_stooq_failing_alone_changes_nothing_while_yahoo_answers(
    failure: str, yahoo_cache_dir: str
) -> None:
    world = World(_yahoo_ok(), STOOQ_FAILURES[failure], yahoo_cache_dir)
    quotes = world.quotes("7203,AAPL")
    assert _priced(quotes["7203"]) == (YAHOO_7203, "live", "yahoo")
    assert _priced(quotes["AAPL"]) == (YAHOO_AAPL, "live", "yahoo")


@pytest.mark.parametrize("failure", sorted(YAHOO_FAILURES))
def test_every_source_failing_gives_stale_or_unavailable_never_a_made_up_price(
    failure: str, yahoo_cache_dir: str
) -> None:
    world = World(_yahoo_ok(YAHOO_FAILURES[failure]), STOOQ_FAILURES[failure], yahoo_cache_dir)
    quotes = world.quotes()
    assert _priced(quotes["7203"])[:2] == (CACHED_7203, "stale")
    assert quotes["7203"]["asOf"].startswith(CACHED_AT.date().isoformat())
    for symbol in ("AAPL", "USD-JPY"):
        assert quotes[symbol]["status"] == "unavailable", quotes[symbol]
        assert quotes[symbol]["price"] is None
    assert world.stooq.count == 1
    assert world.yahoo.charts_requested()  # each source was really asked


def test_mixed_failures_at_once_never_give_a_5xx(yahoo_cache_dir: str) -> None:
    """Yahoo timing out on one symbol and rate limited on the other while Stooq answers
    garbage; then the same portfolio valued: unpriced holdings are reported, not priced."""
    yahoo = RecordedYahoo({"7203.T": TIMEOUT, "AAPL": RATE_LIMITED}, default=SERVER_ERROR)
    world = World(yahoo, recorded_http.NOT_TEXT, yahoo_cache_dir)
    quotes = world.quotes()
    assert _priced(quotes["7203"])[:2] == (CACHED_7203, "stale")
    assert quotes["AAPL"]["price"] is None
    assert quotes["USD-JPY"]["price"] is None

    status, _, created = call(world.app, "create_portfolio.json")
    assert status == 201, created
    status, _, valuation = call(
        world.app,
        "get_portfolio.json",
        path=f"/portfolios/{created['portfolioId']}/valuation",
    )
    assert status == 200, valuation
    held = {h["symbol"]: h for h in valuation["holdings"]}
    assert held["7203"]["quote"]["status"] == "stale"
    assert held["7203"]["price"]["amount"] == CACHED_7203
    assert "AAPL" in valuation["unpriced"]
    assert "AAPL" not in held  # listed as unpriced, with no price or value of any kind
    assert valuation["unpricedDetails"][0]["reason"] == "quote_unavailable"
    assert valuation["stale"] == ["7203"]
    # the total is what is priced: 100 x 3,318 JPY, nothing guessed for AAPL
    assert valuation["total"] == {"amount": "331800", "currency": "JPY"}
