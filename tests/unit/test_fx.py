"""FX rates: direct, inverse and cross (through the USD pivot) lookups, and the typed error
for a rate that cannot be derived: nothing is ever left unconverted."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portfoliowise.domain.errors import MissingRateError, ValidationError
from portfoliowise.domain.fx import FxRate, RateTable
from portfoliowise.domain.money import EUR, JPY, USD, Currency, Money

GBP = Currency.of("GBP")
AUD = Currency.of("AUD")


def usd_jpy(rate: str = "150") -> FxRate:
    return FxRate(USD, JPY, Decimal(rate))


def test_rate_names_its_pair_and_inverts() -> None:
    rate = usd_jpy("150")

    assert rate.pair == "USD-JPY"
    assert rate.inverse().pair == "JPY-USD"
    assert rate.inverse().rate == 1 / Decimal(150)


@pytest.mark.parametrize("bad", [Decimal(0), Decimal(-150), Decimal("NaN"), Decimal("Infinity")])
def test_rate_must_be_a_positive_finite_decimal(bad: Decimal) -> None:
    with pytest.raises(ValidationError):
        FxRate(USD, JPY, bad)


def test_rate_refuses_floats_and_one_currency_pairs() -> None:
    with pytest.raises(ValidationError):
        FxRate(USD, JPY, 150.0)  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        FxRate(USD, USD, Decimal(1))


def test_direct_rate() -> None:
    table = RateTable([usd_jpy("150")])

    assert table.rate(USD, JPY) == Decimal(150)
    assert table.convert(Money.of("10.50", USD), JPY) == Money.of("1575", JPY)


def test_inverse_rate() -> None:
    table = RateTable([usd_jpy("150")])

    assert table.rate(JPY, USD) == 1 / Decimal(150)
    assert table.convert(Money.of(15000, JPY), USD) == Money.of(100, USD)


def test_cross_rate_through_the_usd_pivot() -> None:
    # 1 EUR = 1.10 USD, 1 USD = 150 JPY  =>  1 EUR = 165 JPY
    table = RateTable([FxRate(EUR, USD, Decimal("1.10")), usd_jpy("150")])

    assert table.rate(EUR, JPY) == Decimal("165.0")
    assert table.convert(Money.of(100, EUR), JPY) == Money.of(16500, JPY)
    assert table.convert(Money.of(16500, JPY), EUR).rounded() == Money.of("100.00", EUR)


def test_a_direct_rate_wins_over_the_cross_rate() -> None:
    table = RateTable(
        [FxRate(EUR, USD, Decimal("1.10")), usd_jpy("150"), FxRate(EUR, JPY, Decimal(160))]
    )

    assert table.rate(EUR, JPY) == Decimal(160)


def test_same_currency_conversion_is_the_identity_without_any_rate() -> None:
    table = RateTable()
    money = Money.of("12.345", USD)

    assert table.rate(USD, USD) == Decimal(1)
    assert table.convert(money, USD) is money


def test_missing_rate_raises_the_typed_error() -> None:
    table = RateTable([usd_jpy()])

    with pytest.raises(MissingRateError) as raised:
        table.convert(Money.of(100, EUR), GBP)

    assert (raised.value.base, raised.value.quote) == ("EUR", "GBP")
    assert table.find(EUR, GBP) is None
    assert not table.has(EUR, GBP)


def test_missing_second_leg_of_a_cross_rate_raises() -> None:
    table = RateTable([FxRate(EUR, USD, Decimal("1.10"))])

    with pytest.raises(MissingRateError):
        table.convert(Money.of(100, EUR), JPY)


def test_no_cross_rate_without_a_pivot() -> None:
    table = RateTable([FxRate(EUR, USD, Decimal("1.10")), usd_jpy()], pivots=())

    assert table.has(EUR, USD)
    with pytest.raises(MissingRateError):
        table.rate(EUR, JPY)


def test_other_pivots_can_be_configured() -> None:
    table = RateTable(
        [FxRate(AUD, JPY, Decimal(100)), FxRate(GBP, JPY, Decimal(200))], pivots=(USD, JPY)
    )

    assert table.rate(GBP, AUD) == Decimal(2)


def test_a_later_rate_for_the_same_pair_replaces_the_earlier_one() -> None:
    table = RateTable([usd_jpy("150")])
    table.add(usd_jpy("155"))

    assert len(table) == 1
    assert [r.rate for r in table] == [Decimal(155)]


# -- properties ------------------------------------------------------------------------

RATES = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal(10_000), places=4)
AMOUNTS = st.decimals(min_value=Decimal(0), max_value=Decimal("1e12"), places=2)
OTHERS = st.sampled_from([JPY, EUR, GBP, AUD])


def close(a: Decimal, b: Decimal, relative: Decimal = Decimal("1e-20")) -> bool:
    return abs(a - b) <= relative * max(abs(a), abs(b), Decimal(1))


@given(AMOUNTS, RATES, OTHERS, st.booleans())
def test_there_and_back_returns_the_amount(
    amount: Decimal, rate: Decimal, other: Currency, stored_inverse: bool
) -> None:
    fx = FxRate(USD, other, rate)
    table = RateTable([fx.inverse() if stored_inverse else fx])
    money = Money(amount, USD)

    back = table.convert(table.convert(money, other), USD)

    assert back.currency == USD
    assert close(back.amount, amount)
    assert abs(back.rounded().amount - money.rounded().amount) <= USD.quantum


@given(RATES, RATES, st.sampled_from([(EUR, JPY), (GBP, AUD), (JPY, GBP)]))
def test_cross_rates_agree_with_direct_rates(
    usd_a: Decimal, usd_b: Decimal, pair: tuple[Currency, Currency]
) -> None:
    a, b = pair
    cross = RateTable([FxRate(USD, a, usd_a), FxRate(b, USD, 1 / usd_b)])
    direct = RateTable([FxRate(a, b, usd_b / usd_a)])

    assert close(cross.rate(a, b), direct.rate(a, b))
    assert close(cross.rate(b, a), direct.rate(b, a))
    assert close(cross.rate(a, b) * cross.rate(b, a), Decimal(1))
