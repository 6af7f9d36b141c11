"""Hypothesis properties of valuation and simulation over generated portfolios of Tokyo
stocks, US ETFs and Japanese funds, with a USD-JPY rate and budgets in JPY or USD."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from unittest.mock import patch

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from portfoliowise.domain import simulation
from portfoliowise.domain.allocation import Dimension
from portfoliowise.domain.errors import ValidationError
from portfoliowise.domain.fx import FxRate, RateTable
from portfoliowise.domain.instruments import FUND_PRICE_UNIT, Market, parse_symbol
from portfoliowise.domain.money import JPY, USD, Currency, Money
from portfoliowise.domain.portfolio import Holding, Portfolio
from portfoliowise.domain.quotes import Quote, QuoteStatus
from portfoliowise.domain.simulation import (
    Side,
    Simulation,
    SimulationMode,
    SimulationOptions,
    simulate,
)
from portfoliowise.domain.valuation import value_portfolio

AT = datetime(2024, 6, 3, 6, 0, tzinfo=UTC)
TOKYO = ["7203", "6758", "8306", "9984"]
US = ["VTI", "VOO", "BND", "AAPL"]
FUNDS = ["0331418A", "03311187", "2931113C"]
SYMBOLS = TOKYO + US + FUNDS
PROPERTY_SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
ZERO = Decimal(0)


@dataclass(frozen=True)
class Case:
    portfolio: Portfolio
    quotes: dict[str, Quote]
    rates: RateTable
    usd_jpy: Decimal


def price_of(symbol: str) -> st.SearchStrategy[Money]:
    market = parse_symbol(symbol).market
    if market is Market.JP:  # 50.0 .. 60,000.0 JPY, 0.1 yen ticks
        return st.integers(500, 600_000).map(lambda n: Money(Decimal(n) / 10, JPY))
    if market is Market.US:  # 1.00 .. 1,000.00 USD
        return st.integers(100, 100_000).map(lambda n: Money(Decimal(n) / 100, USD))
    return st.integers(3_000, 80_000).map(lambda n: Money(Decimal(n), JPY))  # per 10,000 units


def quantity_of(symbol: str) -> st.SearchStrategy[Decimal]:
    market = parse_symbol(symbol).market
    if market is Market.JP:  # lots and odd lots
        return st.one_of(
            st.integers(0, 50).map(lambda n: Decimal(n * 100)), st.integers(0, 5_000).map(Decimal)
        )
    if market is Market.US:  # whole or fractional shares
        return st.integers(0, 2_000_000).map(lambda n: Decimal(n) / 10_000)
    return st.integers(0, 3_000_000).map(Decimal)


@st.composite
def targets_summing_to_100(draw: st.DrawFn, symbols: list[str]) -> dict[str, int]:
    n = len(symbols) - 1
    cuts = sorted(draw(st.lists(st.integers(0, 100), min_size=n, max_size=n)))
    bounds = [0, *cuts, 100]
    return {s: bounds[i + 1] - bounds[i] for i, s in enumerate(symbols)}


@st.composite
def cases(draw: st.DrawFn, *, allow_unpriced: bool = False) -> Case:
    held = draw(st.lists(st.sampled_from(SYMBOLS), unique=True, max_size=7))
    targeted = draw(st.lists(st.sampled_from(SYMBOLS), unique=True, min_size=1, max_size=6))
    holdings = []
    for symbol in held:
        cost = draw(st.none() | st.integers(0, 10**7).map(lambda n: Money(Decimal(n), JPY)))
        holdings.append(Holding.of(symbol, draw(quantity_of(symbol)), cost_basis=cost))
    quotes: dict[str, Quote] = {}
    for symbol in dict.fromkeys(held + targeted):
        if allow_unpriced and draw(st.integers(0, 5)) == 0:
            if draw(st.booleans()):
                quotes[symbol] = Quote.unavailable(symbol)
            continue
        status = draw(st.sampled_from([QuoteStatus.LIVE, QuoteStatus.CACHED, QuoteStatus.STALE]))
        quotes[symbol] = Quote(symbol, draw(price_of(symbol)), status, "test", AT)
    usd_jpy = Decimal(draw(st.integers(8_000, 20_000))) / 100  # 80.00 .. 200.00
    with_rate = not allow_unpriced or draw(st.integers(0, 5)) > 0
    rates = RateTable([FxRate(USD, JPY, usd_jpy)] if with_rate else [])
    portfolio = Portfolio(
        user_id="u1",
        portfolio_id="p1",
        name="generated",
        base_currency=draw(st.sampled_from([JPY, USD])),
        created_at=AT,
        holdings=holdings,
        targets=draw(targets_summing_to_100(targeted)),
        allow_fractional=draw(st.booleans()),
    )
    return Case(portfolio, quotes, rates, usd_jpy)


budgets = st.one_of(
    st.integers(1, 5_000_000).map(lambda n: Money(Decimal(n), JPY)),
    st.integers(1, 5_000_000).map(lambda n: Money(Decimal(n) / 100, USD)),
)
options = st.builds(
    SimulationOptions,
    mode=st.sampled_from(SimulationMode),
    tolerance=st.integers(0, 10).map(Decimal),
)


# -- valuation ----------------------------------------------------------------------
@PROPERTY_SETTINGS
@given(case=cases(allow_unpriced=True), currency=st.sampled_from([JPY, USD]))
def test_valuation_total_is_the_sum_of_priced_values_and_weights_sum_to_100(
    case: Case, currency: Currency
) -> None:
    valuation = value_portfolio(case.portfolio, case.quotes, case.rates, at=AT, currency=currency)

    base_values = [item.base_value.amount for item in valuation.holdings]
    assert valuation.total == Money(sum(base_values, ZERO), currency)
    priced = {item.symbol for item in valuation.holdings}
    unpriced = {item.symbol for item in valuation.unpriced}
    assert priced.isdisjoint(unpriced)
    assert priced | unpriced == {h.symbol for h in case.portfolio.holdings}
    for item in valuation.holdings:  # each priced holding's value, recomputed
        quote_price = case.quotes[item.symbol].price
        assert quote_price is not None
        local = quote_price.amount * item.holding.quantity / item.holding.instrument.price_unit
        assert item.value == Money(local, quote_price.currency)
        expected = local * case.rates.rate(quote_price.currency, currency)
        assert abs(item.base_value.amount - expected) <= abs(expected) * Decimal("1e-20")
    if valuation.total.amount > 0:
        weights = sum((item.weight for item in valuation.holdings), ZERO)
        assert abs(weights - 100) <= Decimal("1e-20") * 100
    else:
        assert all(item.weight == 0 for item in valuation.holdings)


# -- allocation dimensions -----------------------------------------------------------
DIMENSION_NAMES = [(d.value, d) for d in Dimension] + [
    (alias, Dimension.ASSET_CLASS) for alias in ("asset_class", "asset-class", "class")
]


@PROPERTY_SETTINGS
@given(
    named=st.sampled_from(DIMENSION_NAMES),
    upper=st.lists(st.booleans(), min_size=11, max_size=11),
)
@example(named=("assetClass", Dimension.ASSET_CLASS), upper=[True] * 11)  # ASSETCLASS
@example(named=("assetClass", Dimension.ASSET_CLASS), upper=[False] * 11)  # assetclass
@example(named=("holding", Dimension.HOLDING), upper=[True] + [False] * 10)  # Holding
@example(named=("asset-class", Dimension.ASSET_CLASS), upper=[True] * 11)  # ASSET-CLASS
def test_dimension_names_parse_in_any_case(named: tuple[str, Dimension], upper: list[bool]) -> None:
    name, dimension = named
    spelled = "".join(c.upper() if up else c.lower() for c, up in zip(name, upper, strict=False))

    assert Dimension.parse(spelled) is dimension


@PROPERTY_SETTINGS
@given(
    text=st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_- ", max_size=12)
)
def test_dimension_parse_accepts_only_known_names_in_any_case(text: str) -> None:
    known = {name.lower(): dimension for name, dimension in DIMENSION_NAMES}
    if text.lower() in known:
        assert Dimension.parse(text) is known[text.lower()]
    else:
        with pytest.raises(ValidationError, match="unknown allocation dimension"):
            Dimension.parse(text)


# -- simulation ---------------------------------------------------------------------
MAX_CHARGES_PER_HOLDING = 40


def run(case: Case, budget: Money, opts: SimulationOptions) -> Simulation:
    """Simulate, checking that the work does not grow with the number of lots bought:
    the charges computed (each order's cost, rounded up) stay within a few per holding,
    however small the step (0.0001 share) and however large the budget."""
    if opts.mode is SimulationMode.BUY:
        assume(budget.is_positive())
    real_charge = simulation._charge
    calls = 0

    def counting_charge(*args: Any) -> Decimal:
        nonlocal calls
        calls += 1
        return real_charge(*args)

    with patch.object(simulation, "_charge", counting_charge):
        result = simulate(case.portfolio, case.quotes, case.rates, budget, opts)
    holdings = len(result.lines)
    assert calls <= MAX_CHARGES_PER_HOLDING * (holdings + 1), (calls, holdings)
    return result


@PROPERTY_SETTINGS
@given(case=cases(), budget=budgets | st.just(Money(ZERO, JPY)), opts=options)
def test_simulation_never_exceeds_the_budget(
    case: Case, budget: Money, opts: SimulationOptions
) -> None:
    result = run(case, budget, opts)

    buys = sum((o.cost.amount for o in result.orders if o.side is Side.BUY), ZERO)
    sells = sum((o.cost.amount for o in result.orders if o.side is Side.SELL), ZERO)
    assert result.bought == Money(buys, budget.currency)
    assert result.sold == Money(sells, budget.currency)
    assert result.spent.amount == buys - sells
    assert result.spent <= budget
    assert buys <= budget.amount + sells
    assert result.spent + result.leftover == budget
    assert result.leftover.amount >= 0
    if opts.mode is SimulationMode.BUY:
        assert sells == 0
    lines = {line.symbol: line for line in result.lines}
    for order in result.orders:  # a sale never takes a holding below its target weight
        if order.side is Side.SELL:
            assert lines[order.symbol].after >= lines[order.symbol].target
    for order in result.orders:  # each charge/credit rounded to the budget's minor unit
        assert order.cost.amount == order.cost.amount.quantize(budget.currency.quantum)
        assert order.cost.amount > 0 or order.side is Side.SELL


@PROPERTY_SETTINGS
@given(case=cases(), budget=budgets, opts=options)
def test_simulation_never_buys_a_fraction_of_a_lot(
    case: Case, budget: Money, opts: SimulationOptions
) -> None:
    result = run(case, budget, opts)

    held = {h.symbol: h.quantity for h in case.portfolio.holdings}
    for order in result.orders:
        instrument = parse_symbol(order.symbol)
        assert order.quantity > 0
        if instrument.market is Market.JP:
            assert order.quantity % 100 == 0
        elif instrument.market is Market.US:
            step = Decimal("0.0001") if case.portfolio.allow_fractional else Decimal(1)
            assert order.quantity % step == 0
        else:  # funds: by amount in whole yen, at least the minimum purchase
            assert order.local_amount.currency == JPY
            assert order.local_amount.amount % 1 == 0
            if order.side is Side.BUY:
                assert order.local_amount.amount >= opts.min_fund_purchase
            # whole units: the amount buys floor(amount x 10,000 / price) of them; a sale
            # takes enough units to cover the amount (ceiling), never more than held
            units = order.local_amount.amount * FUND_PRICE_UNIT / order.price.amount
            if order.side is Side.BUY:
                assert order.quantity <= units < order.quantity + 1
            else:
                assert order.quantity - 1 < units <= order.quantity
        if order.side is Side.SELL:
            assert order.quantity <= held[order.symbol]
        # stocks: the local amount is what the quantity is worth at the quote
        worth = instrument.value_of(order.quantity, order.price.amount)
        if instrument.market is not Market.FUND:
            assert order.local_amount == Money(worth, order.price.currency)
        # a buy is charged at least, a sale credited at most, what the quantity is worth
        worth *= case.rates.rate(order.price.currency, budget.currency)
        if order.side is Side.BUY:
            assert order.cost.amount >= worth - abs(worth) * Decimal("1e-25")
        else:
            assert order.cost.amount <= worth + abs(worth) * Decimal("1e-25")


def distance(values: dict[str, Decimal], targets: dict[str, Decimal]) -> Decimal:
    """Sum over target and held symbols of |weight - target| in percentage points,
    weights on the invested total (cash left over is not part of it); nothing invested
    is the farthest a portfolio can be, twice the targets' sum."""
    total = sum(values.values(), ZERO)
    symbols = set(values) | set(targets)
    if total <= 0:
        return 2 * sum(targets.values(), ZERO)
    return sum(abs(values.get(s, ZERO) / total * 100 - targets.get(s, ZERO)) for s in symbols)


def values_in(case: Case, quantities: dict[str, Decimal], currency: Currency) -> dict[str, Decimal]:
    result = {}
    for symbol, quantity in quantities.items():
        price = case.quotes[symbol].price
        assert price is not None
        local = price.amount * quantity / parse_symbol(symbol).price_unit
        result[symbol] = local * case.rates.rate(price.currency, currency)
    return result


@PROPERTY_SETTINGS
@given(case=cases(), budget=budgets | st.just(Money(ZERO, USD)), opts=options)
def test_simulation_never_ends_farther_from_the_targets_than_doing_nothing(
    case: Case, budget: Money, opts: SimulationOptions
) -> None:
    result = run(case, budget, opts)

    assert result.distance_after <= result.distance_before

    # Independently, from the orders and the quotes: each position's value after the
    # orders (funds at the amount invested, as the simulation counts them).
    targets = {s: Decimal(p) for s, p in case.portfolio.targets.items()}
    quantities = dict.fromkeys(targets, ZERO)
    quantities.update({h.symbol: h.quantity for h in case.portfolio.holdings})
    before = values_in(case, quantities, budget.currency)
    after = dict(before)
    for order in result.orders:
        rate = case.rates.rate(order.price.currency, budget.currency)
        signed = order.local_amount.amount * rate
        after[order.symbol] += signed if order.side is Side.BUY else -signed
    assert all(value >= 0 for value in after.values())
    tiny = Decimal("1e-18")
    assert abs(distance(before, targets) - result.distance_before) <= tiny
    assert abs(distance(after, targets) - result.distance_after) <= tiny
    assert distance(after, targets) <= distance(before, targets) + tiny
