"""Performance: returns, income, P/L and the daily value series of a portfolio's ledger.

Public API (standard library only, money in `Decimal`):
- `xirr(flows)`: the money-weighted annual rate of dated cash flows, Excel's XIRR.
- `time_weighted_return(valuations, flows)`: the daily-chained time-weighted return.
- `resolve_range(spec, as_of)`: 1D, WTD, MTD, YTD, 1Y, 5Y, MAX or `start..end`.
- `value_series(...)`: the portfolio's value on every calendar day of a range.
- `performance_report(...)`: everything above for one range, what the API route and
  the CLI call.

Decisions, documented here once:

**Cash flows (XIRR).** Excel's convention, from the investor's side: money paid into the
portfolio is negative, money received positive, the final value a positive flow. Dates in
any order; flows of one day are added. Actual/365 day count, as Excel's XIRR:
NPV(r) = Σ cᵢ / (1 + r)^((dᵢ − d₀)/365). Solved for x = ln(1 + r) with Newton's method
from 10 % (Excel's default guess); when Newton fails (no convergence in 100 steps, a step
out of range), a bracket is found by expanding from x = 0 both ways (±1/256 doubling to
±2048) and narrowed by Newton steps kept inside it, bisecting otherwise. Converged to
|Δx| ≤ 10⁻³⁰ at 40 digits, so the rate is exact to far better than 10⁻¹⁰ relative.
Flows that add up to exactly 0 have the rate 0, exactly.
No rate (None): no flows, every flow zero, all flows of one sign, or no sign change of
NPV within the bracket (a rate above e^2048 − 1 or within e^−2048 of −100 %).

**Invested and external flows** are the ledger's (`domain.ledger`, `FlowBasis`): with
any deposit or withdrawal recorded, the flows are those and `invested` is deposits −
withdrawals; without any, each buy brings its cost in and each sell takes its net
proceeds out, and `invested` is the cost of the buys − the net proceeds of the sells.
Either way, in the base currency at each flow's own day's rate, cumulative to the
range's end (`net_flows` is the range's part).

**Report figures** over a range: income (gross dividends and interest), fees and taxes
(all of them, the withheld taxes and the trades' fees included) and realized P/L are
those of the activities dated in the range; unrealized P/L is the end value of what is
held then minus its cost (base currency, at the buys' rates); gain = end value − base
day's value − net flows.

**Time-weighted return.** Valuations are end-of-day values; an external flow (deposit
positive, withdrawal negative) counts at the START of its day, before the day's price
move. For consecutive valuation days p < d: r = V_d / (V_p + F) − 1 with F the flows
dated in (p, d] (with daily valuations, the flows of day d); TWR = Π(1 + r) − 1. Flows
on or before the first valuation day are in its value already and flows after the last
are ignored. A day whose starting capital V_p + F is zero or negative has no defined
return and is chained as 0 %: a portfolio that starts from a deposit on day one is
valued 0 the day before, so its first day's return is V_1 / (0 + deposit) − 1; the
empty days before it (0 / 0) count as 0 %. Fewer than two valuations: 0.

**Ranges** (`resolve_range`), against an as-of date, all inclusive: a range's return is
measured from the close of the day before its start (`DateRange.base`) to the close of
its end. 1D = the as-of day; WTD from Monday (ISO weeks start on Monday); MTD from the
1st; YTD from 1 January; 1Y and 5Y from the day after the same date one and five years
earlier (29 February → 28 February); MAX from the first activity (the value before it
is 0); `YYYY-MM-DD..YYYY-MM-DD` a custom range (either end may be left out: the first
activity and the as-of date). A range ends on or before the as-of date.

**Daily value series.** One value per calendar day (weekends and holidays included:
values are compared across Tokyo, New York and FX calendars that do not share holidays,
and a flow on a Saturday is a flow of that day). A day's value is the holdings at the
day's end × each symbol's close × its currency's rate into the base currency, plus the
cash per currency × rate. A missing close or rate takes the latest one before it, NEVER
a later one (a close that is not a positive price up to `MAX_PRICE` is a gap; of two
closes of one day the later one counts); each value so carried counts as *filled* (per
symbol, per FX pair, and in total): a weekend or a holiday counts as filled for every
symbol held, a gap in the data shows as more. Before a held symbol's first close, or
with cash or holdings in a currency before its first rate, the day's value is unknown
(None), counted per symbol or pair in `unknown`, never invented; the returns skip
unknown days (their flows count at the next known day). Closes are as quoted on each
day, not adjusted for later splits, unless `split_adjusted=True` (Yahoo's `Close` is
split-adjusted): then each day's quantity is expressed in today's shares (times the
ratios of the symbol's later recorded splits).

**Price and currency effects**, per holding, over the range, in the base currency. With
V = quantity × close (the holding's currency), FX the rate into the base currency, 0 the
range's base day, 1 its end, and the trades in between (signed gross amount Tₜ at rate
fxₜ; buys positive):
- price effect = FX₀ × (V₁ − V₀ − Σ Tₜ): the gain in the holding's currency, at the
  starting rate;
- currency effect = V₁ × (FX₁ − FX₀) − Σ Tₜ × (fxₜ − FX₀): the rate's move on what is
  held at the end, less its move on the money traded since.
For a holding without trades in the range these are (P₁ − P₀) × q × FX₀ and
P₁ × q × (FX₁ − FX₀). FX₀ is the base day's rate when the holding is held then, else
the rate of its first trade in the range. Base-currency holdings have no currency effect.
Cash in other currencies has a currency effect by the same formula (`cash_currency_effect`).
They add up: gain = value₁ − value₀ − net flows = price effect + currency effect + cash
currency effect + income − fees − taxes (each charge at its own day's rate).

Everything is computed at 50 significant digits (`ledger.context()`); nothing is rounded
until presented (`PerformanceReport.to_json`). The report costs O(activities + closes +
days × currencies): 10,000 activities over 250 symbols and 10 years of daily closes in
well under a second (`bench/bench_performance.py`)."""

