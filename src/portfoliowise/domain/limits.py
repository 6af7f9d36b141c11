"""The limits on what users enter: one set, checked by the domain's constructors
(`Holding`, `Portfolio`, `validate_targets`, `simulate`) and by the file readers where
prices and rates enter, so that the API, every import format, the CLI and a restored
backup all meet the same rules. A value outside them raises `OutOfRange`
(`code = "out_of_range"`), naming the field and the limit.

The values are generous for real investors and small enough that every number the domain
derives from them (a value, a weight, a number of lots) stays a few dozen digits long, and
every algorithm runs in a time bounded by them (`tests/unit/test_limits_simulation.py`).
Standard library only."""

from __future__ import annotations

from decimal import Decimal
from typing import Final

from portfoliowise.domain.errors import OutOfRange, ValidationError

MAX_DECIMAL_PLACES: Final = 10
"""Quantities, amounts, prices and percentages: 0.0001-share fractions, fund units and
rates need no more; a value given with a thousand decimals would only slow every sum."""

MIN_STEP: Final = Decimal(1).scaleb(-MAX_DECIMAL_PLACES)
"""The smallest positive quantity, amount or price: 10^-10."""

MAX_QUANTITY: Final = Decimal(10) ** 12
"""Shares or fund units (口): one trillion. Funds count units, 10,000 to a 基準価額 price,
so 1 billion JPY in a fund priced 10,000 JPY is 10^12 units; no one holds more shares."""

MAX_AMOUNT: Final = Decimal(10) ** 15
"""Cost basis and simulation budget, in any currency: 1,000 trillion (10^15) JPY, more
than any individual's wealth, and in 16 digits, well inside the 28 of `Decimal`."""

MAX_PRICE: Final = Decimal(10) ** 9
"""A quote's price (per share, per 10,000 units for funds): one billion. The dearest
listed share (Berkshire Hathaway A) is under 10^6 USD; a fund's 基準価額, under 10^6 JPY."""

MIN_RATE: Final = Decimal(10) ** -6
MAX_RATE: Final = Decimal(10) ** 6
"""An FX rate read from a file: between 10^-6 and 10^6. The supported currencies are all
within 10^4 of each other (KRW per GBP is under 2,000)."""

MAX_PERCENT: Final = Decimal(100)
"""A target or a rebalance tolerance, in percent (percentage points): 0 to 100."""

MAX_NAME_LENGTH: Final = 100
"""A portfolio's name, in characters: it is a label in a list, not a document."""

MAX_TEXT_LENGTH: Final = 200
"""A holding's name, sector, region or asset class text, in characters: fund names in
Japanese are long (eMAXIS Slim 全世界株式（オール・カントリー）is 25), none is 200."""

MAX_HOLDINGS: Final = 10_000
"""Instruments in one portfolio: a stored portfolio is one item (DynamoDB: 400 KB)."""

MAX_TARGETS: Final = 10_000
"""Target allocations in one portfolio: one per instrument, as many as holdings."""

MAX_PROMPT_TEMPLATE_LENGTH: Final = 10_000
"""A portfolio's AI prompt template, in characters: the existing app's default template
is about 1,500. A change records the template before and after; at most 4 bytes a
character written in an event, that is 80 KB, well inside the bus's 256 KB."""

# Attributes a client keeps with a holding or a portfolio (`domain.attributes`): kept as
# sent, never read by the domain, so bounded in shape as well as in size.
MAX_ATTRIBUTE_NAMES: Final = 100
"""Names in one object of attributes: the existing app's holding has about 25."""

MAX_ATTRIBUTE_NAME_LENGTH: Final = 100
"""One attribute's name, in characters."""

MAX_ATTRIBUTE_ITEMS: Final = MAX_TARGETS
"""Items in one list of attributes: the existing app's target list has one per target."""

MAX_ATTRIBUTE_DEPTH: Final = 5
"""Nesting of objects and lists in attributes, the outer object counted: the existing
app's target list is 3 deep (`{"targetPortfolio": [{...}]}`)."""

MAX_ATTRIBUTE_TEXT_LENGTH: Final = 2_000
"""One text value in attributes, in characters (a fund type, a source, a date...)."""

