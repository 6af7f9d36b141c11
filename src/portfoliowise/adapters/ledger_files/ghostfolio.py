"""Ghostfolio's export (`{"meta", "activities", "accounts", ...}`), read for its activities.

Based on Ghostfolio's own import test files (github.com/ghostfolio/ghostfolio,
`test/import/ok/sample.json`, `msft-buy-with-dividend.json`,
`not-ok/invalid-type-deprecated.json`): each activity has `type`, `symbol`, `date` (an
ISO date-time), `quantity`, `unitPrice`, `fee`, `currency`, `dataSource`, `accountId`,
`comment` (and `id`, `tags` in some versions). Numbers are JSON numbers, read as
`Decimal`.

- BUY / SELL: quantity × unitPrice, `fee` as fees.
- DIVIDEND / INTEREST: amount = quantity × unitPrice (Ghostfolio's convention: the
  shares and the dividend per share), `fee` as fees.
- FEE: amount = `fee` (+ quantity × unitPrice, which Ghostfolio leaves at 0).
- ITEM, LIABILITY (valuables and debts) and any other type: refused, with the reason.
- `date`: the calendar date as written (`2021-09-16T00:00:00.000Z` is 2021-09-16).
- `comment` becomes the note; `accountId`, `tags`, `meta`, `accounts`, `assetProfiles`,
  `platforms` and `user` are not read (a ledger has no accounts).
- Symbols are this project's (Tokyo, US, Japanese funds): a Yahoo symbol of another
  exchange (`VOD.L`, `SAP.DE`; `.T` is Tokyo), a crypto asset (`COINGECKO`) and a
  manual asset's generated id are refused, never read as some US ticker. A FEE or
  INTEREST on a manual asset is kept without its symbol. Prices in pence (`GBp`) are
  turned into pounds (÷ 100, exactly).
- The id is Ghostfolio's `id` when there is one, else one made of the item's content."""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Final

from portfoliowise.adapters.ledger_files.collect import Collector
from portfoliowise.adapters.ledger_files.json_doc import JsonDocument, item_fields
from portfoliowise.adapters.ledger_files.native import decimal_value
from portfoliowise.domain.activities import Activity, ActivityType
from portfoliowise.domain.errors import DomainError, UnknownSymbolError, ValidationError, preview
from portfoliowise.domain.instruments import parse_symbol
from portfoliowise.domain.money import Currency

TYPES: Final = {
    "BUY": ActivityType.BUY,
    "SELL": ActivityType.SELL,
    "DIVIDEND": ActivityType.DIVIDEND,
    "INTEREST": ActivityType.INTEREST,
    "FEE": ActivityType.FEE,
}
REFUSED: Final = {
    "ITEM": "a valuable (ITEM) is not an investment this project tracks",
    "LIABILITY": "a liability (LIABILITY) is not an investment this project tracks",
}
_YAHOO_EXCHANGE: Final = re.compile(r".+\.([A-Z]{1,3})")
_SUBUNITS: Final = {"GBp": ("GBP", Decimal(100))}
_OPTIONAL_SYMBOL: Final = frozenset({ActivityType.FEE, ActivityType.INTEREST})


def is_ghostfolio(doc: JsonDocument) -> bool:
    return "activities" in doc.keys and "format" not in doc.keys


def read_items(doc: JsonDocument, collector: Collector) -> None:
    for item in doc.items("activities"):
        collector.rows += 1
        where = f"activities[{item.index}]"
        try:
            if item.error is not None:
                raise item.error
            collector.add(_activity(item_fields(item), collector))
        except DomainError as exc:
            collector.reject(item.line, exc, where)


def _activity(fields: dict[str, Any], collector: Collector) -> Activity:
    raw_type = fields.get("type")
    if not isinstance(raw_type, str):
        raise ValidationError("an activity needs a `type`")
    if raw_type.upper() in REFUSED:
        raise ValidationError(REFUSED[raw_type.upper()])
    kind = TYPES.get(raw_type.upper())
    if kind is None:
        raise ValidationError(
            f"Ghostfolio type {preview(raw_type)} is not read (BUY, SELL, DIVIDEND, "
            "INTEREST and FEE are)"
        )
    currency, scale = _currency(fields.get("currency"))
    quantity = _number(fields, "quantity")
    unit_price = _number(fields, "unitPrice") / scale
    fee = _number(fields, "fee") / scale
    symbol = _symbol(fields, kind)
    comment = fields.get("comment")
    if comment is not None and not isinstance(comment, str):
        raise ValidationError("`comment` must be a string")
    raw_id = fields.get("id")
    activity_id = (
        raw_id
        if isinstance(raw_id, str) and raw_id
        else collector.new_id((json.dumps(fields, sort_keys=True, default=str),))
    )
    common: dict[str, Any] = {
        "activity_id": activity_id,
        "type": kind,
        "day": _day(fields.get("date")),
        "currency": currency,
        "symbol": symbol,
        "note": comment or None,
    }
    if kind in (ActivityType.BUY, ActivityType.SELL):
        return Activity(**common, quantity=quantity, unit_price=unit_price, fees=fee)
    if kind is ActivityType.FEE:
        return Activity(**common, amount=fee + quantity * unit_price)
    return Activity(**common, amount=quantity * unit_price, fees=fee)


def _number(fields: dict[str, Any], key: str) -> Decimal:
    value = fields.get(key)
    return Decimal(0) if value is None else decimal_value(value, key)


def _currency(value: object) -> tuple[Currency, Decimal]:
    if not isinstance(value, str):
        raise ValidationError("an activity needs a `currency`")
    if value in _SUBUNITS:
        code, scale = _SUBUNITS[value]
        return Currency.of(code), scale
    if value != value.upper():  # GBp-like subunits (ZAc, ILA is upper) are not guessed
        raise ValidationError(f"currency {preview(value)} is not read (a subunit?)")
    return Currency.of(value), Decimal(1)


def _symbol(fields: dict[str, Any], kind: ActivityType) -> str | None:
    raw = fields.get("symbol")
    source = str(fields.get("dataSource") or "").upper()
    if raw is None or raw == "":
        return None
    if not isinstance(raw, str):
        raise ValidationError("`symbol` must be a string")
    if source == "COINGECKO":
        raise UnknownSymbolError(raw, "a crypto asset (COINGECKO) is not tracked")
    exchange = _YAHOO_EXCHANGE.fullmatch(raw.upper()) if source == "YAHOO" else None
    if exchange is not None and exchange.group(1) != "T":
        raise UnknownSymbolError(
            raw, f"a Yahoo symbol of exchange .{exchange.group(1)} (Tokyo and US only)"
        )
    try:
        return parse_symbol(raw).symbol
    except UnknownSymbolError:
        if source == "MANUAL" and kind in _OPTIONAL_SYMBOL:
            return None  # an account fee or interest booked on a manual asset
        raise


def _day(value: object) -> date:
    if not isinstance(value, str):
        raise ValidationError("an activity needs a `date`")
    try:
        return datetime.fromisoformat(value.strip()).date()
    except ValueError:
        raise ValidationError(f"`date` is not an ISO 8601 date-time: {preview(value)}") from None
