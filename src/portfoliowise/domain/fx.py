"""FX rates. A `RateTable` answers direct, inverse and cross rates (through pivot
currencies). A missing rate raises `MissingRateError`: nothing is left unconverted."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from portfoliowise.domain.errors import MissingRateError, ValidationError
from portfoliowise.domain.money import USD, Currency, Money

DEFAULT_PIVOTS: tuple[Currency, ...] = (USD,)


@dataclass(frozen=True, slots=True)
class FxRate:
    """1 `base` = `rate` `quote` (USD-JPY 150 means 1 USD = 150 JPY)."""

    base: Currency
    quote: Currency
    rate: Decimal
    as_of: datetime | None = None
    source: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.rate, Decimal) or not self.rate.is_finite() or self.rate <= 0:
            raise ValidationError(f"FX rate {self.pair} must be a positive Decimal: {self.rate!r}")
        if self.base == self.quote:
            raise ValidationError(f"FX rate needs two different currencies: {self.pair}")

    @property
    def pair(self) -> str:
        return f"{self.base.code}-{self.quote.code}"

    def inverse(self) -> FxRate:
        return FxRate(self.quote, self.base, 1 / self.rate, self.as_of, self.source)


class RateTable:
    """Known rates plus the rules to derive the others.

    Lookup order: identity, direct, inverse, then one hop through each pivot currency
    (each leg itself direct or inverse)."""

    def __init__(
        self, rates: Iterable[FxRate] = (), pivots: Iterable[Currency] = DEFAULT_PIVOTS
    ) -> None:
        self._rates: dict[tuple[Currency, Currency], FxRate] = {}
        self._pivots = tuple(pivots)
        for rate in rates:
            self.add(rate)

    def add(self, rate: FxRate) -> None:
        self._rates[(rate.base, rate.quote)] = rate

    def __iter__(self) -> Iterator[FxRate]:
        return iter(self._rates.values())

    def __len__(self) -> int:
        return len(self._rates)

    def _one_leg(self, base: Currency, quote: Currency) -> Decimal | None:
        if base == quote:
            return Decimal(1)
        direct = self._rates.get((base, quote))
        if direct is not None:
            return direct.rate
        inverse = self._rates.get((quote, base))
        if inverse is not None:
            return 1 / inverse.rate
        return None

    def find(self, base: Currency, quote: Currency) -> Decimal | None:
        """The rate, or None when it cannot be derived."""
        rate = self._one_leg(base, quote)
        if rate is not None:
            return rate
        for pivot in self._pivots:
            if pivot in (base, quote):
                continue
            first = self._one_leg(base, pivot)
            second = self._one_leg(pivot, quote)
            if first is not None and second is not None:
                return first * second
        return None

    def rate(self, base: Currency, quote: Currency) -> Decimal:
        rate = self.find(base, quote)
        if rate is None:
            raise MissingRateError(base.code, quote.code)
        return rate

    def has(self, base: Currency, quote: Currency) -> bool:
        return self.find(base, quote) is not None

    def convert(self, money: Money, to: Currency) -> Money:
        """Full precision; round only when presenting."""
        if money.currency == to:
            return money
        return Money(money.amount * self.rate(money.currency, to), to)
