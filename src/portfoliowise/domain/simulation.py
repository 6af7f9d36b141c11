"""Contribution simulation: turn a budget into buy (and, in rebalance mode, sell)
orders that move the portfolio toward its target allocation.

Rules:
- Never spend more than the budget: each order is charged in the budget currency,
  rounded up to its minor unit, and the charges never exceed the cash available.
- Trading units: 100-share lots in Tokyo, whole US shares (0.0001 steps when the
  portfolio allows fractional shares), funds by amount (1 yen steps, a minimum purchase).
- Most under-weight first: the budget is water-filled over the value gaps to the
  targets (on the total after investing), then whole lots are taken, then the cash
  left goes to the largest remaining gap through a heap. Each pop buys as many lots as
  it can at once: no more than the cash allows, than bring the holding closer to its
  target, or than keep its gap above the next candidate's (a level-based fill); when
  several holdings are level, they are levelled down together. The work grows with
  the number of holdings, not with the number of lots bought.
- Never farther from the targets than doing nothing: the L1 distance between weights
  and targets after the plan is at most the distance now, else the most over-weight
  purchases are trimmed to their target (then given back, then the sells restored),
  as few of them as needed.
- Rebalance mode may also sell holdings more than `tolerance` percentage points above
  their target (holdings without a target have target 0), down to the target at most.
- Bounded work for any input the limits (`domain.limits`) allow: every count of steps
  is found by a search whose number of tries does not depend on the number of steps
  (`_boundary`), and the heap of gaps is popped a bounded number of times per holding.
  `Decimal` keeps 28 digits: beyond them `n * step` no longer changes when `n` grows by
  one, so a search that moved one step at a time would never end (a quantity of 1e40).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, localcontext
from enum import StrEnum

from portfoliowise.domain.errors import OutOfRange, UnpricedTargetError, ValidationError
from portfoliowise.domain.fx import RateTable
from portfoliowise.domain.instruments import Instrument, parse_symbol
from portfoliowise.domain.limits import MAX_PRICE, MIN_STEP, check_amount, check_percent
from portfoliowise.domain.money import Currency, Money, quantize
from portfoliowise.domain.portfolio import Portfolio
from portfoliowise.domain.quotes import Quote

HUNDRED = Decimal(100)
ZERO = Decimal(0)


class SimulationMode(StrEnum):
    BUY = "buy"
    REBALANCE = "rebalance"


class Side(StrEnum):
    BUY = "buy"
    SELL = "sell"


@dataclass(frozen=True, slots=True)
class SimulationOptions:
    mode: SimulationMode = SimulationMode.BUY
    tolerance: Decimal = Decimal(5)  # rebalance: sell only above target + tolerance (pp)
    min_fund_purchase: Decimal = Decimal(100)  # in the fund's currency (most brokers: 100 JPY)


@dataclass(frozen=True, slots=True)
class Order:
    symbol: str
    side: Side
    quantity: Decimal  # shares, or fund units (口)
    price: Money  # per price unit (per 10,000 units for funds), quote currency
    local_amount: Money  # in the quote currency; for fund buys, the amount invested
    cost: Money  # in the budget currency: charged (buy, rounded up) or credited (sell, down)


@dataclass(frozen=True, slots=True)
class PlanLine:
    symbol: str
    target: Decimal  # percent
    before: Decimal  # weight now, percent
    after: Decimal  # weight after the orders, percent
    value_before: Money  # budget currency
    value_after: Money


@dataclass(frozen=True, slots=True)
class Simulation:
    mode: SimulationMode
    budget: Money
    orders: list[Order]
    bought: Money
    sold: Money
    spent: Money  # bought - sold
    leftover: Money  # budget - spent
    lines: list[PlanLine]
    distance_before: Decimal  # sum |weight - target| in percentage points
    distance_after: Decimal
    excluded: list[str]  # holdings without a usable price, left out of the plan


@dataclass(slots=True)
class _Line:
    symbol: str
    instrument: Instrument
    price: Money
    rate: Decimal  # quote currency -> budget currency
    target: Decimal  # normalised fraction of 1
    held: Decimal
    step_qty: Decimal | None  # shares per step; None when bought by amount
    step_local: Decimal  # quote-currency amount per step
    step_value: Decimal  # budget-currency value per step
    min_steps: int = 1
    local: Decimal = ZERO  # quote currency, now (exact: price x quantity)
    value: Decimal = ZERO  # budget currency, now
    buy_steps: int = 0
    sell_steps: int = 0
    charged: Decimal = ZERO
    credited: Decimal = ZERO

    @property
    def value_after(self) -> Decimal:
        # Converted once from the exact local amount, so that selling every lot held
        # leaves exactly 0 (not a rounding residue of the conversion).
        steps = self.buy_steps - self.sell_steps
        if not steps:
            return self.value
        return (self.local + steps * self.step_local) * self.rate


def simulate(
    portfolio: Portfolio,
    quotes: Mapping[str, Quote],
    rates: RateTable,
    budget: Money,
    options: SimulationOptions | None = None,
) -> Simulation:
    opts = options or SimulationOptions()
    _check_inputs(portfolio, budget, opts)
    lines, excluded = _build_lines(portfolio, quotes, rates, budget.currency, opts)
    before = [line.value for line in lines]
    wealth = sum(before, ZERO) + budget.amount

    cash = budget.amount
    if opts.mode is SimulationMode.REBALANCE:
        cash += _sell_overweight(lines, wealth, opts.tolerance, budget.currency)
    _water_fill(lines, wealth, cash, budget.currency)
    cash = budget.amount + _credited(lines) - _charged(lines)
    _spend_remaining(lines, wealth, cash, budget.currency)
    _give_back_until_no_worse(lines, before, budget.currency)
    _exchange_lots(lines, budget.amount, budget.currency)
    return _result(lines, before, budget, opts.mode, excluded)


PRECISION = 50
"""Significant digits of the plan's totals (bought, sold, spent, leftover). Within the
limits, a budget to 10 decimals plus or minus charges and credits of up to 10^31 (10,000
holdings of 10^12 shares at 10^9 at a rate of 10^6) holds in 42 digits: exact, so that
what is spent and what is left add up to the budget; 28 digits would round them."""


# -- inputs -----------------------------------------------------------------------
def _check_inputs(portfolio: Portfolio, budget: Money, opts: SimulationOptions) -> None:
    if not portfolio.targets:
        raise ValidationError("the portfolio has no target allocation: set targets first")
    if opts.mode is SimulationMode.BUY and not budget.is_positive():
        raise ValidationError(f"the budget must be positive, got {budget.display()}")
    if budget.amount < 0:
        raise ValidationError(f"the budget cannot be negative, got {budget.display()}")
    if opts.tolerance < 0:
        raise ValidationError("the rebalance tolerance cannot be negative")
    check_amount(budget.amount, "budget")
    check_percent(opts.tolerance, "tolerance", "the rebalance tolerance")
    check_amount(opts.min_fund_purchase, "minFundPurchase", "the minimum fund purchase")


def _build_lines(
    portfolio: Portfolio,
    quotes: Mapping[str, Quote],
    rates: RateTable,
    currency: Currency,
    opts: SimulationOptions,
) -> tuple[list[_Line], list[str]]:
    total_pct = sum(portfolio.targets.values(), ZERO)
    held = {h.symbol: h.quantity for h in portfolio.holdings}
    symbols = list(portfolio.targets) + [s for s in held if s not in portfolio.targets]
    lines: list[_Line] = []
    unpriced_targets: list[str] = []
    excluded: list[str] = []
    for symbol in symbols:
        pct = portfolio.targets.get(symbol, ZERO)
        quote = quotes.get(symbol)
        price = quote.price if quote is not None else None
        rate = rates.find(price.currency, currency) if price is not None else None
        if price is None or rate is None:
            (unpriced_targets if pct > 0 else excluded).append(symbol)
            continue
        if not MIN_STEP <= price.amount <= MAX_PRICE:
            limit = f"from {MIN_STEP:f} to {MAX_PRICE:,f}"
            raise OutOfRange("price", limit, value=price.amount, label=f"the price of {symbol}")
        instrument = parse_symbol(symbol)
        quantity = held.get(symbol, ZERO)
        if instrument.bought_by_amount:
            step_qty = None
            step_local = price.currency.quantum
            min_steps = int((opts.min_fund_purchase / step_local).to_integral_value(ROUND_CEILING))
        else:
            step_qty = instrument.lot_size(portfolio.allow_fractional)
            step_local = price.amount * step_qty / instrument.price_unit
            min_steps = 1
        local = instrument.value_of(quantity, price.amount)
        lines.append(
            _Line(
                symbol=symbol,
                instrument=instrument,
                price=price,
                rate=rate,
                target=pct / total_pct,
                held=quantity,
                step_qty=step_qty,
                step_local=step_local,
                step_value=step_local * rate,
                min_steps=max(min_steps, 1),
                local=local,
                value=local * rate,
            )
        )
    if unpriced_targets:
        raise UnpricedTargetError(unpriced_targets)
    return lines, excluded


# -- rounding of charges ----------------------------------------------------------
def _charge(line: _Line, steps: int, currency: Currency) -> Decimal:
    return quantize(steps * line.step_value, currency.quantum, ROUND_CEILING)


def _credit(line: _Line, steps: int, currency: Currency) -> Decimal:
    return quantize(steps * line.step_value, currency.quantum, ROUND_FLOOR)


# -- counting steps ---------------------------------------------------------------
_NUDGES = 3  # a division exact to 28 digits is off by one or two steps, below 10^28
_DOUBLINGS = 256  # 2^256 steps: far beyond any count the limits allow (10^60)


def _boundary(fits: Callable[[int], bool], guess: int, low: int, high: int | None = None) -> int:
    """The largest `n` in [low, high] such that `fits(n)`, where `fits` holds up to some
    `n` and not after it (`low` is returned when nothing above it fits). From `guess`
    (a division): a few steps of one, then, when the guess is farther off (a division
    rounded to 28 digits), an exponential and a binary search. At most a few hundred
    calls to `fits`, however many steps the answer counts."""
    n = max(guess, low) if high is None else min(max(guess, low), high)
    if n > low and not fits(n):
        return _search_down(fits, low, n)
    return _search_up(fits, n, high)


def _search_down(fits: Callable[[int], bool], low: int, bad: int) -> int:
    """The boundary below `bad` (which does not fit), at `low` at least."""
    for _ in range(_NUDGES):
        if bad - 1 <= low or fits(bad - 1):
            return max(bad - 1, low)
        bad -= 1
    good, distance = low, 1
    for _ in range(_DOUBLINGS):
        probe = bad - distance
        if probe <= low:
            break
        if fits(probe):
            good = probe
            break
        bad, distance = probe, distance * 2
    return _bisect(fits, good, bad)


def _search_up(fits: Callable[[int], bool], good: int, high: int | None) -> int:
    """The boundary at or above `good` (which fits, or is the lowest allowed)."""
    for _ in range(_NUDGES):
        if (high is not None and good >= high) or not fits(good + 1):
            return good
        good += 1
    distance = 1
    for _ in range(_DOUBLINGS):
        probe = good + distance if high is None else min(good + distance, high)
        if not fits(probe):
            return _bisect(fits, good, probe)
        if probe == high:
            return probe
        good, distance = probe, distance * 2
    return good  # never reached: 2^256 steps all fit


def _bisect(fits: Callable[[int], bool], good: int, bad: int) -> int:
    """The last n that fits between `good` (fits, or the lowest allowed) and `bad` (does
    not): log2(bad - good) calls."""
    while bad - good > 1:
        middle = (good + bad) // 2
        if fits(middle):
            good = middle
        else:
            bad = middle
    return good


def _charged(lines: list[_Line]) -> Decimal:
    return sum((line.charged for line in lines), ZERO)


def _credited(lines: list[_Line]) -> Decimal:
    return sum((line.credited for line in lines), ZERO)


def _set_buy(line: _Line, steps: int, currency: Currency) -> None:
    line.buy_steps = steps
    line.charged = _charge(line, steps, currency) if steps else ZERO


# -- phases -----------------------------------------------------------------------
def _sell_overweight(
    lines: list[_Line], wealth: Decimal, tolerance: Decimal, currency: Currency
) -> Decimal:
    """Sell whole lots of holdings above target + tolerance, never below the target."""
    for line in lines:
        over = line.value - line.target * wealth
        if wealth <= 0 or over / wealth * HUNDRED <= tolerance:
            continue
        steps = int((over / line.step_value).to_integral_value(ROUND_FLOOR))
        if line.step_qty is not None:
            sellable = int((line.held / line.step_qty).to_integral_value(ROUND_FLOOR))
        else:
            sellable = int((line.value / line.step_value).to_integral_value(ROUND_FLOOR))
        steps = min(steps, sellable)
        floor = line.target * wealth  # guard against the rounding of the division above

        def keeps_target(n: int, line: _Line = line, floor: Decimal = floor) -> bool:
            return (line.local - n * line.step_local) * line.rate >= floor

        if steps > 0 and not keeps_target(steps):
            steps = _boundary(keeps_target, steps - 1, 0, steps - 1)
        if steps > 0:
            line.sell_steps = steps
            line.credited = _credit(line, steps, currency)
    return _credited(lines)


def _water_fill(lines: list[_Line], wealth: Decimal, cash: Decimal, currency: Currency) -> None:
    """Give money to the largest value gaps first, levelling them down together, then
    take the whole steps of what each was given (never more than its gap)."""
    positive = sorted(
        ((line.target * wealth - line.value_after, line) for line in lines),
        key=lambda g: g[0],
        reverse=True,
    )
    positive = [g for g in positive if g[0] > 0]
    # Keep one minor unit per order in reserve for rounding each charge up.
    money = cash - currency.quantum * len(positive)
    if not positive or money <= 0:
        return
    level = ZERO
    running = ZERO
    for k, (gap, _line) in enumerate(positive, start=1):
        running += gap
        candidate = (running - money) / k
        next_gap = positive[k][0] if k < len(positive) else ZERO
        if candidate >= next_gap:
            level = max(candidate, ZERO)
            break
    for gap, line in positive:
        give = gap - level
        if give <= 0:
            break
        steps = int((give / line.step_value).to_integral_value(ROUND_FLOOR))
        if steps >= line.min_steps:
            _set_buy(line, steps, currency)


def _spend_remaining(
    lines: list[_Line], wealth: Decimal, cash: Decimal, currency: Currency
) -> None:
    """Spend what is left on the largest remaining gap, through a heap of gaps. Each pop
    buys as many steps as it can at once: no more than the cash allows, than bring the
    holding closer to its target (each step costs under twice the gap it fills), or
    than keep its gap above the next candidate's, the level at which it stops being the
    most under-weight; stopped by that level, it goes back on the heap. Cash and gaps
    only shrink, so a holding that cannot take a step is dropped for good. When the
    next candidates are level with the one popped, they are levelled down together
    (`_fill_band`) rather than a step each in turn.

    At most `_POPS_PER_HOLDING` pops a holding (a holding levelled in a band counts as
    one): plans take under two (generated portfolios of up to 11 holdings), and this
    bounds the work where they would take many, such as thousands of holdings level
    with each other whose steps cost less than the minor unit each charge is rounded up
    to, or where rounding to 28 digits leaves the cash and a gap unchanged by a step.
    What is left of the cash then stays unspent."""
    heap: list[tuple[Decimal, int]] = []
    for index, line in enumerate(lines):
        gap = line.target * wealth - line.value_after
        if gap > 0 and line.sell_steps == 0:
            heap.append((-gap, index))
    heapq.heapify(heap)
    pause = 0  # pops to make one at a time after a band fill that bought little
    pops = _POPS_PER_HOLDING * (len(heap) + 1)
    while heap and cash > 0 and pops > 0:
        pops -= 1
        negative_gap, index = heapq.heappop(heap)
        line, gap = lines[index], -negative_gap
        if line.step_qty is None:
            cash -= _top_up_fund(line, gap, cash, currency)
            continue
        most = min(_helpful_steps(line, gap), _affordable_steps(line, cash, currency))
        if most <= 0:
            continue
        steps = min(most, _steps_above(line, gap, -heap[0][0])) if heap else most
        if steps < most and pause == 0:
            spent, bought, size = _fill_band(lines, heap, index, gap, cash, currency)
            cash -= spent
            pops -= size  # each holding levelled counts as a pop
            if bought < size:  # little to gain from levelling here for a while
                pause = size
            continue
        pause = max(pause - 1, 0)
        cash -= _buy_more(line, steps, currency)  # at least one step: progress
        if steps < most:
            heapq.heappush(heap, (-(gap - steps * line.step_value), index))


_POPS_PER_HOLDING = 4


def _fill_band(
    lines: list[_Line],
    heap: list[tuple[Decimal, int]],
    first: int,
    gap: Decimal,
    cash: Decimal,
    currency: Currency,
) -> tuple[Decimal, int, int]:
    """Level the holding just popped and the candidates next to it down together, as if
    stepping through them largest gap first: take from the heap the candidates the cash
    can bring level with it (a water-fill), find by bisection the lowest level such that
    buying every step above it (the steps one at a time would buy first) costs no more
    than the cash, and buy those steps, largest gap first (each order's charge is
    rounded up, so the last may get a step less). The level never goes below the gap of
    a holding left on the heap, nor of a fund (which takes its whole gap when its turn
    comes). All go back on the heap; the steps at the level are left to single pops.
    Returns the cash spent, the steps bought and how many holdings were levelled."""
    band = [(gap, first)]
    total = gap
    floor = ZERO
    while heap:
        next_gap, index = -heap[0][0], heap[0][1]
        if (total - cash) / len(band) >= next_gap or lines[index].step_qty is None:
            floor = next_gap
            break
        heapq.heappop(heap)
        band.append((next_gap, index))
        total += next_gap
    members = [(g, lines[i], _helpful_steps(lines[i], g)) for g, i in band]

    def steps_above(line_gap: Decimal, line: _Line, most: int, level: Decimal) -> int:
        if line_gap <= level:
            return 0
        steps = int(((line_gap - level) / line.step_value).to_integral_value(ROUND_CEILING))
        return min(steps, most)

    prepared = [(g, line.step_value, most) for g, line, most in members]

    def cost(level: Decimal) -> Decimal:
        """What buying every step above `level` costs (as `steps_above`, inline: this is
        the inner loop of the bisection). The band is in falling order of gaps."""
        total = ZERO
        for line_gap, step, most in prepared:
            if line_gap <= level:
                break
            steps = int(((line_gap - level) / step).to_integral_value(ROUND_CEILING))
            total += (steps if steps < most else most) * step
        return total

    low = max((total - cash) / len(band), floor)
    if cost(low) > cash:
        sizes = [m[1].step_value for m in members]
        high, finest, widest = gap, min(sizes) / 2, max(sizes)
        if low + widest < high and cost(low + widest) <= cash:
            high = low + widest
        for _ in range(_BISECTIONS):  # cost(low) > cash >= cost(high)
            if high - low <= finest:
                break
            middle = (low + high) / 2
            if cost(middle) <= cash:
                high = middle
            else:
                low = middle
        low = high
    spent, bought = ZERO, 0
    for (line_gap, index), (_gap, line, most) in zip(band, members, strict=True):
        steps = steps_above(line_gap, line, most, low)
        if steps > 0:
            steps = min(steps, _affordable_steps(line, cash - spent, currency))
        if steps > 0:
            spent += _buy_more(line, steps, currency)
            bought += steps
            line_gap -= steps * line.step_value
        heapq.heappush(heap, (-line_gap, index))
    return spent, bought, len(band)


_BISECTIONS = 64  # halves the level's range down to half the finest step: ~log2(steps)


def _helpful_steps(line: _Line, gap: Decimal) -> int:
    """How many steps in a row bring the holding closer to its target: a step helps
    while it costs under twice the gap left before it."""
    step = line.step_value
    if step >= 2 * gap:
        return 0
    guess = max(int(((2 * gap - step) / (2 * step)).to_integral_value(ROUND_CEILING)), 1)
    # The n-th step helps when it costs under twice the gap left after the n - 1 before.
    return _boundary(lambda n: step < 2 * (gap - (n - 1) * step), guess, 1)


def _steps_above(line: _Line, gap: Decimal, next_gap: Decimal) -> int:
    """How many steps the holding takes before its gap is no longer the largest: at
    least one, then as long as its gap stays above the next candidate's."""
    step = line.step_value
    if gap <= next_gap:
        return 1
    guess = max(int(((gap - next_gap) / step).to_integral_value(ROUND_CEILING)), 1)
    # The fewest steps that bring the gap down to the next one: one more than the most
    # that leave it above.
    return _boundary(lambda n: gap - n * step > next_gap, guess - 1, 0) + 1


