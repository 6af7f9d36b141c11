"""This project's activities file, `portfoliowise/activities@1`: lossless, so that an
export read back is the same ledger, decimal for decimal.

    {"format": "portfoliowise/activities@1", "baseCurrency": "JPY", "costBasis": "average",
     "activities": [
      {"id": "a1", "type": "buy", "date": "2024-01-05", "currency": "JPY", "symbol": "7203",
       "quantity": "100", "unitPrice": "2450", "amount": "0", "fees": "0", "taxes": "0",
       "fxRate": null, "note": null}
     ]}

Decimals are strings written as `str(Decimal)` (exponent and trailing zeros kept), read
back by `Decimal(text)`; JSON numbers are read too, as `Decimal`. An item needs `id`,
`type`, `date` and `currency`; any other field may be left out (0, or none). Unknown keys
are refused, at the top level and in an item: a misspelt field is never ignored."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any, Final

from portfoliowise.adapters.ledger_files.collect import Collector
from portfoliowise.adapters.ledger_files.json_doc import JsonDocument, item_fields
from portfoliowise.adapters.ledger_files.model import (
    COST_BASIS_METHODS,
    CostBasisMethod,
    LedgerFormat,
)
from portfoliowise.adapters.portfolio_files import FileFormatError, located
from portfoliowise.domain.activities import MAX_ACTIVITIES, Activity, ActivityType
from portfoliowise.domain.errors import DomainError, ValidationError, preview
from portfoliowise.domain.limits import check_count
from portfoliowise.domain.money import Currency

FORMAT: Final = LedgerFormat.NATIVE.value
TOP_LEVEL: Final = frozenset({"format", "baseCurrency", "costBasis", "activities"})
FIELDS: Final = frozenset(
    {
        "id",
        "type",
        "date",
        "currency",
        "symbol",
        "quantity",
        "unitPrice",
        "amount",
        "fees",
        "taxes",
        "fxRate",
        "note",
    }
)
_DECIMAL: Final = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_DAY: Final = re.compile(r"\d{4}-\d{2}-\d{2}")


def write_ledger_json(
    activities: Iterable[Activity],
    *,
    base_currency: Currency | str,
    cost_basis: CostBasisMethod = "average",
) -> str:
    """The activities as a `portfoliowise/activities@1` document, one activity a line,
    in the order given. `read_ledger` gives them back equal, decimal for decimal."""
    if cost_basis not in COST_BASIS_METHODS:
        raise ValidationError(f"cost basis must be one of {', '.join(COST_BASIS_METHODS)}")
    base = Currency.of(base_currency).code
    items = [_item(a) for a in activities]
    check_count(len(items), "activities", MAX_ACTIVITIES)
    head = json.dumps({"format": FORMAT, "baseCurrency": base, "costBasis": cost_basis})
    lines = ",\n".join(json.dumps(item, ensure_ascii=False) for item in items)
    body = f"\n{lines}\n" if items else ""
    return f'{head[:-1]}, "activities": [{body}]}}\n'


def _item(a: Activity) -> dict[str, Any]:
    return {
        "id": a.activity_id,
        "type": a.type.value,
        "date": a.day.isoformat(),
        "currency": a.currency.code,
        "symbol": a.symbol,
        "quantity": str(a.quantity),
        "unitPrice": str(a.unit_price),
        "amount": str(a.amount),
        "fees": str(a.fees),
        "taxes": str(a.taxes),
        "fxRate": None if a.fx_rate is None else str(a.fx_rate),
        "note": a.note,
    }


def read_header(doc: JsonDocument) -> tuple[Currency | None, CostBasisMethod]:
    unknown = sorted(set(doc.keys) - TOP_LEVEL)
    if unknown:
        raise FileFormatError(f"unknown key {unknown[0][:40]!r} in a {FORMAT} file")
    if "activities" not in doc.keys:
        raise FileFormatError(f"a {FORMAT} file needs `activities`")
    raw_base = doc.get("baseCurrency")
    base = None
    if raw_base is not None:
        if not isinstance(raw_base, str):
            raise FileFormatError("`baseCurrency` must be a currency code")
        try:
            base = Currency.of(raw_base)
        except DomainError as exc:
            raise located(exc, "baseCurrency") from None
    method = doc.get("costBasis", "average")
    if method == "average":
        return base, "average"
    if method == "fifo":
        return base, "fifo"
    raise FileFormatError(f"`costBasis` must be one of {', '.join(COST_BASIS_METHODS)}")


def read_items(doc: JsonDocument, collector: Collector) -> None:
    for item in doc.items("activities"):
        collector.rows += 1
        where = f"activities[{item.index}]"
        try:
            if item.error is not None:
                raise item.error
            collector.add(_activity(item_fields(item, FIELDS)))
        except DomainError as exc:
            collector.reject(item.line, exc, where)


def _activity(fields: dict[str, Any]) -> Activity:
    for key in ("id", "type", "date", "currency"):
        if fields.get(key) is None:
            raise ValidationError(f"an activity needs `{key}`")
    return Activity(
        activity_id=_text(fields, "id"),
        type=ActivityType.parse(_text(fields, "type")),
        day=_day(fields["date"]),
        currency=Currency.of(_text(fields, "currency")),
        symbol=_optional_text(fields, "symbol"),
        quantity=_decimal(fields, "quantity"),
        unit_price=_decimal(fields, "unitPrice"),
        amount=_decimal(fields, "amount"),
        fees=_decimal(fields, "fees"),
        taxes=_decimal(fields, "taxes"),
        fx_rate=None if fields.get("fxRate") is None else _decimal(fields, "fxRate"),
        note=_optional_text(fields, "note"),
    )


def _text(fields: dict[str, Any], key: str) -> str:
    value = fields[key]
    if not isinstance(value, str):
        raise ValidationError(f"`{key}` must be a string, not {preview(value)}")
    return value


def _optional_text(fields: dict[str, Any], key: str) -> str | None:
    return None if fields.get(key) is None else _text(fields, key)


def _day(value: object) -> date:
    if not isinstance(value, str) or not _DAY.fullmatch(value):
        raise ValidationError(f"`date` must be YYYY-MM-DD, not {preview(value)}")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationError(f"no such date: {preview(value)}") from None


def decimal_value(value: object, what: str) -> Decimal:
    """A JSON decimal: a string such as "1234.5" or "1E+3", or a JSON number (read as a
    `Decimal` or an int); never a float, a boolean or anything else."""
    if isinstance(value, bool):
        raise ValidationError(f"`{what}` must be a decimal, not {preview(value)}")
    if isinstance(value, Decimal | int):
        result = Decimal(value)
    elif isinstance(value, str) and _DECIMAL.fullmatch(value.strip()):
        result = Decimal(value.strip())
    else:
        raise ValidationError(f"`{what}` must be a decimal, not {preview(value)}")
    if not result.is_finite():
        raise ValidationError(f"`{what}` must be finite")
    return result


def _decimal(fields: dict[str, Any], key: str) -> Decimal:
    value = fields.get(key)
    return Decimal(0) if value is None else decimal_value(value, key)