from __future__ import annotations

import calendar
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation, localcontext
from enum import StrEnum
from operator import attrgetter
from typing import Final

from portfoliowise.domain.activities import Activity, ActivityType, CostMethod
from portfoliowise.domain.errors import ValidationError
from portfoliowise.domain.events import JsonValue
from portfoliowise.domain.instruments import parse_symbol
from portfoliowise.domain.ledger import (
    Entry,
    FlowBasis,
    FxHistory,
    Ledger,
    context,
    flow_basis_of,
    replay,
)
from portfoliowise.domain.limits import MAX_PRICE
from portfoliowise.domain.market import DailyClose, DailyHistory
from portfoliowise.domain.money import Currency, Money, quantize

ZERO: Final = Decimal(0)
ONE: Final = Decimal(1)
DAYS_PER_YEAR: Final = Decimal(365)
RESULT_CONTEXT: Final = Context(prec=28)
"""Returns are handed back at 28 significant digits (Decimal's default precision)."""
RATE_PLACES: Final = Decimal("1E-10")
"""Returns in `to_json`: ten decimals (0.0000000001 = 0.00000001 %)."""

# -- XIRR ---------------------------------------------------------------------------

_XIRR_CONTEXT: Final = Context(prec=40, Emax=999_999, Emin=-999_999)
_XIRR_TOLERANCE: Final = Decimal("1E-30")
_XIRR_GUESS: Final = Decimal("0.1")
_XIRR_MAX_STEPS: Final = 100
_XIRR_LIMIT: Final = Decimal(2048)
_XIRR_BRACKET: Final = tuple(Decimal(2) ** k for k in range(-8, 12))  # 1/256 .. 2048


def _pairs(
    items: Mapping[date, Decimal] | Iterable[tuple[date, Decimal]], what: str
) -> list[tuple[date, Decimal]]:
    pairs = list(items.items()) if isinstance(items, Mapping) else list(items)
    for day, amount in pairs:
        if not isinstance(day, date):
            raise ValidationError(f"{what} need dates, got {type(day).__name__}")
        if isinstance(amount, bool) or not isinstance(amount, Decimal | int):
            raise ValidationError(f"{what} must be Decimal amounts, not {type(amount).__name__}")
        if isinstance(amount, Decimal) and not amount.is_finite():
            raise ValidationError(f"{what} must be finite, got {amount}")
    return [(day, Decimal(amount)) for day, amount in pairs]


class _Npv:
    """NPV and its derivative in x = ln(1 + r), for flows at whole days from the first."""

    def __init__(self, days: list[int], amounts: list[Decimal]) -> None:
        self.gaps = [b - a for a, b in zip([0, *days], days, strict=False)]
        self.days = days
        self.amounts = amounts

    def __call__(self, x: Decimal) -> tuple[Decimal, Decimal]:
        """(NPV, dNPV/dx) with discount factors y^t, y = e^(−x/365), built day by day."""
        y = (-x / DAYS_PER_YEAR).exp()
        powers: dict[int, Decimal] = {}
        factor = ONE
        npv = slope = ZERO
        for gap, day, amount in zip(self.gaps, self.days, self.amounts, strict=True):
            if gap:
                step = powers.get(gap)
                if step is None:
                    step = powers[gap] = y**gap
                factor *= step
            term = amount * factor
            npv += term
            slope -= term * day
        return npv, slope / DAYS_PER_YEAR


def _converged(x: Decimal, step: Decimal) -> bool:
    return abs(step) <= _XIRR_TOLERANCE * max(ONE, abs(x))


def _newton(npv: _Npv, x: Decimal) -> Decimal | None:
    for _ in range(_XIRR_MAX_STEPS):
        value, slope = npv(x)
        if value == 0:
            return x
        if slope == 0:
            return None
        step = value / slope
        x -= step
        if not x.is_finite() or abs(x) > _XIRR_LIMIT:
            return None
        if _converged(x, step):
            return x
    return None


def _bracket(npv: _Npv) -> tuple[Decimal, Decimal] | None:
    """Two points around a root, the nearest to x = 0 first, alternating sides."""
    at_zero = npv(ZERO)[0]
    if at_zero == 0:
        return ZERO, ZERO
    last = {1: (ZERO, at_zero), -1: (ZERO, at_zero)}
    for size in _XIRR_BRACKET:
        for sign in (1, -1):
            x = size * sign
            value = npv(x)[0]
            previous, previous_value = last[sign]
            if value == 0:
                return x, x
            if (value > 0) != (previous_value > 0):
                return (previous, x) if previous < x else (x, previous)
            last[sign] = (x, value)
    return None


