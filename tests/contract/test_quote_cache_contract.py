"""QuoteCache: the latest quote per instrument, fresh for 1 h, kept for stale serving,
never a price for an unavailable quote."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from contract_stores import Stores

from portfoliowise.domain.instruments import parse_symbol
from portfoliowise.domain.money import Money
from portfoliowise.domain.quotes import QUOTE_FRESH_FOR, QUOTE_KEPT_FOR, Quote, QuoteStatus


def _quote(stores: Stores, symbol: str, price: str, currency: str) -> Quote:
    return Quote(
        symbol=parse_symbol(symbol).symbol,
        price=Money.of(price, currency),
        status=QuoteStatus.LIVE,
        source="yahoo",
        as_of=stores.clock.now() - timedelta(minutes=3),
        change=Decimal("-12.5"),
        change_percent=Decimal("-0.4321"),
        volume=Decimal("1234500"),
        name="トヨタ自動車",
    )


def test_quotes_read_back_exactly(stores: Stores) -> None:
    quotes = [
        _quote(stores, "7203", "2891.5", "JPY"),
        _quote(stores, "AAPL", "234.07", "USD"),
        _quote(stores, "0331418A", "28345", "JPY"),
        _quote(stores, "USD-JPY", "155.234", "JPY"),
    ]
    expires = stores.clock.now() + QUOTE_FRESH_FOR
    stores.quotes.put_many(quotes, expires)
    found = stores.quotes.get_many(
        [parse_symbol(s) for s in ["7203", "AAPL", "0331418A", "USDJPY"]]
    )
    assert set(found) == {"7203", "AAPL", "0331418A", "USD-JPY"}
    for quote in quotes:
        assert found[quote.symbol].quote == quote
        assert found[quote.symbol].expires_at == expires


def test_unknown_symbols_are_simply_absent(stores: Stores) -> None:
    stores.quotes.put_many([_quote(stores, "7203", "2891", "JPY")], stores.clock.now())
    assert stores.quotes.get_many([parse_symbol("MSFT"), parse_symbol("6758")]) == {}
    assert stores.quotes.get_many([]) == {}


def test_an_unavailable_quote_is_never_cached(stores: Stores) -> None:
    stores.quotes.put_many([Quote.unavailable("MSFT")], stores.clock.now() + QUOTE_FRESH_FOR)
    assert stores.quotes.get_many([parse_symbol("MSFT")]) == {}


def test_a_newer_quote_replaces_the_older(stores: Stores) -> None:
    stores.quotes.put_many([_quote(stores, "7203", "2891", "JPY")], stores.clock.now())
    stores.clock.advance(timedelta(minutes=10))
    newer = _quote(stores, "7203", "2900", "JPY")
    stores.quotes.put_many([newer], stores.clock.now() + QUOTE_FRESH_FOR)
    assert stores.quotes.get_many([parse_symbol("7203.T")])["7203"].quote == newer


def test_past_fresh_quotes_are_kept_for_stale_serving_then_dropped(stores: Stores) -> None:
    quote = _quote(stores, "AAPL", "234.07", "USD")
    expires = stores.clock.now() + QUOTE_FRESH_FOR
    stores.quotes.put_many([quote], expires)
    stores.clock.advance(QUOTE_FRESH_FOR + timedelta(hours=5))
    kept = stores.quotes.get_many([parse_symbol("AAPL")])
    assert kept["AAPL"].quote == quote
    assert kept["AAPL"].expires_at < stores.clock.now()
    stores.clock.set(expires + QUOTE_KEPT_FOR)
    assert stores.quotes.get_many([parse_symbol("AAPL")]) == {}


def test_many_symbols_in_one_call(stores: Stores) -> None:
    codes = [f"{1300 + i}" for i in range(250)]
    quotes = [_quote(stores, code, str(1000 + i), "JPY") for i, code in enumerate(codes)]
    stores.quotes.put_many(quotes, stores.clock.now() + QUOTE_FRESH_FOR)
    found = stores.quotes.get_many([parse_symbol(code) for code in codes])
    assert len(found) == 250
    assert found["1549"].quote.price == Money.of("1249", "JPY")
