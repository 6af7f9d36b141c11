"""Portfolios as CSV, one holding a row, for `export?format=csv` and `POST
/portfolios/import`. A read CSV becomes this project's JSON document, so it goes through
the same parser (and the same checks) as a JSON import.

Columns: symbol, quantity, assetClass, currency, costBasis, costBasisCurrency, sector,
region, name (only `symbol` and `quantity` are required; header names in any case)."""

from __future__ import annotations

import csv
import io
from typing import Any

from portfoliowise.adapters.portfolio_files import PORTFOLIO_FORMAT, FileFormatError
from portfoliowise.domain.portfolio import Portfolio

COLUMNS = (
    "symbol",
    "quantity",
    "assetClass",
    "currency",
    "costBasis",
    "costBasisCurrency",
    "sector",
    "region",
    "name",
)
MAX_ROWS = 10_000


def portfolio_to_csv(portfolio: Portfolio) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for h in portfolio.holdings:
        cost = h.cost_basis
        writer.writerow(
            [
                h.symbol,
                format(h.quantity, "f"),
                h.asset_class.value,
                h.currency.code,
                "" if cost is None else format(cost.amount, "f"),
                "" if cost is None else cost.currency.code,
                h.sector or "",
                h.region or "",
                h.name or "",
            ]
        )
    return out.getvalue()


def csv_document(text: str, *, name: str, base_currency: str) -> dict[str, Any]:
    """This project's portfolio document for a CSV of holdings."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    known = {column.lower(): column for column in COLUMNS}
    fields = [known.get((f or "").strip().lower()) for f in reader.fieldnames or []]
    if "symbol" not in fields or "quantity" not in fields:
        raise FileFormatError("a CSV portfolio needs `symbol` and `quantity` columns")
    holdings: list[dict[str, Any]] = []
    for number, row in enumerate(reader, start=2):
        if number > MAX_ROWS + 1:
            raise FileFormatError(f"a CSV portfolio has at most {MAX_ROWS} rows")
        values: dict[str, str] = {}
        for raw_key, value in row.items():
            key = known.get((raw_key or "").strip().lower()) if isinstance(raw_key, str) else None
            if key is not None and isinstance(value, str) and value.strip():
                values[key] = value.strip()
        if not values:
            continue  # a blank line
        if "symbol" not in values or "quantity" not in values:
            raise FileFormatError(f"line {number}: needs a symbol and a quantity")
        holding: dict[str, Any] = {
            key: values[key]
            for key in ("symbol", "quantity", "assetClass", "currency", "sector", "region", "name")
            if key in values
        }
        if "costBasis" in values:
            holding["costBasis"] = {
                "amount": values["costBasis"],
                "currency": values.get("costBasisCurrency")
                or values.get("currency")
                or base_currency,
            }
        holdings.append(holding)
    return {
        "format": PORTFOLIO_FORMAT,
        "name": name,
        "baseCurrency": base_currency,
        "holdings": holdings,
    }