def _safe_newton(npv: _Npv, low: Decimal, high: Decimal) -> Decimal:
    """Newton steps kept inside [low, high] (bisection otherwise) until converged."""
    f_low = npv(low)[0]
    x = (low + high) / 2
    for _ in range(4 * _XIRR_MAX_STEPS):
        value, slope = npv(x)
        if value == 0:
            return x
        if (value > 0) == (f_low > 0):
            low, f_low = x, value
        else:
            high = x
        candidate = x - value / slope if slope != 0 else low
        if not low < candidate < high:
            candidate = (low + high) / 2
        step = candidate - x
        x = candidate
        if _converged(x, step) or high - low <= _XIRR_TOLERANCE * max(ONE, abs(x)):
            return x
    return x


def xirr(flows: Iterable[tuple[date, Decimal]]) -> Decimal | None:
    """The annual rate r with Σ cᵢ / (1 + r)^((dᵢ − d₀)/365) = 0, as Excel's XIRR: paid in
    negative, received positive, the final value a positive flow, in any order. None when
    no rate exists (no flows, all zero, all of one sign, or no root in range)."""
    by_day: dict[date, Decimal] = {}
    for day, amount in _pairs(flows, "cash flows"):
        by_day[day] = by_day.get(day, ZERO) + amount
    items = sorted((day, amount) for day, amount in by_day.items() if amount != 0)
    if not any(amount > 0 for _, amount in items) or not any(amount < 0 for _, amount in items):
        return None
    if sum(amount for _, amount in items) == 0:
        return ZERO  # NPV(0) is exactly 0: rate 0 is a root, exactly
    first = items[0][0]
    try:
        with localcontext(_XIRR_CONTEXT):
            npv = _Npv([(day - first).days for day, _ in items], [a for _, a in items])
            root = _newton(npv, (ONE + _XIRR_GUESS).ln())
            if root is None:
                bracket = _bracket(npv)
                if bracket is None:
                    return None
                root = _safe_newton(npv, *bracket) if bracket[0] != bracket[1] else bracket[0]
            rate = root.exp() - ONE
    except (ArithmeticError, InvalidOperation):  # overflow far outside any real rate
        return None
    return RESULT_CONTEXT.plus(rate)


# -- time-weighted return ------------------------------------------------------------


def time_weighted_return(
    valuations: Mapping[date, Decimal] | Iterable[tuple[date, Decimal]],
    flows: Mapping[date, Decimal] | Iterable[tuple[date, Decimal]] = (),
) -> Decimal:
    """Daily-chained TWR: Π V_d / (V_p + F_d) − 1 over consecutive valuation days p < d,
    flows counted at the start of their day (deposits positive, withdrawals negative).
    A day with starting capital V_p + F ≤ 0 is chained as 0 %. See the module's doc."""
    values = dict(_pairs(valuations, "valuations"))
    days = sorted(values)
    if len(days) < 2:
        return ZERO
    flow_by_day: dict[date, Decimal] = {}
    for day, amount in _pairs(flows, "flows"):
        flow_by_day[day] = flow_by_day.get(day, ZERO) + amount
    flow_days = sorted(day for day in flow_by_day if days[0] < day <= days[-1])
    with localcontext(context()):
        growth = ONE
        cursor = 0
        previous = values[days[0]]
        for day in days[1:]:
            inflow = ZERO
            while cursor < len(flow_days) and flow_days[cursor] <= day:
                inflow += flow_by_day[flow_days[cursor]]
                cursor += 1
            capital = previous + inflow
            value = values[day]
            if capital > 0:
                growth *= value / capital
            previous = value
        result = growth - ONE
    return RESULT_CONTEXT.plus(result)


# -- ranges --------------------------------------------------------------------------


class Period(StrEnum):
    DAY = "1D"
    WEEK_TO_DATE = "WTD"
    MONTH_TO_DATE = "MTD"
    YEAR_TO_DATE = "YTD"
    ONE_YEAR = "1Y"
    FIVE_YEARS = "5Y"
    MAX = "MAX"


@dataclass(frozen=True, slots=True)
class DateRange:
    """`start`..`end`, both included; returns are measured from the close of `base`, the
    day before `start`."""

    start: date
    end: date
    label: str

    def __post_init__(self) -> None:
        if self.start > self.end:
            raise ValidationError(f"a range starts on or before its end: {self.start}..{self.end}")

    @property
    def base(self) -> date:
        return self.start - timedelta(days=1)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def _years_before(day: date, years: int) -> date:
    year = day.year - years
    return day.replace(year=year, day=min(day.day, calendar.monthrange(year, day.month)[1]))


def _parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValidationError(f"not a date (YYYY-MM-DD): {text.strip()[:40]!r}") from None


def resolve_range(
    spec: str | Period | DateRange, as_of: date, *, first_day: date | None = None
) -> DateRange:
    """The dates of a range as of `as_of` (see the module's doc). `first_day` is the
    first activity's day (MAX and an open custom start); without it MAX is the as-of day."""
    if isinstance(spec, DateRange):
        if spec.end > as_of:
            raise ValidationError(f"the range ends after the as-of date {as_of}")
        return spec
    text = str(spec).strip()
    if ".." in text:
        left, _, right = text.partition("..")
        start = _parse_day(left) if left.strip() else min(first_day or as_of, as_of)
        end = _parse_day(right) if right.strip() else as_of
        if end > as_of:
            raise ValidationError(f"the range ends after the as-of date {as_of}: {text[:40]}")
        return DateRange(start, end, f"{start.isoformat()}..{end.isoformat()}")
    try:
        period = Period(text.upper())
    except ValueError:
        names = ", ".join(p.value for p in Period)
        raise ValidationError(
            f"range must be one of {names} or YYYY-MM-DD..YYYY-MM-DD, not {text[:40]!r}"
        ) from None
    if period is Period.DAY:
        start = as_of
    elif period is Period.WEEK_TO_DATE:
        start = as_of - timedelta(days=as_of.weekday())
    elif period is Period.MONTH_TO_DATE:
        start = as_of.replace(day=1)
    elif period is Period.YEAR_TO_DATE:
        start = as_of.replace(month=1, day=1)
    elif period is Period.ONE_YEAR:
        start = _years_before(as_of, 1) + timedelta(days=1)
    elif period is Period.FIVE_YEARS:
        start = _years_before(as_of, 5) + timedelta(days=1)
    else:
        start = min(first_day or as_of, as_of)
    return DateRange(start, as_of, period.value)


