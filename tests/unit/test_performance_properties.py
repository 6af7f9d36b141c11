"""Hypothesis properties of the returns, the ledger and the daily value series: constant
prices return 0; growth at a known rate is found by TWR and XIRR; one-signed flows have no
XIRR; deposits of any size leave the TWR alone; splits do not change value; average cost
and FIFO realize the same total once everything is sold; missing closes are filled only
from earlier days; and the report's gain is its price and currency effects plus income,
less fees and taxes."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal, localcontext
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portfoliowise.domain.activities import Activity, ActivityType
from portfoliowise.domain.ledger import CostMethod, FxHistory, replay
from portfoliowise.domain.market import DailyClose, DailyHistory
from portfoliowise.domain.money import JPY, USD, Currency
from portfoliowise.domain.performance import (
    performance_report,
    time_weighted_return,
    value_series,
    xirr,
)

D = Decimal
START = date(2023, 1, 2)  # a Monday
PROPERTIES = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def day(offset: int) -> date:
    return START + timedelta(days=offset)


def near(a: Decimal | None, b: Decimal, relative: str = "1E-18") -> bool:
    assert a is not None
    return abs(a - b) <= D(relative) * max(D(1), abs(b))


prices = st.integers(min_value=100, max_value=100_000).map(lambda n: D(n) / 10)
daily_returns = st.lists(
    st.integers(min_value=-300, max_value=300).map(lambda n: D(n) / 10_000),
    min_size=1,
    max_size=40,
)


# -- returns ------------------------------------------------------------------------


@PROPERTIES
@given(
    price=prices,
    quantity=st.integers(min_value=1, max_value=10_000),
    days=st.integers(min_value=1, max_value=60),
    method=st.sampled_from(CostMethod),
)
def test_constant_prices_and_no_flows_return_nothing(
    price: Decimal, quantity: int, days: int, method: CostMethod
) -> None:
    activities = [
        Activity("dep", ActivityType.DEPOSIT, day(0), JPY, amount=price * quantity),
        Activity(
            "b1", ActivityType.BUY, day(0), JPY, "7203", quantity=D(quantity), unit_price=price
        ),
    ]
    closes = [DailyHistory("7203", "JPY", (DailyClose(day(0), price),), "t")]

    report = performance_report(
        activities,
        base_currency=JPY,
        closes=closes,
        period=f"{day(1)}..{day(days)}",
        as_of=day(days),
        method=method,
    )

    assert report.twr == 0
    assert report.gain == 0
    assert report.xirr == 0
    assert time_weighted_return({day(i): price for i in range(days)}) == 0


@PROPERTIES
@given(deposit=st.integers(min_value=1, max_value=10**9), returns=daily_returns)
def test_a_single_deposit_growing_at_known_rates_returns_their_product(
    deposit: int, returns: list[Decimal]
) -> None:
    with localcontext() as ctx:
        ctx.prec = 50
        values = {day(-1): D(0)}
        value = D(deposit)
        for offset, rate in enumerate(returns):
            value *= 1 + rate
            values[day(offset)] = value
        expected = D(1)
        for rate in returns:
            expected *= 1 + rate

    twr = time_weighted_return(values, {day(0): D(deposit)})

    assert near(twr, expected - 1, "1E-26")


@PROPERTIES
@given(
    rate=st.integers(min_value=-900, max_value=5000).map(lambda n: D(n) / 1000),
    years=st.integers(min_value=1, max_value=30),
    amount=st.integers(min_value=1, max_value=10**12),
)
def test_xirr_of_one_investment_grown_at_a_known_rate(
    rate: Decimal, years: int, amount: int
) -> None:
    final = D(amount) * (1 + rate) ** years  # whole 365-day years: exact at any precision

    found = xirr([(day(0), D(-amount)), (day(365 * years), final)])

    assert near(found, rate, "1E-20")


@st.composite
def investments(draw: Any) -> tuple[Decimal, list[tuple[date, Decimal]]]:
    """Flows built from a known rate: investments on random days, and the final value
    they grow to at that rate (computed at 60 digits)."""
    rate = D(draw(st.integers(min_value=-500, max_value=2000))) / 1000
    count = draw(st.integers(min_value=1, max_value=12))
    days = draw(st.lists(st.integers(0, 3650), min_size=count, max_size=count))
    amounts = draw(st.lists(st.integers(1, 10**9), min_size=count, max_size=count))
    end = max(days) + draw(st.integers(min_value=1, max_value=3650))
    with localcontext() as ctx:
        ctx.prec = 60
        final = sum(
            (D(a) * (1 + rate) ** (D(end - t) / 365) for t, a in zip(days, amounts, strict=True)),
            D(0),
        )
    flows = [(day(t), D(-a)) for t, a in zip(days, amounts, strict=True)]
    return rate, [*flows, (day(end), final)]


@PROPERTIES
@given(case=investments())
def test_xirr_of_flows_built_from_a_known_rate_finds_it(
    case: tuple[Decimal, list[tuple[date, Decimal]]],
) -> None:
    rate, flows = case

    assert near(xirr(flows), rate, "1E-10")


@PROPERTIES
@given(
    amounts=st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=20),
    sign=st.sampled_from([1, -1]),
)
def test_xirr_of_one_signed_flows_is_none(amounts: list[int], sign: int) -> None:
    assert xirr([(day(i * 17), D(sign * a)) for i, a in enumerate(amounts)]) is None


@PROPERTIES
@given(
    returns=st.lists(
        st.integers(min_value=-300, max_value=300).map(lambda n: D(n) / 10_000),
        min_size=2,
        max_size=40,
    ),
    when=st.integers(min_value=1, max_value=39),
    size=st.integers(min_value=-900, max_value=10**6).map(lambda n: D(n) / 1000),
)
def test_a_deposit_of_any_size_leaves_the_twr_alone(
    returns: list[Decimal], when: int, size: Decimal
) -> None:
    """A deposit (or a withdrawal of less than the value) at the start of a day, invested
    like the rest of the portfolio: the values from then on scale, the return does not.
    `size` is the deposit over the value before it (−0.9: 90 % withdrawn)."""
    when = when % len(returns)
    with localcontext() as ctx:
        ctx.prec = 60
        plain = {day(-1): D(1000)}
        funded = {day(-1): D(1000)}
        value = extra = D(1000)
        deposit = D(0)
        for offset, rate in enumerate(returns):
            if offset == when:
                deposit = extra * size
                extra += deposit
            value *= 1 + rate
            extra *= 1 + rate
            plain[day(offset)] = value
            funded[day(offset)] = extra

    assert near(
        time_weighted_return(funded, {day(when): deposit}),
        time_weighted_return(plain, {}),
        "1E-24",
    )


# -- the ledger ---------------------------------------------------------------------


@st.composite
def trading(draw: Any) -> list[Activity]:
    """Buys and sells of one symbol that never oversell, with fees, taxes and splits."""
    activities: list[Activity] = []
    held = D(0)
    for index in range(draw(st.integers(min_value=1, max_value=25))):
        kind = draw(st.sampled_from(["buy", "buy", "sell", "split"])) if index else "buy"
        price = draw(prices)
        fees = D(draw(st.integers(0, 500)))
        if kind == "split":
            ratio = draw(st.sampled_from(["2", "3", "0.5", "0.1", "10", "1.5"]))
            activities.append(
                Activity(
                    f"x{index}", ActivityType.SPLIT, day(index), JPY, "7203", quantity=D(ratio)
                )
            )
            held *= D(ratio)
            continue
        if kind == "sell" and held >= 1:
            quantity = D(draw(st.integers(min_value=1, max_value=int(held))))
            held -= quantity
            activities.append(
                Activity(
                    f"s{index}", ActivityType.SELL, day(index), JPY, "7203",
                    quantity=quantity, unit_price=price, fees=fees,
                )
            )  # fmt: skip
            continue
        quantity = D(draw(st.integers(min_value=1, max_value=1000)))
        held += quantity
        activities.append(
            Activity(
                f"b{index}", ActivityType.BUY, day(index), JPY, "7203",
                quantity=quantity, unit_price=price, fees=fees, taxes=fees / 10,
            )
        )  # fmt: skip
    if held > 0:
        activities.append(
            Activity(
                "last", ActivityType.SELL, day(99), JPY, "7203",
                quantity=held, unit_price=draw(prices),
            )
        )  # fmt: skip
    return activities


@PROPERTIES
@given(activities=trading())
def test_average_and_fifo_realize_the_same_total_once_everything_is_sold(
    activities: list[Activity],
) -> None:
    rates = FxHistory(JPY)
    average = replay(activities, base_currency=JPY, method=CostMethod.AVERAGE, rates=rates)
    fifo = replay(activities, base_currency=JPY, method=CostMethod.FIFO, rates=rates)

    assert near(average.realized, fifo.realized, "1E-30")  # type: ignore[arg-type]
    assert fifo.positions["7203"].quantity == 0
    assert fifo.positions["7203"].lots == ()
    # Everything sold: realized = what came back − what went in.
    assert near(average.realized, -average.invested, "1E-30")  # type: ignore[arg-type,operator]


@PROPERTIES
@given(
    quantity=st.integers(min_value=1, max_value=10_000),
    path=st.lists(prices, min_size=3, max_size=20),
    when=st.integers(min_value=0, max_value=19),
    ratio=st.sampled_from(["2", "3", "0.5", "0.1", "10", "1.5", "0.3333333333"]),
    adjusted=st.booleans(),
)
def test_splits_do_not_change_value(
    quantity: int, path: list[Decimal], when: int, ratio: str, adjusted: bool
) -> None:
    """Per-share values `path` of the original shares; with a split on day `when`, the
    quoted closes from then on are path / ratio (or every close is, when the closes are
    split-adjusted): the portfolio's value is the same as without the split. The split
    comes after the buy's day (a buy on a split's day is in the new shares already)."""
    when = 1 + when % (len(path) - 1)
    split = D(ratio)
    buy = Activity(
        "b1", ActivityType.BUY, day(0), JPY, "7203", quantity=D(quantity), unit_price=path[0]
    )
    event = Activity("x1", ActivityType.SPLIT, day(when), JPY, "7203", quantity=split)
    with localcontext() as ctx:
        ctx.prec = 50
        quoted = tuple(
            DailyClose(day(i), p / split if adjusted or i >= when else p)
            for i, p in enumerate(path)
        )
    plain = tuple(DailyClose(day(i), p) for i, p in enumerate(path))
    end = day(len(path) - 1)

    def values(activities: list[Activity], closes: tuple[DailyClose, ...], adjust: bool) -> list:
        series = value_series(
            activities,
            base_currency=JPY,
            closes=[DailyHistory("7203", "JPY", closes, "t")],
            start=day(0),
            end=end,
            split_adjusted=adjust,
        )
        return [point.value for point in series.points]

    with_split = values([buy, event], quoted, adjusted)
    without = values([buy], plain, False)

    for a, b in zip(with_split, without, strict=True):
        assert near(a, b, "1E-30")


# -- filling forward ------------------------------------------------------------------


@st.composite
def gappy_closes(draw: Any) -> tuple[int, dict[int, Decimal], dict[int, Decimal]]:
    """A number of days, closes on some of them (day 0 always), rates on some."""
    days = draw(st.integers(min_value=2, max_value=40))
    closes = {0: draw(prices)}
    rates = {0: D(draw(st.integers(100, 200)))}
    for offset in range(1, days):
        if draw(st.booleans()):
            closes[offset] = draw(prices)
        if draw(st.booleans()):
            rates[offset] = D(draw(st.integers(100, 200)))
    return days, closes, rates


def _series(
    days: int, closes: dict[int, Decimal], rates: dict[int, Decimal], currency: Currency
) -> list[Decimal | None]:
    symbol = "AAPL" if currency == USD else "7203"
    activities = [
        Activity(
            "b1", ActivityType.BUY, day(0), currency, symbol, quantity=D(7),
            unit_price=closes[0], fx_rate=None if currency == JPY else rates[0],
        )
    ]  # fmt: skip
    history = DailyHistory(
        symbol, currency.code, tuple(DailyClose(day(t), p) for t, p in sorted(closes.items())), "t"
    )
    fx = FxHistory(JPY, {USD: {day(t): r for t, r in rates.items()}})
    series = value_series(
        activities, base_currency=JPY, closes=[history], fx=fx, start=day(0), end=day(days - 1)
    )
    return [point.value for point in series.points]


@PROPERTIES
@given(case=gappy_closes(), currency=st.sampled_from([JPY, USD]))
def test_missing_days_are_filled_only_from_earlier_days(
    case: tuple[int, dict[int, Decimal], dict[int, Decimal]], currency: Currency
) -> None:
    days, closes, rates = case

    values = _series(days, closes, rates, currency)

    for offset, value in enumerate(values):
        price = closes[max(t for t in closes if t <= offset)]
        rate = rates[max(t for t in rates if t <= offset)] if currency == USD else D(1)
        assert value == 7 * price * rate
    # Closes and rates after a day never change its value.
    for cut in range(days):
        early = {t: p for t, p in closes.items() if t <= cut}
        early_rates = {t: r for t, r in rates.items() if t <= cut}
        assert _series(days, early, early_rates, currency)[: cut + 1] == values[: cut + 1]


# -- the report adds up -----------------------------------------------------------------


@st.composite
def ledgers(draw: Any) -> tuple[list[Activity], list[DailyHistory], FxHistory, int, int]:
    """Deposits (sometimes none), JPY and USD trades, dividends and fees over 30 days,
    daily closes with gaps, USD-JPY rates with gaps, and a range in those days."""
    days = 30
    paths = {
        "7203": [draw(prices) for _ in range(days)],
        "AAPL": [draw(prices) for _ in range(days)],
    }
    usd = [D(draw(st.integers(130, 160))) for _ in range(days)]
    held = {"7203": D(0), "AAPL": D(0)}
    activities: list[Activity] = []
    if draw(st.booleans()):
        activities.append(Activity("dep", ActivityType.DEPOSIT, day(0), JPY, amount=D(10**7)))
    for index in range(draw(st.integers(min_value=1, max_value=25))):
        offset = draw(st.integers(0, days - 1))
        symbol = draw(st.sampled_from(["7203", "AAPL"]))
        currency = USD if symbol == "AAPL" else JPY
        fx_rate = usd[offset] + D(draw(st.integers(-2, 2))) if currency == USD else None
        kind = draw(st.sampled_from(["buy", "buy", "sell", "dividend", "fee"]))
        fees = D(draw(st.integers(0, 5)))
        if kind == "dividend":
            activities.append(
                Activity(
                    f"d{index}", ActivityType.DIVIDEND, day(offset), currency, symbol,
                    amount=D(draw(st.integers(1, 500))), taxes=fees, fx_rate=fx_rate,
                )
            )  # fmt: skip
        elif kind == "fee":
            activities.append(
                Activity(f"f{index}", ActivityType.FEE, day(offset), JPY, amount=fees + 1)
            )
        elif kind == "sell":
            continue  # sells are added below, where the holdings are known
        else:
            quantity = D(draw(st.integers(1, 50)))
            held[symbol] += quantity
            activities.append(
                Activity(
                    f"b{index}", ActivityType.BUY, day(offset), currency, symbol,
                    quantity=quantity, unit_price=paths[symbol][offset] + fees,
                    fees=fees, fx_rate=fx_rate,
                )
            )  # fmt: skip
    last = max((a.day for a in activities), default=day(0))
    for symbol, quantity in held.items():
        if quantity and draw(st.booleans()):
            offset = draw(st.integers((last - START).days, days - 1))
            currency = USD if symbol == "AAPL" else JPY
            activities.append(
                Activity(
                    f"s-{symbol}", ActivityType.SELL, day(offset), currency, symbol,
                    quantity=D(draw(st.integers(1, int(quantity)))),
                    unit_price=paths[symbol][offset],
                    fx_rate=usd[offset] if currency == USD else None,
                )
            )  # fmt: skip
    closes = []
    for symbol, path in paths.items():
        kept = [DailyClose(day(0), path[0])]
        kept += [DailyClose(day(t), path[t]) for t in range(1, days) if draw(st.booleans())]
        closes.append(DailyHistory(symbol, "USD" if symbol == "AAPL" else "JPY", tuple(kept), "t"))
    rate_days = [0] + [t for t in range(1, days) if draw(st.booleans())]
    fx = FxHistory(JPY, {USD: {day(t): usd[t] for t in rate_days}})
    start = draw(st.integers(0, days - 1))
    end = draw(st.integers(start, days - 1))
    return activities, closes, fx, start, end


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=ledgers(), method=st.sampled_from(CostMethod))
def test_gain_is_effects_plus_income_less_fees_and_taxes(
    case: tuple[list[Activity], list[DailyHistory], FxHistory, int, int], method: CostMethod
) -> None:
    activities, closes, fx, start, end = case

    report = performance_report(
        activities,
        base_currency=JPY,
        closes=closes,
        fx=fx,
        period=f"{day(start)}..{day(end)}",
        as_of=day(end),
        method=method,
    )

    assert report.gain is not None
    assert report.price_effect is not None
    assert report.currency_effect is not None
    assert report.cash_currency_effect is not None
    explained = (
        report.price_effect
        + report.currency_effect
        + report.cash_currency_effect
        + report.income
        - report.fees
        - report.taxes
    )
    assert near(report.gain, explained, "1E-30")
    # The series' invested ends at the report's, and value − invested is the whole gain
    # when the range starts before anything happened.
    assert report.series[-1].invested == report.invested
    if not any(a.day < day(start) for a in activities):
        assert near(report.value - report.invested, report.gain, "1E-30")  # type: ignore[operator]
