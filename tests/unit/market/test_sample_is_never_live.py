"""The bundled sample prices go through the same market service as live sources and come
out `cached`, with their file's `asOf` and `source: "sample"`: never `live`."""

from __future__ import annotations

from datetime import UTC, datetime

from portfoliowise.adapters.clock import FixedClock
from portfoliowise.adapters.market.calendars import calendar_for
from portfoliowise.adapters.market.chain import (
    build_fx_sources,
    build_quote_sources,
    sample_registries,
)
from portfoliowise.adapters.memory import InMemoryQuoteCache
from portfoliowise.application.market_service import MarketService
from portfoliowise.domain.quotes import QuoteStatus

NOW = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
FILE_AS_OF = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)


def test_sample_quotes_and_rates_are_cached_with_the_files_as_of() -> None:
    clock = FixedClock(NOW)
    registries = sample_registries()
    config = {"QUOTE_SOURCES": "sample", "FX_SOURCES": "sample"}
    market = MarketService(
        InMemoryQuoteCache(clock),
        build_quote_sources(config, registries.quotes, clock),
        build_fx_sources(config, registries.fx, clock),
        [],
        clock,
        calendar_for,
    )
    for answers in (market.get_quotes(["7203", "VTI"]), market.get_rates(["USD-JPY"])):
        for quote in answers.values():
            assert quote.price is not None
            assert quote.status is QuoteStatus.CACHED, quote
            assert quote.source == "sample"
            assert quote.as_of == FILE_AS_OF
    again = market.get_quotes(["7203"])["7203"]  # from the cache or the file: still not live
    assert again.status is not QuoteStatus.LIVE