# -- the daily value series ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SeriesPoint:
    day: date
    value: Decimal | None  # end of day, base currency; None when unknown
    flow: Decimal  # external flows of the day (start of day), base currency
    invested: Decimal  # cumulative external flows up to this day, base currency


@dataclass(frozen=True, slots=True)
class ValueSeries:
    currency: Currency
    points: tuple[SeriesPoint, ...]
    filled: Mapping[str, int]  # values carried from an earlier day, per symbol / FX pair
    unknown: Mapping[str, int]  # days a symbol / pair made the value unknown

    @property
    def filled_total(self) -> int:
        return sum(self.filled.values())

    @property
    def unknown_days(self) -> int:
        return sum(1 for point in self.points if point.value is None)


@dataclass(slots=True)
class _Track:
    """One symbol through the series: its state at the range's base day and end."""

    symbol: str
    currency: Currency
    scale: Decimal  # 1 / price unit
    q0: Decimal = ZERO
    p0: Decimal | None = None
    q1: Decimal = ZERO
    p1: Decimal | None = None


@dataclass(slots=True)
class _Computed:
    series: ValueSeries
    tracks: dict[str, _Track]
    cash0: dict[Currency, Decimal] = field(default_factory=dict)
    cash1: dict[Currency, Decimal] = field(default_factory=dict)
    values: list[Decimal | None] = field(default_factory=list)
    flows: list[Decimal] = field(default_factory=list)


_BY_DAY: Final = attrgetter("day")


def _histories(
    closes: Iterable[DailyHistory] | Mapping[str, DailyHistory],
) -> dict[str, DailyHistory]:
    items = closes.values() if isinstance(closes, Mapping) else closes
    return {parse_symbol(history.symbol).symbol: history for history in items}


def _fx_history(fx: FxHistory | Iterable[DailyHistory] | None, base: Currency) -> FxHistory:
    if fx is None:
        return FxHistory(base)
    if isinstance(fx, FxHistory):
        if fx.base != base:
            raise ValidationError(f"the rates are into {fx.base.code}, not {base.code}")
        return fx
    return FxHistory.from_histories(base, fx)


@dataclass(frozen=True, slots=True)
class _Splits:
    """A symbol's recorded splits: their day ordinals (ascending) and, for each index j,
    the product of the ratios of splits j.. (the last entry is 1)."""

    ordinals: list[int]
    products: list[Decimal]

    def after(self, ordinal: int) -> Decimal:
        """The product of the ratios of the splits strictly after day `ordinal`: what
        turns that day's quantity into today's (split-adjusted) shares."""
        return self.products[bisect_right(self.ordinals, ordinal)]


def _later_splits(activities: Iterable[Activity]) -> dict[str, _Splits]:
    found: dict[str, list[tuple[int, Decimal]]] = {}
    for activity in activities:
        if activity.type is ActivityType.SPLIT and activity.symbol:
            found.setdefault(activity.symbol, []).append(
                (activity.day.toordinal(), activity.quantity)
            )
    result: dict[str, _Splits] = {}
    for symbol, items in found.items():
        items.sort(key=lambda item: item[0])
        products = [ONE]
        for _, ratio in reversed(items):
            products.append(products[-1] * ratio)
        products.reverse()
        result[symbol] = _Splits([ordinal for ordinal, _ in items], products)
    return result


def _timelines(
    ledger: Ledger, splits: dict[str, _Splits] | None
) -> dict[str, list[tuple[int, Decimal]]]:
    """Per symbol: (day ordinal, quantity after the activity), in activity order."""
    result: dict[str, list[tuple[int, Decimal]]] = {}
    for entry in ledger.entries:
        quantity = entry.quantity_after
        symbol = entry.activity.symbol
        if quantity is None or symbol is None:
            continue
        ordinal = entry.activity.day.toordinal()
        if splits is not None and symbol in splits:
            quantity *= splits[symbol].after(ordinal)
        result.setdefault(symbol, []).append((ordinal, quantity))
    return result


def _clean_closes(symbol: str, closes: tuple[DailyClose, ...]) -> tuple[list[int], list[Decimal]]:
    """Day ordinals and prices of `closes` (oldest first): a close that is not a positive
    price is a gap; of two closes of one day the later one counts."""
    ordinals = [close.day.toordinal() for close in closes]
    prices = [close.close for close in closes]
    if ordinals != sorted(ordinals):
        raise ValidationError(f"the closes of {symbol} are not in date order")
    try:
        clean = not prices or (min(prices) > ZERO and max(prices) <= MAX_PRICE)
    except InvalidOperation:  # a NaN
        clean = False
    if not clean or len(set(ordinals)) != len(ordinals):
        kept = {o: p for o, p in zip(ordinals, prices, strict=True) if _is_price(p)}
        ordinals, prices = list(kept), list(kept.values())
    return ordinals, prices


