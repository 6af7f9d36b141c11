"""Symbols: every accepted spelling of Tokyo stocks, US stocks, Japanese funds and FX pairs
normalises to one canonical code and market; anything else is a typed error naming it."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portfoliowise.domain.errors import UnknownSymbolError, ValidationError
from portfoliowise.domain.instruments import (
    FUND_PRICE_UNIT,
    Instrument,
    Market,
    instrument_from_cache_key,
    normalise_symbol,
    parse_symbol,
)
from portfoliowise.domain.money import EUR, JPY, USD


@pytest.mark.parametrize(
    ("raw", "code", "market"),
    [
        # Tokyo
        ("7203", "7203", Market.JP),
        ("7203.T", "7203", Market.JP),
        ("7203.t", "7203", Market.JP),
        ("7203.JP", "7203", Market.JP),
        (" 7203.TYO ", "7203", Market.JP),
        ("130A", "130A", Market.JP),
        ("130a.T", "130A", Market.JP),
        # US
        ("AAPL", "AAPL", Market.US),
        ("aapl", "AAPL", Market.US),
        ("AAPL.US", "AAPL", Market.US),
        ("BRK-B", "BRK-B", Market.US),
        ("BRK.B", "BRK-B", Market.US),
        ("BRK/B", "BRK-B", Market.US),
        ("brk-b", "BRK-B", Market.US),
        ("T", "T", Market.US),
        # Japanese funds (8-character association codes)
        ("0331418A", "0331418A", Market.FUND),
        ("0331418a", "0331418A", Market.FUND),
        ("03311187", "03311187", Market.FUND),
        # FX
        ("USD-JPY", "USD-JPY", Market.FX),
        ("USDJPY", "USD-JPY", Market.FX),
        ("USDJPY=X", "USD-JPY", Market.FX),
        ("usd/jpy", "USD-JPY", Market.FX),
        ("JPY=X", "USD-JPY", Market.FX),
        ("EURUSD=X", "EUR-USD", Market.FX),
    ],
)
def test_accepted_spellings_normalise(raw: str, code: str, market: Market) -> None:
    instrument = parse_symbol(raw)

    assert instrument == Instrument(code, market)
    assert instrument.symbol == code
    assert normalise_symbol(raw) == code
    assert str(instrument) == code


@pytest.mark.parametrize(
    ("symbol", "currency"),
    [("7203", JPY), ("AAPL", USD), ("0331418A", JPY), ("USD-JPY", JPY), ("JPY-EUR", EUR)],
)
def test_instrument_currency(symbol: str, currency: object) -> None:
    assert parse_symbol(symbol).currency == currency


def test_lot_sizes() -> None:
    tokyo, us, fund = parse_symbol("7203"), parse_symbol("AAPL"), parse_symbol("0331418A")

    assert tokyo.lot_size() == Decimal(100)
    assert tokyo.lot_size(allow_fractional=True) == Decimal(100)
    assert us.lot_size() == Decimal(1)
    assert us.lot_size(allow_fractional=True) == Decimal("0.0001")
    assert fund.lot_size() == Decimal(1)


def test_funds_are_bought_by_amount_and_priced_per_10000_units() -> None:
    fund = parse_symbol("0331418A")

    assert fund.bought_by_amount
    assert fund.price_unit == FUND_PRICE_UNIT == Decimal(10_000)
    # 基準価額 25,000 JPY per 10,000 units: 30,000 units are worth 75,000 JPY.
    assert fund.value_of(Decimal(30_000), Decimal(25_000)) == Decimal(75_000)


def test_stocks_are_bought_by_quantity_and_priced_per_share() -> None:
    for symbol in ("7203", "AAPL"):
        stock = parse_symbol(symbol)
        assert not stock.bought_by_amount
        assert stock.price_unit == Decimal(1)
        assert stock.value_of(Decimal(100), Decimal("2500.5")) == Decimal(250_050)


@pytest.mark.parametrize(
    ("symbol", "yahoo"),
    [("7203", "7203.T"), ("BRK.B", "BRK-B"), ("USD-JPY", "USDJPY=X"), ("0331418A", None)],
)
def test_yahoo_symbol(symbol: str, yahoo: str | None) -> None:
    assert parse_symbol(symbol).yahoo_symbol == yahoo


# -- cache keys ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("symbol", "key"),
    [
        ("7203.T", "7203#JP"),
        ("BRK.B", "BRK-B#US"),
        ("0331418A", "0331418A#FUND"),
        ("USDJPY=X", "USD-JPY#FX"),
    ],
)
def test_cache_key_is_symbol_hash_market(symbol: str, key: str) -> None:
    instrument = parse_symbol(symbol)

    assert instrument.cache_key == key
    assert instrument_from_cache_key(key) == instrument


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("7203", "symbol#market"),
        ("7203#XX", "unknown market"),
        ("7203#jp", "unknown market"),
        ("AAPL#JP", "is not a JP symbol"),
        ("7203#US", "is not a US symbol"),
    ],
)
def test_malformed_cache_keys_raise_naming_the_key(key: str, reason: str) -> None:
    with pytest.raises(UnknownSymbolError, match=reason) as raised:
        instrument_from_cache_key(key)

    assert raised.value.symbol == key
    assert repr(key) in str(raised.value)


# -- errors ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "AAPL.T",  # a Tokyo suffix on a non-Tokyo code
        "72030.T",
        "1B3A",  # B is never used in JPX alphanumeric codes
        "TOOLONG",
        "ABCDEFGH",  # 8 characters but no digit: not a fund code
        "USDUSD",
        "XXXYYY",
        "USD=X",
        "BRK.BBB",
        "GOOG!",
        "12345",
        "A" * 17,
    ],
)
def test_malformed_or_unknown_symbols_raise_naming_the_symbol(raw: str) -> None:
    with pytest.raises(UnknownSymbolError) as raised:
        parse_symbol(raw)

    assert raised.value.symbol == raw
    assert repr(raw) in str(raised.value)
    assert isinstance(raised.value, ValidationError)


def test_a_non_string_symbol_is_a_typed_error() -> None:
    with pytest.raises(UnknownSymbolError, match="None"):
        parse_symbol(None)  # type: ignore[arg-type]


# -- properties ------------------------------------------------------------------------

_DIGITS = "0123456789"
_TSE = "0123456789ACDFGHJKLMNPRSTUWXY"
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_CURRENCIES = ["JPY", "USD", "EUR", "GBP", "AUD", "HKD"]

tokyo_spellings = st.builds(
    lambda a, b, c, d, suffix: f"{a}{b}{c}{d}{suffix}",
    st.sampled_from(_DIGITS),
    st.sampled_from(_TSE),
    st.sampled_from(_DIGITS),
    st.sampled_from(_TSE),
    st.sampled_from(["", ".T", ".JP", ".t"]),
)
us_spellings = st.builds(
    lambda root, cls, sep, suffix: f"{root}{sep + cls if cls else ''}{suffix}",
    st.text(_LETTERS, min_size=1, max_size=5),
    st.text(_LETTERS, max_size=2),
    st.sampled_from([".", "-", "/"]),
    st.sampled_from(["", ".US"]),
)
fund_spellings = st.text(_DIGITS + _LETTERS, min_size=7, max_size=7).flatmap(
    lambda rest: st.sampled_from(_DIGITS).map(lambda d: d + rest)
)
fx_spellings = st.builds(
    lambda pair, sep, yahoo: f"{pair[0]}{sep}{pair[1]}{yahoo}",
    st.permutations(_CURRENCIES).map(lambda c: (c[0], c[1])),
    st.sampled_from(["", "-", "/"]),
    st.sampled_from(["", "=X"]),
)
any_text = st.text(_DIGITS + _LETTERS + ".-/= ", max_size=12)


@given(st.one_of(tokyo_spellings, us_spellings, fund_spellings, fx_spellings, any_text))
def test_normalisation_is_idempotent(raw: str) -> None:
    case_variants = (raw, raw.lower(), f"  {raw}  ")
    try:
        code = normalise_symbol(raw)
    except UnknownSymbolError:
        for variant in case_variants:  # every spelling of a bad symbol is refused alike
            with pytest.raises(UnknownSymbolError):
                parse_symbol(variant)
        return

    assert normalise_symbol(code) == code
    assert parse_symbol(code) == parse_symbol(raw)
    for variant in case_variants:
        assert normalise_symbol(variant) == code


@given(st.one_of(tokyo_spellings, us_spellings, fund_spellings, fx_spellings))
def test_cache_keys_round_trip(raw: str) -> None:
    try:
        instrument = parse_symbol(raw)
    except UnknownSymbolError:
        return  # e.g. a US spelling that is also a Tokyo suffix (`AB.JP`)

    assert instrument_from_cache_key(instrument.cache_key) == instrument
