"""Contribution simulation: turn a budget into buy (and, in rebalance mode, sell)
orders that move the portfolio toward its target allocation.

Rules:
- Never spend more than the budget: each order is charged in the budget currency,
  rounded up to its minor unit, and the charges never exceed the cash available.
- Trading units: 100-share lots in Tokyo, whole US shares (0.0001 steps when the
  portfolio allows fractional shares), funds by amount (1 yen steps, a minimum purchase).
- Most under-weight first: the budget is water-filled over the value gaps to the
  targets (on the total after investing), then whole lots are taken, then the cash
  left is spent lot by lot on the largest remaining gap through a heap, so the cost
  grows with the number of holdings, not with the number of lots bought.
- Never farther from the targets than doing nothing: the L1 distance between weights
  and targets after the plan is at most the distance now, else lots are given back.
- Rebalance mode may also sell holdings more than `tolerance` percentage points above
  their target (holdings without a target have target 0), down to the target at most.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from enum import StrEnum

from portfoliowise.domain.errors import UnpricedTargetError, ValidationError
from portfoliowise.domain.fx import RateTable
from portfoliowise.domain.instruments import Instrument, parse_symbol
from portfoliowise.domain.money import Currency, Money
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
    value: Decimal = ZERO  # budget currency, now
    buy_steps: int = 0
    sell_steps: int = 0
    charged: Decimal = ZERO
    credited: Decimal = ZERO

    @property
    def value_after(self) -> Decimal:
        return self.value + (self.buy_steps - self.sell_steps) * self.step_value


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
    return _result(lines, before, budget, opts.mode, excluded)


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
                value=instrument.value_of(quantity, price.amount) * rate,
            )
        )
    if unpriced_targets:
        raise UnpricedTargetError(unpriced_targets)
    return lines, excluded


# -- rounding of charges ----------------------------------------------------------
def _charge(line: _Line, steps: int, currency: Currency) -> Decimal:
    return (steps * line.step_value).quantize(currency.quantum, ROUND_CEILING)


def _credit(line: _Line, steps: int, currency: Currency) -> Decimal:
    return (steps * line.step_value).quantize(currency.quantum, ROUND_FLOOR)


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
    """Spend what is left one step at a time on the largest remaining gap, as long as a
    step brings that holding closer to its target (its cost is under twice the gap).
    Cash and gaps only shrink, so a holding that cannot take a step is dropped for good."""
    heap: list[tuple[Decimal, int]] = []
    for index, line in enumerate(lines):
        gap = line.target * wealth - line.value_after
        if gap > 0 and line.sell_steps == 0:
            heap.append((-gap, index))
    heapq.heapify(heap)
    while heap and cash > 0:
        negative_gap, index = heapq.heappop(heap)
        line, gap = lines[index], -negative_gap
        if line.step_qty is None:
            cash -= _top_up_fund(line, gap, cash, currency)
            continue
        if line.step_value >= 2 * gap:
            continue
        new_charge = _charge(line, line.buy_steps + 1, currency)
        if new_charge - line.charged > cash:
            continue
        cash -= new_charge - line.charged
        line.buy_steps += 1
        line.charged = new_charge
        heapq.heappush(heap, (-(gap - line.step_value), index))


def _top_up_fund(line: _Line, gap: Decimal, cash: Decimal, currency: Currency) -> Decimal:
    """A fund takes an amount: as much of its gap as the cash allows, in one order."""
    spendable = min(gap, cash)
    steps = line.buy_steps + int((spendable / line.step_value).to_integral_value(ROUND_FLOOR))
    while steps > line.buy_steps and _charge(line, steps, currency) - line.charged > cash:
        steps -= 1
    if steps < line.min_steps:
        steps = line.min_steps
        if (steps - line.buy_steps) * line.step_value >= 2 * gap:
            return ZERO
    charge = _charge(line, steps, currency)
    if steps <= line.buy_steps or charge - line.charged > cash:
        return ZERO
    paid = charge - line.charged
    _set_buy(line, steps, currency)
    return paid


def weight_distance(values: list[Decimal], targets: list[Decimal]) -> Decimal:
    """Sum of |weight - target| in percentage points (targets as fractions of 1)."""
    total = sum(values, ZERO)
    if total <= 0:
        return sum(targets, ZERO) * HUNDRED
    return sum((abs(v / total - t) for v, t in zip(values, targets, strict=True)), ZERO) * HUNDRED


def _give_back_until_no_worse(
    lines: list[_Line], before: list[Decimal], currency: Currency
) -> None:
    """Lots cannot always be split to match the targets: if the plan would leave the
    weights farther from the targets than doing nothing, give back the steps of the most
    over-weight purchase (then restore the sells) until it does not."""
    targets = [line.target for line in lines]
    limit = weight_distance(before, targets)
    while True:
        after = [line.value_after for line in lines]
        if weight_distance(after, targets) <= limit:
            return
        total = sum(after, ZERO)
        buys = [(v / total - line.target, line) for v, line in zip(after, lines, strict=True)]
        buying = [b for b in buys if b[1].buy_steps > 0]
        if buying:
            excess, line = max(buying, key=lambda b: b[0])
            steps = int((excess * total / line.step_value).to_integral_value(ROUND_CEILING))
            if steps < 1:  # under its target yet the plan is worse: halve that purchase
                steps = (line.buy_steps + 1) // 2
            remaining = line.buy_steps - steps
            _set_buy(line, remaining if remaining >= line.min_steps else 0, currency)
            continue
        selling = [b for b in buys if b[1].sell_steps > 0]
        if not selling:
            return
        _shortfall, line = min(selling, key=lambda b: b[0])
        line.sell_steps -= 1
        line.credited = _credit(line, line.sell_steps, currency) if line.sell_steps else ZERO


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
    bought, sold = _charged(lines), _credited(lines)
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
        spent=Money(bought - sold, currency),
        leftover=Money(budget.amount - bought + sold, currency),
        lines=plan,
        distance_before=weight_distance(before, targets),
        distance_after=weight_distance(after, targets),
        excluded=excluded,
    )
