"""The ledger: activities replayed, in `Activity.sort_key` order, into positions per
symbol, cash per currency, and the money figures the performance report sums.

Cost basis (`CostMethod`, a portfolio setting):
- `average`: one pool per symbol. A buy adds its quantity and its cost (quantity × unit
  price, plus the buy's fees and taxes); a sell takes the pool's average cost per share
  times the quantity sold.
- `fifo`: one lot per buy, in a deque per symbol; a sell takes whole lots from the
  oldest, and a share of the cost of the lot it splits.
Both take the position's whole remaining cost when it is sold out, so the two methods
realize the same total once everything is sold.

Per activity (amounts in the activity's currency, converted to the base currency at the
activity's `fx_rate`, or else the rate history's rate on or before its day):
- realized P/L of a sell = proceeds (quantity × unit price) − its fees − its taxes − the
  cost of the shares sold (per method; the cost includes the buys' fees and taxes). In the
  base currency the cost is what the shares cost at their buys' rates, so realized P/L in
  the base currency includes the currency's move since the buy.
- a split multiplies the quantity by its ratio (and so divides the lots' prices) and
  changes no cost: FIFO lots record the split epoch they were bought in and catch up
  when touched, so a split costs O(1), whatever the number of open lots.
- dividends and interest are income at their gross amount; the taxes withheld and the
  fees charged count in the `taxes` and `fees` totals (as do every activity's fees and
  taxes: the buys', the sells', `fee` and `tax` activities'). The fees and taxes of buys
  are also part of the cost, those of sells are out of the realized P/L: the totals say
  what was paid, not an extra loss to subtract.
- selling more than held raises `OversellError`, naming the activity.

Invested capital and external flows (`FlowBasis`), what the returns are measured against:
- `deposits`: the ledger has at least one deposit or withdrawal. The external flows are
  exactly those (a deposit brings its amount in, a withdrawal takes its amount out; their
  own fees and taxes are costs inside the portfolio); trades, income and charges move the
  cash, which is part of the portfolio's value (and may go negative when buys exceed the
  recorded deposits). `invested` = deposits − withdrawals.
- `trades`: no deposit or withdrawal is recorded (a portfolio that lists only its trades).
  Each buy brings its cost in (quantity × unit price + fees + taxes) and each sell takes
  its net proceeds out (quantity × unit price − fees − taxes): money moves between the
  investor and the holdings directly, and trades leave the cash alone. Income, `fee` and
  `tax` activities still move the cash. `invested` = cost of the buys − net proceeds of
  the sells (the money put into buys net of what sells returned).
In both, `invested` is the sum of the external flows in the base currency, each at its
own day's rate, and value − invested = the gain (`domain.performance`).

The base-currency figures need a rate for every activity in another currency: its
`fx_rate`, or `FxHistory`'s rate on or before its day (never a later one), else
`MissingActivityRateError`. Replayed with `rates=None`, the ledger keeps its figures in
each position's own currency only and every base-currency field is None.

A symbol's trades are all in one currency (its first trade's); a trade in another
currency is refused, naming the activity. Replay is linear in the number of activities.
Standard library only."""

from __future__ import annotations

from bisect import bisect_right
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_EVEN, Context, Decimal, localcontext
from enum import StrEnum
from typing import Final

from portfoliowise.domain.activities import Activity, ActivityType, CostMethod
from portfoliowise.domain.errors import MissingRateError, ValidationError
from portfoliowise.domain.instruments import Instrument, Market, parse_symbol
from portfoliowise.domain.limits import MAX_DECIMAL_PLACES, MIN_STEP, decimal_places
from portfoliowise.domain.market import DailyHistory
from portfoliowise.domain.money import Currency, Money, quantize
from portfoliowise.domain.portfolio import Holding

PRECISION: Final = 50
"""Significant digits of the ledger's and the performance report's arithmetic: a
quantity (22 digits at the limits) times a price (19) fits without rounding, and sums of
100,000 activities keep every digit of the minor unit."""

ZERO: Final = Decimal(0)
ONE: Final = Decimal(1)


def context() -> Context:
    """The Decimal context of the ledger and performance computations."""
    return Context(prec=PRECISION, rounding=ROUND_HALF_EVEN, Emax=999_999, Emin=-999_999)