def _affordable_steps(line: _Line, cash: Decimal, currency: Currency) -> int:
    """How many steps can be added to the holding's purchase with `cash`. The order is
    charged once, rounded up, so this is the most steps whose total charge stays within
    what is charged already plus the cash."""
    ceiling = line.charged + cash
    # A charge is rounded up to the minor unit: it is within the ceiling exactly when
    # the amount is within the ceiling rounded down (a budget may have more decimals).
    whole = quantize(ceiling, currency.quantum, ROUND_FLOOR)
    guess = int((whole / line.step_value).to_integral_value(ROUND_FLOOR))
    total = _boundary(lambda n: _charge(line, n, currency) <= ceiling, guess, line.buy_steps)
    return total - line.buy_steps


def _buy_more(line: _Line, steps: int, currency: Currency) -> Decimal:
    """Add steps to the holding's purchase; returns the extra charge."""
    charge = _charge(line, line.buy_steps + steps, currency)
    paid = charge - line.charged
    line.buy_steps += steps
    line.charged = charge
    return paid


def _top_up_fund(line: _Line, gap: Decimal, cash: Decimal, currency: Currency) -> Decimal:
    """A fund takes an amount: as much of its gap as the cash allows, in one order, of at
    least the minimum purchase (when that still brings it closer to its target)."""
    affordable = _affordable_steps(line, cash, currency)
    steps = min(int((gap / line.step_value).to_integral_value(ROUND_FLOOR)), affordable)
    if line.buy_steps + steps < line.min_steps:
        steps = line.min_steps - line.buy_steps
        if steps * line.step_value >= 2 * gap or steps > affordable:
            return ZERO
    if steps <= 0:
        return ZERO
    return _buy_more(line, steps, currency)