def _is_price(value: object) -> bool:
    """A usable close: a finite Decimal above 0, at most `MAX_PRICE`."""
    return isinstance(value, Decimal) and value.is_finite() and ZERO < value <= MAX_PRICE


def _walk_symbol(
    track: _Track,
    history: DailyHistory | None,
    changes: list[tuple[int, Decimal]],
    base_ord: int,
    n: int,
    delta: list[Decimal],
    unknown_delta: list[int],
) -> tuple[int, int]:
    """Add the symbol's value changes to `delta` (its currency's, by day index 0..n−1 from
    the base day) and mark the days its value is unknown; return its (filled, unknown)
    day counts.

    The days split into runs of one quantity (between the symbol's activities). Within a
    run each close changes the value by quantity × (close − previous close) on its day;
    days without a close carry the previous one (filled, when the symbol is held) or, before
    any close, are unknown. A run where nothing is held costs nothing but a bisection."""
    closes: tuple[DailyClose, ...] = history.closes if history is not None else ()
    end_ord = base_ord + n - 1
    split = bisect_right(closes, date.fromordinal(base_ord), key=_BY_DAY)
    stop = bisect_right(closes, date.fromordinal(end_ord), key=_BY_DAY)
    scale = track.scale

    # The state at the base day: the last quantity and the last valid close on or before it.
    quantity = ZERO
    cursor = 0
    while cursor < len(changes) and changes[cursor][0] <= base_ord:
        quantity = changes[cursor][1]
        cursor += 1
    price: Decimal | None = None
    base_has_close = False
    for index in range(split - 1, -1, -1):
        if _is_price(closes[index].close):
            price = closes[index].close
            base_has_close = closes[index].day.toordinal() == base_ord
            break
    track.q0, track.p0 = quantity, price

    # The quantity after each later day with activities: the run boundaries.
    boundaries: list[tuple[int, Decimal]] = []
    for ordinal, after in changes[cursor:]:
        if ordinal > end_ord:
            break
        index = ordinal - base_ord
        if boundaries and boundaries[-1][0] == index:
            boundaries[-1] = (index, after)
        else:
            boundaries.append((index, after))
    boundaries.append((n, ZERO))  # the end of the last run

    ordinals, prices = _clean_closes(track.symbol, closes[split:stop])
    contribution = quantity * scale * price if price is not None and quantity else ZERO
    delta[0] += contribution
    filled = unknown = 0
    start = 0
    first = 0  # the next close
    for end, after in boundaries:
        last = bisect_left(ordinals, base_ord + end, first)  # closes of days start..end−1
        count = last - first
        if quantity:
            first_day = ordinals[first] - base_ord if count else end
            if price is None:
                unknown += first_day - start
                unknown_delta[start] += 1
                unknown_delta[first_day] -= 1
                filled += end - first_day - count
            else:
                filled += end - start - count - (start == 0 and base_has_close)
            scaled = quantity * scale
            for ordinal, value in zip(ordinals[first:last], prices[first:last], strict=True):
                new = scaled * value
                delta[ordinal - base_ord] += new - contribution
                contribution = new
        if count:
            price = prices[last - 1]
        first, start = last, end
        if end < n:
            quantity = after
            new = quantity * scale * price if price is not None and quantity else ZERO
            delta[end] += new - contribution
            contribution = new
    track.q1, track.p1 = quantity, price
    return filled, unknown


def _compute(
    ledger: Ledger,
    histories: Mapping[str, DailyHistory],
    fx: FxHistory,
    base_day: date,
    end: date,
    splits: dict[str, _Splits] | None,
) -> _Computed:
    """The series over base_day..end (ledger replayed up to `end`)."""
    base = ledger.base_currency
    base_ord = base_day.toordinal()
    n = (end - base_day).days + 1
    deltas: dict[Currency, list[Decimal]] = {}
    unknown_delta = [0] * (n + 1)
    filled: dict[str, int] = {}
    unknown: dict[str, int] = {}
    tracks: dict[str, _Track] = {}

    def delta_of(currency: Currency) -> list[Decimal]:
        found = deltas.get(currency)
        if found is None:
            found = deltas[currency] = [ZERO] * n
        return found

    for symbol, changes in _timelines(ledger, splits).items():
        position = ledger.positions.get(symbol)
        if position is None:  # a split of a symbol never held
            continue
        history = histories.get(symbol)
        currency = position.currency
        if history is not None and history.closes:
            quoted = Currency.of(history.currency)
            if quoted != currency:
                raise ValidationError(
                    f"the closes of {symbol} are in {quoted.code}, its trades in {currency.code}"
                )
        track = _Track(symbol, currency, ONE / position.instrument.price_unit)
        tracks[symbol] = track
        got_filled, got_unknown = _walk_symbol(
            track, history, changes, base_ord, n, delta_of(currency), unknown_delta
        )
        if got_filled:
            filled[symbol] = got_filled
        if got_unknown:
            unknown[symbol] = got_unknown

    cash0: dict[Currency, Decimal] = {}
    flows = [ZERO] * n
    invested_before = ZERO
    for entry in ledger.entries:
        index = entry.activity.day.toordinal() - base_ord
        if entry.cash:
            currency = entry.activity.currency
            delta_of(currency)[max(index, 0)] += entry.cash
            if index <= 0:
                cash0[currency] = cash0.get(currency, ZERO) + entry.cash
        flow = entry.flow or ZERO
        if index < 0:
            invested_before += flow
        else:
            flows[index] += flow

    values: list[Decimal] = [ZERO] * n
    known = [True] * n
    for currency, delta in deltas.items():
        _add_currency(currency, delta, fx, base, base_ord, values, known, filled, unknown)
    running = 0
    for index in range(n):
        running += unknown_delta[index]
        if running:
            known[index] = False
    points = []
    invested = invested_before
    day = base_day
    one_day = timedelta(days=1)
    result_values: list[Decimal | None] = []
    for index in range(n):
        invested += flows[index]
        value = values[index] if known[index] else None
        result_values.append(value)
        points.append(SeriesPoint(day, value, flows[index], invested))
        day += one_day
    cash1 = {currency: cash for currency, cash in ledger.cash.items() if cash}
    return _Computed(
        series=ValueSeries(base, tuple(points), filled, unknown),
        tracks=tracks,
        cash0=cash0,
        cash1=cash1,
        values=result_values,
        flows=flows,
    )