class FlowBasis(StrEnum):
    DEPOSITS = "deposits"  # deposits and withdrawals are the external flows
    TRADES = "trades"  # no deposit recorded: buys bring money in, sells take it out


class OversellError(ValidationError):
    """A sell of more than the position holds (on that day, after the day's buys)."""

    code = "oversell"

    def __init__(self, activity: Activity, held: Decimal) -> None:
        super().__init__(
            f"activity {activity.activity_id!r} on {activity.day.isoformat()} sells "
            f"{activity.quantity} {activity.symbol} but only {held} are held then"
        )
        self.activity_id = activity.activity_id
        self.symbol = activity.symbol or ""
        self.held = held
        self.sold = activity.quantity


class MissingActivityRateError(MissingRateError):
    """An activity in another currency than the base with no `fx_rate` and no rate in the
    history on or before its day."""

    def __init__(self, activity: Activity, base: Currency) -> None:
        super().__init__(activity.currency.code, base.code)
        self.activity_id = activity.activity_id
        self.args = (
            f"activity {activity.activity_id!r} on {activity.day.isoformat()}: no "
            f"{activity.currency.code}->{base.code} rate on or before that day (give the "
            "activity's fx rate or a rate history that starts earlier)",
        )


class FxHistory:
    """Daily rates of other currencies into one base currency: `rate(currency, day)` is
    the latest rate on or before `day` (never a later one), None before the first; the
    base currency is 1 on every day.

    `rates` maps a currency to its rates into the base currency (what one unit is worth
    in the base), by day: a mapping or (day, rate) pairs."""

    __slots__ = ("_days", "_rates", "base")

    def __init__(
        self,
        base: Currency,
        rates: Mapping[Currency | str, Mapping[date, Decimal] | Iterable[tuple[date, Decimal]]]
        | None = None,
    ) -> None:
        self.base = base
        self._days: dict[Currency, list[date]] = {}
        self._rates: dict[Currency, list[Decimal]] = {}
        for code, points in (rates or {}).items():
            currency = Currency.of(code)
            if currency == base:
                continue
            items = points.items() if isinstance(points, Mapping) else points
            self._put(currency, items)

    def _put(self, currency: Currency, points: Iterable[tuple[date, Decimal]]) -> None:
        by_day: dict[date, Decimal] = {}
        for day, rate in points:
            if not isinstance(rate, Decimal) or not rate.is_finite() or rate <= 0:
                raise ValidationError(
                    f"{currency.code}-{self.base.code} rate on {day} must be a positive "
                    f"Decimal, got {rate!r}"
                )
            by_day[day] = rate
        ordered = sorted(by_day.items())
        self._days[currency] = [day for day, _ in ordered]
        self._rates[currency] = [rate for _, rate in ordered]

    @classmethod
    def from_histories(cls, base: Currency, histories: Iterable[DailyHistory]) -> FxHistory:
        """From the daily closes of FX pairs (`USD-JPY`: JPY per USD). A pair quoted in the
        base currency is used as is, one whose base is ours is inverted; a pair without
        the base currency is refused (no cross rates)."""
        found: dict[Currency, list[tuple[date, Decimal]]] = {}
        ctx = context()
        for history in histories:
            instrument = parse_symbol(history.symbol)
            if instrument.market is not Market.FX:
                raise ValidationError(f"{history.symbol} is not an FX pair")
            first, second = (Currency.of(part) for part in instrument.code.split("-"))
            if second == base:
                found.setdefault(first, []).extend(
                    (close.day, close.close) for close in history.closes if close.close > 0
                )
            elif first == base:
                found.setdefault(second, []).extend(
                    (close.day, ctx.divide(ONE, close.close))
                    for close in history.closes
                    if close.close > 0
                )
            else:
                raise ValidationError(
                    f"{instrument.code} is not a rate into {base.code} (no cross rates here)"
                )
        table = cls(base)
        for currency, points in found.items():
            table._put(currency, points)
        return table

    @property
    def currencies(self) -> tuple[Currency, ...]:
        return tuple(self._days)

    def pair(self, currency: Currency) -> str:
        return f"{currency.code}-{self.base.code}"

    def rate(self, currency: Currency, day: date) -> Decimal | None:
        if currency == self.base:
            return ONE
        days = self._days.get(currency)
        if not days:
            return None
        index = bisect_right(days, day) - 1
        return self._rates[currency][index] if index >= 0 else None

    def points(self, currency: Currency) -> tuple[Sequence[date], Sequence[Decimal]]:
        """Days (ascending) and rates of `currency`; empty for the base or an unknown one."""
        return self._days.get(currency, []), self._rates.get(currency, [])


