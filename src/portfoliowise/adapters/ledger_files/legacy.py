"""The existing app's export (`{baseCurrency, exchangeRate, currentAssets,
targetPortfolio}`, README "The existing app's export"), read for its positions: each of
`currentAssets` is an opening buy (`positions`).

As `adapters.portfolio_files` reads it: `ticker` is the symbol, `holdings` the quantity
(lots of 10,000 units for funds), `currency` (default: the instrument's), `name`, and
`fundType` the asset class. The opening buy is at the asset's `purchasePrice` (the app's
取得単価, per 10,000 units for funds) when it has one, else at its `price`; it is dated
on the asset's `purchaseDate` when it has one (YYYY-MM-DD...), else on the import date.
`targetPortfolio` and `exchangeRate` are not activities and are not read."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from portfoliowise.adapters.ledger_files.collect import Collector
from portfoliowise.adapters.ledger_files.json_doc import JsonDocument, item_fields
from portfoliowise.adapters.ledger_files.native import decimal_value
from portfoliowise.adapters.ledger_files.positions import Positions
from portfoliowise.adapters.portfolio_files import fund_type_asset_class, located
from portfoliowise.domain.errors import DomainError, ValidationError, preview
from portfoliowise.domain.instruments import FUND_PRICE_UNIT, Market, parse_symbol
from portfoliowise.domain.limits import check_quantity
from portfoliowise.domain.money import Currency


def is_legacy(doc: JsonDocument) -> bool:
    return "currentAssets" in doc.keys


def base_currency(doc: JsonDocument) -> Currency:
    raw = doc.get("baseCurrency")
    try:
        return Currency.of(str(raw or "JPY"))
    except DomainError as exc:
        raise located(exc, "baseCurrency") from None


def read_items(doc: JsonDocument, collector: Collector, opening_day: date) -> Positions:
    positions = Positions(opening_day)
    for item in doc.items("currentAssets"):
        collector.rows += 1
        where = f"currentAssets[{item.index}]"
        try:
            if item.error is not None:
                raise item.error
            _asset(item_fields(item), item.line, collector, positions)
        except DomainError as exc:
            collector.reject(item.line, exc, where)
    return positions


def _asset(fields: dict[str, Any], line: int, collector: Collector, positions: Positions) -> None:
    ticker = fields.get("ticker")
    if not isinstance(ticker, str) or not ticker.strip():
        raise ValidationError("an asset needs a `ticker`")
    instrument = parse_symbol(ticker)
    count = _number(fields, "holdings")
    if count is not None and instrument.market is Market.FUND:
        check_quantity(count, f"{instrument.symbol} holdings")  # before multiplying
        count *= FUND_PRICE_UNIT
    currency = Currency.of(str(fields.get("currency") or instrument.currency.code))
    name = fields.get("name")
    if name is not None and not isinstance(name, str):
        raise ValidationError("`name` must be a string")
    purchase_day = fields.get("purchaseDate")
    positions.add(
        collector,
        line=line,
        instrument=instrument,
        currency=currency,
        quantity=count,
        cost_price=_number(fields, "purchasePrice"),
        price=_number(fields, "price"),
        name=name or None,
        asset_class=fund_type_asset_class(str(fields.get("fundType") or "")),
        id_parts=("legacy-export", json.dumps(fields, sort_keys=True, default=str)),
        day=_day(purchase_day) if purchase_day else None,
    )


def _number(fields: dict[str, Any], key: str) -> Decimal | None:
    value = fields.get(key)
    return None if value is None else decimal_value(value, key)


def _day(value: object) -> date:
    if not isinstance(value, str):
        raise ValidationError(f"`purchaseDate` must be a date, not {preview(value)}")
    try:
        return datetime.fromisoformat(value.strip()).date()
    except ValueError:
        raise ValidationError(f"`purchaseDate` is not a date: {preview(value)}") from None
