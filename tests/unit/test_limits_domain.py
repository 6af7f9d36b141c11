"""The limits of `domain.limits`, enforced by the domain's constructors: `OutOfRange`
(`out_of_range`) names the field and the limit, and never quotes a long value whole."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from portfoliowise.domain.errors import (
    OutOfRange,
    UnknownCurrencyError,
    UnknownSymbolError,
    ValidationError,
)
from portfoliowise.domain.fx import FxRate, RateTable
from portfoliowise.domain.limits import (
    MAX_AMOUNT,
    MAX_DECIMAL_PLACES,
    MAX_HOLDINGS,
    MAX_NAME_LENGTH,
    MAX_PRICE,
    MAX_QUANTITY,
    MAX_TARGETS,
    MAX_TEXT_LENGTH,
    MIN_STEP,
    decimal_places,
)
from portfoliowise.domain.money import JPY, USD, Currency, Money, to_decimal
from portfoliowise.domain.portfolio import Holding, Portfolio
from portfoliowise.domain.quotes import Quote, QuoteStatus
from portfoliowise.domain.simulation import SimulationMode, SimulationOptions, simulate

AT = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)
LONG = "x" * 100_000  # a 100 KB text
SHORT_MESSAGE = 300  # characters: an error message quotes a value, never all of it


def new_portfolio(**overrides: Any) -> Portfolio:
    fields: dict[str, Any] = {
        "user_id": "u1",
        "portfolio_id": "p1",
        "name": "NISA",
        "base_currency": JPY,
        "created_at": AT,
        "holdings": [Holding.of("7203", 100)],
        "targets": {"7203": 100},
    }
    return Portfolio(**{**fields, **overrides})


def tokyo_codes(count: int) -> list[str]:
    """`count` distinct Tokyo codes (1000-9999), then 8-character fund codes."""
    codes = [str(code) for code in range(1000, 10_000)]
    codes += [f"{n:07d}A" for n in range(count)]
    return codes[:count]


def assert_out_of_range(caught: pytest.ExceptionInfo[OutOfRange], field: str) -> None:
    error = caught.value
    assert isinstance(error, ValidationError)
    assert error.code == "out_of_range"
    assert error.field == field
    assert error.limit
    assert len(str(error)) < SHORT_MESSAGE, str(error)


# -- quantities -------------------------------------------------------------------------
@pytest.mark.parametrize(
    "quantity",
    ["1e40", "-1", "-0.0001", str(MAX_QUANTITY + MIN_STEP), "1.00000000001", "1e-11", "1" * 5000],
)
def test_a_quantity_outside_the_limits_is_refused(quantity: str) -> None:
    with pytest.raises(OutOfRange) as caught:
        Holding.of("7203", quantity)
    assert_out_of_range(caught, "quantity")
    assert "7203 quantity" in str(caught.value)


@pytest.mark.parametrize(
    "quantity", ["0", str(MAX_QUANTITY), "0.0000000001", "12.5000000000000000", "1E+3"]
)
def test_a_quantity_within_the_limits_is_kept_as_given(quantity: str) -> None:
    assert Holding.of("VTI", quantity).quantity == Decimal(quantity)


def test_decimal_places_do_not_count_trailing_zeros() -> None:
    assert decimal_places(Decimal("1.50")) == 1
    assert decimal_places(Decimal("1E+3")) == 0
    assert decimal_places(Decimal("0E-20")) == 0
    assert decimal_places(Decimal("0.0000000001")) == MAX_DECIMAL_PLACES
    assert decimal_places(Decimal("1.00000000001")) == MAX_DECIMAL_PLACES + 1


def test_a_holding_changed_beyond_the_limits_is_refused_and_nothing_changes() -> None:
    portfolio = new_portfolio()
    with pytest.raises(OutOfRange):
        portfolio.set_quantity("7203", Decimal("1e40"), at=AT)
    assert portfolio.holding("7203") == Holding.of("7203", 100)
    assert portfolio.pull_events() == []


# -- amounts ----------------------------------------------------------------------------
@pytest.mark.parametrize("amount", [MAX_AMOUNT * 10, Decimal(-1), Decimal("0.00000000001")])
def test_a_cost_basis_outside_the_limits_is_refused(amount: Decimal) -> None:
    with pytest.raises(OutOfRange) as caught:
        Holding.of("7203", 100, cost_basis=Money(amount, JPY))
    assert_out_of_range(caught, "costBasis")


def test_a_cost_basis_at_the_limit_is_accepted() -> None:
    holding = Holding.of("7203", 100, cost_basis=Money(MAX_AMOUNT, JPY))
    assert holding.cost_basis == Money(MAX_AMOUNT, JPY)


# -- texts ------------------------------------------------------------------------------
@pytest.mark.parametrize("field", ["name", "sector", "region"])
def test_a_holding_text_longer_than_the_limit_is_refused(field: str) -> None:
    longest: dict[str, Any] = {field: "x" * MAX_TEXT_LENGTH}
    too_long: dict[str, Any] = {field: LONG}
    assert getattr(Holding.of("7203", 1, **longest), field)
    with pytest.raises(OutOfRange) as caught:
        Holding.of("7203", 1, **too_long)
    assert_out_of_range(caught, field)


def test_an_asset_class_text_of_100_kb_is_out_of_range_not_echoed() -> None:
    with pytest.raises(OutOfRange) as caught:
        Holding.of("7203", 1, asset_class=LONG)
    assert_out_of_range(caught, "assetClass")
    with pytest.raises(ValidationError, match="unknown asset class 'stonks'"):
        Holding.of("7203", 1, asset_class="stonks")


def test_a_holding_text_must_be_a_string() -> None:
    with pytest.raises(ValidationError, match="sector must be a string"):
        Holding.of("7203", 1, sector=5)  # type: ignore[arg-type]


def test_a_portfolio_name_longer_than_the_limit_is_refused() -> None:
    assert new_portfolio(name="x" * MAX_NAME_LENGTH).name == "x" * MAX_NAME_LENGTH
    with pytest.raises(OutOfRange) as caught:
        new_portfolio(name=LONG)
    assert_out_of_range(caught, "name")
    portfolio = new_portfolio()
    with pytest.raises(OutOfRange):
        portfolio.rename("x" * (MAX_NAME_LENGTH + 1), at=AT)
    assert portfolio.name == "NISA"


# -- counts -----------------------------------------------------------------------------
def test_a_portfolio_holds_at_most_max_holdings() -> None:
    codes = tokyo_codes(MAX_HOLDINGS + 1)
    holdings = [Holding.of(code, 100) for code in codes]
    assert len(new_portfolio(holdings=holdings[:MAX_HOLDINGS], targets=None)) == MAX_HOLDINGS
    with pytest.raises(OutOfRange) as caught:
        new_portfolio(holdings=holdings, targets=None)
    assert_out_of_range(caught, "holdings")
    portfolio = new_portfolio(holdings=holdings[:MAX_HOLDINGS], targets=None)
    with pytest.raises(OutOfRange):
        portfolio.add_holding(holdings[-1], at=AT)


def test_a_portfolio_has_at_most_max_targets() -> None:
    codes = tokyo_codes(MAX_TARGETS + 1)
    targets: dict[str, object] = dict.fromkeys(codes, "0")
    targets[codes[0]] = "100"
    with pytest.raises(OutOfRange) as caught:
        new_portfolio(targets=targets)
    assert_out_of_range(caught, "targets")
    del targets[codes[-1]]
    assert len(new_portfolio(targets=targets).targets) == MAX_TARGETS


@pytest.mark.parametrize("targets", [{"7203": "100.5"}, {"7203": "99.99999999999", "VTI": 0}])
def test_a_target_outside_0_to_100_or_too_precise_is_refused(targets: dict[str, object]) -> None:
    with pytest.raises(OutOfRange) as caught:
        new_portfolio(targets=targets)
    assert_out_of_range(caught, "targets")


# -- a stored or backed-up document meets the same limits -------------------------------
@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"quantity": "1e40"}, "quantity"),
        ({"costBasis": {"amount": "1e16", "currency": "JPY"}}, "costBasis"),
        ({"name": LONG}, "name"),
    ],
)
def test_from_json_refuses_what_the_constructors_refuse(change: dict[str, Any], field: str) -> None:
    document = new_portfolio().to_json()
    holdings = document["holdings"]
    assert isinstance(holdings, list)
    holding = holdings[0]
    assert isinstance(holding, dict)
    holding.update(change)
    with pytest.raises(OutOfRange) as caught:
        Portfolio.from_json(document)
    assert_out_of_range(caught, field)


def test_from_json_refuses_a_long_portfolio_name() -> None:
    with pytest.raises(OutOfRange):
        Portfolio.from_json({**new_portfolio().to_json(), "name": LONG})


# -- the simulation's inputs ------------------------------------------------------------
QUOTES = {"7203": Quote("7203", Money.of("2865", "JPY"), QuoteStatus.CACHED, "test", AT)}
RATES = RateTable([FxRate(USD, JPY, Decimal("154.32"))])


@pytest.mark.parametrize(
    ("budget", "field"),
    [
        (Money(MAX_AMOUNT * 10, JPY), "budget"),
        (Money(Decimal("1e40"), USD), "budget"),
        (Money(Decimal("300000.00000000001"), JPY), "budget"),
    ],
)
def test_a_budget_outside_the_limits_is_refused(budget: Money, field: str) -> None:
    with pytest.raises(OutOfRange) as caught:
        simulate(new_portfolio(), QUOTES, RATES, budget)
    assert_out_of_range(caught, field)


def test_a_budget_at_the_limit_is_planned() -> None:
    result = simulate(new_portfolio(), QUOTES, RATES, Money(MAX_AMOUNT, JPY))
    assert result.spent <= Money(MAX_AMOUNT, JPY)
    assert result.orders


def test_a_tolerance_above_100_points_is_refused() -> None:
    options = SimulationOptions(mode=SimulationMode.REBALANCE, tolerance=Decimal(101))
    with pytest.raises(OutOfRange) as caught:
        simulate(new_portfolio(), QUOTES, RATES, Money.of(0, JPY), options)
    assert_out_of_range(caught, "tolerance")


@pytest.mark.parametrize("price", [MAX_PRICE * 10, Decimal("1e-11")])
def test_a_price_outside_the_limits_is_not_planned_with(price: Decimal) -> None:
    quotes = {"7203": Quote("7203", Money(price, JPY), QuoteStatus.CACHED, "test", AT)}
    with pytest.raises(OutOfRange) as caught:
        simulate(new_portfolio(), quotes, RATES, Money.of(300_000, JPY))
    assert_out_of_range(caught, "price")


# -- messages never echo a long input ---------------------------------------------------
@pytest.mark.parametrize(
    "call",
    [
        lambda: to_decimal(LONG, "quantity"),
        lambda: Money.parse(LONG + "JPY"),
        lambda: Money.parse(LONG),
        lambda: Currency.of(LONG),
        lambda: Holding.of(LONG, 1),
    ],
)
def test_errors_quote_a_long_input_cut_short(call: Any) -> None:
    with pytest.raises(ValidationError) as caught:
        call()
    assert len(str(caught.value)) < SHORT_MESSAGE
    assert "100,000 characters" in str(caught.value)


def test_typed_errors_keep_a_short_copy_of_what_was_refused() -> None:
    assert len(UnknownSymbolError(LONG).symbol) <= 40
    assert len(UnknownCurrencyError(LONG).currency) <= 40


# -- rounding any amount the limits allow -----------------------------------------------
def test_amounts_beyond_28_digits_still_round_to_the_minor_unit() -> None:
    # 10,000 holdings of 10^12 shares at 10^9: 10^25 JPY, 10^23 USD at 0.0065 ...
    huge = Money(Decimal("12345678901234567890123456789.555"), USD)
    assert huge.rounded().amount == Decimal("12345678901234567890123456789.56")
    assert huge.rounded_up().amount == Decimal("12345678901234567890123456789.56")
    assert huge.rounded_down().amount == Decimal("12345678901234567890123456789.55")
    assert huge.to_json()["amount"] == "12345678901234567890123456789.56"
    assert huge.display().startswith("12,345,678,901,234,567,890,123,456,789.56")