@dataclass(frozen=True, slots=True)
class Lot:
    """A FIFO lot: what is left of one buy, its quantity in today's shares (after the
    splits since), its cost unchanged by them."""

    day: date
    activity_id: str
    quantity: Decimal
    cost: Decimal  # in the position's currency, with the buy's fees and taxes
    base_cost: Decimal | None  # in the base currency, at the buy's rate

    @property
    def unit_cost(self) -> Decimal:
        return self.cost / self.quantity if self.quantity else ZERO


@dataclass(frozen=True, slots=True)
class Position:
    """One symbol's position after the replay (kept when sold out, for its realized P/L)."""

    instrument: Instrument
    currency: Currency  # of its trades
    quantity: Decimal
    cost: Decimal  # of what is held, in `currency`
    base_cost: Decimal | None  # of what is held, in the base currency at the buys' rates
    realized: Decimal  # cumulative, in `currency`
    base_realized: Decimal | None  # cumulative, in the base currency
    lots: tuple[Lot, ...] = ()  # FIFO only, oldest first

    @property
    def symbol(self) -> str:
        return self.instrument.symbol

    @property
    def average_cost(self) -> Decimal | None:
        """Cost per unit of quantity (per share; per fund unit), None when nothing is held."""
        return self.cost / self.quantity if self.quantity else None

    def value(self, price: Decimal) -> Decimal:
        """At `price` per price unit (per 10,000 units for funds), in `currency`."""
        return self.instrument.value_of(self.quantity, price)

    def unrealized(self, price: Decimal) -> Decimal:
        """Value at `price` minus the cost of what is held, in `currency`."""
        return self.value(price) - self.cost

    def base_unrealized(self, price: Decimal, rate: Decimal) -> Decimal | None:
        """Value at `price` and `rate` (one unit of `currency` in the base) minus the base
        cost: the currency's move since the buys included."""
        if self.base_cost is None:
            return None
        return self.value(price) * rate - self.base_cost


@dataclass(frozen=True, slots=True)
class Entry:
    """What one activity did. Base-currency fields are None in a ledger without rates."""

    activity: Activity
    fx_rate: Decimal | None  # one unit of the activity's currency in the base currency
    trade: Decimal  # buy: +quantity × unit price (per price unit); sell: − that; else 0
    cash: Decimal  # change of the cash in the activity's currency
    flow: Decimal | None  # external flow in the base currency, + in, − out
    quantity_after: Decimal | None  # the symbol's quantity after a buy, sell or split
    realized: Decimal  # in the activity's currency (sells only)
    base_realized: Decimal | None
    income: Decimal | None  # gross dividend or interest, base currency
    fees: Decimal | None  # base currency
    taxes: Decimal | None  # base currency

    @property
    def day(self) -> date:
        return self.activity.day


@dataclass(frozen=True, slots=True)
class Ledger:
    """The replayed state and what each activity did. Totals are in the base currency
    (None without rates); `cash` is per currency."""

    base_currency: Currency
    method: CostMethod
    flow_basis: FlowBasis
    positions: Mapping[str, Position]
    cash: Mapping[Currency, Decimal]
    entries: tuple[Entry, ...]
    invested: Decimal | None
    income: Decimal | None
    fees: Decimal | None
    taxes: Decimal | None
    realized: Decimal | None

    @property
    def open_positions(self) -> list[Position]:
        return [p for p in self.positions.values() if p.quantity > 0]

    def holdings(self) -> list[Holding]:
        """The open positions as `Holding`s, so that a ledger-based portfolio values like
        a holdings-only one: the quantity, and the cost basis in the base currency (what
        was paid at the buys' rates) or, in a ledger without rates, in the trades'
        currency. Both are rounded to the 10 decimals the domain's limits allow (only a
        split ratio with many decimals makes more)."""
        result = []
        for position in self.open_positions:
            if position.base_cost is not None:
                cost = Money(_fit(position.base_cost), self.base_currency)
            else:
                cost = Money(_fit(position.cost), position.currency)
            result.append(Holding.of(position.symbol, _fit(position.quantity), cost_basis=cost))
        return result

    def unrealized(
        self, prices: Mapping[str, Decimal], rates: Mapping[Currency, Decimal] | None = None
    ) -> Decimal | None:
        """Unrealized P/L of the open positions in the base currency, at `prices` (per
        price unit, keyed by symbol) and `rates` (one unit of each currency in the base;
        the base currency needs none). None when a position has no price or rate, or the
        ledger has no base-currency figures: never a guess."""
        total = ZERO
        with localcontext(context()):
            for position in self.open_positions:
                price = prices.get(position.symbol)
                rate = (
                    ONE
                    if position.currency == self.base_currency
                    else (rates or {}).get(position.currency)
                )
                if price is None or rate is None:
                    return None
                pl = position.base_unrealized(price, rate)
                if pl is None:
                    return None
                total += pl
        return total


