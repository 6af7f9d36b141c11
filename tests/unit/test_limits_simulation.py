"""The simulation runs in bounded time for any input the limits (`domain.limits`) allow:
the largest and smallest quantities, prices, budgets and FX rates, odd lots, fractional
shares, funds, up to `MAX_HOLDINGS` holdings. A quantity of 1e40 used to hang it: a
correction loop moved one step at a time where `Decimal` (28 digits) no longer changed
`n * step` when `n` grew by one."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal, localcontext
from typing import Any
from unittest.mock import patch

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from portfoliowise.domain import portfolio as portfolio_module
from portfoliowise.domain import simulation
from portfoliowise.domain.fx import FxRate, RateTable
from portfoliowise.domain.instruments import parse_symbol
from portfoliowise.domain.limits import (
    MAX_AMOUNT,
    MAX_HOLDINGS,
    MAX_PERCENT,
    MAX_PRICE,
    MAX_QUANTITY,
    MAX_RATE,
    MAX_TARGETS,
    MIN_RATE,
    MIN_STEP,
)
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
ZERO = Decimal(0)
TEN_PLACES = Decimal("1e-10")


# -- symbols: Tokyo (lots of 100), US (1 or 0.0001 shares) and funds (by amount) ---------
def tokyo(i: int) -> str:
    return str(1000 + i)


def us(i: int) -> str:
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return "".join(letters[(i // 26**k) % 26] for k in range(3))


def fund(i: int) -> str:
    return f"{i:07d}A"


MARKETS: list[Callable[[int], str]] = [tokyo, us, fund]


def symbols(count: int) -> list[str]:
    """`count` distinct symbols, taking the markets in turn."""
    return [MARKETS[i % 3](i // 3) for i in range(count)]


# -- extreme values ---------------------------------------------------------------------
def decimals(low: Decimal, high: Decimal) -> st.SearchStrategy[Decimal]:
    """Any value in [low, high] with at most 10 decimal places."""
    return st.decimals(low, high, places=10, allow_nan=False, allow_infinity=False)


QUANTITIES = st.one_of(
    st.sampled_from(
        [
            ZERO,
            MIN_STEP,  # the smallest: 10^-10
            Decimal("0.0001"),  # a fractional share
            Decimal(1),
            Decimal(99),  # an odd lot
            Decimal(150),  # a lot and a half
            MAX_QUANTITY - MIN_STEP,
            MAX_QUANTITY,
        ]
    ),
    decimals(ZERO, MAX_QUANTITY),
)
PRICES = st.one_of(
    st.sampled_from([MIN_STEP, Decimal("0.0001"), Decimal(1), Decimal(2865), MAX_PRICE]),
    decimals(MIN_STEP, MAX_PRICE),
)
BUDGETS = st.one_of(
    st.sampled_from([MIN_STEP, Decimal(1), Decimal(300_000), MAX_AMOUNT]),
    decimals(MIN_STEP, MAX_AMOUNT),
)
RATES = st.one_of(
    st.sampled_from([MIN_RATE, Decimal("0.0065"), Decimal("154.32"), MAX_RATE]),
    decimals(MIN_RATE, MAX_RATE),
)
# Few holdings mostly, some many, and now and then the most a portfolio may hold.
COUNTS = st.one_of(
    st.integers(1, 12),
    st.integers(1, 12),
    st.integers(13, 300),
    st.sampled_from([1_000, MAX_HOLDINGS]),
)


class Case:
    """A plain class, not a dataclass: Hypothesis would print each of 10,000 holdings."""

    def __init__(
        self,
        portfolio: Portfolio,
        quotes: dict[str, Quote],
        rates: RateTable,
        budget: Money,
        options: SimulationOptions,
    ) -> None:
        self.portfolio = portfolio
        self.quotes = quotes
        self.rates = rates
        self.budget = budget
        self.options = options

    def __repr__(self) -> str:
        holdings = self.portfolio.holdings
        return (
            f"Case({len(holdings)} holdings, quantities {sorted({h.quantity for h in holdings})}, "
            f"prices {sorted({q.price.amount for q in self.quotes.values() if q.price})}, "
            f"{len(self.portfolio.targets)} targets, fractional "
            f"{self.portfolio.allow_fractional}, USD-JPY {self.rates.rate(USD, JPY)}, "
            f"budget {self.budget.amount} {self.budget.currency}, {self.options})"
        )


def even_targets(names: list[str]) -> dict[str, Decimal]:
    """Equal percentages to 10 decimal places, summing to exactly 100."""
    share = (MAX_PERCENT / len(names)).quantize(TEN_PLACES, rounding="ROUND_FLOOR")
    targets = dict.fromkeys(names, share)
    targets[names[0]] += MAX_PERCENT - share * len(names)
    return targets


@st.composite
def cases(draw: st.DrawFn) -> Case:
    """A portfolio of `count` holdings whose quantities and prices cycle through a few
    drawn extremes (drawing 10,000 of each would be slow for nothing), targets on some
    held and some not held symbols, a budget in JPY or USD and a USD-JPY rate."""
    count = draw(COUNTS)
    event(f"{count} holdings" if count > 12 else "up to 12 holdings")
    names = symbols(count + draw(st.integers(0, 3)))  # a few targets not held
    held = names[:count]
    quantities = draw(st.lists(QUANTITIES, min_size=1, max_size=4))
    prices = draw(st.lists(PRICES, min_size=1, max_size=4))
    targeted = names[draw(st.integers(0, count - 1)) :][:MAX_TARGETS]
    cost = draw(st.none() | BUDGETS)
    holdings = [
        Holding.of(
            symbol,
            quantities[i % len(quantities)],
            cost_basis=None if cost is None else Money(cost, JPY),
        )
        for i, symbol in enumerate(held)
    ]
    quotes = {
        symbol: Quote(
            symbol,
            Money(prices[i % len(prices)], parse_symbol(symbol).currency),
            QuoteStatus.CACHED,
            "test",
            AT,
        )
        for i, symbol in enumerate(names)
    }
    portfolio = Portfolio(
        user_id="u1",
        portfolio_id="p1",
        name="extremes",
        base_currency=JPY,
        created_at=AT,
        holdings=holdings,
        targets=even_targets(targeted),
        allow_fractional=draw(st.booleans()),
    )
    currency: Currency = draw(st.sampled_from([JPY, USD]))
    mode = draw(st.sampled_from(SimulationMode))
    tolerance = draw(st.sampled_from([ZERO, Decimal(5), MAX_PERCENT]))
    return Case(
        portfolio=portfolio,
        quotes=quotes,
        rates=RateTable([FxRate(USD, JPY, draw(RATES))]),
        budget=Money(draw(BUDGETS), currency),
        options=SimulationOptions(mode=mode, tolerance=tolerance),
    )


def counting_charges(case: Case) -> tuple[Simulation, int]:
    real_charge = simulation._charge
    calls = 0

    def counting(*args: Any) -> Decimal:
        nonlocal calls
        calls += 1
        return real_charge(*args)

    with patch.object(simulation, "_charge", counting):
        result = simulate(case.portfolio, case.quotes, case.rates, case.budget, case.options)
    return result, calls


@settings(
    max_examples=60,
    # No wall-clock deadline: the work is counted (`charges`) instead, and the time of
    # 10,000 holdings is a row of `make bench`. A deadline failed on a loaded machine.
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(case=cases())
def test_the_simulation_finishes_quickly_on_the_extremes_the_limits_allow(case: Case) -> None:
    result, charges = counting_charges(case)

    # The work grows with the holdings, never with the number of lots bought.
    assert charges <= 200 * (len(result.lines) + 1), (charges, len(result.lines))
    # And the plan is still a plan: within the budget, nothing negative (the sum in as
    # many digits as the simulation keeps: 10^27 sold and 10^-10 left need 38).
    with localcontext() as context:
        context.prec = simulation.PRECISION
        assert result.spent <= case.budget
        assert result.leftover.amount >= 0
        assert result.spent + result.leftover == case.budget
    assert all(order.local_amount.amount > 0 for order in result.orders)
    assert all(order.quantity >= 0 for order in result.orders)  # 100 JPY of a fund
    # priced 10^9 per 10,000 units is an order for 0.001 unit: 0 whole units
    if case.options.mode is SimulationMode.BUY:
        assert all(order.side is Side.BUY for order in result.orders)
    # Valuing the same portfolio is bounded too (and rounds any total it allows).
    valuation = value_portfolio(case.portfolio, case.quotes, case.rates, at=AT)
    assert valuation.total.rounded().amount >= 0


# -- the algorithm itself is bounded, not only its inputs --------------------------------
def test_a_boundary_far_from_its_guess_is_found_in_few_tries() -> None:
    boundary = 10**40 + 12_345
    calls = 0

    def fits(n: int) -> bool:
        nonlocal calls
        calls += 1
        return n <= boundary

    for guess in (0, 1, boundary - 10**30, boundary, boundary + 1, 10**45):
        calls = 0
        assert simulation._boundary(fits, guess, 0) == boundary
        # an exponential then a binary search: twice log2 of the distance, at most
        tries = 2 * max(guess, boundary).bit_length() + simulation._NUDGES + 2
        assert calls <= tries, (guess, calls)


def test_a_boundary_respects_its_bounds() -> None:
    assert simulation._boundary(lambda n: True, 5, 0, 10) == 10
    assert simulation._boundary(lambda n: n <= 3, 50, 0, 10) == 3
    assert simulation._boundary(lambda n: False, 7, 2) == 2  # nothing above `low` fits
    assert simulation._boundary(lambda n: n <= 10**60, 0, 0) == 10**60


def test_a_quantity_beyond_28_digits_no_longer_hangs_the_simulation(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The hang of the issue, with the limit switched off: 1e40 shares of 7203 and a
    target on VTI. `_helpful_steps` added one step at a time while `2 * (gap - n *
    step)` stayed above the step, which rounding kept true for ~10^16 more steps."""
    monkeypatch.setattr(portfolio_module, "check_quantity", lambda value, label=None: value)
    portfolio = Portfolio(
        user_id="u1",
        portfolio_id="p1",
        name="1e40",
        base_currency=JPY,
        created_at=AT,
        holdings=[Holding.of("7203", "1e40")],
        targets={"VTI": 100},
    )
    quotes = {
        "7203": Quote("7203", Money.of("2865", "JPY"), QuoteStatus.CACHED, "test", AT),
        "VTI": Quote("VTI", Money.of("301.45", "USD"), QuoteStatus.CACHED, "test", AT),
    }
    case = Case(
        portfolio,
        quotes,
        RateTable([FxRate(USD, JPY, Decimal("154.32"))]),
        Money.of(300_000, "JPY"),
        SimulationOptions(),
    )

    result, charges = counting_charges(case)

    assert charges <= 200 * 3
    assert [(o.symbol, o.quantity) for o in result.orders] == [("VTI", Decimal(6))]
    assert result.spent <= case.budget