def _add_currency(
    currency: Currency,
    delta: list[Decimal],
    fx: FxHistory,
    base: Currency,
    base_ord: int,
    values: list[Decimal],
    known: list[bool],
    filled: dict[str, int],
    unknown: dict[str, int],
) -> None:
    """Add the currency's exposure (holdings + cash, running sum of `delta`) times its
    day's rate (the latest on or before the day) to `values`."""
    exposure = ZERO
    if currency == base:
        for index, change in enumerate(delta):
            exposure += change
            values[index] += exposure
        return
    days, rates = fx.points(currency)
    ordinals = [day.toordinal() for day in days]
    cursor = bisect_right(ordinals, base_ord)
    rate: Decimal | None = rates[cursor - 1] if cursor else None
    rate_ord = ordinals[cursor - 1] if cursor else None
    carried = missing = 0
    for index, change in enumerate(delta):
        exposure += change
        ordinal = base_ord + index
        while cursor < len(ordinals) and ordinals[cursor] <= ordinal:
            rate, rate_ord = rates[cursor], ordinals[cursor]
            cursor += 1
        if not exposure:
            continue
        if rate is None:
            known[index] = False
            missing += 1
            continue
        if rate_ord != ordinal:
            carried += 1
        values[index] += exposure * rate
    pair = fx.pair(currency)
    if carried:
        filled[pair] = filled.get(pair, 0) + carried
    if missing:
        unknown[pair] = unknown.get(pair, 0) + missing


def value_series(
    activities: Iterable[Activity],
    *,
    base_currency: Currency,
    closes: Iterable[DailyHistory] | Mapping[str, DailyHistory],
    fx: FxHistory | Iterable[DailyHistory] | None = None,
    start: date,
    end: date,
    split_adjusted: bool = False,
) -> ValueSeries:
    """The portfolio's value in `base_currency` on every calendar day of start..end, from
    its activities, the daily closes per symbol and the daily rates into the base
    currency (`FxHistory`, or FX pairs' daily closes). See the module's doc."""
    if start > end:
        raise ValidationError(f"a series starts on or before its end: {start}..{end}")
    items = list(activities)
    rates = _fx_history(fx, base_currency)
    with localcontext(context()):
        ledger = replay(
            items,
            base_currency=base_currency,
            rates=rates,
            until=end,
            flow_basis=flow_basis_of(items),
        )
        splits = _later_splits(items) if split_adjusted else None
        return _compute(ledger, _histories(closes), rates, start, end, splits).series


# -- the report ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HoldingPerformance:
    """One symbol held at the range's base day or end, or traded in the range."""

    symbol: str
    currency: Currency
    quantity: Decimal  # at the end
    price: Decimal | None  # the end's close (carried), per price unit
    value: Decimal | None  # at the end, base currency
    cost: Decimal | None  # of what is held at the end, base currency at the buys' rates
    unrealized: Decimal | None  # value − cost
    realized: Decimal  # sells in the range, base currency
    income: Decimal  # dividends in the range, gross, base currency
    price_effect: Decimal | None
    currency_effect: Decimal | None
    filled: int
    unknown: int


