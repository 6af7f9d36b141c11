"""The domain's largest portfolio (10,000 holdings) through the API: its valuation answer
is about 8 MB of JSON, over Lambda's 6 MB response limit, so the large routes answer gzip
to a client that accepts it (every browser does), as base64 that API Gateway turns back
into bytes (binary media types `*/*`)."""

from __future__ import annotations

import base64
import gzip
import json
from decimal import Decimal
from typing import Any

from api_harness import NOW, LambdaContext, make_event
from dependency_injector import providers

from portfoliowise.adapters.clock import FixedClock
from portfoliowise.adapters.market.calendars import calendar_for
from portfoliowise.adapters.memory import InMemoryQuoteCache, StaticFxSource, StaticQuoteSource
from portfoliowise.application.market_service import MarketService
from portfoliowise.domain.audit import RequestContext, audit_entries
from portfoliowise.domain.fx import FxRate
from portfoliowise.domain.money import JPY, USD, Money
from portfoliowise.domain.portfolio import Holding, Portfolio
from portfoliowise.domain.quotes import Quote, QuoteStatus
from portfoliowise.handlers.api.app import build_app
from portfoliowise.handlers.container import Container

LAMBDA_RESPONSE_LIMIT = 6 * 1024 * 1024


def _symbols() -> list[str]:
    tokyo = [str(code) for code in range(1300, 9300)]  # 8,000
    us = [f"A{chr(65 + i // 676)}{chr(65 + i // 26 % 26)}{chr(65 + i % 26)}" for i in range(2000)]
    return tokyo + us


def _big_app(container: Container) -> Any:
    clock = FixedClock(NOW)
    symbols = _symbols()
    quotes = {
        s: Quote(
            symbol=s,
            price=Money.of("1234.5", JPY if s.isdigit() else USD),
            status=QuoteStatus.LIVE,
            source="fake",
            as_of=NOW,
            name=f"{s} 株式会社",
        )
        for s in symbols
    }
    market = MarketService(
        InMemoryQuoteCache(clock),
        [StaticQuoteSource("fake", quotes)],
        [StaticFxSource("fake-fx", [FxRate(USD, JPY, Decimal("150"), NOW)])],
        [],
        clock,
        calendar_for,
    )
    container.market.override(providers.Object(market))
    portfolio = Portfolio.create(
        user_id="userA",
        portfolio_id="big",
        name="everything",
        base_currency=JPY,
        at=NOW,
        holdings=[Holding.of(s, "100", cost_basis=Money.of("98765.4321", "JPY")) for s in symbols],
    )
    container.portfolios().add(portfolio, audit_entries(portfolio.pull_events(), RequestContext()))
    return build_app(container)


def _valuation(app: Any, encoding: str | None) -> dict[str, Any]:
    event = make_event(
        "get_portfolio.json",
        method="GET",
        path="/portfolios/big/valuation",
        headers={"Accept-Encoding": encoding},
    )
    event["pathParameters"] = {"portfolio_id": "big"}
    response: dict[str, Any] = app.resolve(event, LambdaContext())
    return response


def test_a_10000_holding_valuation_fits_lambdas_limit_gzipped(container: Container) -> None:
    app = _big_app(container)
    plain = _valuation(app, None)
    assert plain["statusCode"] == 200, plain["body"][:500]
    assert len(json.dumps(plain)) > LAMBDA_RESPONSE_LIMIT  # the problem: ~8 MB as text

    zipped = _valuation(app, "gzip, deflate, br")
    assert zipped["statusCode"] == 200
    assert zipped["isBase64Encoded"] is True
    headers = {k.lower(): v for k, v in (zipped.get("headers") or {}).items()}
    multi = {k.lower(): v for k, v in (zipped.get("multiValueHeaders") or {}).items()}
    assert "gzip" in (headers.get("content-encoding") or multi.get("content-encoding", [""])[0])
    assert len(json.dumps(zipped)) < LAMBDA_RESPONSE_LIMIT / 4
    body = json.loads(gzip.decompress(base64.b64decode(zipped["body"])))
    first = json.loads(plain["body"])
    assert body.keys() == first.keys()
    assert [(h["symbol"], h["value"]) for h in body["holdings"]] == [
        (h["symbol"], h["value"]) for h in first["holdings"]
    ]  # the same answer (the second read its quotes from the cache: their status differs)
    assert len(body["holdings"]) == 10_000
