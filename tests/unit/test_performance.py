"""Performance: XIRR and the time-weighted return against worked examples with published
answers (each names its source), the ranges, and the report of a ledger: its daily value
series (filled forward, unknown before the first close or rate), income, fees, taxes,
realized and unrealized P/L, and the price and currency effects of USD holdings in a JPY
portfolio."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from unittest.mock import patch

import pytest

from portfoliowise.domain import performance
from portfoliowise.domain.activities import Activity, ActivityType
from portfoliowise.domain.errors import ValidationError
from portfoliowise.domain.ledger import CostMethod, FlowBasis, FxHistory
from portfoliowise.domain.market import DailyClose, DailyHistory
from portfoliowise.domain.money import JPY, USD, Currency
from portfoliowise.domain.performance import (
    DateRange,
    Period,
    performance_report,
    resolve_range,
    time_weighted_return,
    value_series,
    xirr,
)

D = Decimal


def close_to(value: Decimal | None, expected: str | Decimal, tolerance: str = "1E-20") -> bool:
    assert value is not None
    return abs(value - D(expected)) <= D(tolerance)


# -- XIRR ---------------------------------------------------------------------------

EXCEL_FLOWS = [
    (date(2008, 1, 1), D(-10000)),
    (date(2008, 3, 1), D(2750)),
    (date(2008, 10, 30), D(4250)),
    (date(2009, 2, 15), D(3250)),
    (date(2009, 4, 1), D(2750)),
]


def npv(flows: list[tuple[date, Decimal]], rate: Decimal) -> Decimal:
    first = min(day for day, _ in flows)
    return sum(
        (amount / (1 + rate) ** (D((day - first).days) / 365) for day, amount in flows), D(0)
    )


def test_xirr_of_the_excel_documentation_example() -> None:
    """Microsoft Support, "XIRR function" (Excel): −10,000 on 2008-01-01, then 2,750,
    4,250, 3,250 and 2,750 → 0.373362535 (37.34 %). Excel stops when the rate is within
    0.000001 % (1e-8), so its ninth digit is Excel's; the exact root is 0.37336253351883…"""
    rate = xirr(EXCEL_FLOWS)

    assert close_to(rate, "0.373362535", "1E-8")
    assert close_to(rate, "0.3733625335188315", "1E-15")
    assert abs(npv(EXCEL_FLOWS, rate)) < D("1E-15")  # type: ignore[arg-type]


def test_xirr_of_the_libreoffice_compatible_xirr_crate_example() -> None:
    """docs.rs, crate `xirr` (an implementation of LibreOffice Calc's XIRR), its example:
    −1,000 on 2015-06-11, −9,000 on 2015-07-21, 20,000 on 2018-06-10, −3,000 on
    2015-10-17 (not in date order) → 0.1635371584432641."""
    flows = [
        (date(2015, 6, 11), D(-1000)),
        (date(2015, 7, 21), D(-9000)),
        (date(2018, 6, 10), D(20000)),
        (date(2015, 10, 17), D(-3000)),
    ]

    assert close_to(xirr(flows), "0.1635371584432641", "1E-15")


def test_xirr_of_the_cfa_money_weighted_example() -> None:
    """CFA Institute, CFA Program Level I, Quantitative Methods (the money- and
    time-weighted return example of "Discounted Cash Flow Applications", later "Rates
    and Returns"): buy a share at 100, a year later receive a 2 dividend and buy a second
    share at 120, a year later receive 2 × 2 of dividends and sell both at 130 →
    money-weighted return 13.86 %. (Whole 365-day years: actual/365 is exactly yearly.)"""
    flows = [
        (date(2021, 1, 1), D(-100)),
        (date(2022, 1, 1), D(-120 + 2)),
        (date(2023, 1, 1), D(2 * 130 + 2 * 2)),
    ]

    rate = xirr(flows)

    assert close_to(rate, "0.1386", "0.00005")
    # 264v² − 118v − 100 = 0 with v = 1 / (1 + r): r = 528 / (118 + √119524) − 1.
    exact = D(528) / (D(118) + D(119524).sqrt()) - 1
    assert close_to(rate, exact, "1E-25")


