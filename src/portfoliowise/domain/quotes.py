"""Quotes: a price with where it came from and how fresh it is. A price is never
invented: an unavailable quote has no price at all."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from portfoliowise.domain.errors import ValidationError
from portfoliowise.domain.money import Money

QUOTE_FRESH_FOR = timedelta(hours=1)
"""A cached quote is served as `cached` for this long (the Cache table's 1 h TTL)."""

QUOTE_KEPT_FOR = timedelta(days=7)
"""How long the last known quote is kept after it stops being fresh, so that it can be
served as `stale` (with its `asOf`) when every source fails; the store deletes it then."""


class QuoteStatus(StrEnum):
    LIVE = "live"  # fetched from a source for this request
    CACHED = "cached"  # from the cache, within its TTL
    STALE = "stale"  # older than its TTL, served because every source failed
    UNAVAILABLE = "unavailable"  # no source and nothing cached: no price


@dataclass(frozen=True, slots=True)
class Quote:
    symbol: str
    price: Money | None
    status: QuoteStatus
    source: str
    as_of: datetime | None = None
    change: Decimal | None = None
    change_percent: Decimal | None = None
    volume: Decimal | None = None
    name: str | None = None

    def __post_init__(self) -> None:
        if self.status is QuoteStatus.UNAVAILABLE:
            if self.price is not None:
                raise ValidationError(f"an unavailable quote for {self.symbol} carries no price")
            return
        if self.price is None or not self.price.is_positive():
            raise ValidationError(f"quote for {self.symbol} needs a positive price")
        if self.as_of is not None and self.as_of.tzinfo is None:
            raise ValidationError(f"quote time for {self.symbol} must be timezone-aware")

    @classmethod
    def unavailable(cls, symbol: str, source: str = "none") -> Quote:
        return cls(symbol=symbol, price=None, status=QuoteStatus.UNAVAILABLE, source=source)

    @property
    def usable(self) -> bool:
        return self.price is not None

    @property
    def is_stale(self) -> bool:
        return self.status is QuoteStatus.STALE