def weight_distance(values: list[Decimal], targets: list[Decimal]) -> Decimal:
    """Sum of |weight - target| in percentage points (targets as fractions of 1), from
    0 (on target) to 200 (all of it where no target is)."""
    total = sum(values, ZERO)
    if total <= 0:
        # Nothing held is as far from the targets as a portfolio can be (the most the
        # sum can reach): any first purchase is a step towards them, whatever its lots.
        return 2 * sum(targets, ZERO) * HUNDRED
    return sum((abs(v / total - t) for v, t in zip(values, targets, strict=True)), ZERO) * HUNDRED


def _give_back_until_no_worse(
    lines: list[_Line], before: list[Decimal], currency: Currency
) -> None:
    """Lots cannot always be split to match the targets: if the plan would leave the
    weights farther from the targets than doing nothing, trim the over-weight purchases
    to their target, most over-weight first and as few as needed (a few rounds, as each
    trim lifts the others' weights); failing that, give purchases back whole, then
    restore the sells. Giving everything back restores the portfolio as it is, so this
    ends; each round costs a few passes over the holdings (a binary search)."""
    targets = [line.target for line in lines]
    limit = weight_distance(before, targets)
    if _distance_after(lines, targets) <= limit:
        return
    # Holdings neither held nor bought stay at weight 0 whatever is given back, and the
    # distance is at least twice their targets: past the limit, only giving everything
    # back will do (a portfolio with nothing held yet, too many targets for the budget).
    stuck = sum(
        (
            t
            for t, v, line in zip(targets, before, lines, strict=True)
            if not v and not line.buy_steps
        ),
        ZERO,
    )
    rounds = 0 if 2 * stuck * HUNDRED > limit + _TOLERANCE else _TRIM_ROUNDS
    for _ in range(rounds):
        after = [line.value_after for line in lines]
        total = sum(after, ZERO)
        if total <= 0:
            break
        trims: list[tuple[Decimal, _Line, int]] = []
        for line, value in zip(lines, after, strict=True):
            excess = value / total - line.target
            if line.buy_steps and excess > 0:
                cut = int((excess * total / line.step_value).to_integral_value(ROUND_CEILING))
                keep = line.buy_steps - cut
                trims.append((excess, line, keep if keep >= line.min_steps else 0))
        if not trims:
            break
        trims.sort(key=lambda t: t[0], reverse=True)
        changes = [(line, keep, line.sell_steps) for _excess, line, keep in trims]
        if _apply_fewest(lines, targets, limit, changes, currency):
            return
    after = [line.value_after for line in lines]
    total = sum(after, ZERO)
    over = [
        v / total - line.target if total > 0 else ZERO for v, line in zip(after, lines, strict=True)
    ]
    order = sorted(range(len(lines)), key=lambda i: over[i], reverse=True)
    changes = [(lines[i], 0, lines[i].sell_steps) for i in order if lines[i].buy_steps]
    changes += [(lines[i], 0, 0) for i in reversed(order) if lines[i].sell_steps]
    _apply_fewest(lines, targets, limit, changes, currency)