def _fit(value: Decimal) -> Decimal:
    if decimal_places(value) <= MAX_DECIMAL_PLACES:
        return value
    return quantize(value, MIN_STEP, ROUND_HALF_EVEN)


@dataclass(slots=True)
class _Lot:
    day: date
    activity_id: str
    quantity: Decimal
    cost: Decimal
    base_cost: Decimal | None
    epoch: int  # index into the book's split factors when `quantity` was last updated


@dataclass(slots=True)
class _Book:
    instrument: Instrument
    currency: Currency
    quantity: Decimal = ZERO
    cost: Decimal = ZERO
    base_cost: Decimal | None = ZERO
    realized: Decimal = ZERO
    base_realized: Decimal | None = ZERO
    lots: deque[_Lot] = field(default_factory=deque)
    factors: list[Decimal] = field(default_factory=lambda: [ONE])  # cumulative split ratios

    def catch_up(self, lot: _Lot) -> Decimal:
        """The lot's quantity after every split since it was last touched."""
        epoch = len(self.factors) - 1
        if lot.epoch != epoch:
            lot.quantity = lot.quantity * self.factors[epoch] / self.factors[lot.epoch]
            lot.epoch = epoch
        return lot.quantity

    def snapshot(self) -> Position:
        lots = tuple(
            Lot(lot.day, lot.activity_id, self.catch_up(lot), lot.cost, lot.base_cost)
            for lot in self.lots
        )
        return Position(
            instrument=self.instrument,
            currency=self.currency,
            quantity=self.quantity,
            cost=self.cost,
            base_cost=self.base_cost,
            realized=self.realized,
            base_realized=self.base_realized,
            lots=lots,
        )


def _times(amount: Decimal, rate: Decimal | None) -> Decimal | None:
    return None if rate is None else amount * rate


def _add(total: Decimal | None, amount: Decimal | None) -> Decimal | None:
    return None if total is None or amount is None else total + amount


