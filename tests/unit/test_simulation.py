"""Contribution simulation: worked examples of the rules in the module docstring."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from portfoliowise.domain import simulation
from portfoliowise.domain.errors import UnpricedTargetError, ValidationError
from portfoliowise.domain.fx import FxRate, RateTable
from portfoliowise.domain.money import JPY, USD, Money
from portfoliowise.domain.portfolio import Holding, Portfolio
from portfoliowise.domain.quotes import Quote, QuoteStatus
from portfoliowise.domain.simulation import (
    Order,
    Side,
    Simulation,
    SimulationMode,
    SimulationOptions,
    simulate,
)

AT = datetime(2024, 6, 3, 6, 0, tzinfo=UTC)
RATES = RateTable([FxRate(USD, JPY, Decimal(150))])
REBALANCE = SimulationOptions(mode=SimulationMode.REBALANCE)


def quote(symbol: str, price: str, currency: str) -> Quote:
    return Quote(symbol, Money.of(price, currency), QuoteStatus.LIVE, "test", AT)


def portfolio(
    targets: dict[str, object], *holdings: Holding, allow_fractional: bool = False
) -> Portfolio:
    return Portfolio(
        user_id="u1",
        portfolio_id="p1",
        name="NISA",
        base_currency=JPY,
        created_at=AT,
        holdings=holdings,
        targets=targets,
        allow_fractional=allow_fractional,
    )


def yen(amount: object) -> Money:
    return Money.of(amount, "JPY")


def dollars(amount: object) -> Money:
    return Money.of(amount, "USD")


def orders(result: Simulation) -> list[tuple[str, Side, Decimal, Money]]:
    return [(o.symbol, o.side, o.quantity, o.cost) for o in result.orders]


def assert_budget_balances(result: Simulation) -> None:
    def total(side: Side) -> Decimal:
        return sum((o.cost.amount for o in result.orders if o.side is side), Decimal(0))

    assert result.bought.amount == total(Side.BUY)
    assert result.sold.amount == total(Side.SELL)
    assert result.spent == result.bought - result.sold
    assert result.spent + result.leftover == result.budget


TOYOTA_QUOTE = quote("7203", "2500", "JPY")  # one lot of 100 = 250,000 JPY


# -- Tokyo lots ---------------------------------------------------------------------
def test_a_tokyo_lot_the_budget_cannot_afford_is_not_bought() -> None:
    result = simulate(portfolio({"7203": 100}), {"7203": TOYOTA_QUOTE}, RATES, yen(200_000))

    assert result.orders == []
    assert result.spent == yen(0)
    assert result.leftover == yen(200_000)
    assert result.distance_before == result.distance_after == 200  # nothing held: the most
    assert_budget_balances(result)


def test_tokyo_stocks_are_bought_in_lots_of_100() -> None:
    result = simulate(portfolio({"7203": 100}), {"7203": TOYOTA_QUOTE}, RATES, yen(800_000))

    assert orders(result) == [("7203", Side.BUY, 300, yen(750_000))]
    assert result.leftover == yen(50_000)
    assert result.orders[0].local_amount == yen(750_000)
    assert result.orders[0].price == yen(2_500)


# -- USD ETF with a JPY budget ------------------------------------------------------
VTI_QUOTE = quote("VTI", "251.23", "USD")
ODD_RATES = RateTable([FxRate(USD, JPY, Decimal("151.37"))])  # 1 share = 38,028.6851 JPY


def test_usd_etf_bought_with_a_jpy_budget_cost_rounded_up() -> None:
    result = simulate(portfolio({"VTI": 100}), {"VTI": VTI_QUOTE}, ODD_RATES, yen(100_000))

    # 2 shares = 502.46 USD = 76,057.3702 JPY, charged 76,058 JPY; a 3rd does not fit.
    [order] = result.orders
    assert (order.symbol, order.side, order.quantity) == ("VTI", Side.BUY, 2)
    assert order.local_amount == dollars("502.46")
    assert order.cost == yen(76_058)
    assert result.spent == yen(76_058)
    assert result.leftover == yen(23_942)
    assert_budget_balances(result)


def test_unaffordable_lot_is_skipped_and_the_budget_goes_to_the_other_target() -> None:
    targets = {"7203": 50, "VTI": 50}
    quotes = {"7203": TOYOTA_QUOTE, "VTI": VTI_QUOTE}

    result = simulate(portfolio(targets), quotes, ODD_RATES, yen(200_000))

    # VTI's gap is 100,000 JPY. 2 shares leave 23,942.63 of it; a 3rd share
    # (38,028.69) overshoots by only 14,086.06, which is closer, so it is bought.
    # 7203's lot (250,000) exceeds the budget: it is not bought.
    assert orders(result) == [("VTI", Side.BUY, 3, yen(114_087))]  # 114,086.0553 rounded up
    assert result.leftover == yen(85_913)
    assert result.distance_before == 200  # nothing held
    assert result.distance_after == 100  # all VTI against 50/50
    assert_budget_balances(result)


# -- funds ------------------------------------------------------------------------
FUND_QUOTE = quote("0331418A", "24567", "JPY")  # 基準価額 per 10,000 units


def test_a_fund_is_bought_by_amount() -> None:
    result = simulate(portfolio({"0331418A": 100}), {"0331418A": FUND_QUOTE}, RATES, yen(50_000))

    [order] = result.orders
    assert order.local_amount == yen(50_000)
    assert order.cost == yen(50_000)
    # floor(50,000 x 10,000 / 24,567) = floor(20,352.50...) units
    assert order.quantity == 20_352
    assert result.leftover == yen(0)
    assert result.distance_after == 0
    assert_budget_balances(result)


def test_a_fund_has_a_minimum_purchase_of_100_yen() -> None:
    pf = portfolio({"0331418A": 100})
    quotes = {"0331418A": FUND_QUOTE}

    too_little = simulate(pf, quotes, RATES, yen(99))
    just_enough = simulate(pf, quotes, RATES, yen(100))

    assert too_little.orders == []
    assert too_little.leftover == yen(99)
    assert [(o.local_amount, o.quantity) for o in just_enough.orders] == [(yen(100), 40)]
    assert just_enough.leftover == yen(0)


def test_a_custom_minimum_fund_purchase() -> None:
    options = SimulationOptions(min_fund_purchase=Decimal(1_000))

    result = simulate(
        portfolio({"0331418A": 100}), {"0331418A": FUND_QUOTE}, RATES, yen(999), options
    )

    assert result.orders == []


def test_a_fund_bought_with_a_usd_budget() -> None:
    result = simulate(portfolio({"0331418A": 100}), {"0331418A": FUND_QUOTE}, RATES, dollars(100))

    # 100 USD = 15,000 JPY at 150, in whole yen, each yen costing 1/150 USD: 14,999 yen
    # cost 99.9933.. USD, charged 100.00 rounded up; 15,000 yen would cost 100.0000..01.
    [order] = result.orders
    assert order.local_amount == yen(14_999)
    assert order.cost == dollars(100)
    assert order.quantity == 6_105  # floor(14,999 x 10,000 / 24,567)
    assert result.leftover == dollars(0)
    assert_budget_balances(result)


# -- fractional US shares ---------------------------------------------------------
VTI_300 = quote("VTI", "300", "USD")


def test_whole_us_shares_by_default() -> None:
    result = simulate(portfolio({"VTI": 100}), {"VTI": VTI_300}, RATES, dollars(1_000))

    assert orders(result) == [("VTI", Side.BUY, 3, dollars(900))]
    assert result.leftover == dollars(100)


def test_fractional_us_shares_when_the_portfolio_allows_them() -> None:
    pf = portfolio({"VTI": 100}, allow_fractional=True)

    result = simulate(pf, {"VTI": VTI_300}, RATES, dollars(1_000))

    # 0.0001 share steps of 0.03 USD; one cent kept back for rounding the charge.
    assert orders(result) == [("VTI", Side.BUY, Decimal("3.3333"), dollars("999.99"))]
    assert result.leftover == dollars("0.01")
    assert_budget_balances(result)


def test_fractional_us_shares_with_a_jpy_budget() -> None:
    pf = portfolio({"VTI": 100}, allow_fractional=True)

    result = simulate(pf, {"VTI": VTI_300}, RATES, yen(100_000))

    # one 0.0001 step = 0.03 USD = 4.5 JPY; 22,222 steps = 99,999 JPY
    [order] = result.orders
    assert order.quantity == Decimal("2.2222")
    assert order.quantity % Decimal("0.0001") == 0
    assert order.cost == yen(99_999)
    assert result.leftover == yen(1)


def count_charges(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the calls to `simulation._charge`: the work done per step bought."""
    calls = [0]
    real_charge = simulation._charge

    def counting_charge(*args: Any) -> Decimal:
        calls[0] += 1
        return real_charge(*args)

    monkeypatch.setattr(simulation, "_charge", counting_charge)
    return calls