_TRIM_ROUNDS = 3
_EXCHANGE_ROUNDS = 8  # exchanges kept, at most
_EXCHANGE_CANDIDATES = 8  # most under-weight holdings tried per round
# An exchange must gain this many points: among holdings that all stay under target the
# distance is flat, and moving money between them gains only rounding.
_EXCHANGE_GAIN = Decimal("0.01")


def _exchange_lots(lines: list[_Line], budget: Decimal, currency: Currency) -> None:
    """Whole lots can leave an under-weight holding unbought because its lot costs more
    than the cash left, while smaller steps took the budget (500,000 JPY over 50/50
    7203 and AAPL buys 8 AAPL, where one 300,000 JPY lot of 7203 and 6 AAPL is closer).
    Try buying one more step of the most under-weight holdings, paid for by giving back
    just enough steps of the most over-weight purchases, and keep an exchange only when
    it brings the weights closer to the targets: never over budget, never farther."""
    targets = [line.target for line in lines]
    for _ in range(_EXCHANGE_ROUNDS):
        current = _distance_after(lines, targets)
        after = [line.value_after for line in lines]
        total = sum(after, ZERO)
        cash = budget + _credited(lines) - _charged(lines)
        if total <= 0:
            return
        wealth = sum((line.value for line in lines), ZERO) + budget  # after spending it all
        gaps = sorted(
            (
                (line.target * wealth - value, index)
                for index, (line, value) in enumerate(zip(lines, after, strict=True))
                if line.sell_steps == 0 and line.step_value > cash
            ),
            reverse=True,
        )
        # A step helps only while it costs under twice the gap (and fits the budget).
        candidates = [
            lines[i]
            for gap, i in gaps[:_EXCHANGE_CANDIDATES]
            if gap > 0 and lines[i].step_value < 2 * gap and lines[i].step_value <= budget
        ]
        if not candidates:
            return
        donors = sorted(
            (line for line in lines if line.buy_steps),
            key=lambda line: line.value_after / total - line.target,
            reverse=True,
        )
        if not donors:
            return
        if not any(
            _exchange_one(lines, targets, c, donors, budget, current, currency) for c in candidates
        ):
            return


