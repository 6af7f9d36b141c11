"""Currencies and money: minor units, exact Decimal arithmetic, typed errors, parsing, and
rounding that happens only when presenting."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portfoliowise.domain.errors import (
    CurrencyMismatchError,
    UnknownCurrencyError,
    ValidationError,
)
from portfoliowise.domain.money import EUR, JPY, USD, Currency, Money, to_decimal

# -- currencies -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "minor_unit", "quantum"),
    [
        ("JPY", 0, Decimal(1)),
        ("USD", 2, Decimal("0.01")),
        ("EUR", 2, Decimal("0.01")),
        ("KRW", 0, Decimal(1)),
    ],
)
def test_currency_knows_its_minor_unit(code: str, minor_unit: int, quantum: Decimal) -> None:
    currency = Currency.of(code)

    assert currency.code == code
    assert currency.minor_unit == minor_unit
    assert currency.quantum == quantum


def test_currency_codes_are_normalised_and_shared() -> None:
    assert Currency.of(" usd ") is USD
    assert Currency.of("jpy") is JPY
    assert Currency.of(EUR) is EUR
    assert str(USD) == "USD"


@pytest.mark.parametrize("code", ["XYZ", "", "US", "DOLLAR", "  "])
def test_unknown_currency_is_a_typed_error(code: str) -> None:
    with pytest.raises(UnknownCurrencyError) as raised:
        Currency.of(code)

    assert raised.value.currency == code
    assert isinstance(raised.value, ValidationError)


def test_is_known() -> None:
    assert Currency.is_known("usd")
    assert not Currency.is_known("XYZ")


# -- construction and arithmetic ------------------------------------------------------


def test_money_of_accepts_decimal_strings_ints_and_decimals() -> None:
    assert Money.of("1500.50", "USD") == Money(Decimal("1500.50"), USD)
    assert Money.of(300_000, "JPY") == Money(Decimal(300_000), JPY)
    assert Money.of(Decimal("0.1"), USD).amount == Decimal("0.1")
    assert Money.of("1,000", "JPY").amount == Decimal(1000)


def test_money_refuses_float_amounts() -> None:
    with pytest.raises(TypeError):
        Money(1.5, USD)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="decimal string or integer"):
        Money.of(1.5, USD)
    with pytest.raises(ValidationError):
        to_decimal(0.1)


@pytest.mark.parametrize("value", [True, None, [1], "abc", "NaN", "Infinity", "-inf", ""])
def test_to_decimal_refuses_non_numbers(value: object) -> None:
    with pytest.raises(ValidationError):
        to_decimal(value)


def test_money_refuses_non_finite_decimals() -> None:
    with pytest.raises(ValidationError):
        Money(Decimal("NaN"), USD)
    with pytest.raises(ValidationError):
        Money(Decimal("Infinity"), JPY)


def test_money_refuses_a_currency_code_in_place_of_a_currency() -> None:
    with pytest.raises(TypeError):
        Money(Decimal(1), "USD")  # type: ignore[arg-type]


def test_arithmetic_in_one_currency_is_exact() -> None:
    a = Money.of("0.1", USD)
    b = Money.of("0.2", USD)

    assert a + b == Money.of("0.3", USD)
    assert b - a == Money.of("0.1", USD)
    assert -a == Money.of("-0.1", USD)
    assert a * 3 == Money.of("0.3", USD)
    assert 3 * a == Money.of("0.3", USD)
    assert a * Decimal("2.5") == Money.of("0.25", USD)
    assert Money.of(1, USD) / 3 == Money(Decimal(1) / 3, USD)
    assert b.ratio(a) == Decimal(2)


def test_money_compares_within_one_currency() -> None:
    small, big = Money.of(1, JPY), Money.of(2, JPY)

    assert small < big
    assert small <= big
    assert big > small
    assert big >= small
    assert Money.zero(JPY).is_zero()
    assert big.is_positive()
    assert not (-big).is_positive()


@pytest.mark.parametrize(
    "combine",
    [
        lambda a, b: a + b,
        lambda a, b: a - b,
        lambda a, b: a < b,
        lambda a, b: a <= b,
        lambda a, b: a > b,
        lambda a, b: a >= b,
        lambda a, b: a.ratio(b),
    ],
)
def test_mixing_currencies_is_a_typed_error(combine) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(CurrencyMismatchError, match="JPY"):
        combine(Money.of(100, USD), Money.of(100, JPY))


def test_money_only_combines_with_money_and_scales_by_decimals() -> None:
    with pytest.raises(TypeError):
        Money.of(1, USD) + Decimal(1)  # type: ignore[operator]
    with pytest.raises(TypeError):
        Money.of(1, USD) * 1.5  # type: ignore[operator]
    with pytest.raises(TypeError):
        Money.of(1, USD) * True
    with pytest.raises(TypeError):
        Money.of(1, USD) / 2.0  # type: ignore[operator]


def test_equal_amounts_in_different_currencies_are_not_equal() -> None:
    assert Money.of(100, USD) != Money.of(100, JPY)


# -- parsing ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("300000JPY", Money(Decimal(300000), JPY)),
        ("300,000 JPY", Money(Decimal(300000), JPY)),
        ("1,000.50 USD", Money(Decimal("1000.50"), USD)),
        ("1500.50USD", Money(Decimal("1500.50"), USD)),
        ("  250 usd  ", Money(Decimal(250), USD)),
        ("0.125EUR", Money(Decimal("0.125"), EUR)),
        ("1_000JPY", Money(Decimal(1000), JPY)),
    ],
)
def test_parse_accepts_amount_then_currency(text: str, expected: Money) -> None:
    assert Money.parse(text) == expected


def test_parse_keeps_full_precision() -> None:
    assert Money.parse("12.345USD").amount == Decimal("12.345")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "JPY",
        "300000",
        "USD 100",  # the currency comes last
        "abcJPY",
        "1.2.3USD",
        "NaN USD",
        "Infinity JPY",
        "1 0 0 ¥",
    ],
)
def test_parse_rejects_malformed_input(text: str) -> None:
    with pytest.raises(ValidationError):
        Money.parse(text)


def test_parse_rejects_unknown_currency_with_the_typed_error() -> None:
    with pytest.raises(UnknownCurrencyError):
        Money.parse("100 XYZ")


# -- rounding only at presentation -----------------------------------------------------


def test_amounts_keep_full_precision_until_presented() -> None:
    price = Money.of("1912.5", JPY)

    assert price.amount == Decimal("1912.5")
    assert (price * 3).amount == Decimal("5737.5")


@pytest.mark.parametrize(
    ("amount", "currency", "half_up", "up", "down"),
    [
        ("1912.5", JPY, "1913", "1913", "1912"),
        ("1912.4", JPY, "1912", "1913", "1912"),
        ("-1912.5", JPY, "-1913", "-1912", "-1913"),
        ("12.345", USD, "12.35", "12.35", "12.34"),
        ("12.344", USD, "12.34", "12.35", "12.34"),
        ("12.3", USD, "12.30", "12.30", "12.30"),
        ("-0.015", USD, "-0.02", "-0.01", "-0.02"),
    ],
)
def test_rounding_to_the_minor_unit(
    amount: str, currency: Currency, half_up: str, up: str, down: str
) -> None:
    money = Money.of(amount, currency)

    assert str(money.rounded().amount) == half_up
    assert str(money.rounded_up().amount) == up
    assert str(money.rounded_down().amount) == down
    assert money.amount == Decimal(amount)  # the original is untouched


def test_to_json_presents_a_rounded_decimal_string() -> None:
    assert Money.of("1912.5", JPY).to_json() == {"amount": "1913", "currency": "JPY"}
    assert Money.of("12.3", USD).to_json() == {"amount": "12.30", "currency": "USD"}
    assert Money.of("0.005", USD).to_json() == {"amount": "0.01", "currency": "USD"}
    assert Money(Decimal("1E+3"), JPY).to_json() == {"amount": "1000", "currency": "JPY"}


def test_exact_json_keeps_extra_decimals_but_never_fewer_than_the_minor_unit() -> None:
    assert Money.of("1912.5", JPY).exact_json() == {"amount": "1912.5", "currency": "JPY"}
    assert Money.of("12.3", USD).exact_json() == {"amount": "12.30", "currency": "USD"}
    assert Money.of("0.12345", USD).exact_json() == {"amount": "0.12345", "currency": "USD"}
    assert Money(Decimal("1.5E+3"), JPY).exact_json() == {"amount": "1500", "currency": "JPY"}


def test_display() -> None:
    assert Money.of("1234.4", JPY).display() == "1,234 JPY"
    assert str(Money.of("12.3", USD)) == "12.30 USD"
    assert Money.of("1912.5", JPY).display(exact=True) == "1,912.5 JPY"
    assert Money.of("-1234567.891", USD).display() == "-1,234,567.89 USD"


# -- properties ------------------------------------------------------------------------

CURRENCIES = st.sampled_from([JPY, USD, EUR, Currency.of("KRW")])
# Realistic amounts: up to 10^12 with up to 8 decimals fit Decimal's 28 digits exactly.
AMOUNTS = st.decimals(
    min_value=Decimal("-1e12"), max_value=Decimal("1e12"), places=8, allow_nan=False
)


@given(AMOUNTS, AMOUNTS, CURRENCIES)
def test_addition_is_exact(a: Decimal, b: Decimal, currency: Currency) -> None:
    total = Money(a, currency) + Money(b, currency)

    assert total.amount == a + b
    assert (total - Money(b, currency)).amount == a
    assert Money(a, currency) + Money(b, currency) == Money(b, currency) + Money(a, currency)


@given(AMOUNTS, CURRENCIES)
def test_rounding_lands_on_the_minor_unit(amount: Decimal, currency: Currency) -> None:
    money = Money(amount, currency)
    half = currency.quantum / 2

    for rounded in (money.rounded(), money.rounded_up(), money.rounded_down()):
        assert rounded.currency == currency
        assert rounded.amount.as_tuple().exponent == -currency.minor_unit
        assert abs(rounded.amount - amount) <= currency.quantum
    assert abs(money.rounded().amount - amount) <= half
    assert money.rounded_down().amount <= amount <= money.rounded_up().amount
    assert Decimal(money.to_json()["amount"]) == money.rounded().amount


@given(AMOUNTS, CURRENCIES)
def test_parse_reads_what_display_writes(amount: Decimal, currency: Currency) -> None:
    money = Money(amount, currency)

    assert Money.parse(money.display(exact=True)) == money