def test_leftover_cash_spent_on_fractional_shares_takes_few_steps(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # VTI (not a target) keeps the gaps larger than the budget. Water-filling gives each
    # target ~10,000 JPY: no 7203 lot (25,000), 0.3 JPY steps of AAPL. The heap then
    # cannot afford 7203 and buys AAPL with the other 10,000 JPY: 33,336 steps of 0.0001
    # share, in one pop (one step at a time, this took 33,336 charges).
    pf = portfolio({"7203": 50, "AAPL": 50}, Holding.of("VTI", 100), allow_fractional=True)
    quotes = {
        "7203": quote("7203", "250", "JPY"),
        "AAPL": quote("AAPL", "20", "USD"),  # 0.0001 share = 0.002 USD = 0.3 JPY
        "VTI": quote("VTI", "100", "USD"),
    }
    calls = count_charges(monkeypatch)

    result = simulate(pf, quotes, RATES, yen(20_000))

    # 66,666 steps = 19,999.8 JPY, charged 20,000 rounded up; a 66,667th step would cost
    # 20,000.1. (Stepping one at a time stopped at 6.6664 shares, as the charge reached
    # the budget: the last 2 steps were free.)
    assert orders(result) == [("AAPL", Side.BUY, Decimal("6.6666"), yen(20_000))]
    assert result.leftover == yen(0)
    assert calls[0] < 20


def test_leftover_cash_levels_several_fractional_holdings_together(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # As above with three level fractional targets: 7203's unaffordable share of the
    # water-fill (~25,000 JPY) is spread over AAPL, MSFT and NVDA in a few levelling
    # passes, not by turns, 0.0001 share (0.3 JPY) each.
    targets = {"7203": 25, "AAPL": 25, "MSFT": 25, "NVDA": 25}
    pf = portfolio(targets, Holding.of("VTI", 1_000), allow_fractional=True)
    quotes = {
        "7203": quote("7203", "500", "JPY"),  # a lot: 50,000 JPY
        "AAPL": quote("AAPL", "20", "USD"),
        "MSFT": quote("MSFT", "20", "USD"),
        "NVDA": quote("NVDA", "20", "USD"),
        "VTI": quote("VTI", "100", "USD"),
    }
    calls = count_charges(monkeypatch)

    result = simulate(pf, quotes, RATES, yen(100_000))

    assert calls[0] < 200  # one step at a time: ~83,000
    bought = {o.symbol: o.cost.amount for o in result.orders}
    assert set(bought) == {"AAPL", "MSFT", "NVDA"}
    # levelled: ~33,333 JPY each; each order's charge is rounded up to the yen, so the
    # last one levelled may get up to a yen less per order before it
    assert max(bought.values()) - min(bought.values()) <= 3
    assert result.spent.amount >= 99_998
    assert result.spent <= yen(100_000)
    assert_budget_balances(result)


def test_leftover_cash_on_fractional_shares_fills_the_largest_gap_first() -> None:
    # Total after investing 1,526,000 JPY: 7203's gap (610,400) takes the whole budget
    # in the water-fill but its lot (25,000) does not fit, so the heap spends it: AAPL,
    # 6,000 JPY (2 MSFT shares) further from its target than MSFT, is filled alone down
    # to MSFT's gap, then both alike, 0.0001 share (0.3 JPY) at a time in effect.
    targets = {"7203": 40, "AAPL": 30, "MSFT": 30}
    pf = portfolio(targets, Holding.of("VTI", 100), Holding.of("MSFT", 2), allow_fractional=True)
    quotes = {
        "7203": quote("7203", "250", "JPY"),
        "AAPL": quote("AAPL", "20", "USD"),
        "MSFT": quote("MSFT", "20", "USD"),
        "VTI": quote("VTI", "100", "USD"),
    }

    result = simulate(pf, quotes, RATES, yen(20_000))

    assert orders(result) == [
        ("AAPL", Side.BUY, Decimal("4.3333"), yen(13_000)),  # 12,999.9 rounded up
        ("MSFT", Side.BUY, Decimal("2.3333"), yen(7_000)),  # 6,999.9
    ]
    lines = {line.symbol: line for line in result.lines}
    assert lines["AAPL"].value_after == lines["MSFT"].value_after  # same target: level gaps
    assert result.leftover == yen(0)


# -- priorities -------------------------------------------------------------------
MIXED_QUOTES = {
    "7203": TOYOTA_QUOTE,
    "VTI": quote("VTI", "200", "USD"),  # 30,000 JPY a share at 150
    "0331418A": quote("0331418A", "20000", "JPY"),
}
# 7203 500,000 + VTI 60,000 + fund 160,000 = 720,000 JPY now.
MIXED = (Holding.of("7203", 200), Holding.of("VTI", 2), Holding.of("0331418A", 80_000))
MIXED_TARGETS = {"7203": 40, "VTI": 40, "0331418A": 20}


def test_the_most_under_weight_holding_is_filled_first() -> None:
    # With 90,000 JPY the total becomes 810,000: VTI is 264,000 short of its 40 %,
    # the fund only 2,000 short of its 20 %. All of the budget goes to VTI.
    result = simulate(portfolio(MIXED_TARGETS, *MIXED), MIXED_QUOTES, RATES, yen(90_000))

    assert orders(result) == [("VTI", Side.BUY, 3, yen(90_000))]
    assert result.leftover == yen(0)
    lines = {line.symbol: line for line in result.lines}
    assert lines["VTI"].value_before == yen(60_000)
    assert lines["VTI"].value_after == yen(150_000)
    assert lines["7203"].value_after == yen(500_000)
    assert result.distance_after < result.distance_before


def test_cash_too_small_for_the_next_lot_tops_up_the_next_gap() -> None:
    # 100,000 JPY: 3 VTI shares (90,000); a 4th does not fit in the 10,000 left,
    # which then fills the fund's 4,000 gap (820,000 x 20 % - 160,000).
    result = simulate(portfolio(MIXED_TARGETS, *MIXED), MIXED_QUOTES, RATES, yen(100_000))

    assert orders(result) == [
        ("VTI", Side.BUY, 3, yen(90_000)),
        ("0331418A", Side.BUY, 2_000, yen(4_000)),
    ]
    assert result.leftover == yen(6_000)
    assert_budget_balances(result)


def test_plan_lines_report_weights_before_and_after() -> None:
    result = simulate(portfolio(MIXED_TARGETS, *MIXED), MIXED_QUOTES, RATES, yen(90_000))

    lines = {line.symbol: line for line in result.lines}
    assert lines["VTI"].target == 40
    assert lines["VTI"].before == Decimal(60_000) / 720_000 * 100
    assert lines["VTI"].after == Decimal(150_000) / 810_000 * 100
    # |500/720 - .4| + |60/720 - .4| + |160/720 - .2| = 0.2944.. + 0.3166.. + 0.0222.. = 19/30
    assert abs(result.distance_before - Decimal(1_900) / 30) < Decimal("1e-20")
    # |500/810 - .4| + |150/810 - .4| + |160/810 - .2| = 0.2172.. + 0.2148.. + 0.0024.. = 352/810
    assert abs(result.distance_after - Decimal(35_200) / 810) < Decimal("1e-20")


# -- rebalance --------------------------------------------------------------------
def test_rebalance_sells_an_over_weight_holding_in_whole_lots_never_below_target() -> None:
    # 7203 1,000,000 + VTI 300,000 (10 x 200 USD): target 650,000 each.
    # 7203 is 350,000 over: one lot (250,000) can go; two would cross the target.
    pf = portfolio({"7203": 50, "VTI": 50}, Holding.of("7203", 400), Holding.of("VTI", 10))

    result = simulate(pf, MIXED_QUOTES, RATES, yen(0), REBALANCE)

    assert orders(result) == [
        ("7203", Side.SELL, 100, yen(250_000)),
        ("VTI", Side.BUY, 8, yen(240_000)),
    ]
    assert result.sold == yen(250_000)
    assert result.bought == yen(240_000)
    assert result.spent == yen(-10_000)
    assert result.leftover == yen(10_000)
    after = {line.symbol: line.after for line in result.lines}
    assert after["7203"] >= 50  # 750,000 / 1,290,000
    assert_budget_balances(result)


def test_rebalance_does_not_sell_within_tolerance() -> None:
    # 7203 500,000 and VTI 450,000: 7203 is 52.6 %, 2.6 points over 50 %.
    pf = portfolio({"7203": 50, "VTI": 50}, Holding.of("7203", 200), Holding.of("VTI", 15))

    result = simulate(pf, MIXED_QUOTES, RATES, yen(0), REBALANCE)

    assert result.orders == []
    assert result.distance_after == result.distance_before


def test_rebalance_never_sells_below_target_even_beyond_a_small_tolerance() -> None:
    # Over by 25,000 JPY (2.6 points > 2): but one lot is 250,000, so nothing is sold.
    pf = portfolio({"7203": 50, "VTI": 50}, Holding.of("7203", 200), Holding.of("VTI", 15))
    options = SimulationOptions(mode=SimulationMode.REBALANCE, tolerance=Decimal(2))

    result = simulate(pf, MIXED_QUOTES, RATES, yen(0), options)

    assert result.orders == []


def test_rebalance_sells_a_holding_without_target_down_to_zero() -> None:
    # 8306 (no target, so target 0): 300 shares x 1,500 = 450,000, all of it sellable.
    quotes = {**MIXED_QUOTES, "8306": quote("8306", "1500", "JPY")}
    pf = portfolio({"VTI": 100}, Holding.of("8306", 300))

    result = simulate(pf, quotes, RATES, yen(0), REBALANCE)

    assert orders(result) == [
        ("8306", Side.SELL, 300, yen(450_000)),
        # water-filling keeps 1 yen back for rounding, so takes 14 shares (420,000);
        # the 30,000 left then buys the 15th.
        ("VTI", Side.BUY, 15, yen(450_000)),
    ]
    assert result.leftover == yen(0)
    assert result.distance_after == 0


def test_rebalance_sells_fund_units_worth_at_least_the_amount_credited() -> None:
    # Fund at 20,000 per 10,000 units (2 JPY a unit): 2,501 units = 5,002 JPY against
    # 7203 at 5,000 JPY; 50/50 targets put the fund 1 JPY over. Selling 1 JPY of it
    # takes 1 whole unit (rounding the units down would sell 0 units for 1 JPY).
    quotes = {"0331418A": quote("0331418A", "20000", "JPY"), "7203": quote("7203", "50", "JPY")}
    pf = portfolio(
        {"0331418A": 50, "7203": 50}, Holding.of("0331418A", 2_501), Holding.of("7203", 100)
    )
    options = SimulationOptions(mode=SimulationMode.REBALANCE, tolerance=Decimal(0))

    result = simulate(pf, quotes, RATES, yen(0), options)

    assert orders(result) == [("0331418A", Side.SELL, 1, yen(1))]
    assert result.leftover == yen(1)


def test_rebalance_sells_a_fund_by_amount() -> None:
    # Fund 100,000 units x 20,000 / 10,000 = 200,000 JPY, target 10 % of 300,000 (with
    # the budget): 170,000 JPY sold = 85,000 units; 7203's lot (250,000) is then bought.
    quotes = {"0331418A": quote("0331418A", "20000", "JPY"), "7203": TOYOTA_QUOTE}
    pf = portfolio({"0331418A": 10, "7203": 90}, Holding.of("0331418A", 100_000))

    result = simulate(pf, quotes, RATES, yen(100_000), REBALANCE)

    assert orders(result) == [
        ("0331418A", Side.SELL, 85_000, yen(170_000)),
        ("7203", Side.BUY, 100, yen(250_000)),
    ]
    assert result.spent == yen(80_000)
    assert result.leftover == yen(20_000)
    assert_budget_balances(result)


def test_selling_a_whole_holding_leaves_exactly_nothing_across_currencies() -> None:
    # 200 shares x 50 JPY = 10,000 JPY = 76.9349.. USD at 1 / 129.98 (a rounded rate).
    # Converting once from the exact yen amount leaves 0 after selling all of it, not
    # 76.93.. - 2 x 38.46.. = -1.2998E-26 USD, a weight below its target of 0.
    rates = RateTable([FxRate(USD, JPY, Decimal("129.98"))])
    quotes = {"7203": quote("7203", "50", "JPY"), "6758": quote("6758", "50", "JPY")}
    pf = portfolio({"6758": 100}, Holding.of("7203", 200))
    options = SimulationOptions(mode=SimulationMode.REBALANCE, tolerance=Decimal(0))

    result = simulate(pf, quotes, rates, dollars("0.01"), options)

    assert orders(result) == [
        ("7203", Side.SELL, 200, dollars("76.93")),
        ("6758", Side.BUY, 200, dollars("76.94")),
    ]
    sold = next(line for line in result.lines if line.symbol == "7203")
    assert sold.value_after.amount == 0
    assert sold.after == 0
    assert_budget_balances(result)


def test_buy_mode_never_sells() -> None:
    pf = portfolio({"7203": 50, "VTI": 50}, Holding.of("7203", 400), Holding.of("VTI", 10))

    result = simulate(pf, MIXED_QUOTES, RATES, yen(100_000))

    assert all(o.side is Side.BUY for o in result.orders)
    assert result.sold == yen(0)
    assert orders(result) == [("VTI", Side.BUY, 3, yen(90_000))]


# -- errors and exclusions --------------------------------------------------------
def test_no_targets_is_an_error() -> None:
    pf = portfolio({}, Holding.of("7203", 100))

    with pytest.raises(ValidationError, match="no target allocation"):
        simulate(pf, {"7203": TOYOTA_QUOTE}, RATES, yen(100_000))


@pytest.mark.parametrize("amount", [0, -1, -100_000])
def test_buy_mode_needs_a_positive_budget(amount: int) -> None:
    with pytest.raises(ValidationError, match="budget"):
        simulate(portfolio({"7203": 100}), {"7203": TOYOTA_QUOTE}, RATES, yen(amount))


def test_rebalance_accepts_a_zero_budget_but_not_a_negative_one() -> None:
    pf = portfolio({"7203": 100})
    quotes = {"7203": TOYOTA_QUOTE}

    assert simulate(pf, quotes, RATES, yen(0), REBALANCE).orders == []
    with pytest.raises(ValidationError, match="negative"):
        simulate(pf, quotes, RATES, yen(-1), REBALANCE)


def test_negative_tolerance_is_an_error() -> None:
    options = SimulationOptions(mode=SimulationMode.REBALANCE, tolerance=Decimal(-1))

    with pytest.raises(ValidationError, match="tolerance"):
        simulate(portfolio({"7203": 100}), {"7203": TOYOTA_QUOTE}, RATES, yen(0), options)


@pytest.mark.parametrize(
    ("quotes", "rates"),
    [
        pytest.param({"7203": TOYOTA_QUOTE}, RATES, id="no quote"),
        pytest.param({"7203": TOYOTA_QUOTE, "VTI": Quote.unavailable("VTI")}, RATES, id="down"),
        pytest.param({"7203": TOYOTA_QUOTE, "VTI": VTI_300}, RateTable(), id="no FX rate"),
    ],
)
def test_an_unpriced_target_is_an_error_naming_it(
    quotes: dict[str, Quote], rates: RateTable
) -> None:
    with pytest.raises(UnpricedTargetError, match="VTI") as caught:
        simulate(portfolio({"7203": 50, "VTI": 50}), quotes, rates, yen(1_000_000))
    assert caught.value.symbols == ["VTI"]
    assert isinstance(caught.value, ValidationError)


def test_all_unpriced_targets_are_named() -> None:
    with pytest.raises(UnpricedTargetError) as caught:
        simulate(portfolio({"7203": 50, "VTI": 50}), {}, RATES, yen(1_000_000))
    assert caught.value.symbols == ["7203", "VTI"]


def test_an_unpriced_holding_without_target_is_excluded_not_an_error() -> None:
    pf = portfolio({"7203": 100}, Holding.of("9984", 100), Holding.of("6758", 100))
    quotes = {"7203": TOYOTA_QUOTE, "6758": Quote.unavailable("6758")}

    result = simulate(pf, quotes, RATES, yen(300_000))

    assert result.excluded == ["9984", "6758"]
    assert [line.symbol for line in result.lines] == ["7203"]
    assert orders(result) == [("7203", Side.BUY, 100, yen(250_000))]


def test_orders_carry_the_quote_price() -> None:
    result = simulate(portfolio({"VTI": 100}), {"VTI": VTI_300}, RATES, yen(100_000))

    assert result.orders == [
        Order(
            symbol="VTI",
            side=Side.BUY,
            quantity=Decimal(2),
            price=dollars(300),
            local_amount=dollars(600),
            cost=yen(90_000),
        )
    ]


def test_a_first_investment_buys_the_lots_it_can_even_when_they_miss_the_targets() -> None:
    # Nothing held: whole lots cannot hit 50/50 (one 100-share lot of 7203 costs
    # 300,000 JPY, 12 AAPL 360,000 JPY), yet they are the start the investor asked for.
    p = portfolio(
        {"7203": 50, "AAPL": 50},
        Holding.of("7203", 0),
        Holding.of("AAPL", 0),
    )
    quotes = {"7203": quote("7203", "3000", "JPY"), "AAPL": quote("AAPL", "200", "USD")}
    result = simulate(p, quotes, RATES, yen(700_000))
    bought = {symbol: quantity for symbol, _side, quantity, _cost in orders(result)}
    assert bought == {"7203": Decimal(100), "AAPL": Decimal(12)}
    assert sum((o.cost.amount for o in result.orders), Decimal(0)) <= Decimal(700_000)


def test_a_lot_bigger_than_its_share_is_bought_by_exchanging_smaller_steps() -> None:
    # 500,000 JPY over 50/50: the fill gives AAPL 8 shares (240,000 JPY) and cannot
    # afford 7203's 300,000 JPY lot with what is left; exchanging 2 AAPL for the lot
    # is far closer to 50/50 (62.5/37.5 rather than 0/100).
    p = portfolio({"7203": 50, "AAPL": 50}, Holding.of("7203", 0), Holding.of("AAPL", 0))
    quotes = {"7203": quote("7203", "3000", "JPY"), "AAPL": quote("AAPL", "200", "USD")}
    result = simulate(p, quotes, RATES, yen(500_000))
    bought = {symbol: quantity for symbol, _side, quantity, _cost in orders(result)}
    assert bought == {"7203": Decimal(100), "AAPL": Decimal(6)}
    assert result.spent == yen(480_000)
    assert result.distance_after == 25
    assert_budget_balances(result)