@pytest.mark.parametrize(
    "flows",
    [
        [],
        [(date(2024, 1, 1), D(0)), (date(2024, 2, 1), D(0))],
        [(date(2024, 1, 1), D(100)), (date(2024, 2, 1), D(5))],
        [(date(2024, 1, 1), D(-100)), (date(2024, 2, 1), D(-5))],
        [(date(2024, 1, 1), D(-100))],
        [(date(2024, 1, 1), D(-100)), (date(2024, 1, 1), D(100))],  # one day, nets to 0
    ],
    ids=["empty", "zeros", "all-in", "all-out", "single", "same-day"],
)
def test_xirr_is_none_when_no_rate_exists(flows: list[tuple[date, Decimal]]) -> None:
    assert xirr(flows) is None


def test_xirr_adds_the_flows_of_one_day_and_takes_any_order() -> None:
    split_up = [(day, amount / 2) for day, amount in EXCEL_FLOWS] * 2

    assert xirr(list(reversed(split_up))) == xirr(EXCEL_FLOWS)


def test_xirr_finds_the_rate_by_bracketing_when_newton_fails() -> None:
    with patch.object(performance, "_newton", return_value=None):
        rate = xirr(EXCEL_FLOWS)

    assert close_to(rate, "0.3733625335188315", "1E-15")


def test_xirr_of_a_loss_and_of_a_large_gain() -> None:
    loss = [(date(2024, 1, 1), D(-100)), (date(2025, 1, 1), D(50))]  # 366 days
    gain = [(date(2024, 1, 1), D(-100)), (date(2024, 1, 31), D(200))]

    assert close_to(xirr(loss), D("0.5") ** (D(365) / 366) - 1, "1E-25")
    assert close_to(xirr(gain), D(2) ** (D(365) / 30) - 1, "1E-20")


def test_xirr_refuses_floats() -> None:
    with pytest.raises(ValidationError, match="Decimal"):
        xirr([(date(2024, 1, 1), -100.0), (date(2025, 1, 1), D(110))])  # type: ignore[list-item]


# -- time-weighted return -----------------------------------------------------------


def test_twr_of_the_investopedia_example() -> None:
    """Investopedia, "Time-Weighted Rate of Return (TWR)": 1,000,000 grows to 1,162,484
    by 15 August, when 100,000 is added; the year ends at 1,192,328.
    HP1 = 16.25 %, HP2 = −5.56 %, TWR = 9.79 %. (The deposit is dated the day after the
    valuation it follows: flows count at the start of their day.)"""
    valuations = {
        date(2022, 12, 31): D(1_000_000),
        date(2023, 8, 15): D(1_162_484),
        date(2023, 12, 31): D(1_192_328),
    }

    twr = time_weighted_return(valuations, {date(2023, 8, 16): D(100_000)})

    assert close_to(twr, "0.0979", "0.00005")
    assert close_to(twr, D("1.162484") * D(1_192_328) / D(1_262_484) - 1)


def test_twr_of_the_mathcelebrity_example() -> None:
    """mathcelebrity.com, "Time Weighted Rate of Interest": 100,000 on 1 January,
    112,000 on 1 March then a 30,000 contribution, 125,000 on 1 August then a 42,000
    withdrawal, 100,000 on 1 January of the next year → 18.78 %."""
    valuations = [
        (date(2023, 1, 1), D(100_000)),
        (date(2023, 3, 1), D(112_000)),
        (date(2023, 8, 1), D(125_000)),
        (date(2024, 1, 1), D(100_000)),
    ]
    flows = [(date(2023, 3, 2), D(30_000)), (date(2023, 8, 2), D(-42_000))]

    assert close_to(time_weighted_return(valuations, flows), "0.1878", "0.00005")


