"""The ledger: activities replayed into positions, cash and P/L, average cost and FIFO,
splits, oversells, income with withholding tax, invested capital, and a JPY ledger with
USD holdings. Every number here is worked out by hand in the test's comments."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from portfoliowise.domain.activities import Activity, ActivityType
from portfoliowise.domain.errors import MissingRateError, ValidationError
from portfoliowise.domain.fx import FxRate, RateTable
from portfoliowise.domain.ledger import (
    CostMethod,
    FlowBasis,
    FxHistory,
    MissingActivityRateError,
    OversellError,
    replay,
)
from portfoliowise.domain.money import JPY, USD, Currency, Money
from portfoliowise.domain.portfolio import Holding, Portfolio
from portfoliowise.domain.quotes import Quote, QuoteStatus
from portfoliowise.domain.valuation import value_portfolio

D = Decimal
DAY = date(2024, 1, 1)


def at(days: int) -> date:
    return DAY + timedelta(days=days)


def buy(
    aid: str,
    days: int,
    quantity: object,
    price: object,
    symbol: str = "7203",
    currency: Currency = JPY,
    **extra: object,
) -> Activity:
    return Activity(
        aid,
        ActivityType.BUY,
        at(days),
        currency,
        symbol,
        quantity=D(str(quantity)),
        unit_price=D(str(price)),
        **extra,  # type: ignore[arg-type]
    )


def sell(
    aid: str,
    days: int,
    quantity: object,
    price: object,
    symbol: str = "7203",
    currency: Currency = JPY,
    **extra: object,
) -> Activity:
    return Activity(
        aid,
        ActivityType.SELL,
        at(days),
        currency,
        symbol,
        quantity=D(str(quantity)),
        unit_price=D(str(price)),
        **extra,  # type: ignore[arg-type]
    )


def split(aid: str, days: int, ratio: str, symbol: str = "7203") -> Activity:
    return Activity(aid, ActivityType.SPLIT, at(days), JPY, symbol, quantity=D(ratio))


def cash(
    kind: ActivityType,
    aid: str,
    days: int,
    amount: object,
    currency: Currency = JPY,
    symbol: str | None = None,
    **extra: object,
) -> Activity:
    return Activity(
        aid,
        kind,
        at(days),
        currency,
        symbol,
        amount=D(str(amount)),
        **extra,  # type: ignore[arg-type]
    )


NO_FX = FxHistory(JPY)


# -- average cost and FIFO ------------------------------------------------------------

PARTIAL = [
    buy("b1", 0, 100, 1000),  # 100,000
    buy("b2", 1, 100, 2000),  # 200,000
    sell("s1", 2, 150, 3000),  # proceeds 450,000
]


def test_average_cost_on_a_partial_sell() -> None:
    ledger = replay(PARTIAL, base_currency=JPY, method=CostMethod.AVERAGE, rates=NO_FX)
    position = ledger.positions["7203"]

    # 300,000 for 200 shares: 1,500 a share; 150 sold cost 225,000.
    assert ledger.realized == D(450_000 - 225_000)
    assert position.quantity == 50
    assert position.cost == 75_000
    assert position.average_cost == 1500
    assert position.lots == ()


def test_fifo_on_a_partial_sell() -> None:
    ledger = replay(PARTIAL, base_currency=JPY, method=CostMethod.FIFO, rates=NO_FX)
    position = ledger.positions["7203"]

    # 100 at 1,000 (100,000) then 50 of the 2,000 lot (100,000): cost 200,000.
    assert ledger.realized == D(450_000 - 200_000)
    assert position.quantity == 50
    assert position.cost == 100_000
    assert [(lot.activity_id, lot.quantity, lot.cost) for lot in position.lots] == [
        ("b2", 50, 100_000)
    ]
    assert position.lots[0].unit_cost == 2000


def test_fees_and_taxes_of_buys_are_cost_and_of_sells_are_out_of_proceeds() -> None:
    activities = [
        buy("b1", 0, 100, 1000, fees=D(500), taxes=D(50)),  # cost 100,550
        sell("s1", 1, 100, 1100, fees=D(400), taxes=D(20)),  # net 109,580
    ]

    for method in CostMethod:
        ledger = replay(activities, base_currency=JPY, method=method, rates=NO_FX)

        assert ledger.realized == D(109_580 - 100_550)
        assert ledger.fees == 900
        assert ledger.taxes == 70
        assert ledger.positions["7203"].quantity == 0
        assert ledger.positions["7203"].cost == 0


def test_the_order_given_does_not_matter_sort_key_does() -> None:
    shuffled = [PARTIAL[2], PARTIAL[0], PARTIAL[1]]

    assert replay(shuffled, base_currency=JPY, rates=NO_FX).realized == 225_000


def test_a_same_day_buy_and_sell_sees_the_buy_first() -> None:
    activities = [sell("s1", 0, 100, 1100), buy("b1", 0, 100, 1000)]

    assert replay(activities, base_currency=JPY, rates=NO_FX).realized == 10_000


def test_cost_method_parses_the_setting() -> None:
    assert CostMethod.parse(" FIFO ") is CostMethod.FIFO
    assert CostMethod.parse("average") is CostMethod.AVERAGE
    with pytest.raises(ValidationError, match="average or fifo"):
        CostMethod.parse("lifo")


# -- splits -------------------------------------------------------------------------


@pytest.mark.parametrize("method", list(CostMethod))
def test_a_two_for_one_split_doubles_the_quantity_and_keeps_the_cost(method: CostMethod) -> None:
    activities = [buy("b1", 0, 100, 1000), split("x1", 5, "2"), sell("s1", 6, 50, 600)]

    ledger = replay(activities, base_currency=JPY, method=method, rates=NO_FX)
    position = ledger.positions["7203"]

    # 200 shares at 500 after the split; 50 sold at 600: 30,000 − 25,000.
    assert ledger.realized == 5_000
    assert position.quantity == 150
    assert position.cost == 75_000
    assert position.average_cost == 500


@pytest.mark.parametrize("method", list(CostMethod))
def test_a_one_for_ten_reverse_split(method: CostMethod) -> None:
    activities = [buy("b1", 0, 1000, 100), split("x1", 5, "0.1")]

    position = replay(activities, base_currency=JPY, method=method, rates=NO_FX).positions["7203"]

    assert position.quantity == 100
    assert position.cost == 100_000
    assert position.average_cost == 1000
    if method is CostMethod.FIFO:
        assert [(lot.quantity, lot.unit_cost) for lot in position.lots] == [(100, 1000)]


def test_fifo_lots_bought_before_and_after_a_split() -> None:
    activities = [
        buy("b1", 0, 100, 10),  # 1,000: 200 at 5 after the split
        split("x1", 1, "2"),
        buy("b2", 2, 100, 8),  # 800
        sell("s1", 3, 250, 12),  # 3,000: the 200 of b1 (1,000) and 50 of b2 (400)
    ]

    ledger = replay(activities, base_currency=JPY, method=CostMethod.FIFO, rates=NO_FX)
    position = ledger.positions["7203"]

    assert ledger.realized == 3_000 - 1_400
    assert [(lot.activity_id, lot.quantity, lot.cost) for lot in position.lots] == [("b2", 50, 400)]


def test_a_split_of_a_symbol_not_held_changes_nothing() -> None:
    ledger = replay([split("x1", 0, "2", "6758")], base_currency=JPY, rates=NO_FX)

    assert ledger.positions == {}
    assert ledger.entries[0].quantity_after == 0


def test_many_splits_over_many_lots_stay_linear() -> None:
    """5,000 open lots then 5,000 splits: applying each split to every lot would take
    25,000,000 steps; the lots catch up once, when sold."""
    activities = [buy(f"b{i}", 0, 1, 100) for i in range(5000)]
    activities += [split(f"x{i}", 1 + i, "2" if i % 2 == 0 else "0.5") for i in range(5000)]
    activities.append(sell("s1", 6000, 5000, 150))

    start = time.perf_counter()
    ledger = replay(activities, base_currency=JPY, method=CostMethod.FIFO, rates=NO_FX)
    elapsed = time.perf_counter() - start

    assert ledger.realized == 5000 * 150 - 5000 * 100
    assert elapsed < 2.0


# -- oversells ----------------------------------------------------------------------


def test_selling_more_than_held_names_the_activity() -> None:
    activities = [buy("b1", 0, 100, 1000), sell("too-many", 1, 150, 1000)]

    with pytest.raises(OversellError, match="too-many") as caught:
        replay(activities, base_currency=JPY, rates=NO_FX)

    assert caught.value.held == 100
    assert caught.value.sold == 150
    assert caught.value.code == "oversell"
    assert isinstance(caught.value, ValidationError)


def test_selling_what_was_never_bought_is_an_oversell() -> None:
    with pytest.raises(OversellError, match=r"s1.*only 0"):
        replay([sell("s1", 0, 1, 1000)], base_currency=JPY)


def test_selling_before_the_buy_day_is_an_oversell() -> None:
    with pytest.raises(OversellError):
        replay([buy("b1", 5, 100, 1000), sell("s1", 4, 100, 1000)], base_currency=JPY)


def test_a_symbol_trades_in_one_currency() -> None:
    activities = [
        buy("b1", 0, 10, 100, "AAPL", USD, fx_rate=D(150)),
        buy("b2", 1, 10, 15000, "AAPL", JPY),
    ]

    with pytest.raises(ValidationError, match=r"b2.*USD"):
        replay(activities, base_currency=JPY, rates=NO_FX)


# -- income, charges and cash -------------------------------------------------------


def test_dividends_with_withholding_tax() -> None:
    activities = [
        buy("b1", 0, 100, 1000),
        # 10,000 JPY gross, 20.315 % withheld (2,031), a 110 JPY fee.
        cash(ActivityType.DIVIDEND, "d1", 30, 10_000, symbol="7203", taxes=D(2031), fees=D(110)),
        # 100 USD, 10 % US withholding, at 150 JPY.
        cash(ActivityType.DIVIDEND, "d2", 31, 100, USD, "AAPL", taxes=D(10), fx_rate=D(150)),
    ]

    ledger = replay(activities, base_currency=JPY, rates=NO_FX)

    assert ledger.income == 10_000 + 15_000
    assert ledger.taxes == 2031 + 1500
    assert ledger.fees == 110
    assert ledger.cash[JPY] == 10_000 - 2031 - 110  # trades leave cash alone here
    assert ledger.cash[USD] == 90
    assert ledger.realized == 0


def test_fee_tax_and_interest_activities() -> None:
    activities = [
        cash(ActivityType.DEPOSIT, "dep", 0, 1_000_000),
        cash(ActivityType.INTEREST, "int", 1, 100, taxes=D(20)),
        cash(ActivityType.FEE, "fee", 2, 330),
        cash(ActivityType.TAX, "tax", 3, 1000),
    ]

    ledger = replay(activities, base_currency=JPY, rates=NO_FX)

    assert ledger.income == 100
    assert ledger.fees == 330
    assert ledger.taxes == 1020
    assert ledger.cash[JPY] == 1_000_000 + 80 - 330 - 1000


# -- invested capital ---------------------------------------------------------------


def test_invested_is_net_deposits_when_deposits_are_recorded() -> None:
    activities = [
        cash(ActivityType.DEPOSIT, "dep1", 0, 500_000, fees=D(200)),
        buy("b1", 1, 100, 1000, fees=D(100)),
        sell("s1", 2, 50, 1200),
        cash(ActivityType.WITHDRAWAL, "w1", 3, 50_000),
    ]

    ledger = replay(activities, base_currency=JPY, rates=NO_FX)

    assert ledger.flow_basis is FlowBasis.DEPOSITS
    assert ledger.invested == 450_000
    # 500,000 − 200 − 100,100 + 60,000 − 50,000: the trades moved the cash.
    assert ledger.cash[JPY] == 409_700
    assert [e.flow for e in ledger.entries] == [500_000, 0, 0, -50_000]


def test_invested_is_buys_net_of_sells_without_deposits() -> None:
    activities = [
        buy("b1", 1, 100, 1000, fees=D(100)),  # 100,100 in
        sell("s1", 2, 50, 1200, fees=D(100)),  # 59,900 out
        cash(ActivityType.DIVIDEND, "d1", 3, 1000, symbol="7203"),
    ]

    ledger = replay(activities, base_currency=JPY, rates=NO_FX)

    assert ledger.flow_basis is FlowBasis.TRADES
    assert ledger.invested == 100_100 - 59_900
    assert ledger.cash == {JPY: 1000}  # the dividend stays in the portfolio


# -- currencies ---------------------------------------------------------------------

USD_TRADES = [
    buy("b1", 0, 10, 100, "AAPL", USD, fx_rate=D(150)),  # 1,000 USD = 150,000 JPY
    sell("s1", 30, 10, 120, "AAPL", USD, fx_rate=D(140)),  # 1,200 USD = 168,000 JPY
]


def test_jpy_base_with_usd_holdings_realizes_the_currency_move_in_jpy() -> None:
    ledger = replay(USD_TRADES, base_currency=JPY, rates=NO_FX)
    position = ledger.positions["AAPL"]

    assert position.realized == 200  # USD
    # 168,000 − 150,000: +200 USD of price (28,000 at 140) and −10 JPY a dollar on the
    # 1,000 USD invested (−10,000).
    assert position.base_realized == 18_000
    assert ledger.realized == 18_000
    assert ledger.invested == 150_000 - 168_000


def test_the_rate_history_gives_the_day_rate_never_a_later_one() -> None:
    activities = [buy("b1", 10, 10, 100, "AAPL", USD)]
    earlier = FxHistory(JPY, {USD: {at(5): D(145), at(11): D(160)}})
    later_only = FxHistory(JPY, {"USD": [(at(11), D(160))]})

    ledger = replay(activities, base_currency=JPY, rates=earlier)

    assert ledger.positions["AAPL"].base_cost == 1000 * 145
    assert ledger.entries[0].fx_rate == 145
    with pytest.raises(MissingActivityRateError, match=r"b1.*USD->JPY") as caught:
        replay(activities, base_currency=JPY, rates=later_only)
    assert isinstance(caught.value, MissingRateError)
    assert caught.value.activity_id == "b1"


def test_an_activity_rate_wins_over_the_history() -> None:
    activities = [buy("b1", 10, 10, 100, "AAPL", USD, fx_rate=D("151.5"))]
    history = FxHistory(JPY, {USD: {at(5): D(145)}})

    assert replay(activities, base_currency=JPY, rates=history).positions["AAPL"].base_cost == D(
        151_500
    )


def test_without_rates_the_ledger_keeps_local_figures_only() -> None:
    ledger = replay(USD_TRADES[:1], base_currency=JPY)

    assert ledger.invested is None
    assert ledger.realized is None
    assert ledger.positions["AAPL"].base_cost is None
    assert ledger.positions["AAPL"].cost == 1000
    assert ledger.holdings()[0].cost_basis == Money(D(1000), USD)


def test_unrealized_at_given_prices_and_rates() -> None:
    ledger = replay(USD_TRADES[:1] + PARTIAL[:1], base_currency=JPY, rates=NO_FX)

    # AAPL: 10 × 110 USD × 140 − 150,000 = 4,000; 7203: 100 × 1,200 − 100,000 = 20,000.
    prices = {"AAPL": D(110), "7203": D(1200)}
    assert ledger.unrealized(prices, {USD: D(140)}) == 24_000
    assert ledger.unrealized(prices) is None  # no USD rate: unknown, not a guess
    assert ledger.unrealized({"AAPL": D(110)}, {USD: D(140)}) is None
    assert ledger.positions["AAPL"].unrealized(D(110)) == 100  # USD


def test_fund_trades_are_priced_per_ten_thousand_units() -> None:
    activities = [buy("b1", 0, 1_000_000, 25_000, "0331418A")]  # 基準価額 25,000 JPY

    position = replay(activities, base_currency=JPY, rates=NO_FX).positions["0331418A"]

    assert position.cost == 2_500_000
    assert position.value(D(26_000)) == 2_600_000


# -- holdings -----------------------------------------------------------------------


def test_a_ledger_based_portfolio_values_like_a_holdings_only_one() -> None:
    activities = [*PARTIAL, *USD_TRADES[:1], buy("b9", 3, 300, 1900, "6758")]
    ledger = replay(activities, base_currency=JPY, method=CostMethod.FIFO, rates=NO_FX)
    by_hand = [
        Holding.of("7203", 50, cost_basis=Money.of(100_000, JPY)),
        Holding.of("AAPL", 10, cost_basis=Money.of(150_000, JPY)),
        Holding.of("6758", 300, cost_basis=Money.of(570_000, JPY)),
    ]
    when = datetime(2024, 2, 1, tzinfo=UTC)
    quotes = {
        symbol: Quote(symbol, Money.of(price, currency), QuoteStatus.LIVE, "test", when)
        for symbol, price, currency in [
            ("7203", 3100, JPY),
            ("AAPL", "187.5", USD),
            ("6758", 2000, JPY),
        ]
    }
    rates = RateTable([FxRate(USD, JPY, D("148.2"))])

    def value(holdings: list[Holding]) -> tuple[Money, Money | None]:
        portfolio = Portfolio.create(
            user_id="u", portfolio_id="p", name="p", base_currency=JPY, at=when, holdings=holdings
        )
        valuation = value_portfolio(portfolio, quotes, rates, at=when)
        return valuation.total, valuation.unrealized_pl

    assert sorted(h.symbol for h in ledger.holdings()) == ["6758", "7203", "AAPL"]
    assert value(ledger.holdings()) == value(by_hand)


def test_holdings_fit_the_domain_limits_after_awkward_splits() -> None:
    activities = [buy("b1", 0, 100, 1000), split("x1", 1, "0.3333333333"), split("x2", 2, "3")]

    holding = replay(activities, base_currency=JPY, rates=NO_FX).holdings()[0]

    assert holding.quantity == D("99.9999999900")
    assert holding.cost_basis == Money(D(100_000), JPY)


def test_sold_out_positions_are_kept_but_not_held() -> None:
    ledger = replay([*PARTIAL, sell("s2", 3, 50, 3000)], base_currency=JPY, rates=NO_FX)

    assert ledger.open_positions == []
    assert ledger.holdings() == []
    assert ledger.positions["7203"].realized == 225_000 + 150_000 - 75_000


def test_replay_until_a_day_stops_there() -> None:
    ledger = replay(PARTIAL, base_currency=JPY, rates=NO_FX, until=at(1))

    assert ledger.positions["7203"].quantity == 200
    assert ledger.realized == 0


def test_fx_history_from_pair_closes() -> None:
    from portfoliowise.domain.market import DailyClose, DailyHistory

    direct = DailyHistory("USDJPY=X", "JPY", (DailyClose(at(0), D(150)),), "t")
    inverse = FxHistory.from_histories(
        USD, [DailyHistory("USD-JPY", "JPY", (DailyClose(at(0), D(160)),), "t")]
    )

    assert FxHistory.from_histories(JPY, [direct]).rate(USD, at(3)) == 150
    assert FxHistory.from_histories(JPY, [direct]).rate(USD, at(-1)) is None
    assert inverse.rate(JPY, at(0)) == 1 / D(160)
    with pytest.raises(ValidationError, match="EUR-USD"):
        FxHistory.from_histories(
            JPY, [DailyHistory("EUR-USD", "USD", (DailyClose(at(0), D("1.1")),), "t")]
        )
    with pytest.raises(ValidationError, match="positive"):
        FxHistory(JPY, {USD: {at(0): D(0)}})