def _exchange_one(
    lines: list[_Line],
    targets: list[Decimal],
    candidate: _Line,
    donors: list[_Line],
    budget: Decimal,
    current: Decimal,
    currency: Currency,
) -> bool:
    """Buy the candidate's next step (its minimum, for a fund not yet bought), give back
    donors' steps until the budget holds; keep it if the distance falls."""
    saved = [(line.buy_steps, line.charged) for line in donors]
    kept = (candidate.buy_steps, candidate.charged)
    _set_buy(candidate, max(candidate.buy_steps + 1, candidate.min_steps), currency)
    over = _charged(lines) - _credited(lines) - budget  # kept up to date: one pass
    for donor in donors:
        if over <= 0:
            break
        if donor is candidate:
            continue
        back = int((over / donor.step_value).to_integral_value(ROUND_CEILING))
        keep = max(donor.buy_steps - back, 0)
        charged = donor.charged
        _set_buy(donor, keep if keep >= donor.min_steps else 0, currency)
        over -= charged - donor.charged
    within_budget = _charged(lines) - _credited(lines) <= budget
    if within_budget and _distance_after(lines, targets) < current - _EXCHANGE_GAIN:
        return True
    for donor, (steps, charged) in zip(donors, saved, strict=True):
        donor.buy_steps, donor.charged = steps, charged
    candidate.buy_steps, candidate.charged = kept
    return False


