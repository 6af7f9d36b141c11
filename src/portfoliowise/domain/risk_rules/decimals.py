"""Decimal settings of the rules: the precision they compute with, and how a value is
rounded for presentation and written into `figures`."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Final

from portfoliowise.domain.money import quantize

PRECISION: Final = 28
ZERO: Final = Decimal(0)
ONE: Final = Decimal(1)


def round_to(value: Decimal, places: int) -> Decimal:
    return quantize(value, ONE.scaleb(-places), ROUND_HALF_UP)


def decimal_text(value: Decimal) -> str:
    """A decimal string as computed (figures)."""
    return format(value, "f")
