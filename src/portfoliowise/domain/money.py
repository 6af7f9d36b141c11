"""Currencies and money. Amounts are `Decimal` at full precision; rounding to the
currency's minor unit happens only when presenting (`Money.rounded`, `Money.display`)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import (
    ROUND_CEILING,
    ROUND_FLOOR,
    ROUND_HALF_UP,
    Decimal,
    InvalidOperation,
    getcontext,
    localcontext,
)

from portfoliowise.domain.errors import (
    CurrencyMismatchError,
    UnknownCurrencyError,
    ValidationError,
    preview,
)

# ISO 4217 minor units of the currencies our users hold or fund accounts in.
_MINOR_UNITS: dict[str, int] = {
    "JPY": 0,
    "USD": 2,
    "EUR": 2,
    "GBP": 2,
    "AUD": 2,
    "CAD": 2,
    "CHF": 2,
    "CNY": 2,
    "HKD": 2,
    "SGD": 2,
    "NZD": 2,
    "KRW": 0,
    "TWD": 2,
    "INR": 2,
}


@dataclass(frozen=True, slots=True)
class Currency:
    code: str
    minor_unit: int

    @classmethod
    def of(cls, code: str | Currency) -> Currency:
        if isinstance(code, Currency):
            return code
        normalised = code.strip().upper() if isinstance(code, str) else ""
        if normalised not in _MINOR_UNITS:
            raise UnknownCurrencyError(str(code))
        return _CURRENCIES[normalised]

    @staticmethod
    def is_known(code: str) -> bool:
        return code.strip().upper() in _MINOR_UNITS

    @property
    def quantum(self) -> Decimal:
        """The smallest presentable amount: 1 for JPY, 0.01 for USD."""
        return Decimal(1).scaleb(-self.minor_unit)

    def __str__(self) -> str:
        return self.code


_CURRENCIES = {code: Currency(code, unit) for code, unit in _MINOR_UNITS.items()}
JPY = _CURRENCIES["JPY"]
USD = _CURRENCIES["USD"]
EUR = _CURRENCIES["EUR"]


def to_decimal(value: object, what: str = "amount") -> Decimal:
    """Turn user input (str, int or Decimal) into a finite Decimal. Floats are refused:
    they cannot hold most decimal amounts exactly."""
    if isinstance(value, (bool, float)):
        raise ValidationError(f"{what} must be a decimal string or integer, not {preview(value)}")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip().replace(",", "").replace("_", ""))
        except InvalidOperation:
            raise ValidationError(f"{what} is not a number: {preview(value)}") from None
    else:
        kind = type(value).__name__
        raise ValidationError(f"{what} must be a decimal string or integer, not a {kind}")
    if not result.is_finite():
        raise ValidationError(f"{what} must be finite, got {preview(value)}")
    return result


MAX_ROUNDING_DIGITS = 60
"""The most digits `quantize` widens the precision to: 28 (the default) cannot round
10^26 USD to the cent; 60 holds any value the limits (`domain.limits`) allow, and a
larger one stays an error (`InvalidOperation`) rather than a billion-digit number."""


def quantize(amount: Decimal, quantum: Decimal, rounding: str) -> Decimal:
    """`amount.quantize(quantum, rounding)` with the precision widened to every digit of
    the result (up to `MAX_ROUNDING_DIGITS`)."""
    if not amount or not amount.is_finite():
        return amount.quantize(quantum, rounding)
    digits = amount.adjusted() - quantum.adjusted() + 2
    if digits <= getcontext().prec:  # the usual case: no wider context needed
        return amount.quantize(quantum, rounding)
    with localcontext() as context:
        context.prec = min(max(context.prec, digits), max(context.prec, MAX_ROUNDING_DIGITS))
        return amount.quantize(quantum, rounding)


@dataclass(frozen=True, slots=True)
class Money:
    amount: Decimal
    currency: Currency

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal):
            raise TypeError(f"Money amount must be Decimal, got {type(self.amount).__name__}")
        if not self.amount.is_finite():
            raise ValidationError(f"money amount must be finite, got {self.amount}")
        if not isinstance(self.currency, Currency):
            raise TypeError("Money currency must be a Currency")

    @classmethod
    def of(cls, amount: object, currency: str | Currency) -> Money:
        return cls(to_decimal(amount), Currency.of(currency))

    @classmethod
    def zero(cls, currency: str | Currency) -> Money:
        return cls(Decimal(0), Currency.of(currency))

    @classmethod
    def parse(cls, text: str) -> Money:
        """Parse `300000JPY`, `300,000 JPY` or `1500.50USD`."""
        raw = text.strip().upper().replace(" ", "")
        if len(raw) < 4 or not raw[-3:].isalpha():
            raise ValidationError(
                f"amount must end with a currency code, e.g. 300000JPY: {preview(text)}"
            )
        return cls(to_decimal(raw[:-3], f"amount in {preview(text)}"), Currency.of(raw[-3:]))

    def _check(self, other: Money) -> None:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise CurrencyMismatchError(
                f"cannot combine {self.currency.code} with {other.currency.code}"
            )

    def __add__(self, other: Money) -> Money:
        self._check(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._check(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __mul__(self, factor: Decimal | int) -> Money:
        if isinstance(factor, bool) or not isinstance(factor, Decimal | int):
            raise TypeError("Money can only be multiplied by a Decimal or int")
        return Money(self.amount * factor, self.currency)

    __rmul__ = __mul__

    def __truediv__(self, divisor: Decimal | int) -> Money:
        if isinstance(divisor, bool) or not isinstance(divisor, Decimal | int):
            raise TypeError("Money can only be divided by a Decimal or int")
        return Money(self.amount / divisor, self.currency)

    def ratio(self, other: Money) -> Decimal:
        """self / other as a plain number (both in one currency)."""
        self._check(other)
        return self.amount / other.amount

    def __lt__(self, other: Money) -> bool:
        self._check(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._check(other)
        return self.amount <= other.amount

    def __gt__(self, other: Money) -> bool:
        self._check(other)
        return self.amount > other.amount

    def __ge__(self, other: Money) -> bool:
        self._check(other)
        return self.amount >= other.amount

    def is_zero(self) -> bool:
        return self.amount == 0

    def is_positive(self) -> bool:
        return self.amount > 0

    def rounded(self) -> Money:
        """To the minor unit, half up (四捨五入), for presentation only."""
        return Money(quantize(self.amount, self.currency.quantum, ROUND_HALF_UP), self.currency)

    def rounded_up(self) -> Money:
        """To the minor unit, toward +infinity: what a charge in this currency costs at most."""
        return Money(quantize(self.amount, self.currency.quantum, ROUND_CEILING), self.currency)

    def rounded_down(self) -> Money:
        return Money(quantize(self.amount, self.currency.quantum, ROUND_FLOOR), self.currency)

    def to_json(self) -> dict[str, str]:
        """Presentation form: amount as a decimal string rounded to the minor unit."""
        return {"amount": str(self.rounded().amount), "currency": self.currency.code}

    def exact_json(self) -> dict[str, str]:
        """For prices and rates: the amount as given, never less precise than the minor unit."""
        return {"amount": str(self._exact_amount()), "currency": self.currency.code}

    def _exact_amount(self) -> Decimal:
        normal = self.amount.normalize()
        places = max(self.currency.minor_unit, -int(normal.as_tuple().exponent))
        return quantize(self.amount, Decimal(1).scaleb(-places), ROUND_HALF_UP)

    def display(self, exact: bool = False) -> str:
        """`1,234 JPY`, `12.30 USD`; `exact=True` keeps extra decimals (prices: 1,912.5 JPY)."""
        amount = self._exact_amount() if exact else self.rounded().amount
        places = max(0, -int(amount.as_tuple().exponent))
        return f"{amount:,.{places}f} {self.currency.code}"

    def __str__(self) -> str:
        return self.display()
