"""The container wires the signals into the use cases: writes and valuations through the
API reach the runtime's `Signals` (a topic, a log line, and in Lambda a metric)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from api_harness import NOW, call, fake_container
from dependency_injector import providers

from portfoliowise.adapters.clock import FixedClock
from portfoliowise.adapters.market.calendars import calendar_for
from portfoliowise.adapters.memory import InMemoryQuoteCache, RecordedSignals, StaticQuoteSource
from portfoliowise.application.market_service import MarketService
from portfoliowise.domain.money import JPY, Money
from portfoliowise.domain.quotes import Quote, QuoteStatus
from portfoliowise.domain.signals import SignalKind
from portfoliowise.handlers.api.app import build_app


def _jpy_only_market(clock: FixedClock, price: str) -> MarketService:
    quote = Quote("7203", Money.of(price, JPY), QuoteStatus.LIVE, "fake", NOW)
    return MarketService(
        InMemoryQuoteCache(clock),
        [StaticQuoteSource("fake", {"7203": quote})],
        [],
        [],
        clock,
        calendar_for,
    )


def test_writes_and_valuations_through_the_api_emit_signals() -> None:
    clock = FixedClock(NOW)
    container = fake_container(clock)
    recorded = RecordedSignals()
    container.signals.override(providers.Object(recorded))
    app = build_app(container)
    body = {"name": "one", "holdings": [{"symbol": "7203", "quantity": "100"}]}
    status, _, created = call(app, "create_portfolio.json", body=body)
    assert status == 201, created
    for _ in range(100):  # 101 writes within the hour with the creation
        clock.advance(timedelta(seconds=10))
        body = {**created, "name": f"n{clock.now().timestamp()}"}
        status, _, created = call(
            app,
            "put_portfolio.json",
            path=f"/portfolios/{created['portfolioId']}",
            body=body,
            headers={"If-Match": f'"{created["version"]}"'},
        )
        assert status == 200, created
    kinds = [s.kind for s in recorded.emitted]
    assert kinds.count(SignalKind.UNUSUAL_ACTIVITY) == 1

    path = f"/portfolios/{created['portfolioId']}/valuation"
    container.market.override(providers.Object(_jpy_only_market(clock, "2500")))
    assert call(app, "get_portfolio.json", path=path)[0] == 200
    container.market.override(providers.Object(_jpy_only_market(clock, "2800")))  # +12 %
    assert call(app, "get_portfolio.json", path=path)[0] == 200
    large = [s for s in recorded.emitted if s.kind is SignalKind.LARGE_PORTFOLIO_CHANGE]
    assert len(large) == 1
    assert Decimal(str(large[0].details["percent"])) == Decimal("12.00")