@dataclass(frozen=True, slots=True)
class PerformanceReport:
    range: DateRange
    currency: Currency
    method: CostMethod
    flow_basis: FlowBasis
    value: Decimal | None  # at the end (holdings + cash); None when unknown
    start_value: Decimal | None  # at the range's base day
    invested: Decimal  # cumulative external flows up to the end (see `domain.ledger`)
    net_flows: Decimal  # external flows in the range
    gain: Decimal | None  # value − start value − net flows
    income: Decimal  # dividends and interest in the range, gross
    fees: Decimal  # every fee in the range (trades', income's, fee activities')
    taxes: Decimal  # every tax in the range (withheld ones included)
    realized: Decimal  # realized P/L of the range's sells
    unrealized: Decimal | None  # of what is held at the end
    twr: Decimal
    xirr: Decimal | None
    price_effect: Decimal | None
    currency_effect: Decimal | None
    cash_currency_effect: Decimal | None
    holdings: tuple[HoldingPerformance, ...]
    cash: Mapping[Currency, Decimal]  # at the end, per currency
    filled: Mapping[str, int]
    unknown: Mapping[str, int]
    series: tuple[SeriesPoint, ...]

    @property
    def filled_total(self) -> int:
        return sum(self.filled.values())

    @property
    def unknown_days(self) -> int:
        return sum(1 for point in self.series if point.value is None)

    def to_json(self, *, series: bool = True) -> dict[str, JsonValue]:
        """Presentation: amounts rounded to the base currency's minor unit, returns to
        ten decimals (0.0123 = 1.23 %), quantities and prices as computed."""
        money = self._money
        data: dict[str, JsonValue] = {
            "range": {
                "label": self.range.label,
                "start": self.range.start.isoformat(),
                "end": self.range.end.isoformat(),
                "base": self.range.base.isoformat(),
            },
            "currency": self.currency.code,
            "method": self.method.value,
            "flowBasis": self.flow_basis.value,
            "value": money(self.value),
            "startValue": money(self.start_value),
            "invested": money(self.invested),
            "netFlows": money(self.net_flows),
            "gain": money(self.gain),
            "income": money(self.income),
            "fees": money(self.fees),
            "taxes": money(self.taxes),
            "realized": money(self.realized),
            "unrealized": money(self.unrealized),
            "twr": _rate_text(self.twr),
            "xirr": _rate_text(self.xirr),
            "priceEffect": money(self.price_effect),
            "currencyEffect": money(self.currency_effect),
            "cashCurrencyEffect": money(self.cash_currency_effect),
            "holdings": [self._holding_json(h) for h in self.holdings],
            "cash": {
                currency.code: str(Money(amount, currency).rounded().amount)
                for currency, amount in self.cash.items()
            },
            "filled": {"total": self.filled_total, **dict(self.filled)},
            "unknown": {"days": self.unknown_days, **dict(self.unknown)},
        }
        if series:
            data["series"] = [
                {
                    "date": point.day.isoformat(),
                    "value": money(point.value),
                    "flow": money(point.flow),
                    "invested": money(point.invested),
                }
                for point in self.series
            ]
        return data

    def _money(self, amount: Decimal | None) -> str | None:
        if amount is None:
            return None
        return str(Money(amount, self.currency).rounded().amount)

    def _holding_json(self, item: HoldingPerformance) -> dict[str, JsonValue]:
        money = self._money
        return {
            "symbol": item.symbol,
            "currency": item.currency.code,
            "quantity": str(item.quantity),
            "price": None if item.price is None else str(item.price),
            "value": money(item.value),
            "cost": money(item.cost),
            "unrealized": money(item.unrealized),
            "realized": money(item.realized),
            "income": money(item.income),
            "priceEffect": money(item.price_effect),
            "currencyEffect": money(item.currency_effect),
            "filled": item.filled,
            "unknown": item.unknown,
        }


def _rate_text(rate: Decimal | None) -> str | None:
    return None if rate is None else str(quantize(rate, RATE_PLACES, ROUND_HALF_UP))


@dataclass(slots=True)
class _Sums:
    income: Decimal = ZERO
    fees: Decimal = ZERO
    taxes: Decimal = ZERO
    realized: Decimal = ZERO
    by_symbol_realized: dict[str, Decimal] = field(default_factory=dict)
    by_symbol_income: dict[str, Decimal] = field(default_factory=dict)
    trades: dict[str, list[Entry]] = field(default_factory=dict)
    cash_moves: dict[Currency, list[Entry]] = field(default_factory=dict)


def _range_sums(ledger: Ledger, after: date) -> _Sums:
    sums = _Sums()
    for entry in ledger.entries:
        if entry.activity.day <= after:
            continue
        activity = entry.activity
        sums.income += entry.income or ZERO
        sums.fees += entry.fees or ZERO
        sums.taxes += entry.taxes or ZERO
        sums.realized += entry.base_realized or ZERO
        symbol = activity.symbol
        if symbol is not None:
            if entry.base_realized:
                sums.by_symbol_realized[symbol] = (
                    sums.by_symbol_realized.get(symbol, ZERO) + entry.base_realized
                )
            if entry.income:
                sums.by_symbol_income[symbol] = (
                    sums.by_symbol_income.get(symbol, ZERO) + entry.income
                )
            if entry.trade:
                sums.trades.setdefault(symbol, []).append(entry)
        if entry.cash:
            sums.cash_moves.setdefault(activity.currency, []).append(entry)
    return sums


def _effects(
    v0: Decimal,
    v1: Decimal | None,
    fx0: Decimal | None,
    fx1: Decimal | None,
    moves: list[tuple[Decimal, Decimal | None]],
) -> tuple[Decimal | None, Decimal | None]:
    """(price effect, currency effect) of one holding or one currency's cash: values in
    its currency at the base day (v0) and the end (v1), rates fx0/fx1, and the range's
    moves (amount in its currency, rate). See the module's doc."""
    if v1 is None:
        return None, None
    if fx0 is None:  # not held at the base day: measured from the first move's rate
        fx0 = next((rate for _, rate in moves), None) if not v0 else None
        if fx0 is None:
            if not v0 and not v1 and not moves:
                return ZERO, ZERO
            return None, None
    if v1 and fx1 is None:
        return None, None
    moved = ZERO
    moved_fx = ZERO
    for amount, rate in moves:
        if rate is None:
            return None, None
        moved += amount
        moved_fx += amount * (rate - fx0)
    price = fx0 * (v1 - v0 - moved)
    currency = (v1 * (fx1 - fx0) if v1 and fx1 is not None else ZERO) - moved_fx
    return price, currency


def _sum_or_none(values: Iterable[Decimal | None]) -> Decimal | None:
    total = ZERO
    for value in values:
        if value is None:
            return None
        total += value
    return total


