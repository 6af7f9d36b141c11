"""Portfolios as CSV, one holding a row, for `export?format=csv` and `POST
/portfolios/import`. A read CSV becomes this project's JSON document, so it goes through
the same parser (and the same checks) as a JSON import.

Columns: symbol, quantity, assetClass, currency, costBasis, costBasisCurrency, sector,
region, name (only `symbol` and `quantity` are required; header names in any case).

Formula injection (OWASP "CSV injection"): a spreadsheet runs a cell that starts with
`=`, `+`, `-`, `@`, a tab or a carriage return. The export writes such a text cell with a
single quote before it (`'=SUM(A1)`), which spreadsheets show as text; the import takes
that quote off again, so a portfolio exported and imported comes back as it was. Numbers
(quantity, cost basis) are written as numbers."""

from __future__ import annotations

import csv
import io
from typing import Any

from portfoliowise.adapters.portfolio_files import PORTFOLIO_FORMAT, FileFormatError
from portfoliowise.domain.errors import OutOfRange
from portfoliowise.domain.limits import MAX_HOLDINGS, check_count
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
NUMBER_COLUMNS = frozenset({"quantity", "costBasis"})
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
ESCAPE = "'"


def escape_cell(text: str) -> str:
    """A text cell a spreadsheet would run as a formula, with a `'` before it. A text that
    already starts with quotes before such a character gets one more, so that
    `unescape_cell` gives back exactly what was written."""
    if text.lstrip(ESCAPE).startswith(FORMULA_STARTS):
        return ESCAPE + text
    return text


def unescape_cell(text: str) -> str:
    """The inverse of `escape_cell`: one `'` less before a formula character."""
    if text.startswith(ESCAPE) and text.lstrip(ESCAPE).startswith(FORMULA_STARTS):
        return text[1:]
    return text


def portfolio_to_csv(portfolio: Portfolio) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    # With "\n" as line end, csv quotes a cell holding "\n" but not one holding a lone
    # "\r", which a reader takes for a line end too: such a row has every cell quoted.
    quoted = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL)
    writer.writerow(COLUMNS)
    for h in portfolio.holdings:
        cost = h.cost_basis
        row = {
            "symbol": h.symbol,
            "quantity": format(h.quantity, "f"),
            "assetClass": h.asset_class.value,
            "currency": h.currency.code,
            "costBasis": "" if cost is None else format(cost.amount, "f"),
            "costBasisCurrency": "" if cost is None else cost.currency.code,
            "sector": h.sector or "",
            "region": h.region or "",
            "name": h.name or "",
        }
        cells = [row[c] if c in NUMBER_COLUMNS else escape_cell(row[c]) for c in COLUMNS]
        (quoted if any("\r" in cell for cell in cells) else writer).writerow(cells)
    return out.getvalue()


def csv_document(text: str, *, name: str, base_currency: str) -> dict[str, Any]:
    """This project's portfolio document for a CSV of holdings."""
    try:
        holdings = _holdings(text, base_currency)
    except csv.Error as exc:  # e.g. a cell over csv's field size limit (128 KiB)
        if "field larger than field limit" in str(exc):
            limit = f"at most {csv.field_size_limit():,} characters a cell"
            message = f"a CSV cell is too long ({limit})"
            raise OutOfRange("cell", limit, message=message) from None
        raise FileFormatError(f"not a CSV file ({exc})") from None
    return {
        "format": PORTFOLIO_FORMAT,
        "name": name,
        "baseCurrency": base_currency,
        "holdings": holdings,
    }


def _holdings(text: str, base_currency: str) -> list[dict[str, Any]]:
    # newline="": lines end at \n, \r\n or \r, and a quoted cell keeps its own (csv's rule)
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    known = {column.lower(): column for column in COLUMNS}
    fields = [known.get((f or "").strip().lower()) for f in reader.fieldnames or []]
    if "symbol" not in fields or "quantity" not in fields:
        raise FileFormatError("a CSV portfolio needs `symbol` and `quantity` columns")
    holdings: list[dict[str, Any]] = []
    for number, row in enumerate(reader, start=2):
        values: dict[str, str] = {}
        for raw_key, value in row.items():
            key = known.get((raw_key or "").strip().lower()) if isinstance(raw_key, str) else None
            if key is not None and isinstance(value, str) and value.strip():
                text = value.strip()
                values[key] = text if key in NUMBER_COLUMNS else unescape_cell(text)
        if not values:
            continue  # a blank line
        check_count(len(holdings) + 1, "holdings", MAX_HOLDINGS)
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
    return holdings
