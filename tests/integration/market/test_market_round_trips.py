"""The round-trip budget of `get_quotes`, counted on the wire: DynamoDB requests with a
botocore `before-call` hook on the DynamoQuoteCache (moto), Yahoo's HTTP requests with the
recorded transport.

- 100 symbols all cached: exactly 1 cache read request, 0 source calls, 0 HTTP requests.
- 100 symbols all missing: 1 cache read, at most 1 call per source tried (the second only
  for what Yahoo could not price), and batched cache writes of at most 25 items a request.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from moto import mock_aws
from yahoo_recorded import RecordedYahoo, chart_reply

from portfoliowise.adapters.clock import FixedClock
from portfoliowise.adapters.dynamodb import (
    DynamoQuoteCache,
    TableNames,
    create_tables,
    dynamodb_client,
)
from portfoliowise.adapters.market.calendars import calendar_for
from portfoliowise.adapters.market.yahoo import YahooQuoteSource
from portfoliowise.adapters.memory import StaticQuoteSource
from portfoliowise.application.market_service import MarketCounters, MarketService
from portfoliowise.domain.instruments import parse_symbol
from portfoliowise.domain.money import Money
from portfoliowise.domain.quotes import QUOTE_FRESH_FOR, Quote, QuoteStatus

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:yfinance")

TOKYO_CODES = [str(1301 + n) for n in range(50)]
US_CODES = [f"Q{chr(65 + n // 26)}{chr(65 + n % 26)}" for n in range(50)]  # QAA, QAB, ...
SYMBOLS = TOKYO_CODES + US_CODES
NOT_ON_YAHOO = {s for n, s in enumerate(SYMBOLS) if n % 10 in (3, 6, 9)}  # 30, spread out
FRIDAY_CLOSE = {
    "JP": datetime(2026, 1, 9, 15, 30, tzinfo=ZoneInfo("Asia/Tokyo")),
    "US": datetime(2026, 1, 9, 16, 0, tzinfo=ZoneInfo("America/New_York")),
}


@dataclass
class DynamoRequests:
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def __call__(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        # `params` is the serialised request: its JSON body holds the API parameters.
        self.calls.append((model.name, json.loads(params["body"] or b"{}")))

    def named(self, operation: str) -> list[dict[str, Any]]:
        return [params for name, params in self.calls if name == operation]


@dataclass
class World:
    cache: DynamoQuoteCache
    dynamo: DynamoRequests
    yahoo: RecordedYahoo
    second: StaticQuoteSource
    counters: MarketCounters
    service: MarketService


def _quote(symbol: str, source: str) -> Quote:
    market = parse_symbol(symbol).market.value
    price = Money.of("1234", "JPY") if market == "JP" else Money.of("56.78", "USD")
    return Quote(symbol, price, QuoteStatus.LIVE, source, FRIDAY_CLOSE[market])


@pytest.fixture
def world(clock: FixedClock, yahoo_cache_dir: str) -> Iterator[World]:
    charts = {}
    for n, symbol in enumerate(SYMBOLS):
        if symbol in NOT_ON_YAHOO:
            continue
        yahoo_symbol = parse_symbol(symbol).yahoo_symbol or ""
        template = "7203.T_5d" if symbol in TOKYO_CODES else "AAPL_5d"
        charts[yahoo_symbol] = chart_reply(template, yahoo_symbol, scale=1 + n / 100)
    yahoo = RecordedYahoo(charts)  # the other symbols get Yahoo's 404
    second = StaticQuoteSource("second", {s: _quote(s, "second") for s in NOT_ON_YAHOO})
    with mock_aws():
        client = dynamodb_client()
        names = TableNames()
        create_tables(client, names)
        dynamo = DynamoRequests()
        client.meta.events.register("before-call.dynamodb", dynamo)
        cache = DynamoQuoteCache(client, names, clock)
        counters = MarketCounters()
        source = YahooQuoteSource(yahoo.session(), clock=clock, cache_dir=yahoo_cache_dir)
        service = MarketService(cache, [source, second], [], [], clock, calendar_for, counters)
        yield World(cache, dynamo, yahoo, second, counters, service)


def test_100_cached_symbols_cost_one_cache_read_and_no_source_call(
    world: World, clock: FixedClock
) -> None:
    world.cache.put_many([_quote(s, "yahoo") for s in SYMBOLS], clock.now() + QUOTE_FRESH_FOR)
    world.dynamo.calls.clear()

    quotes = world.service.get_quotes(SYMBOLS)

    assert [name for name, _ in world.dynamo.calls] == ["BatchGetItem"]
    assert world.counters.source_calls == {}
    assert world.yahoo.sent() == 0
    assert world.second.calls == []
    assert {q.status for q in quotes.values()} == {QuoteStatus.CACHED}
    assert len(quotes) == 100


def test_100_missing_symbols_cost_one_call_per_source_and_batched_writes(
    world: World, clock: FixedClock
) -> None:
    quotes = world.service.get_quotes(SYMBOLS)

    assert len(world.dynamo.named("BatchGetItem")) == 1
    assert world.counters.source_calls == {"yahoo": 1, "second": 1}
    assert world.second.calls == [[s for s in SYMBOLS if s in NOT_ON_YAHOO]]
    writes = world.dynamo.named("BatchWriteItem")
    sizes = [sum(len(items) for items in w["RequestItems"].values()) for w in writes]
    assert all(size <= 25 for size in sizes)
    assert sum(sizes) == 100
    assert len(writes) == 4  # 50 Tokyo + 50 US quotes, each market with its own expiry
    assert [name for name, _ in world.dynamo.calls] == ["BatchGetItem"] + ["BatchWriteItem"] * 4
    assert {q.status for q in quotes.values()} == {QuoteStatus.LIVE}
    assert {quotes[s].source for s in NOT_ON_YAHOO} == {"second"}
    assert {quotes[s].source for s in set(SYMBOLS) - NOT_ON_YAHOO} == {"yahoo"}
    # On Yahoo's side the chart API is per symbol: one request each, one more for a 404.
    asked = world.yahoo.chart_symbols()
    assert len(set(asked)) == 100
    assert len(asked) <= 100 + len(NOT_ON_YAHOO)


def test_only_the_misses_go_to_the_sources(world: World, clock: FixedClock) -> None:
    cached = SYMBOLS[:60]
    world.cache.put_many([_quote(s, "yahoo") for s in cached], clock.now() + QUOTE_FRESH_FOR)
    world.dynamo.calls.clear()

    quotes = world.service.get_quotes(SYMBOLS)

    assert len(world.dynamo.named("BatchGetItem")) == 1
    assert len(set(world.yahoo.chart_symbols())) == 40
    assert (world.counters.cache_hits, world.counters.cache_misses) == (60, 40)
    assert sum(q.status is QuoteStatus.CACHED for q in quotes.values()) == 60