class _Replay:
    def __init__(
        self,
        base: Currency,
        method: CostMethod,
        basis: FlowBasis,
        rates: FxHistory | None,
    ) -> None:
        self.base = base
        self.method = method
        self.basis = basis
        self.rates = rates
        self.books: dict[str, _Book] = {}
        self.cash: dict[Currency, Decimal] = {}
        self.entries: list[Entry] = []
        self.totals: dict[str, Decimal | None] = dict.fromkeys(
            ("invested", "income", "fees", "taxes", "realized"),
            None if rates is None else ZERO,
        )

    def rate(self, activity: Activity) -> Decimal | None:
        if self.rates is None:
            return None
        if activity.currency == self.base:
            return ONE
        if activity.fx_rate is not None:
            return activity.fx_rate
        rate = self.rates.rate(activity.currency, activity.day)
        if rate is None:
            raise MissingActivityRateError(activity, self.base)
        return rate

    def apply(self, activity: Activity) -> None:
        fx = self.rate(activity)
        kind = activity.type
        if kind is ActivityType.BUY:
            entry = self._buy(activity, fx)
        elif kind is ActivityType.SELL:
            entry = self._sell(activity, fx)
        elif kind is ActivityType.SPLIT:
            entry = self._split(activity, fx)
        else:
            entry = self._cash_only(activity, fx)
        if entry.cash:
            self.cash[activity.currency] = self.cash.get(activity.currency, ZERO) + entry.cash
        totals = self.totals
        for name, amount in (
            ("invested", entry.flow),
            ("income", entry.income),
            ("fees", entry.fees),
            ("taxes", entry.taxes),
            ("realized", entry.base_realized),
        ):
            totals[name] = _add(totals[name], amount)
        self.entries.append(entry)

    def _book(self, activity: Activity) -> _Book:
        symbol = activity.symbol or ""
        book = self.books.get(symbol)
        if book is None:
            book = _Book(parse_symbol(symbol), activity.currency)
            if self.rates is None:
                book.base_cost = book.base_realized = None
            self.books[symbol] = book
        elif book.currency != activity.currency:
            raise ValidationError(
                f"activity {activity.activity_id!r} trades {symbol} in "
                f"{activity.currency.code}, but its trades are in {book.currency.code}"
            )
        return book

    def _charges(self, activity: Activity, fx: Decimal | None) -> tuple[Decimal | None, ...]:
        return _times(activity.fees, fx), _times(activity.taxes, fx)

    def _buy(self, activity: Activity, fx: Decimal | None) -> Entry:
        book = self._book(activity)
        gross = book.instrument.value_of(activity.quantity, activity.unit_price)
        cost = gross + activity.fees + activity.taxes
        base_cost = _times(cost, fx)
        book.quantity += activity.quantity
        book.cost += cost
        book.base_cost = _add(book.base_cost, base_cost)
        if self.method is CostMethod.FIFO:
            book.lots.append(
                _Lot(
                    activity.day,
                    activity.activity_id,
                    activity.quantity,
                    cost,
                    base_cost,
                    len(book.factors) - 1,
                )
            )
        fees, taxes = self._charges(activity, fx)
        deposits = self.basis is FlowBasis.DEPOSITS
        return Entry(
            activity=activity,
            fx_rate=fx,
            trade=gross,
            cash=-cost if deposits else ZERO,
            flow=(None if fx is None else ZERO) if deposits else base_cost,
            quantity_after=book.quantity,
            realized=ZERO,
            base_realized=None if fx is None else ZERO,
            income=None if fx is None else ZERO,
            fees=fees,
            taxes=taxes,
        )

    def _sell(self, activity: Activity, fx: Decimal | None) -> Entry:
        symbol = activity.symbol or ""
        book = self.books.get(symbol)
        held = ZERO if book is None else book.quantity
        if book is None or activity.quantity > held:
            raise OversellError(activity, held)
        book = self._book(activity)  # checks the currency
        gross = book.instrument.value_of(activity.quantity, activity.unit_price)
        proceeds = gross - activity.fees - activity.taxes
        sold_cost, sold_base = self._take(book, activity.quantity)
        book.quantity -= activity.quantity
        if book.quantity == 0:
            book.cost = ZERO
            book.base_cost = None if book.base_cost is None else ZERO
            book.lots.clear()
        else:
            book.cost -= sold_cost
            book.base_cost = (
                None if book.base_cost is None or sold_base is None else book.base_cost - sold_base
            )
        realized = proceeds - sold_cost
        base_proceeds = _times(proceeds, fx)
        base_realized = (
            None if base_proceeds is None or sold_base is None else base_proceeds - sold_base
        )
        book.realized += realized
        book.base_realized = _add(book.base_realized, base_realized)
        fees, taxes = self._charges(activity, fx)
        deposits = self.basis is FlowBasis.DEPOSITS
        return Entry(
            activity=activity,
            fx_rate=fx,
            trade=-gross,
            cash=proceeds if deposits else ZERO,
            flow=(None if fx is None else ZERO) if deposits else _times(-proceeds, fx),
            quantity_after=book.quantity,
            realized=realized,
            base_realized=base_realized,
            income=None if fx is None else ZERO,
            fees=fees,
            taxes=taxes,
        )

    def _take(self, book: _Book, quantity: Decimal) -> tuple[Decimal, Decimal | None]:
        """Cost (position currency, base currency) of `quantity` sold, per method."""
        if quantity == book.quantity:
            return book.cost, book.base_cost
        if self.method is CostMethod.AVERAGE:
            share = quantity / book.quantity
            base = None if book.base_cost is None else book.base_cost * share
            return book.cost * share, base
        cost = ZERO
        base_cost: Decimal | None = None if book.base_cost is None else ZERO
        remaining = quantity
        lots = book.lots
        while remaining > 0 and lots:
            lot = lots[0]
            held = book.catch_up(lot)
            if held <= remaining:
                lots.popleft()
                remaining -= held
                cost += lot.cost
                base_cost = _add(base_cost, lot.base_cost)
                continue
            share = remaining / held
            part = lot.cost * share
            base_part = None if lot.base_cost is None else lot.base_cost * share
            lot.quantity = held - remaining
            lot.cost -= part
            lot.base_cost = (
                None if lot.base_cost is None or base_part is None else lot.base_cost - base_part
            )
            cost += part
            base_cost = _add(base_cost, base_part)
            remaining = ZERO
        return cost, base_cost

    def _split(self, activity: Activity, fx: Decimal | None) -> Entry:
        symbol = activity.symbol or ""
        book = self.books.get(symbol)
        ratio = activity.quantity
        if book is not None:
            book.quantity *= ratio
            if self.method is CostMethod.FIFO:
                book.factors.append(book.factors[-1] * ratio)
        zero = None if fx is None else ZERO
        return Entry(
            activity=activity,
            fx_rate=fx,
            trade=ZERO,
            cash=ZERO,
            flow=zero,
            quantity_after=ZERO if book is None else book.quantity,
            realized=ZERO,
            base_realized=zero,
            income=zero,
            fees=zero,
            taxes=zero,
        )

    def _cash_only(self, activity: Activity, fx: Decimal | None) -> Entry:
        kind = activity.type
        amount = activity.amount
        fees, taxes = activity.fees, activity.taxes
        income = flow = ZERO
        if kind in (ActivityType.DIVIDEND, ActivityType.INTEREST):
            cash = amount - fees - taxes
            income = amount
        elif kind is ActivityType.FEE:
            cash = -(amount + fees + taxes)
            fees += amount
        elif kind is ActivityType.TAX:
            cash = -(amount + fees + taxes)
            taxes += amount
        elif kind is ActivityType.DEPOSIT:
            cash = amount - fees - taxes
            flow = amount
        else:  # withdrawal
            cash = -(amount + fees + taxes)
            flow = -amount
        return Entry(
            activity=activity,
            fx_rate=fx,
            trade=ZERO,
            cash=cash,
            flow=_times(flow, fx),
            quantity_after=None,
            realized=ZERO,
            base_realized=None if fx is None else ZERO,
            income=_times(income, fx),
            fees=_times(fees, fx),
            taxes=_times(taxes, fx),
        )


