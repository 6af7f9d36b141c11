"""Contract of the existing web app's market calls (snapshot of its code: src/services/
marketDataService.ts, priceHistoryService.ts, src/stores/portfolioStore.ts): requests with
exactly the query parameters the app sends, answers checked field by field against what its
code reads. The `app_*` helpers below follow the app's code line by line, so that each test
says what the app does with the answer.

The app never sees the body of a non-2xx answer (its axios interceptor replaces the error
by a generic one), and on any failure it substitutes its own made-up values (150 JPY per
USD, "Fallback" prices): so a price or rate we cannot give is a 200 with the symbol left
out of `data`, never a number, never a non-2xx."""

from __future__ import annotations

import itertools
import json
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from api_harness import NOW, LambdaContext, fake_container, make_event
from dependency_injector import providers

from portfoliowise.adapters.clock import FixedClock
from portfoliowise.adapters.market.calendars import calendar_for
from portfoliowise.adapters.memory import InMemoryQuoteCache, StaticFxSource, StaticQuoteSource
from portfoliowise.application.market_service import MarketService
from portfoliowise.domain.errors import NotFoundError, SourceUnavailable
from portfoliowise.domain.fx import FxRate
from portfoliowise.domain.market import DailyClose, DailyHistory
from portfoliowise.domain.money import JPY, USD, Money
from portfoliowise.domain.quotes import Quote, QuoteStatus
from portfoliowise.handlers.api.app import build_app
from portfoliowise.handlers.container import Container

# -- what the app does with an answer (its code, transcribed) ------------------------------


def app_fetch_exchange_rate(body: dict[str, Any], base: str = "USD", target: str = "JPY") -> Any:
    """marketDataService.ts fetchExchangeRate, after a 2xx answer (lines 76-105)."""
    if body.get("success") and body.get("data"):
        entry = body["data"].get(f"{base}-{target}")
        if entry:
            return {
                "success": True,
                "rate": entry["rate"],
                "source": "Default" if entry.get("isDefault") else "API",
                "lastUpdated": entry.get("lastUpdated"),
                "isDefault": entry.get("isDefault"),
                "isStale": entry.get("isStale"),
            }
    return body


def app_update_exchange_rate(result: dict[str, Any]) -> str:
    """portfolioStore.ts updateExchangeRate: which branch the result takes."""
    if result.get("success"):
        return "stale-warning" if result.get("isStale") or result.get("isDefault") else "set"
    rate = result.get("rate")
    if isinstance(rate, (int, float)) and rate > 0:
        return "made-up-fallback"  # caches the Fallback rate for an hour: what we must avoid
    if result.get("error"):
        return "keep-current-rate-and-retry"
    return "nothing"