def test_twr_of_the_cfa_time_weighted_example() -> None:
    """CFA Institute, the same two years as the money-weighted example above: year 1
    (100 → 120 + 2 of dividend) returns 22 %, year 2 (240 invested → 2 × 130 + 4)
    returns 10 %; annualised time-weighted return √(1.22 × 1.10) − 1 = 15.84 %. The
    dividend stays in the portfolio until the start of year 2, when the investor adds
    120 and takes the 2 out (net flow 118)."""
    valuations = {date(2021, 1, 1): D(100), date(2022, 1, 1): D(122), date(2023, 1, 1): D(264)}

    twr = time_weighted_return(valuations, {date(2022, 1, 2): D(118)})

    assert close_to(twr, "0.342")
    assert close_to((1 + twr).sqrt() - 1, "0.1584", "0.00005")


def test_twr_of_a_two_period_example_by_hand() -> None:
    """1,000 on day 0; 1,100 at the end of day 1 (+10 %); 400 deposited at the start of
    day 2, which ends at 1,650: 1,650 / (1,100 + 400) = +10 %. TWR = 1.1 × 1.1 − 1 = 21 %,
    whatever the deposit's size (Modified Dietz would weight it by time instead)."""
    day = date(2024, 3, 1)
    valuations = {day: D(1000), day + timedelta(1): D(1100), day + timedelta(2): D(1650)}

    assert time_weighted_return(valuations, {day + timedelta(2): D(400)}) == D("0.21")


def test_twr_from_a_deposit_on_day_one() -> None:
    """Value 0 the day before, 1,000 deposited at the start of day 1, 1,010 at its end:
    1,010 / (0 + 1,000) − 1 = 1 %. The empty day before (0 / 0) counts as 0 %."""
    day = date(2024, 3, 1)
    valuations = [(day - timedelta(1), D(0)), (day, D(0)), (day + timedelta(1), D(1010))]

    assert time_weighted_return(valuations, [(day + timedelta(1), D(1000))]) == D("0.01")


def test_twr_skips_days_without_capital() -> None:
    day = date(2024, 3, 1)
    valuations = {day: D(100), day + timedelta(1): D(0), day + timedelta(2): D(50)}
    # Everything withdrawn at the start of day 1 (100 → 0: 0 / (100 − 100) is undefined),
    # then 40 deposited at the start of day 2, worth 50 at its end: +25 %.
    flows = {day + timedelta(1): D(-100), day + timedelta(2): D(40)}

    assert time_weighted_return(valuations, flows) == D("0.25")


def test_twr_ignores_flows_outside_the_valuations_and_needs_two_of_them() -> None:
    day = date(2024, 3, 1)
    valuations = {day: D(100), day + timedelta(1): D(110)}

    assert time_weighted_return(valuations, {day: D(50), day + timedelta(5): D(9)}) == D("0.1")
    assert time_weighted_return({day: D(100)}, {}) == 0
    assert time_weighted_return({}, {}) == 0


# -- ranges -------------------------------------------------------------------------

THURSDAY = date(2024, 6, 13)


@pytest.mark.parametrize(
    ("spec", "start"),
    [
        ("1D", THURSDAY),
        ("wtd", date(2024, 6, 10)),  # Monday
        ("MTD", date(2024, 6, 1)),
        ("YTD", date(2024, 1, 1)),
        ("1Y", date(2023, 6, 14)),  # measured from the close of 2023-06-13
        ("5y", date(2019, 6, 14)),
        (Period.MAX, date(2020, 2, 3)),
    ],
)
def test_ranges_against_an_as_of_date(spec: str, start: date) -> None:
    window = resolve_range(spec, THURSDAY, first_day=date(2020, 2, 3))

    assert window.start == start
    assert window.end == THURSDAY
    assert window.base == start - timedelta(1)


def test_week_to_date_starts_on_monday() -> None:
    assert resolve_range("WTD", date(2024, 6, 10)).start == date(2024, 6, 10)  # a Monday
    assert resolve_range("WTD", date(2024, 6, 16)).start == date(2024, 6, 10)  # a Sunday


def test_a_year_back_from_the_29th_of_february() -> None:
    assert resolve_range("1Y", date(2024, 2, 29)).base == date(2023, 2, 28)
    assert resolve_range("5Y", date(2024, 2, 29)).base == date(2019, 2, 28)


