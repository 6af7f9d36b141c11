"""Building the source chains from configuration: the configured order, clear errors for
unknown names, skipped optional sources, and each source behind its own guard with the
limits of the constants table. Then the chain at work in the market service: Stooq
failing in each way hands over to the next source, 100 symbols cost one Stooq request."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest

from portfoliowise.adapters.clock import FixedClock
from portfoliowise.adapters.market.calendars import calendar_for
from portfoliowise.adapters.market.chain import (
    DEFAULT_LIMITS,
    SOURCE_LIMITS,
    SourceConfigError,
    SourceLimits,
    build_fx_sources,
    build_history_sources,
    build_quote_sources,
    http_registries,
    live_registries,
    merge_registries,
    source_names,
    yahoo_registries,
)
from portfoliowise.adapters.market.frankfurter import FrankfurterFxSource
from portfoliowise.adapters.market.funds import FundNavSource
from portfoliowise.adapters.market.http import build_client
from portfoliowise.adapters.market.resilience import (
    GuardedFxSource,
    GuardedHistorySource,
    GuardedQuoteSource,
)
from portfoliowise.adapters.market.sample import SampleFxSource, SampleQuoteSource
from portfoliowise.adapters.market.stooq import StooqHistorySource, StooqQuoteSource
from portfoliowise.adapters.memory import InMemoryQuoteCache, StaticQuoteSource
from portfoliowise.adapters.portfolio_files import parse_quotes_document
from portfoliowise.application.market_service import MarketCounters, MarketService
from portfoliowise.domain.errors import SourceUnavailable
from portfoliowise.domain.instruments import Instrument, Market
from portfoliowise.domain.money import JPY, USD, Money
from portfoliowise.domain.quotes import Quote, QuoteStatus

NOW = datetime(2026, 11, 28, 3, 0, tzinfo=UTC)  # Saturday: both markets closed


class Named:
    def __init__(self, name: str) -> None:
        self.name = name

    def fetch(self, instruments: Sequence[Instrument]) -> dict[str, Quote]:
        return {}


def registry(*names: str) -> dict[str, object]:
    return {name: (lambda limits, name=name: Named(name)) for name in names}


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


def test_names_come_in_the_configured_order() -> None:
    config = {"QUOTE_SOURCES": " Stooq, yahoo ,,paid "}
    assert source_names(config, "QUOTE_SOURCES", ("x",)) == ["stooq", "yahoo", "paid"]
    assert source_names({}, "QUOTE_SOURCES", ("yahoo", "stooq")) == ["yahoo", "stooq"]
    assert source_names({"QUOTE_SOURCES": " "}, "QUOTE_SOURCES", ("yahoo",)) == ["yahoo"]


def test_a_name_given_twice_is_an_error() -> None:
    with pytest.raises(SourceConfigError, match="stooq more than once"):
        source_names({"FX_SOURCES": "stooq,yahoo,STOOQ"}, "FX_SOURCES", ())


def test_the_chain_follows_the_configuration(clock: FixedClock) -> None:
    sources = build_quote_sources(
        {"QUOTE_SOURCES": "stooq,yahoo"},
        registry("yahoo", "stooq", "funds"),  # type: ignore[arg-type]
        clock,
    )
    assert [s.name for s in sources] == ["stooq", "yahoo"]
    assert all(isinstance(s, GuardedQuoteSource) for s in sources)
    default = build_quote_sources({}, registry("yahoo", "stooq", "funds"), clock)  # type: ignore[arg-type]
    assert [s.name for s in default] == ["yahoo", "stooq", "funds"]


def test_an_unknown_name_is_a_clear_error(clock: FixedClock) -> None:
    with pytest.raises(
        SourceConfigError,
        match=r"QUOTE_SOURCES: unknown source\(s\) bloomberg; known: stooq, yahoo",
    ):
        build_quote_sources(
            {"QUOTE_SOURCES": "yahoo,bloomberg"},
            registry("yahoo", "stooq"),  # type: ignore[arg-type]
            clock,
        )


def test_unconfigured_and_unbuildable_sources_are_skipped(clock: FixedClock) -> None:
    def broken(limits: SourceLimits) -> None:
        raise SourceUnavailable("secret store down")

    reg = {**registry("yahoo", "stooq"), "paid": lambda limits: None, "broken": broken}
    sources = build_quote_sources(
        {"QUOTE_SOURCES": "yahoo,broken,stooq,paid"},
        reg,  # type: ignore[arg-type]
        clock,
    )
    assert [s.name for s in sources] == ["yahoo", "stooq"]


def test_each_source_gets_its_own_limits(clock: FixedClock) -> None:
    seen: dict[str, SourceLimits] = {}

    def factory(name: str):  # type: ignore[no-untyped-def]
        def build(limits: SourceLimits) -> Named:
            seen[name] = limits
            return Named(name)

        return build

    sources = build_quote_sources(
        {"QUOTE_SOURCES": "stooq,paid,other"},
        {name: factory(name) for name in ("stooq", "paid", "other")},
        clock,
    )
    assert seen == {
        "stooq": SOURCE_LIMITS["stooq"],
        "paid": SOURCE_LIMITS["paid"],
        "other": DEFAULT_LIMITS,
    }
    stooq = sources[0]
    assert isinstance(stooq, GuardedQuoteSource)
    assert stooq.guard.bucket is not None
    assert stooq.guard.breaker is not None
    assert stooq.guard.bucket.capacity == SOURCE_LIMITS["stooq"].burst
    assert stooq.guard.bucket.rate == SOURCE_LIMITS["stooq"].rate_per_second
    assert stooq.guard.breaker.failure_threshold == SOURCE_LIMITS["stooq"].failure_threshold
    assert stooq.guard.breaker.cool_down == SOURCE_LIMITS["stooq"].cool_down
    assert sources[0].guard is not sources[1].guard  # type: ignore[attr-defined]


def test_the_http_registries_build_the_real_sources_with_their_timeouts(clock: FixedClock) -> None:
    registries = http_registries({})
    quotes = build_quote_sources({"QUOTE_SOURCES": "stooq,funds,paid"}, registries.quotes, clock)
    assert [type(s.inner) for s in quotes] == [StooqQuoteSource, FundNavSource]  # type: ignore[attr-defined]
    stooq, funds = quotes
    assert isinstance(stooq, GuardedQuoteSource)
    assert isinstance(funds, GuardedQuoteSource)
    assert stooq.markets == frozenset({Market.JP, Market.US})
    assert funds.markets == frozenset({Market.FUND})
    assert stooq.inner._client.timeout.read == SOURCE_LIMITS["stooq"].timeout_seconds  # type: ignore[attr-defined]
    assert funds.inner._client.timeout.read == SOURCE_LIMITS["funds"].timeout_seconds  # type: ignore[attr-defined]

    fx = build_fx_sources({"FX_SOURCES": "frankfurter"}, registries.fx, clock)
    assert isinstance(fx[0], GuardedFxSource)
    assert isinstance(fx[0].inner, FrankfurterFxSource)

    history = build_history_sources({"HISTORY_SOURCES": "stooq,funds"}, registries.history, clock)
    assert all(isinstance(h, GuardedHistorySource) for h in history)
    assert isinstance(history[0].inner, StooqHistorySource)  # type: ignore[attr-defined]


def test_the_live_registries_give_the_default_chains_yahoo_first(clock: FixedClock) -> None:
    registries = live_registries({}, clock)
    quotes = build_quote_sources({}, registries.quotes, clock)
    assert [type(s.inner).__name__ for s in quotes] == [  # type: ignore[attr-defined]
        "YahooQuoteSource",
        "StooqQuoteSource",
        "FundNavSource",
    ]
    fx = build_fx_sources({}, registries.fx, clock)
    assert [type(s.inner).__name__ for s in fx] == [  # type: ignore[attr-defined]
        "YahooFxSource",
        "FrankfurterFxSource",
    ]
    history = build_history_sources({}, registries.history, clock)
    assert type(history[0].inner).__name__ == "YahooHistorySource"  # type: ignore[attr-defined]
    assert quotes[0].inner._timeout == SOURCE_LIMITS["yahoo"].timeout_seconds  # type: ignore[attr-defined]


def test_a_source_name_registered_twice_is_a_configuration_error(clock: FixedClock) -> None:
    with pytest.raises(SourceConfigError, match="'yahoo' is registered twice"):
        merge_registries(yahoo_registries(clock), yahoo_registries(clock))


def test_without_a_configured_secret_the_paid_source_never_touches_aws(clock: FixedClock) -> None:
    def no_aws() -> object:
        raise AssertionError("Secrets Manager must not be created")

    registries = http_registries({}, secrets=no_aws)  # type: ignore[arg-type]
    assert build_quote_sources({"QUOTE_SOURCES": "paid"}, registries.quotes, clock) == []


# -- the chain at work in the market service -----------------------------------------------

STOOQ_HEADER = "Symbol,Date,Time,Open,High,Low,Close,Volume,Name"
BACKUP_QUOTE = Quote("AAPL", Money.of("235.00", "USD"), QuoteStatus.LIVE, "backup", NOW)


def service(
    handler: httpx.MockTransport, clock: FixedClock
) -> tuple[MarketService, MarketCounters]:
    backup = StaticQuoteSource("backup", {"AAPL": BACKUP_QUOTE})
    reg = {
        "stooq": lambda limits: StooqQuoteSource(
            build_client(limits.timeout_seconds, transport=handler)
        ),
        "backup": lambda limits: backup,
    }
    sources = build_quote_sources({"QUOTE_SOURCES": "stooq,backup"}, reg, clock)  # type: ignore[arg-type]
    counters = MarketCounters()
    return MarketService(
        InMemoryQuoteCache(clock), sources, [], [], clock, calendar_for, counters
    ), counters


def failing(kind: str) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        if kind == "timeout":
            raise httpx.ReadTimeout("timed out", request=request)
        bodies = {
            "429": httpx.Response(429, headers={"Retry-After": "30"}),
            "500": httpx.Response(500),
            "malformed": httpx.Response(200, text="<html>Please enable JavaScript</html>"),
            "unknown": httpx.Response(
                200, text=f"{STOOQ_HEADER}\nAAPL.US,N/D,N/D,N/D,N/D,N/D,N/D,N/D,AAPL.US\n"
            ),
        }
        return bodies[kind]

    return httpx.MockTransport(handler)


@pytest.mark.parametrize("kind", ["429", "500", "timeout", "malformed", "unknown"])
def test_the_next_source_prices_what_stooq_could_not(kind: str, clock: FixedClock) -> None:
    market, counters = service(failing(kind), clock)
    quote = market.get_quotes(["AAPL"])["AAPL"]
    assert quote.source == "backup"
    assert quote.price == Money.of("235.00", "USD")
    failed = {"stooq": 1} if kind != "unknown" else {}
    assert counters.source_failures == failed


def test_a_hundred_uncached_symbols_cost_one_stooq_request(clock: FixedClock) -> None:
    requests: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        rows = [
            f"{s.upper()},2026-11-27,19:00:07,1,1,1,{Decimal(100) + i},10,N"
            for i, s in enumerate(request.url.params["s"].split(" "))
        ]
        return httpx.Response(200, text="\n".join([STOOQ_HEADER, *rows]))

    market, _ = service(httpx.MockTransport(handler), clock)
    symbols = [f"{1300 + i}" for i in range(60)] + [
        f"Q{chr(65 + i // 26)}{chr(65 + i % 26)}" for i in range(40)
    ]
    quotes = market.get_quotes(symbols)
    assert len(requests) == 1
    assert all(q.status is QuoteStatus.LIVE and q.source == "stooq" for q in quotes.values())
    assert len(quotes) == 100


def test_an_open_stooq_breaker_is_skipped_without_a_request(clock: FixedClock) -> None:
    requests: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(500)

    market, _ = service(httpx.MockTransport(handler), clock)
    threshold = SOURCE_LIMITS["stooq"].failure_threshold
    for _ in range(threshold):  # MSFT: no source prices it, so nothing is cached
        assert market.get_quotes(["MSFT"])["MSFT"] == Quote.unavailable("MSFT")
        clock.advance(timedelta(seconds=1))  # a token back in Stooq's bucket
    assert len(requests) == threshold
    assert market.get_quotes(["AAPL"])["AAPL"].source == "backup"
    assert len(requests) == threshold  # open: Stooq is not called
    clock.advance(SOURCE_LIMITS["stooq"].cool_down)
    market.get_quotes(["MSFT"])
    assert len(requests) == threshold + 1  # half-open: one trial


def test_the_sample_prices_are_used_only_when_a_chain_names_them(clock: FixedClock) -> None:
    registries = live_registries({}, clock)
    assert "SampleQuoteSource" not in [
        type(s.inner).__name__  # type: ignore[attr-defined]
        for s in build_quote_sources({}, registries.quotes, clock)
    ]
    [sample] = build_quote_sources({"QUOTE_SOURCES": "sample"}, registries.quotes, clock)
    quotes = sample.fetch([Instrument("7203", Market.JP), Instrument("AAPL", Market.US)])
    assert list(quotes) == ["7203"]  # the sample file has no AAPL: nothing is made up
    assert quotes["7203"].source == "sample"
    [fx] = build_fx_sources({"FX_SOURCES": "sample"}, registries.fx, clock)
    [rate] = fx.fetch_rates([(JPY, USD)])
    assert (rate.base, rate.quote, rate.source) == (JPY, USD, "sample")


def test_sample_prices_are_cached_as_of_their_file_never_live() -> None:
    as_of = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)  # examples/quotes.sample.json
    for quote in SampleQuoteSource().fetch([Instrument("7203", Market.JP)]).values():
        assert (quote.status, quote.as_of, quote.source) == (QuoteStatus.CACHED, as_of, "sample")
    [rate] = SampleFxSource().fetch_rates([(USD, JPY)])
    assert (rate.as_of, rate.source) == (as_of, "sample")
    # even a file that calls its prices live (any file: the sample is only a file)
    document = {
        "format": "portfoliowise/quotes@1",
        "status": "live",
        "asOf": "2026-01-05T00:00:00Z",
        "quotes": {"VTI": {"price": "301.45"}},
    }
    [quote] = (
        SampleQuoteSource(parse_quotes_document(document))
        .fetch([Instrument("VTI", Market.US)])
        .values()
    )
    assert quote.status is QuoteStatus.CACHED
    assert quote.as_of == datetime(2026, 1, 5, tzinfo=UTC)