def flow_basis_of(activities: Iterable[Activity]) -> FlowBasis:
    """`deposits` when any deposit or withdrawal is recorded, else `trades`."""
    for activity in activities:
        if activity.type in (ActivityType.DEPOSIT, ActivityType.WITHDRAWAL):
            return FlowBasis.DEPOSITS
    return FlowBasis.TRADES


def replay(
    activities: Iterable[Activity],
    *,
    base_currency: Currency,
    method: CostMethod = CostMethod.AVERAGE,
    rates: FxHistory | None = None,
    until: date | None = None,
    flow_basis: FlowBasis | None = None,
) -> Ledger:
    """Replay `activities` (any order: they are sorted by `Activity.sort_key`) up to and
    including `until` (default: all). `rates` gives the base-currency figures (an empty
    `FxHistory(base)` is enough when every activity is in the base currency or carries
    its `fx_rate`); without it they are None. `flow_basis` defaults to what all of
    `activities` say (`flow_basis_of`), those after `until` included, so that a ledger
    cut at any day measures flows the same way."""
    ordered = sorted(activities, key=Activity.sort_key)
    basis = flow_basis or flow_basis_of(ordered)
    if rates is not None and rates.base != base_currency:
        raise ValidationError(
            f"the rates are into {rates.base.code}, the ledger's base is {base_currency.code}"
        )
    state = _Replay(base_currency, method, basis, rates)
    with localcontext(context()):
        for activity in ordered:
            if until is not None and activity.day > until:
                break
            state.apply(activity)
        positions = {symbol: book.snapshot() for symbol, book in state.books.items()}
    totals = state.totals
    return Ledger(
        base_currency=base_currency,
        method=method,
        flow_basis=basis,
        positions=positions,
        cash=dict(state.cash),
        entries=tuple(state.entries),
        invested=totals["invested"],
        income=totals["income"],
        fees=totals["fees"],
        taxes=totals["taxes"],
        realized=totals["realized"],
    )