def app_refresh_asset(asset: dict[str, Any], body: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """portfolioStore.ts refreshMarketPrices for one asset (lines 527-551): the updated
    asset, and whether it counts as an error."""
    stock = (body.get("data") or {}).get(asset["ticker"])
    if not stock:
        return asset, True
    return {
        **asset,
        "price": stock["price"],
        "source": stock["source"],
        "lastUpdated": stock["lastUpdated"],
        "fundType": stock.get("fundType") or asset.get("fundType"),
        "region": stock.get("region") or asset.get("region"),
    }, False


def app_add_ticker(body: dict[str, Any]) -> dict[str, Any] | None:
    """portfolioStore.ts addTicker: the holding it adds from `fetchTickerData`'s answer
    (the whole body), or None when it refuses."""
    if not body.get("success") and not body.get("data"):
        return None
    data = body["data"]
    return {"id": data.get("id"), "ticker": data.get("ticker"), **data, "holdings": 0}


# -- a market with what these tests need --------------------------------------------------

CLOSES = (
    DailyClose(date(2025, 12, 30), Decimal("100")),
    DailyClose(date(2026, 1, 5), Decimal("110")),
    DailyClose(date(2026, 10, 27), Decimal("120")),
    DailyClose(date(2026, 11, 20), Decimal("125")),
    DailyClose(date(2026, 11, 25), Decimal("130.25")),
)


class ClosesSource:
    name = "fake-history"

    def __init__(self) -> None:
        self.asked: list[tuple[date, date]] = []
        self.fail: Exception | None = None

    def history(self, instrument: Any, start: date, end: date) -> DailyHistory:
        self.asked.append((start, end))
        if self.fail is not None:
            raise self.fail
        closes = tuple(c for c in CLOSES if start <= c.day <= end)
        return DailyHistory(instrument.symbol, instrument.currency.code, closes, self.name)


def _quote(symbol: str, price: Money, name: str) -> Quote:
    return Quote(
        symbol=symbol,
        price=price,
        status=QuoteStatus.LIVE,
        source="fake",
        as_of=NOW,
        change=Decimal("-1.25"),
        change_percent=Decimal("-0.5"),
        name=name,
    )


QUOTES = {
    "AAPL": _quote("AAPL", Money.of("200.125", USD), "Apple Inc."),
    "MSFT": _quote("MSFT", Money.of("400", USD), "Microsoft"),
    "7203": _quote("7203", Money.of("2500", JPY), "トヨタ自動車"),
    "130A": _quote("130A", Money.of("1234", JPY), "Veritas In Silico"),
    "0331418A": _quote("0331418A", Money.of("29874", JPY), "eMAXIS Slim 全世界株式"),
}


class Market:
    def __init__(self, clock: FixedClock) -> None:
        self.quotes = StaticQuoteSource("fake", QUOTES)
        self.fx = StaticFxSource("fake-fx", [FxRate(USD, JPY, Decimal("154.321"), NOW)])
        self.history = ClosesSource()
        self.service = MarketService(
            InMemoryQuoteCache(clock),
            [self.quotes],
            [self.fx],
            [self.history],  # type: ignore[list-item]
            clock,
            calendar_for,
        )

    def fail(self) -> None:
        self.quotes.failing = True
        self.fx.failing = True


@pytest.fixture
def market(clock: FixedClock) -> Market:
    return Market(clock)


@pytest.fixture
def app(container: Container, market: Market) -> Any:
    container.market.override(providers.Object(market.service))
    return build_app(container)


def market_data(app: Any, **query: str) -> tuple[int, Any, str]:
    response = app.resolve(
        make_event("legacy_market_data.json", query=query, user=None), LambdaContext()
    )
    return response["statusCode"], json.loads(response["body"]), response["body"]


def assert_error_body(status: int, body: Any) -> None:
    """Our error shape (handlers/api/errors.py): success, error {code, message}, message."""
    assert 400 <= status < 500
    assert body["success"] is False
    assert isinstance(body["error"]["code"], str)
    assert body["error"]["code"]
    assert body["message"] == body["error"]["message"]


# -- exchange rates -------------------------------------------------------------------------

APP_RATE_QUERY = {"type": "exchange-rate", "base": "USD", "target": "JPY", "refresh": "false"}


def test_the_rate_as_the_app_asks_for_it(app: Any) -> None:
    status, body, text = market_data(app, **APP_RATE_QUERY)
    assert status == 200, body
    assert body["success"] is True
    assert body["data"] == {
        "USD-JPY": {
            "pair": "USD-JPY",
            "base": "USD",
            "target": "JPY",
            "rate": 154.321,
            "source": "fake-fx",
            "lastUpdated": "2026-11-27T06:00:00+00:00",
            "status": "live",
            "isDefault": False,
            "isStale": False,
        }
    }
    assert '"rate": 154.321' in text  # a JSON number with exactly its digits
    result = app_fetch_exchange_rate(body)
    assert result["rate"] == 154.321
    assert result["source"] == "API"
    assert app_update_exchange_rate(result) == "set"


def test_a_stale_rate_is_flagged(app: Any, market: Market, clock: FixedClock) -> None:
    assert market_data(app, **APP_RATE_QUERY)[0] == 200  # cached now
    clock.advance(timedelta(days=3))
    market.fail()
    status, body, _ = market_data(app, **APP_RATE_QUERY)
    assert status == 200
    entry = body["data"]["USD-JPY"]
    assert entry["rate"] == 154.321
    assert entry["isStale"] is True
    assert entry["status"] == "stale"
    assert entry["isDefault"] is False
    assert entry["lastUpdated"] == "2026-11-27T06:00:00+00:00"  # when it was priced
    assert app_update_exchange_rate(app_fetch_exchange_rate(body)) == "stale-warning"


def test_a_missing_rate_is_shown_as_missing_never_as_150(app: Any, market: Market) -> None:
    market.fail()
    status, body, _ = market_data(app, **APP_RATE_QUERY)
    assert status == 200  # a non-2xx would make the app take 150 "Fallback"
    assert body["success"] is False
    assert body["error"]["code"] == "unavailable"
    assert body["message"]
    assert body["data"] is None
    assert "rate" not in body
    assert body["errors"] == [
        {"ticker": "USD-JPY", "reason": "unavailable", "message": body["errors"][0]["message"]}
    ]
    result = app_fetch_exchange_rate(body)
    assert result is body
    assert app_update_exchange_rate(result) == "keep-current-rate-and-retry"


def test_rates_by_symbols_still_work(app: Any) -> None:
    status, body, _ = market_data(app, type="exchange-rate", symbols="USDJPY,EURJPY")
    assert status == 200, body
    assert body["data"]["USD-JPY"]["rate"] == 154.321
    assert "EUR-JPY" not in body["data"]  # no source has it
    assert body["unavailable"] == ["EUR-JPY"]


def test_a_rate_needs_symbols_or_base_and_target(app: Any) -> None:
    for query in ({"type": "exchange-rate"}, {"type": "exchange-rate", "base": "USD"}):
        status, body, _ = market_data(app, **query)
        assert status == 400, query
        assert_error_body(status, body)
    status, body, _ = market_data(app, type="exchange-rate", base="USD", target="usd!")
    assert status == 400


def test_a_pair_that_is_no_pair_is_reported_not_failed(app: Any) -> None:
    status, body, _ = market_data(app, type="exchange-rate", base="USD", target="USD")
    assert status == 200
    assert body["success"] is False
    assert body["errors"][0]["ticker"] == "USD-USD"
    assert body["errors"][0]["reason"] == "unknown_symbol"


# -- stocks and funds -----------------------------------------------------------------------


def test_every_field_the_app_reads_of_a_us_stock(app: Any) -> None:
    status, body, text = market_data(app, type="us-stock", symbols="AAPL,MSFT", refresh="false")
    assert status == 200, body
    assert body["success"] is True
    assert list(body["data"]) == ["AAPL", "MSFT"]
    assert body["data"]["AAPL"] == {
        "ticker": "AAPL",
        "id": "AAPL",
        "symbol": "AAPL",
        "price": 200.125,
        "change": -1.25,
        "changePercent": -0.5,
        "name": "Apple Inc.",
        "currency": "USD",
        "source": "fake",
        "lastUpdated": "2026-11-27T06:00:00+00:00",
        "status": "live",
        "isStale": False,
        "isMutualFund": False,
    }
    assert '"price": 200.125' in text
    assert body["errors"] == []
    assert body["source"] == "portfoliowise"
    old = {"ticker": "AAPL", "price": 180, "fundType": "個別株", "region": "US"}
    updated, error = app_refresh_asset(old, body)
    assert not error
    assert updated["price"] == 200.125
    assert updated["source"] == "fake"  # never "Fallback": that is the app's own estimate
    assert updated["fundType"] == "個別株"  # we send no fund type: the app keeps its own


def test_an_unpriced_symbol_is_left_out_and_listed(app: Any) -> None:
    status, body, _ = market_data(app, type="us-stock", symbols="AAPL,GOOG", refresh="false")
    assert status == 200
    assert body["success"] is True
    assert list(body["data"]) == ["AAPL"]
    assert body["unavailable"] == ["GOOG"]
    (error,) = body["errors"]
    assert error["ticker"] == "GOOG"
    assert error["reason"] == "unavailable"
    # the app counts it as an error and keeps its previous price (a null price would be
    # multiplied as 0 in its totals)
    old = {"ticker": "GOOG", "price": 170, "source": "yahoo"}
    assert app_refresh_asset(old, body) == (old, True)


def test_when_nothing_is_priced_the_app_adds_no_holding(app: Any) -> None:
    status, body, _ = market_data(app, type="us-stock", symbols="GOOG", refresh="false")
    assert status == 200
    assert body["success"] is False
    assert body["data"] is None
    assert body["error"]["code"] == "unavailable"
    assert body["message"]
    assert app_add_ticker(body) is None
    assert app_refresh_asset({"ticker": "GOOG", "price": 1}, body)[1] is True


def test_one_symbol_asked_is_also_the_entry_add_ticker_reads(app: Any) -> None:
    status, body, _ = market_data(app, type="us-stock", symbols="AAPL", refresh="false")
    assert status == 200
    data = body["data"]
    assert data["AAPL"]["price"] == 200.125  # refreshMarketPrices: data[ticker]
    holding = app_add_ticker(body)  # addTicker: data itself
    assert holding is not None
    assert holding["ticker"] == "AAPL"
    assert holding["id"] == "AAPL"
    assert holding["price"] == 200.125
    assert holding["currency"] == "USD"
    assert holding["name"] == "Apple Inc."
    assert holding["source"] == "fake"


def test_tokyo_codes_and_funds_keep_the_key_the_app_sent(app: Any) -> None:
    status, body, _ = market_data(app, type="jp-stock", symbols="7203.T", refresh="false")
    assert status == 200
    entry = body["data"]["7203.T"]
    assert (entry["ticker"], entry["symbol"], entry["price"], entry["currency"]) == (
        "7203.T",
        "7203",
        2500,
        "JPY",
    )
    status, body, _ = market_data(app, type="mutual-fund", symbols="0331418A", refresh="false")
    assert status == 200
    fund = body["data"]["0331418A"]
    assert fund["price"] == 29874  # per 10,000 units (基準価額)
    assert fund["isMutualFund"] is True


def test_the_apps_type_guess_never_fails_the_batch(app: Any) -> None:
    # the app sends 130A (a new Tokyo code) as a US stock; one bad symbol, or a pair, must
    # not fail the others (a 4xx would make the app invent prices for the whole batch)
    status, body, _ = market_data(
        app, type="us-stock", symbols="AAPL,130A,BAD!,USDJPY", refresh="false"
    )
    assert status == 200, body
    assert body["data"]["130A"]["currency"] == "JPY"
    assert body["data"]["130A"]["price"] == 1234
    reasons = {e["ticker"]: e["reason"] for e in body["errors"]}
    assert reasons == {"BAD!": "unknown_symbol", "USDJPY": "wrong_type"}


def test_refresh_is_accepted_and_served_from_the_quote_cache(app: Any, market: Market) -> None:
    assert market_data(app, type="us-stock", symbols="AAPL", refresh="false")[0] == 200
    calls = len(market.quotes.calls)
    status, body, _ = market_data(app, type="us-stock", symbols="AAPL", refresh="true")
    assert status == 200
    assert body["data"]["AAPL"]["status"] == "cached"
    assert len(market.quotes.calls) == calls  # no outbound call forced by a public route


def test_a_whole_portfolio_of_one_type_is_asked_in_batches_of_100(app: Any, market: Market) -> None:
    symbols = ["".join(p) for p in itertools.islice(itertools.product("BCDFG", repeat=4), 150)]
    status, body, _ = market_data(app, type="us-stock", symbols=",".join(symbols))
    assert status == 200
    assert body["success"] is False  # none of them is priced here
    assert len(body["unavailable"]) == 150
    assert [len(batch) for batch in market.quotes.calls] == [100, 50]


def test_the_market_function_keys_exactly_as_sent(app: Any) -> None:
    status, body, _ = market_data(app, type="us-stock", symbols="aapl,MSFT")
    assert status == 200
    assert set(body["data"]) == {"aapl", "MSFT"}
    assert body["data"]["aapl"]["symbol"] == "AAPL"


# -- price history --------------------------------------------------------------------------


def price_history(app: Any, user: str | None = "userA", **query: str) -> tuple[int, Any, str]:
    response = app.resolve(
        make_event("market_history.json", path="/api/price-history", query=query, user=user),
        LambdaContext(),
    )
    return response["statusCode"], json.loads(response["body"]), response["body"]


def test_price_history_in_the_apps_shape(app: Any, market: Market) -> None:
    status, body, text = price_history(app, ticker="AAPL", period="1m")
    assert status == 200, body
    assert body["success"] is True
    data = body["data"]
    assert (data["ticker"], data["currency"], data["period"]) == ("AAPL", "USD", "1m")
    assert data["prices"] == [
        {"date": "2026-10-27", "close": 120, "source": "fake-history"},
        {"date": "2026-11-20", "close": 125, "source": "fake-history"},
        {"date": "2026-11-25", "close": 130.25, "source": "fake-history"},
    ]
    assert '"close": 130.25' in text
    assert data["change"] == {
        "dayOverDay": {"amount": 5.25, "percent": 4.2},
        # against the previous year's last close (2025-12-30), whatever the period
        "yearToDate": {"amount": 30.25, "percent": 30.25},
    }
    # fetched from the last December on, once; trimmed to the period
    assert market.history.asked[0][0] == date(2025, 12, 1)


@pytest.mark.parametrize(
    ("period", "first"),
    [
        ("1w", "2026-11-20"),
        ("3m", "2026-10-27"),
        ("6m", "2026-10-27"),
        ("1y", "2025-12-30"),
        ("ytd", "2026-01-05"),
    ],
)
def test_each_period_of_the_app(app: Any, period: str, first: str) -> None:
    status, body, _ = price_history(app, ticker="AAPL", period=period)
    assert status == 200, body
    assert body["data"]["period"] == period
    assert body["data"]["prices"][0]["date"] == first
    assert body["data"]["change"]["yearToDate"]["amount"] == 30.25


def test_price_history_defaults_to_a_month_and_refuses_other_periods(app: Any) -> None:
    status, body, _ = price_history(app, ticker="AAPL")
    assert status == 200
    assert body["data"]["period"] == "1m"
    status, body, _ = price_history(app, ticker="AAPL", period="5y")
    assert status == 400
    assert_error_body(status, body)


def test_price_history_needs_a_session(app: Any) -> None:
    status, body, _ = price_history(app, user=None, ticker="AAPL", period="1m")
    assert status == 401
    assert_error_body(status, body)


def test_price_history_without_closes_is_an_error_the_app_skips(app: Any, market: Market) -> None:
    # fetchPriceHistory answers null for any failure: the chart values that holding at its
    # current price
    status, body, _ = price_history(app, ticker="BAD!", period="1m")
    assert status == 400
    market.history.fail = NotFoundError("no such symbol")
    status, body, _ = price_history(app, ticker="AAPL", period="1m")
    assert status == 404
    assert_error_body(status, body)
    market.history.fail = SourceUnavailable("down")
    status, body, _ = price_history(app, ticker="MSFT", period="1m")
    assert status == 503


def test_the_market_function_authenticates_its_signed_in_route() -> None:
    """The market function's own resolver (built at import by `bootstrap.market_function`)
    answers the price history signed in and 401 signed out."""
    from portfoliowise.handlers.lambdas import market as function

    fakes = fake_container(FixedClock(NOW))
    prices = Market(FixedClock(NOW))
    with (
        function.container.market.override(providers.Object(prices.service)),
        function.container.authenticator.override(providers.Object(fakes.authenticator())),
    ):
        event = make_event(
            "market_history.json",
            path="/api/price-history",
            query={"ticker": "AAPL", "period": "1m"},
        )
        answer = function.handler(event, LambdaContext())
        assert answer["statusCode"] == 200, answer["body"]
        assert json.loads(answer["body"])["data"]["ticker"] == "AAPL"
        signed_out = make_event(
            "market_history.json", path="/api/price-history", query={"ticker": "AAPL"}, user=None
        )
        answer = function.handler(signed_out, LambdaContext())
        assert answer["statusCode"] == 401


def test_the_market_data_is_described_by_its_schema(app: Any) -> None:
    from portfoliowise.handlers.api.schemas.market import LegacyMarketData, PriceHistoryOut

    for query in (
        APP_RATE_QUERY,
        {"type": "us-stock", "symbols": "AAPL"},
        {"type": "us-stock", "symbols": "AAPL,MSFT,GOOG,BAD!"},
        {"type": "us-stock", "symbols": "GOOG"},
    ):
        LegacyMarketData.model_validate(market_data(app, **query)[1])
    PriceHistoryOut.model_validate(price_history(app, ticker="AAPL", period="1m")[1])