def performance_report(
    activities: Iterable[Activity],
    *,
    base_currency: Currency,
    closes: Iterable[DailyHistory] | Mapping[str, DailyHistory],
    fx: FxHistory | Iterable[DailyHistory] | None = None,
    period: str | Period | DateRange = Period.MAX,
    as_of: date,
    method: CostMethod = CostMethod.AVERAGE,
    split_adjusted: bool = False,
) -> PerformanceReport:
    """The full report for one range (`resolve_range(period, as_of)`): value, invested,
    income, fees, taxes, realized and unrealized P/L, TWR, XIRR (None when no rate),
    price and currency effects, filled and unknown counts, and the daily series. `closes`
    are the symbols' daily closes, `fx` the daily rates into the base currency (an
    `FxHistory` or FX pairs' closes; None when everything is in the base currency)."""
    items = list(activities)
    first_day = min((a.day for a in items), default=None)
    window = resolve_range(period, as_of, first_day=first_day)
    rates = _fx_history(fx, base_currency)
    with localcontext(context()):
        ledger = replay(
            items,
            base_currency=base_currency,
            method=method,
            rates=rates,
            until=window.end,
            flow_basis=flow_basis_of(items),
        )
        splits = _later_splits(items) if split_adjusted else None
        computed = _compute(ledger, _histories(closes), rates, window.base, window.end, splits)
        return _report(ledger, computed, rates, window)


def _report(
    ledger: Ledger, computed: _Computed, rates: FxHistory, window: DateRange
) -> PerformanceReport:
    base = ledger.base_currency
    points = computed.series.points
    values = computed.values
    sums = _range_sums(ledger, window.base)
    net_flows = sum(computed.flows[1:], ZERO)
    start_value, value = values[0], values[-1]
    known = [(point.day, point.value) for point in points if point.value is not None]
    flows = [(point.day, point.flow) for point in points[1:] if point.flow]
    twr = time_weighted_return(known, flows)
    rate = None
    if len(known) >= 2:
        (first_day, first_value), (last_day, last_value) = known[0], known[-1]
        cash_flows = [(first_day, -first_value), (last_day, last_value)]
        cash_flows += [(day, -flow) for day, flow in flows if first_day < day <= last_day]
        rate = xirr(cash_flows)

    holdings: list[HoldingPerformance] = []
    for symbol, track in computed.tracks.items():
        trades = sums.trades.get(symbol, [])
        if not track.q0 and not track.q1 and not trades:
            continue
        position = ledger.positions[symbol]
        fx0 = rates.rate(track.currency, window.base) if track.q0 else None
        fx1 = rates.rate(track.currency, window.end)
        v0 = ZERO if not track.q0 else _local_value(track.q0, track.p0, track.scale)
        v1 = _local_value(track.q1, track.p1, track.scale)
        if v0 is None:
            price_effect = currency_effect = None
        else:
            price_effect, currency_effect = _effects(
                v0, v1, fx0, fx1, [(e.trade, e.fx_rate) for e in trades]
            )
        value_base = None if v1 is None or fx1 is None else v1 * fx1
        cost = position.base_cost if position.quantity else ZERO
        holdings.append(
            HoldingPerformance(
                symbol=symbol,
                currency=track.currency,
                quantity=position.quantity,
                price=track.p1,
                value=value_base,
                cost=cost,
                unrealized=None if value_base is None or cost is None else value_base - cost,
                realized=sums.by_symbol_realized.get(symbol, ZERO),
                income=sums.by_symbol_income.get(symbol, ZERO),
                price_effect=price_effect,
                currency_effect=currency_effect,
                filled=computed.series.filled.get(symbol, 0),
                unknown=computed.series.unknown.get(symbol, 0),
            )
        )
    holdings.sort(key=lambda item: item.symbol)

    cash_effects: list[Decimal | None] = []
    for currency in set(computed.cash0) | set(computed.cash1) | set(sums.cash_moves):
        if currency == base:
            continue
        c0 = computed.cash0.get(currency, ZERO)
        c1 = computed.cash1.get(currency, ZERO)
        moves = [(e.cash, e.fx_rate) for e in sums.cash_moves.get(currency, [])]
        fx0 = rates.rate(currency, window.base) if c0 else None
        cash_effects.append(_effects(c0, c1, fx0, rates.rate(currency, window.end), moves)[1])

    held = [h for h in holdings if h.quantity]
    return PerformanceReport(
        range=window,
        currency=base,
        method=ledger.method,
        flow_basis=ledger.flow_basis,
        value=value,
        start_value=start_value,
        invested=points[-1].invested,
        net_flows=net_flows,
        gain=None if value is None or start_value is None else value - start_value - net_flows,
        income=sums.income,
        fees=sums.fees,
        taxes=sums.taxes,
        realized=sums.realized,
        unrealized=_sum_or_none(h.unrealized for h in held),
        twr=twr,
        xirr=rate,
        price_effect=_sum_or_none(h.price_effect for h in holdings),
        currency_effect=_sum_or_none(h.currency_effect for h in holdings),
        cash_currency_effect=_sum_or_none(cash_effects),
        holdings=tuple(holdings),
        cash={currency: amount for currency, amount in ledger.cash.items() if amount},
        filled=computed.series.filled,
        unknown=computed.series.unknown,
        series=points,
    )


def _local_value(quantity: Decimal, price: Decimal | None, scale: Decimal) -> Decimal | None:
    if not quantity:
        return ZERO
    if price is None:
        return None
    return quantity * scale * price
