"""This project's activities CSV: one activity a row, columns named in the header.

    date,type,symbol,quantity,unit_price,amount,fees,taxes,currency,fx_rate,note

`date` and `type` are required columns; the others may be left out. Header names are
matched ignoring case, spaces, underscores and hyphens (`unitPrice`, `Unit Price`), and
each has aliases, Japanese ones included (`ALIASES`). Numbers are decimals, read exactly
(`1,234.5` with thousands separators in a quoted cell); dates `YYYY-MM-DD` or
`YYYY/MM/DD`. An optional `id` column gives each activity its id; without it the id is
made from the row's content (the same file gives the same ids)."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from decimal import Decimal
from typing import Final

from portfoliowise.adapters.ledger_files.collect import Collector
from portfoliowise.adapters.ledger_files.csv_rows import (
    CsvRow,
    CsvTable,
    cell,
    check_row_shape,
    find_columns,
    parse_day,
    parse_decimal,
)
from portfoliowise.domain.activities import CASH_AMOUNT, TRADES, Activity, ActivityType
from portfoliowise.domain.errors import DomainError, ValidationError, preview
from portfoliowise.domain.instruments import parse_symbol
from portfoliowise.domain.money import Currency

ALIASES: Final[dict[str, tuple[str, ...]]] = {
    "date": ("date", "day", "trade_date", "日付", "約定日", "取引日"),
    "type": ("type", "action", "activity", "種別", "取引", "取引区分"),
    "symbol": ("symbol", "ticker", "code", "銘柄コード", "コード"),
    "quantity": ("quantity", "qty", "shares", "units", "数量", "株数", "口数"),
    "unit_price": ("unit_price", "price", "単価", "約定単価", "価格"),
    "amount": ("amount", "金額"),
    "fees": ("fees", "fee", "commission", "手数料"),
    "taxes": ("taxes", "tax", "税金", "税額"),
    "currency": ("currency", "ccy", "通貨"),
    "fx_rate": ("fx_rate", "exchange_rate", "為替レート"),
    "note": ("note", "notes", "comment", "memo", "メモ", "備考"),
    "id": ("id", "activity_id"),
}
"""Column: accepted header names (the first is the documented one)."""

TYPE_ALIASES: Final[dict[str, ActivityType]] = {
    **{t.value: t for t in ActivityType},
    "purchase": ActivityType.BUY,
    "買": ActivityType.BUY,
    "買付": ActivityType.BUY,
    "買い": ActivityType.BUY,
    "購入": ActivityType.BUY,
    "sale": ActivityType.SELL,
    "売": ActivityType.SELL,
    "売付": ActivityType.SELL,
    "売り": ActivityType.SELL,
    "売却": ActivityType.SELL,
    "配当": ActivityType.DIVIDEND,
    "配当金": ActivityType.DIVIDEND,
    "分配金": ActivityType.DIVIDEND,
    "利息": ActivityType.INTEREST,
    "利子": ActivityType.INTEREST,
    "手数料": ActivityType.FEE,
    "税": ActivityType.TAX,
    "税金": ActivityType.TAX,
    "分割": ActivityType.SPLIT,
    "株式分割": ActivityType.SPLIT,
    "入金": ActivityType.DEPOSIT,
    "出金": ActivityType.WITHDRAWAL,
    "withdraw": ActivityType.WITHDRAWAL,
}


def is_header(cells: Sequence[str]) -> bool:
    columns = find_columns(cells, ALIASES)
    return "date" in columns and "type" in columns


def parse_type(text: str) -> ActivityType:
    key = unicodedata.normalize("NFKC", text).strip().lower()
    found = TYPE_ALIASES.get(key)
    if found is None:
        names = ", ".join(t.value for t in ActivityType)
        raise ValidationError(f"activity type must be one of {names}, not {preview(text)}")
    return found


def read_rows(table: CsvTable, collector: Collector) -> None:
    columns = find_columns(table.header, ALIASES)
    width = len(table.header)
    for row in table.rows:
        collector.rows += 1
        try:
            collector.add(_activity(row, columns, width, collector))
        except DomainError as exc:
            collector.reject(row.line, exc)


def _activity(row: CsvRow, columns: dict[str, int], width: int, collector: Collector) -> Activity:
    check_row_shape(row, width)

    def number(name: str) -> Decimal | None:
        return parse_decimal(cell(row, columns, name), name)

    raw_day = cell(row, columns, "date")
    if not raw_day:
        raise ValidationError("no date")
    day = parse_day(raw_day)
    kind = parse_type(cell(row, columns, "type"))
    symbol = cell(row, columns, "symbol") or None
    currency_text = cell(row, columns, "currency")
    if currency_text:
        currency = Currency.of(currency_text)
    elif symbol is not None:
        currency = parse_symbol(symbol).currency
    else:
        raise ValidationError(f"a {kind} without a symbol needs a currency")
    quantity, unit_price, amount = number("quantity"), number("unit_price"), number("amount")
    if kind in TRADES and unit_price is None:
        raise ValidationError(f"a {kind} needs a unit price")
    if kind in CASH_AMOUNT and amount is None:
        raise ValidationError(f"a {kind} needs an amount")
    if kind is ActivityType.SPLIT and quantity is None:
        raise ValidationError("a split needs its ratio in the quantity column")
    return Activity(
        activity_id=cell(row, columns, "id") or collector.new_id(row.cells),
        type=kind,
        day=day,
        currency=currency,
        symbol=symbol,
        quantity=quantity if quantity is not None else Decimal(0),
        unit_price=unit_price if unit_price is not None else Decimal(0),
        amount=amount if amount is not None else Decimal(0),
        fees=number("fees") or Decimal(0),
        taxes=number("taxes") or Decimal(0),
        fx_rate=number("fx_rate"),
        note=cell(row, columns, "note") or None,
    )