MAX_ATTRIBUTE_NUMBER_DIGITS: Final = 40
"""One number in attributes, written plainly (`0.0938`, never `9.38E-2`): at most 40
digits, which holds any number the existing app writes for a fee, a yield or a price
(a double has 17 significant digits) and nothing that would take pages to print."""

MAX_HOLDING_ATTRIBUTES_LENGTH: Final = 4_000
"""A holding's attributes, as JSON text, in characters: the existing app's holding (fees,
dividends, fund type, its price snapshot) takes about 600."""

MAX_PORTFOLIO_ATTRIBUTES_LENGTH: Final = 25_000
"""A portfolio's attributes, as JSON text, in characters: the existing app's exchange rate
(about 150) and target list (about 100 per target: some 250 targets). A change records
them before and after, at most 4 bytes a character once written in an event (UTF-8, quotes
escaped): 200 KB, inside the bus's 256 KB limit for one event."""


def decimal_places(value: Decimal) -> int:
    """Digits after the point, trailing zeros not counted (`1.50` has 1, `1E+3` has 0).
    Exact whatever the context's precision."""
    _sign, digits, exponent = value.as_tuple()
    if not isinstance(exponent, int):  # NaN or infinity: callers refuse them first
        return 0
    trailing = len(digits) - len("".join(map(str, digits)).rstrip("0"))
    if trailing == len(digits):  # zero
        return 0
    return max(-(exponent + trailing), 0)


def _plain(limit: Decimal) -> str:
    return f"{limit:,f}" if limit >= 1 else f"{limit:f}"


def check_decimal(
    value: Decimal,
    field: str,
    *,
    high: Decimal,
    low: Decimal = Decimal(0),
    positive: bool = False,
    label: str | None = None,
) -> Decimal:
    """`value` if it is finite, within [low, high] (above 0 when `positive`) and has at
    most `MAX_DECIMAL_PLACES` decimals; else `OutOfRange` naming `field`."""
    if not isinstance(value, Decimal) or not value.is_finite():
        raise ValidationError(f"{label or field} must be a finite decimal number")
    lower = "above 0" if positive else f"from {_plain(low)}"
    limit = f"{lower} to {_plain(high)}, at most {MAX_DECIMAL_PLACES} decimal places"
    if value > high or value < low or (positive and value <= 0):
        raise OutOfRange(field, limit, value=value, label=label)
    if decimal_places(value) > MAX_DECIMAL_PLACES:
        raise OutOfRange(field, limit, value=value, label=label)
    return value


def check_quantity(value: Decimal, label: str | None = None) -> Decimal:
    return check_decimal(value, "quantity", high=MAX_QUANTITY, label=label)


def check_amount(value: Decimal, field: str, label: str | None = None) -> Decimal:
    """A cost basis or a budget: 0 to `MAX_AMOUNT`."""
    return check_decimal(value, field, high=MAX_AMOUNT, label=label)


def check_price(value: Decimal, label: str | None = None) -> Decimal:
    """A quote's price: above 0, at most `MAX_PRICE`."""
    return check_decimal(value, "price", high=MAX_PRICE, positive=True, label=label)


def check_rate(value: Decimal, label: str | None = None) -> Decimal:
    """An FX rate read from a file: `MIN_RATE` to `MAX_RATE` (any number of decimals: a
    rate is often the inverse of another)."""
    if not isinstance(value, Decimal) or not value.is_finite():
        raise ValidationError(f"{label or 'rate'} must be a finite decimal number")
    if not MIN_RATE <= value <= MAX_RATE:
        limit = f"from {_plain(MIN_RATE)} to {_plain(MAX_RATE)}"
        raise OutOfRange("rate", limit, value=value, label=label)
    return value


def check_percent(value: Decimal, field: str, label: str | None = None) -> Decimal:
    return check_decimal(value, field, high=MAX_PERCENT, label=label)


def check_text(value: object, field: str, length: int = MAX_TEXT_LENGTH) -> str | None:
    """An optional text of at most `length` characters; "" is None."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValidationError(f"{field} must be a string")
    if len(value) > length:
        raise OutOfRange(field, f"at most {length} characters", value=value)
    return value or None


def check_count(count: int, field: str, limit: int) -> int:
    """How many holdings, targets or rows: at most `limit`."""
    if count > limit:
        raise OutOfRange(
            field, f"at most {limit:,}", message=f"too many {field} (at most {limit:,})"
        )
    return count