_TOLERANCE = Decimal("1e-9")  # percentage points, far above the rounding of Decimal


def _distance_after(lines: list[_Line], targets: list[Decimal]) -> Decimal:
    return weight_distance([line.value_after for line in lines], targets)


def _apply_fewest(
    lines: list[_Line],
    targets: list[Decimal],
    limit: Decimal,
    changes: list[tuple[_Line, int, int]],
    currency: Currency,
) -> bool:
    """Apply a short prefix of `changes` (line, buy steps, sell steps) that brings the
    distance within `limit`, found by bisection: one that does, after one that does not
    (the distance need not fall steadily, so not always the shortest); the whole list
    when none does. Returns whether the distance is now within the limit."""
    kept = [(line.buy_steps, line.sell_steps) for line, _buy, _sell in changes]

    def apply(count: int) -> bool:
        for position, (line, buy, sell) in enumerate(changes):
            line.buy_steps, line.sell_steps = (buy, sell) if position < count else kept[position]
        return _distance_after(lines, targets) <= limit

    low, high = 0, len(changes)  # the distance is over the limit with none of them
    within = apply(high)
    if within:
        while high - low > 1:
            middle = (low + high) // 2
            if apply(middle):
                high = middle
            else:
                low = middle
        apply(high)
    for line, _buy, _sell in changes:
        _set_buy(line, line.buy_steps if line.buy_steps >= line.min_steps else 0, currency)
        line.credited = _credit(line, line.sell_steps, currency) if line.sell_steps else ZERO
    return within


