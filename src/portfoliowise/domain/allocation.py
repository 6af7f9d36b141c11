"""Allocation: breakdowns of a valuation by holding, asset class, currency, market,
sector or region, and drift of each holding against the portfolio's targets."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from portfoliowise.domain.errors import ValidationError
from portfoliowise.domain.money import Money
from portfoliowise.domain.valuation import HUNDRED, HoldingValuation, Valuation

UNCLASSIFIED = "unclassified"


class Dimension(StrEnum):
    HOLDING = "holding"
    ASSET_CLASS = "assetClass"
    CURRENCY = "currency"
    MARKET = "market"
    SECTOR = "sector"
    REGION = "region"

    @classmethod
    def parse(cls, value: str) -> Dimension:
        """A dimension by name, in any case (`assetClass`, `ASSETCLASS`, `Asset_Class`)."""
        names = {member.value.lower(): member for member in cls}
        aliases = {"asset_class": "assetclass", "asset-class": "assetclass", "class": "assetclass"}
        key = value.lower()
        member = names.get(aliases.get(key, key))
        if member is None:
            allowed = ", ".join(dimension.value for dimension in cls)
            raise ValidationError(f"unknown allocation dimension {value!r} ({allowed})")
        return member


_KEYS: dict[Dimension, Callable[[HoldingValuation], str]] = {
    Dimension.HOLDING: lambda h: h.symbol,
    Dimension.ASSET_CLASS: lambda h: h.holding.asset_class.value,
    Dimension.CURRENCY: lambda h: h.price.currency.code,
    Dimension.MARKET: lambda h: h.holding.instrument.market.value,
    Dimension.SECTOR: lambda h: h.holding.sector or UNCLASSIFIED,
    Dimension.REGION: lambda h: h.holding.region or UNCLASSIFIED,
}


@dataclass(frozen=True, slots=True)
class AllocationSlice:
    key: str
    value: Money
    weight: Decimal  # percent of the priced total


@dataclass(frozen=True, slots=True)
class TargetDrift:
    symbol: str
    target: Decimal  # percent
    current: Decimal  # percent of the priced total
    drift: Decimal  # current - target, percentage points (positive = over-weight)
    gap: Money  # value to add (positive) or remove (negative) to reach the target


def allocation(valuation: Valuation, by: Dimension) -> list[AllocationSlice]:
    """Slices sorted by value, largest first."""
    key_of = _KEYS[by]
    sums: dict[str, Decimal] = {}
    for item in valuation.holdings:
        key = key_of(item)
        sums[key] = sums.get(key, Decimal(0)) + item.base_value.amount
    total = valuation.total.amount
    slices = [
        AllocationSlice(
            key=key,
            value=Money(amount, valuation.currency),
            weight=amount / total * HUNDRED if total else Decimal(0),
        )
        for key, amount in sums.items()
    ]
    slices.sort(key=lambda s: (-s.value.amount, s.key))
    return slices


def drift(valuation: Valuation, targets: Mapping[str, Decimal]) -> list[TargetDrift]:
    """Each target symbol (held or not) and each priced holding without a target
    (target 0), sorted by drift, most under-weight first. Empty when no targets."""
    if not targets:
        return []
    total = valuation.total.amount
    values = {item.symbol: item.base_value.amount for item in valuation.holdings}
    symbols = list(targets) + [s for s in values if s not in targets]
    result = []
    for symbol in symbols:
        target = targets.get(symbol, Decimal(0))
        value = values.get(symbol, Decimal(0))
        current = value / total * HUNDRED if total else Decimal(0)
        result.append(
            TargetDrift(
                symbol=symbol,
                target=target,
                current=current,
                drift=current - target,
                gap=Money(target / HUNDRED * total - value, valuation.currency),
            )
        )
    result.sort(key=lambda d: (d.drift, d.symbol))
    return result
