"""Activities: the ledger entries a portfolio's holdings, cash and performance derive from.

An `Activity` is one dated event in one currency:
- `buy` / `sell`: `quantity` shares at `unit_price` (per share; per 10,000 units for
  Japanese funds, like their quotes), plus `fees` and `taxes` paid on top (a buy) or
  withheld (a sell).
- `dividend` / `interest`: `amount` received (gross), `taxes` withheld, `fees` charged;
  a dividend names its `symbol`, interest may not.
- `fee` / `tax`: `amount` paid, with or without a `symbol` (an account fee has none).
- `deposit` / `withdrawal`: `amount` of cash moved into or out of the portfolio (the
  external flows of the time-weighted and money-weighted returns).
- `split`: `quantity` is the ratio, new shares per old share (2 for a 2-for-1 split,
  0.1 for a 1-for-10 reverse split); the holding's quantity is multiplied by it and its
  cost is unchanged, so the value does not change.

`fx_rate` (optional) is what one unit of `currency` was worth in the portfolio's base
currency on that day, as the broker settled it; without it, the day's rate from the
market history is used (never a later one).

Every number meets the domain's limits (`domain.limits`), so an activity from the API, an
import, the CLI or a restored backup is held to the same rules. Standard library only."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Final

from portfoliowise.domain.errors import ValidationError
from portfoliowise.domain.instruments import parse_symbol
from portfoliowise.domain.limits import (
    MAX_AMOUNT,
    MAX_PRICE,
    MAX_QUANTITY,
    MAX_TEXT_LENGTH,
    check_amount,
    check_decimal,
    check_quantity,
    check_rate,
)
from portfoliowise.domain.money import Currency

MAX_ACTIVITIES: Final = 100_000
"""Activities in one portfolio: forty years of daily trading in ten instruments."""

MAX_SPLIT_RATIO: Final = Decimal(1000)
"""New shares per old share, either way (1000-for-1 or 1-for-1000)."""

EARLIEST_DAY: Final = date(1900, 1, 1)
LATEST_DAY: Final = date(2200, 12, 31)


class ActivityType(StrEnum):
    BUY = "buy"
    SELL = "sell"
    DIVIDEND = "dividend"
    INTEREST = "interest"
    FEE = "fee"
    TAX = "tax"
    SPLIT = "split"
    DEPOSIT = "deposit"
    WITHDRAWAL = "withdrawal"

    @classmethod
    def parse(cls, raw: object) -> ActivityType:
        text = str(raw).strip().lower()
        try:
            return cls(text)
        except ValueError:
            names = ", ".join(t.value for t in cls)
            raise ValidationError(
                f"activity type must be one of {names}, not {text[:40]!r}"
            ) from None


class CostMethod(StrEnum):
    AVERAGE = "average"
    FIFO = "fifo"

    @classmethod
    def parse(cls, raw: object) -> CostMethod:
        text = str(raw).strip().lower()
        try:
            return cls(text)
        except ValueError:
            raise ValidationError(
                f"cost basis method must be average or fifo, not {text[:40]!r}"
            ) from None


class HoldingsSource(StrEnum):
    """Where a portfolio's holdings come from: entered as they are (`holdings`), or
    derived from its activities (`activities`, a ledger-based portfolio)."""

    HOLDINGS = "holdings"
    ACTIVITIES = "activities"

    @classmethod
    def parse(cls, raw: object) -> HoldingsSource:
        text = str(raw).strip().lower()
        try:
            return cls(text)
        except ValueError:
            raise ValidationError(
                f"holdings source must be holdings or activities, not {text[:40]!r}"
            ) from None


@dataclass(frozen=True, slots=True)
class ActivityChange:
    """Activities to add to and remove (by id) from one portfolio, applied with a change of
    the portfolio, all or nothing. `batch_id` names an import: storing the same batch
    again (a rerun after a crash) finds it applied or completes it, never doubles it."""

    added: tuple[Activity, ...] = ()
    removed: tuple[str, ...] = ()
    batch_id: str | None = None


TRADES: Final = frozenset({ActivityType.BUY, ActivityType.SELL})
NEEDS_SYMBOL: Final = frozenset(
    {ActivityType.BUY, ActivityType.SELL, ActivityType.DIVIDEND, ActivityType.SPLIT}
)
CASH_AMOUNT: Final = frozenset(
    {
        ActivityType.DIVIDEND,
        ActivityType.INTEREST,
        ActivityType.FEE,
        ActivityType.TAX,
        ActivityType.DEPOSIT,
        ActivityType.WITHDRAWAL,
    }
)
NO_SYMBOL: Final = frozenset({ActivityType.DEPOSIT, ActivityType.WITHDRAWAL})


@dataclass(frozen=True, slots=True)
class Activity:
    activity_id: str
    type: ActivityType
    day: date
    currency: Currency
    symbol: str | None = None
    quantity: Decimal = Decimal(0)
    unit_price: Decimal = Decimal(0)
    amount: Decimal = Decimal(0)
    fees: Decimal = Decimal(0)
    taxes: Decimal = Decimal(0)
    fx_rate: Decimal | None = None
    note: str | None = None

    def __post_init__(self) -> None:
        if not self.activity_id or len(self.activity_id) > 100:
            raise ValidationError("an activity needs an id of 1 to 100 characters")
        if not isinstance(self.type, ActivityType):
            object.__setattr__(self, "type", ActivityType.parse(self.type))
        if not EARLIEST_DAY <= self.day <= LATEST_DAY:
            raise ValidationError(f"activity date must be from {EARLIEST_DAY} to {LATEST_DAY}")
        self._check_symbol()
        self._check_numbers()
        if self.note is not None and len(self.note) > MAX_TEXT_LENGTH:
            raise ValidationError(f"an activity's note is at most {MAX_TEXT_LENGTH} characters")

    def _check_symbol(self) -> None:
        if self.symbol is not None:
            if self.type in NO_SYMBOL:
                raise ValidationError(f"a {self.type} names no symbol")
            object.__setattr__(self, "symbol", parse_symbol(self.symbol).symbol)
        elif self.type in NEEDS_SYMBOL:
            raise ValidationError(f"a {self.type} needs a symbol")

    def _check_numbers(self) -> None:
        check_amount(self.fees, "fees")
        check_amount(self.taxes, "taxes")
        if self.fx_rate is not None:
            check_rate(self.fx_rate, "fx rate")
        if self.type in TRADES:
            check_quantity(self.quantity)
            if self.quantity <= 0:
                raise ValidationError(f"a {self.type} needs a quantity above 0")
            check_decimal(self.unit_price, "unit price", high=MAX_PRICE)
            if self.amount != 0:
                raise ValidationError(f"a {self.type} has a quantity and unit price, no amount")
            check_amount(self.gross, "amount")
        elif self.type is ActivityType.SPLIT:
            check_decimal(
                self.quantity,
                "split ratio",
                low=1 / MAX_SPLIT_RATIO,
                high=MAX_SPLIT_RATIO,
                positive=True,
            )
            if self.unit_price != 0 or self.amount != 0 or self.fees != 0 or self.taxes != 0:
                raise ValidationError("a split has a ratio (quantity) only")
        else:
            check_decimal(self.amount, "amount", high=MAX_AMOUNT)
            if self.quantity != 0 or self.unit_price != 0:
                raise ValidationError(f"a {self.type} has an amount, no quantity or unit price")
        if self.quantity > MAX_QUANTITY:  # belt and braces for the split ratio branch
            raise ValidationError("quantity is out of range")

    @property
    def gross(self) -> Decimal:
        """What changed hands before fees and taxes: the trade's value (quantity × unit
        price, divided by 10,000 for a fund, whose price is per 10,000 units), the amount
        otherwise (0 for a split)."""
        if self.type in TRADES and self.symbol is not None:
            return parse_symbol(self.symbol).value_of(self.quantity, self.unit_price)
        if self.type is ActivityType.SPLIT:
            return Decimal(0)
        return self.amount

    def to_json(self) -> dict[str, str]:
        """The stored form: every field as text (decimals exactly), zero and empty ones
        left out. `activity_from_json` is its inverse."""
        data = {
            "id": self.activity_id,
            "type": self.type.value,
            "date": self.day.isoformat(),
            "currency": self.currency.code,
        }
        optional = {
            "symbol": self.symbol,
            "quantity": self.quantity,
            "unitPrice": self.unit_price,
            "amount": self.amount,
            "fees": self.fees,
            "taxes": self.taxes,
            "fxRate": self.fx_rate,
            "note": self.note,
        }
        for key, value in optional.items():
            if value is not None and value != 0 and value != "":
                data[key] = str(value)
        return data

    def sort_key(self) -> tuple[date, int, str]:
        """Within a day: cash in, splits, buys, sells, income, charges, cash out (so that
        a day's buys see the day's split and its deposit), then by id."""
        return (self.day, _DAY_ORDER[self.type], self.activity_id)


_DAY_ORDER: Final = {
    ActivityType.DEPOSIT: 0,
    ActivityType.SPLIT: 1,
    ActivityType.BUY: 2,
    ActivityType.SELL: 3,
    ActivityType.DIVIDEND: 4,
    ActivityType.INTEREST: 5,
    ActivityType.FEE: 6,
    ActivityType.TAX: 7,
    ActivityType.WITHDRAWAL: 8,
}


def activity_from_json(data: Mapping[str, object]) -> Activity:
    """Inverse of `Activity.to_json` (stores, backups). Raises `ValidationError`."""
    try:
        fx_rate = data.get("fxRate")
        note = data.get("note")
        symbol = data.get("symbol")
        return Activity(
            activity_id=str(data["id"]),
            type=ActivityType.parse(data["type"]),
            day=date.fromisoformat(str(data["date"])),
            currency=Currency.of(str(data["currency"])),
            symbol=None if symbol is None else str(symbol),
            quantity=Decimal(str(data.get("quantity", "0"))),
            unit_price=Decimal(str(data.get("unitPrice", "0"))),
            amount=Decimal(str(data.get("amount", "0"))),
            fees=Decimal(str(data.get("fees", "0"))),
            taxes=Decimal(str(data.get("taxes", "0"))),
            fx_rate=None if fx_rate is None else Decimal(str(fx_rate)),
            note=None if note is None else str(note),
        )
    except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
        if isinstance(exc, ValidationError):
            raise
        raise ValidationError(f"not an activity: {type(exc).__name__}") from None