def test_custom_ranges() -> None:
    first = date(2021, 5, 6)

    assert resolve_range("2024-01-15..2024-03-31", THURSDAY) == DateRange(
        date(2024, 1, 15), date(2024, 3, 31), "2024-01-15..2024-03-31"
    )
    assert resolve_range("2024-01-15..", THURSDAY).end == THURSDAY
    assert resolve_range("..2024-03-31", THURSDAY, first_day=first).start == first
    assert resolve_range("MAX", THURSDAY).start == THURSDAY  # nothing recorded yet


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("2Y", "range must be one of"),
        ("2024-13-01..2024-03-31", "not a date"),
        ("2024-03-01..2024-02-01", "starts on or before its end"),
        ("2024-03-01..2024-12-31", "after the as-of date"),
    ],
)
def test_bad_ranges(spec: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        resolve_range(spec, THURSDAY)


# -- the report ---------------------------------------------------------------------

MONDAY = date(2024, 1, 1)


def day(offset: int) -> date:
    return MONDAY + timedelta(days=offset)


def history(symbol: str, prices: dict[int, str | int], currency: Currency = JPY) -> DailyHistory:
    closes = tuple(
        DailyClose(day(offset), D(str(price))) for offset, price in sorted(prices.items())
    )
    return DailyHistory(symbol, currency.code, closes, "test")


def trade(
    kind: ActivityType,
    aid: str,
    offset: int,
    symbol: str,
    quantity: int,
    price: str | int,
    currency: Currency = JPY,
    **extra: Decimal,
) -> Activity:
    return Activity(
        aid,
        kind,
        day(offset),
        currency,
        symbol,
        quantity=D(quantity),
        unit_price=D(str(price)),
        **extra,  # type: ignore[arg-type]
    )


def money(kind: ActivityType, aid: str, offset: int, amount: int, **extra: object) -> Activity:
    return Activity(aid, kind, day(offset), JPY, amount=D(amount), **extra)  # type: ignore[arg-type]


USD_JPY = FxHistory(JPY, {USD: {day(0): D(150), day(7): D(145), day(14): D(140)}})


def test_usd_holding_in_a_jpy_portfolio_price_and_currency_effects() -> None:
    """10 AAPL bought at 100 USD at 150 JPY (150,000 JPY). Two weeks later AAPL closes at
    120 USD and a dollar is 140 JPY: worth 168,000 JPY.
    Price effect: 150 × (1,200 − 0 − 1,000) = 30,000; currency effect:
    1,200 × (140 − 150) − 1,000 × (150 − 150) = −12,000; together the 18,000 gained."""
    activities = [trade(ActivityType.BUY, "b1", 0, "AAPL", 10, 100, USD)]
    closes = [history("AAPL", {0: 100, 7: 110, 14: 120}, USD)]

    report = performance_report(
        activities, base_currency=JPY, closes=closes, fx=USD_JPY, as_of=day(14)
    )

    assert report.value == 168_000
    assert report.invested == 150_000
    assert report.flow_basis is FlowBasis.TRADES
    assert report.gain == 18_000
    assert report.unrealized == 18_000
    assert report.price_effect == 30_000
    assert report.currency_effect == -12_000
    assert report.cash_currency_effect == 0
    assert report.filled == {"AAPL": 12, "USD-JPY": 12}  # days between the closes and rates


def test_effects_of_a_holding_held_at_the_range_start() -> None:
    """Same holding, range day 8..14: at the base day (day 7) 110 USD at 145 JPY.
    Price: 145 × (1,200 − 1,100) = 14,500; currency: 1,200 × (140 − 145) = −6,000;
    gain 168,000 − 159,500 = 8,500."""
    activities = [trade(ActivityType.BUY, "b1", 0, "AAPL", 10, 100, USD)]
    closes = [history("AAPL", {0: 100, 7: 110, 14: 120}, USD)]

    report = performance_report(
        activities,
        base_currency=JPY,
        closes=closes,
        fx=USD_JPY,
        period=f"{day(8)}..{day(14)}",
        as_of=day(14),
    )

    assert report.start_value == 159_500
    assert report.net_flows == 0
    assert report.gain == 8_500
    assert (report.price_effect, report.currency_effect) == (14_500, -6_000)
    assert close_to(report.twr, D(168_000) / D(159_500) - 1)


def test_a_sale_in_the_range_realizes_price_and_currency() -> None:
    """Buy 10 at 100 USD at 150, sell them on day 14 at 120 USD at 140: realized
    168,000 − 150,000 = 18,000 JPY, the same split: price 30,000, currency −12,000."""
    activities = [
        trade(ActivityType.BUY, "b1", 0, "AAPL", 10, 100, USD),
        trade(ActivityType.SELL, "s1", 14, "AAPL", 10, 120, USD),
    ]
    closes = [history("AAPL", {0: 100, 7: 110, 14: 121}, USD)]

    report = performance_report(
        activities, base_currency=JPY, closes=closes, fx=USD_JPY, as_of=day(14)
    )

    assert report.realized == 18_000
    assert report.unrealized == 0
    assert report.value == 0
    assert report.invested == 150_000 - 168_000
    assert (report.price_effect, report.currency_effect) == (30_000, -12_000)
    assert [h.symbol for h in report.holdings] == ["AAPL"]
    assert report.holdings[0].quantity == 0


def test_a_portfolio_that_starts_from_a_deposit() -> None:
    """1,000,000 JPY deposited on day 0 and 100 × 7203 bought at 10,000 the same day (no
    cash left); 7203 closes at 10,000 on day 0 and 10,100 on day 1. The value is 0 on the
    day before, then 1,000,000 and 1,010,000: TWR = 1,000,000 / (0 + 1,000,000) × 1.01 − 1
    = 1 %, XIRR = 1.01^365 − 1 (one day of 1 %, annualised)."""
    activities = [
        money(ActivityType.DEPOSIT, "dep", 0, 1_000_000),
        trade(ActivityType.BUY, "b1", 0, "7203", 100, 10_000),
    ]
    closes = [history("7203", {0: 10_000, 1: 10_100})]

    report = performance_report(activities, base_currency=JPY, closes=closes, as_of=day(1))

    assert report.flow_basis is FlowBasis.DEPOSITS
    assert report.range.base == day(-1)
    assert [point.value for point in report.series] == [0, 1_000_000, 1_010_000]
    assert report.twr == D("0.01")
    assert close_to(report.xirr, D("1.01") ** 365 - 1, "1E-15")
    assert report.invested == 1_000_000
    assert report.cash == {}


def test_income_fees_and_taxes_over_the_range() -> None:
    activities = [
        money(ActivityType.DEPOSIT, "dep", 0, 1_000_000),
        trade(ActivityType.BUY, "b1", 0, "7203", 100, 3000, fees=D(500)),
        Activity("div", ActivityType.DIVIDEND, day(20), JPY, "7203", amount=D(6000), taxes=D(1219)),
        money(ActivityType.FEE, "fee", 25, 330),
        trade(ActivityType.SELL, "s1", 28, "7203", 50, 3200, fees=D(500), taxes=D(1000)),
    ]
    closes = [history("7203", {0: 3000, 28: 3200, 30: 3300})]

    full = performance_report(activities, base_currency=JPY, closes=closes, as_of=day(30))
    late = performance_report(
        activities, base_currency=JPY, closes=closes, period=f"{day(21)}..", as_of=day(30)
    )

    assert (full.income, full.fees, full.taxes) == (6000, 500 + 330 + 500, 1219 + 1000)
    # Sold 50 of 100 costing 300,500: proceeds 160,000 − 1,500 − 150,250.
    assert full.realized == 8_250
    assert (late.income, late.fees, late.taxes, late.realized) == (0, 830, 1000, 8_250)
    # Cash: 1,000,000 − 300,500 + 4,781 − 330 + 158,500; shares: 50 × 3,300.
    assert full.value == 862_451 + 165_000
    assert full.unrealized == 165_000 - 150_250
    assert full.gain == full.value - full.invested  # type: ignore[operator]


def test_weekends_are_filled_forward_and_never_from_a_later_day() -> None:
    """Closes on Friday (day 4) and Monday (day 7): Saturday and Sunday carry Friday's."""
    activities = [trade(ActivityType.BUY, "b1", 4, "7203", 1, 100)]
    closes = [history("7203", {4: 100, 7: 130})]

    series = value_series(activities, base_currency=JPY, closes=closes, start=day(4), end=day(7))

    assert [p.value for p in series.points] == [100, 100, 100, 130]
    assert series.filled == {"7203": 2}
    assert series.filled_total == 2


def test_before_the_first_close_the_value_is_unknown_not_invented() -> None:
    """Bought on day 0, first close on day 3: days 0 to 2 are unknown."""
    activities = [
        money(ActivityType.DEPOSIT, "dep", 0, 1000),
        trade(ActivityType.BUY, "b1", 0, "7203", 1, 100),
    ]
    closes = [history("7203", {3: 110, 4: 121})]

    report = performance_report(activities, base_currency=JPY, closes=closes, as_of=day(4))

    assert [p.value for p in report.series] == [0, None, None, None, 1010, 1021]
    assert report.unknown == {"7203": 3}
    assert report.unknown_days == 3
    # The return skips the unknown days: 1,010 / (0 + 1,000) then 1,021 / 1,010.
    assert report.twr == D("0.021")


def test_a_symbol_without_any_close_makes_the_value_unknown() -> None:
    activities = [trade(ActivityType.BUY, "b1", 0, "7203", 1, 100)]

    report = performance_report(activities, base_currency=JPY, closes=[], as_of=day(2))

    assert report.value is None
    assert report.unrealized is None
    assert report.gain is None
    assert report.xirr is None
    assert report.unknown == {"7203": 3}
    assert report.holdings[0].price_effect is None


def test_cash_in_a_currency_before_its_first_rate_is_unknown() -> None:
    activities = [
        Activity("div", ActivityType.DIVIDEND, day(1), USD, "AAPL", amount=D(10), fx_rate=D(150))
    ]
    rates = FxHistory(JPY, {USD: {day(3): D(151)}})

    series = value_series(
        activities, base_currency=JPY, closes=[], fx=rates, start=day(0), end=day(4)
    )

    assert [p.value for p in series.points] == [0, None, None, 1510, 1510]
    assert series.unknown == {"USD-JPY": 2}
    assert series.filled == {"USD-JPY": 1}


def test_a_split_does_not_change_the_value() -> None:
    """100 shares at 1,000; a 2-for-1 split on day 2, the close halves to 500: 100,000 on
    every day, whether the closes are as quoted or adjusted afterwards for the split."""
    activities = [
        trade(ActivityType.BUY, "b1", 0, "7203", 100, 1000),
        Activity("x1", ActivityType.SPLIT, day(2), JPY, "7203", quantity=D(2)),
    ]
    as_quoted = [history("7203", {0: 1000, 1: 1000, 2: 500, 3: 500})]
    adjusted = [history("7203", {0: 500, 1: 500, 2: 500, 3: 500})]

    for closes, split_adjusted in ((as_quoted, False), (adjusted, True)):
        series = value_series(
            activities,
            base_currency=JPY,
            closes=closes,
            start=day(0),
            end=day(3),
            split_adjusted=split_adjusted,
        )
        assert [p.value for p in series.points] == [100_000] * 4


def test_fifo_and_average_differ_in_realized_not_in_value() -> None:
    activities = [
        trade(ActivityType.BUY, "b1", 0, "7203", 100, 1000),
        trade(ActivityType.BUY, "b2", 1, "7203", 100, 2000),
        trade(ActivityType.SELL, "s1", 2, "7203", 150, 3000),
    ]
    closes = [history("7203", {0: 1000, 1: 2000, 2: 3000})]

    average, fifo = (
        performance_report(
            activities, base_currency=JPY, closes=closes, as_of=day(2), method=method
        )
        for method in (CostMethod.AVERAGE, CostMethod.FIFO)
    )

    assert (average.realized, fifo.realized) == (225_000, 250_000)
    assert (average.unrealized, fifo.unrealized) == (75_000, 50_000)
    assert average.value == fifo.value == 150_000
    assert average.twr == fifo.twr


def test_fx_pair_closes_are_accepted_as_rates() -> None:
    activities = [trade(ActivityType.BUY, "b1", 0, "AAPL", 10, 100, USD)]
    closes = [history("AAPL", {0: 100, 1: 110}, USD)]
    pair = DailyHistory("USD-JPY", "JPY", (DailyClose(day(0), D(150)),), "test")

    report = performance_report(
        activities, base_currency=JPY, closes=closes, fx=[pair], as_of=day(1)
    )

    assert report.value == 165_000
    assert report.filled == {"USD-JPY": 1}


def test_closes_in_another_currency_than_the_trades_are_refused() -> None:
    activities = [trade(ActivityType.BUY, "b1", 0, "AAPL", 10, 100, USD)]
    wrong = [history("AAPL", {0: 15_000}, JPY)]

    with pytest.raises(ValidationError, match="AAPL are in JPY"):
        performance_report(activities, base_currency=JPY, closes=wrong, fx=USD_JPY, as_of=day(1))


def test_an_empty_ledger_reports_zero_and_no_rate() -> None:
    report = performance_report([], base_currency=JPY, closes=[], as_of=day(0))

    assert report.value == 0
    assert report.twr == 0
    assert report.xirr is None
    assert report.invested == 0
    assert [p.day for p in report.series] == [day(-1), day(0)]


def test_the_report_as_json() -> None:
    activities = [trade(ActivityType.BUY, "b1", 0, "AAPL", 3, "100.125", USD)]
    closes = [history("AAPL", {0: "100.125", 7: "101.5"}, USD)]

    data = performance_report(
        activities, base_currency=JPY, closes=closes, fx=USD_JPY, period="MTD", as_of=day(7)
    ).to_json()

    assert data["range"] == {
        "label": "MTD",
        "start": "2024-01-01",
        "end": "2024-01-08",
        "base": "2023-12-31",
    }
    assert data["invested"] == "45056"  # 300.375 USD × 150 = 45,056.25
    assert data["value"] == "44153"  # 304.5 × 145 = 44,152.5, half up
    assert data["xirr"] is not None
    assert data["twr"] == "-0.0200582605"  # 44,152.5 / 45,056.25 − 1
    assert isinstance(data["series"], list)
    assert len(data["series"]) == 9
    assert data["filled"] == {"total": 12, "AAPL": 6, "USD-JPY": 6}
    assert "series" not in performance_report(
        activities, base_currency=JPY, closes=closes, fx=USD_JPY, as_of=day(7)
    ).to_json(series=False)


def test_bad_closes_are_gaps_and_a_later_close_of_a_day_wins() -> None:
    activities = [trade(ActivityType.BUY, "b1", 0, "7203", 1, 100)]
    closes = (
        DailyClose(day(0), D(100)),
        DailyClose(day(1), D(0)),
        DailyClose(day(2), D("NaN")),
        DailyClose(day(3), D(120)),
        DailyClose(day(3), D(125)),
    )

    series = value_series(
        activities,
        base_currency=JPY,
        closes=[DailyHistory("7203", "JPY", closes, "t")],
        start=day(0),
        end=day(3),
    )

    assert [p.value for p in series.points] == [100, 100, 100, 125]
    assert series.filled == {"7203": 2}


def test_closes_out_of_date_order_are_refused() -> None:
    activities = [trade(ActivityType.BUY, "b1", 0, "7203", 1, 100)]
    closes = (DailyClose(day(2), D(100)), DailyClose(day(1), D(100)))

    with pytest.raises(ValidationError, match="not in date order"):
        value_series(
            activities,
            base_currency=JPY,
            closes=[DailyHistory("7203", "JPY", closes, "t")],
            start=day(0),
            end=day(3),
        )


def test_a_series_point_carries_its_day_flows_and_the_invested_so_far() -> None:
    activities = [
        money(ActivityType.DEPOSIT, "d1", 0, 1000),
        money(ActivityType.DEPOSIT, "d2", 2, 500),
        money(ActivityType.WITHDRAWAL, "w1", 3, 200),
    ]

    series = value_series(activities, base_currency=JPY, closes=[], start=day(0), end=day(3))

    assert [(p.value, p.flow, p.invested) for p in series.points] == [
        (1000, 1000, 1000),
        (1000, 0, 1000),
        (1500, 500, 1500),
        (1300, -200, 1300),
    ]