# -- result -----------------------------------------------------------------------
def _order(line: _Line, side: Side, steps: int, amount: Decimal, currency: Currency) -> Order:
    local = steps * line.step_local
    if line.step_qty is None:
        units = local * line.instrument.price_unit / line.price.amount
        if side is Side.SELL:  # enough units to cover the amount credited, never 0
            quantity = min(units.to_integral_value(ROUND_CEILING), line.held)
        else:
            quantity = units.to_integral_value(ROUND_FLOOR)
    else:
        quantity = steps * line.step_qty
    return Order(
        symbol=line.symbol,
        side=side,
        quantity=quantity,
        price=line.price,
        local_amount=Money(local, line.price.currency),
        cost=Money(amount, currency),
    )


def _result(
    lines: list[_Line],
    before: list[Decimal],
    budget: Money,
    mode: SimulationMode,
    excluded: list[str],
) -> Simulation:
    currency = budget.currency
    orders = [
        _order(line, Side.SELL, line.sell_steps, line.credited, currency)
        for line in lines
        if line.sell_steps
    ] + [
        _order(line, Side.BUY, line.buy_steps, line.charged, currency)
        for line in lines
        if line.buy_steps
    ]
    after = [line.value_after for line in lines]
    targets = [line.target for line in lines]
    total_before, total_after = sum(before, ZERO), sum(after, ZERO)
    with localcontext() as context:  # exact: spent + leftover is the budget
        context.prec = max(context.prec, PRECISION)
        bought, sold = _charged(lines), _credited(lines)
        spent, leftover = bought - sold, budget.amount - bought + sold
    plan = [
        PlanLine(
            symbol=line.symbol,
            target=line.target * HUNDRED,
            before=v0 / total_before * HUNDRED if total_before else ZERO,
            after=v1 / total_after * HUNDRED if total_after else ZERO,
            value_before=Money(v0, currency),
            value_after=Money(v1, currency),
        )
        for line, v0, v1 in zip(lines, before, after, strict=True)
    ]
    return Simulation(
        mode=mode,
        budget=budget,
        orders=orders,
        bought=Money(bought, currency),
        sold=Money(sold, currency),
        spent=Money(spent, currency),
        leftover=Money(leftover, currency),
        lines=plan,
        distance_before=weight_distance(before, targets),
        distance_after=weight_distance(after, targets),
        excluded=excluded,
    )
