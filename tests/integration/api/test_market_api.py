"""Market routes: quotes (at most 100), history, and the existing app's market data. An
unpriced symbol is reported as unavailable, never with a made-up price."""

from __future__ import annotations

from typing import Any

from api_harness import assert_error_shape, call, market_service
from dependency_injector import providers

from portfoliowise.adapters.clock import FixedClock
from portfoliowise.handlers.container import Container


def test_quotes_carry_price_currency_status_and_source(app: Any) -> None:
    status, _, body = call(app, "market_quotes.json", query={"symbols": "7203.T, AAPL,USDJPY"})
    assert status == 200, body
    assert list(body["quotes"]) == ["7203", "AAPL", "USD-JPY"]
    aapl = body["quotes"]["AAPL"]
    assert aapl["price"] == "200"
    assert aapl["currency"] == "USD"
    assert aapl["changePercent"] == "0.5"
    assert aapl["status"] == "live"
    assert aapl["source"] == "fake"
    assert body["quotes"]["USD-JPY"]["price"] == "150"


def test_quotes_need_no_session(app: Any) -> None:
    status, _, _ = call(app, "market_quotes.json", user=None)
    assert status == 200


def test_an_unpriced_symbol_is_unavailable_without_a_price(app: Any) -> None:
    status, _, body = call(app, "market_quotes.json", query={"symbols": "GOOG"})
    assert status == 200
    assert body["quotes"]["GOOG"]["status"] == "unavailable"
    assert body["quotes"]["GOOG"]["price"] is None


def test_more_than_100_symbols_is_400(app: Any) -> None:
    symbols = ",".join(f"A{i}" for i in range(101))
    status, _, body = call(app, "market_quotes.json", query={"symbols": symbols})
    assert status == 400
    assert_error_shape(status, body)


def test_bad_or_missing_symbols_are_400(app: Any) -> None:
    for query in ({"symbols": "not a symbol!"}, {"symbols": " , "}, {}):
        status, _, body = call(app, "market_quotes.json", query=query)
        assert status == 400, query
        assert_error_shape(status, body)


def test_history_answers_daily_closes(app: Any) -> None:
    status, _, body = call(app, "market_history.json")
    assert status == 200, body
    assert body["symbol"] == "AAPL"
    assert body["closes"][-1]["close"] == "101.25"  # the last settled session
    assert body["closes"][-1]["volume"] is None
    status, _, body = call(app, "market_history.json", query={"symbol": "AAPL", "range": "7y"})
    assert status == 400
    assert_error_shape(status, body)


def test_legacy_market_data_in_the_existing_apps_shape(app: Any) -> None:
    status, _, body = call(
        app, "legacy_market_data.json", query={"type": "us-stock", "symbols": "AAPL,MSFT,GOOG"}
    )
    assert status == 200, body
    assert body["success"] is True
    aapl = body["data"]["AAPL"]
    assert {k: aapl[k] for k in ("ticker", "price", "change", "changePercent", "currency")} == {
        "ticker": "AAPL",
        "price": 200,  # numbers, as the existing app expects
        "change": 1.5,
        "changePercent": 0.5,
        "currency": "USD",
    }
    assert aapl["name"] == "AAPL Inc."
    assert aapl["lastUpdated"] == "2026-11-27T06:00:00+00:00"
    # unpriced: not in `data` (the app keeps its old price), listed with why
    assert "GOOG" not in body["data"]
    assert body["unavailable"] == ["GOOG"]
    assert [e["ticker"] for e in body["errors"]] == ["GOOG"]


def test_legacy_rates_are_keyed_like_usd_jpy(app: Any) -> None:
    status, _, body = call(
        app, "legacy_market_data.json", query={"type": "exchange-rate", "symbols": "USDJPY"}
    )
    assert status == 200, body
    assert list(body["data"]) == ["USD-JPY"]
    assert body["data"]["USD-JPY"]["rate"] == 150
    assert body["data"]["USD-JPY"]["target"] == "JPY"


def test_legacy_jp_stock_keeps_the_requested_code(app: Any) -> None:
    status, _, body = call(
        app, "legacy_market_data.json", query={"type": "jp-stock", "symbols": "7203"}
    )
    assert status == 200, body
    assert body["data"]["7203"]["price"] == 2500


def test_legacy_unknown_type_is_400_and_a_stock_type_is_only_a_guess(app: Any) -> None:
    status, _, body = call(app, "legacy_market_data.json", query={"type": "crypto", "symbols": "B"})
    assert status == 400
    assert_error_shape(status, body)
    # the app guesses the type from the symbol's shape: a stock is priced as what it is
    status, _, body = call(
        app, "legacy_market_data.json", query={"type": "jp-stock", "symbols": "AAPL"}
    )
    assert status == 200
    assert body["data"]["AAPL"]["currency"] == "USD"


def test_when_every_source_fails_nothing_is_invented(
    app: Any, container: Container, clock: FixedClock
) -> None:
    container.market.override(providers.Object(market_service(clock, failing=True)))
    status, _, body = call(app, "legacy_market_data.json")
    assert status == 200
    assert body["success"] is False
    assert body["data"] is None
    assert body["unavailable"] == ["AAPL"]


def test_legacy_numbers_are_written_with_exactly_their_digits() -> None:
    import json
    from decimal import Decimal

    from portfoliowise.handlers.presenters import json_with_numbers

    text = json_with_numbers({"price": Decimal("301.45"), "change": Decimal("-0.0001")})
    assert text == '{"price": 301.45, "change": -0.0001}'
    assert json.loads(text, parse_float=Decimal) == {
        "price": Decimal("301.45"),
        "change": Decimal("-0.0001"),
    }
    # a string that looks like a marker stays a string
    assert json_with_numbers({"name": "0123456789abcdef:5"}) == '{"name": "0123456789abcdef:5"}'
