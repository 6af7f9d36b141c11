"""`read_ledger`: an activities file of any supported format, detected by its content."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Final

from portfoliowise.adapters.json_text import InvalidJson
from portfoliowise.adapters.ledger_files import brokers, generic_csv, ghostfolio, legacy, native
from portfoliowise.adapters.ledger_files.brokers import BrokerSpec
from portfoliowise.adapters.ledger_files.collect import Collector
from portfoliowise.adapters.ledger_files.csv_rows import find_columns, read_table
from portfoliowise.adapters.ledger_files.encoding import check_size, decode
from portfoliowise.adapters.ledger_files.json_doc import JsonDocument
from portfoliowise.adapters.ledger_files.model import (
    ALL_OR_NOTHING,
    MODES,
    CostBasisMethod,
    ImportMode,
    LedgerFormat,
    LedgerImport,
    LedgerRejected,
    in_file,
)
from portfoliowise.adapters.ledger_files.positions import Positions
from portfoliowise.adapters.portfolio_files import FileFormatError
from portfoliowise.domain.errors import DomainError, ValidationError, preview
from portfoliowise.domain.money import Currency

_ID_PREFIX: Final = {
    LedgerFormat.GENERIC_CSV: "csv",
    LedgerFormat.SBI: "sbi",
    LedgerFormat.RAKUTEN: "rakuten",
    LedgerFormat.MONEX: "monex",
    LedgerFormat.POSITIONS_CSV: "holding",
    LedgerFormat.GHOSTFOLIO: "gf",
    LedgerFormat.LEGACY_EXPORT: "app",
    LedgerFormat.NATIVE: "pw",
}
_JSON_FORMATS: Final = frozenset(
    {LedgerFormat.NATIVE, LedgerFormat.GHOSTFOLIO, LedgerFormat.LEGACY_EXPORT}
)


def read_ledger(
    data: bytes,
    *,
    filename: str | None,
    mode: ImportMode,
    opening_date: date | None = None,
    format: LedgerFormat | str | None = None,
) -> LedgerImport:
    """The activities in `data`, a file of any format of `LedgerFormat`, detected from
    its content (`format` forces one, as the existing app's broker choice does).

    - `mode="all_or_nothing"`: any refused row fails the whole import with one
      `LedgerRejected` (a `ValidationError`) listing the first 20 with their lines and
      the count; `"partial"`: the good rows come back, the refused ones in `rejected`.
    - `opening_date`: the date of the opening buys of a positions file (a broker's
      holdings, the existing app's export); required for those formats only.
    - `filename` prefixes the file-level errors (and `.json` says the file is JSON).

    A file that cannot be read at all (too large, not text, not CSV or JSON, no known
    header, too many rows) raises a `ValidationError` (`FileFormatError`, `OutOfRange`,
    `PayloadTooLarge`), whatever the mode."""
    if mode not in MODES:
        raise ValidationError(f"mode must be one of {', '.join(MODES)}, not {preview(mode)}")
    try:
        forced = None if format is None else LedgerFormat(format)
    except ValueError:
        names = ", ".join(f.value for f in LedgerFormat)
        raise ValidationError(f"format must be one of {names}, not {preview(format)}") from None
    try:
        check_size(data)
        text, encoding = decode(data)
        if _is_json(text, filename, forced):
            result = _read_json(text, encoding, forced, opening_date)
        else:
            result = _read_csv(text, encoding, forced, opening_date)
    except LedgerRejected:
        raise
    except DomainError as exc:
        raise in_file(exc, filename) from None
    if mode == ALL_OR_NOTHING and result.rejected:
        raise LedgerRejected(result.rejected, result.rows, filename)
    return result


def _is_json(text: str, filename: str | None, forced: LedgerFormat | None) -> bool:
    if forced is not None:
        return forced in _JSON_FORMATS
    if text.lstrip()[:1] in ("{", "["):
        return True
    if filename is not None and filename.lower().endswith(".json"):
        raise InvalidJson("not valid JSON (a JSON file starts with '{')")
    return False


def _opening(opening_date: date | None, fmt: LedgerFormat) -> date:
    if opening_date is None:
        raise ValidationError(
            f"a {fmt.value} file lists holdings, read as opening buys on the import date: "
            "give that date (opening_date)"
        )
    return opening_date


def _result(
    fmt: LedgerFormat,
    encoding: str,
    collector: Collector,
    positions: Positions | None = None,
    *,
    base_currency: Currency | None = None,
    cost_basis: CostBasisMethod | None = None,
) -> LedgerImport:
    return LedgerImport(
        format=fmt,
        encoding=encoding,
        activities=tuple(collector.activities),
        rejected=tuple(collector.rejected),
        rows=collector.rows,
        holdings=() if positions is None else positions.holdings(),
        unknown_cost=() if positions is None else tuple(positions.unknown_cost),
        base_currency=base_currency,
        cost_basis=cost_basis,
    )


# -- JSON --------------------------------------------------------------------------------
def _read_json(
    text: str, encoding: str, forced: LedgerFormat | None, opening_date: date | None
) -> LedgerImport:
    doc = JsonDocument(text)
    fmt = _json_format(doc)
    if forced is not None and forced is not fmt:
        raise FileFormatError(f"the file is a {fmt.value} file, not {forced.value}")
    collector = Collector(_ID_PREFIX[fmt])
    if fmt is LedgerFormat.NATIVE:
        base, method = native.read_header(doc)
        native.read_items(doc, collector)
        return _result(fmt, encoding, collector, base_currency=base, cost_basis=method)
    if fmt is LedgerFormat.LEGACY_EXPORT:
        base = legacy.base_currency(doc)
        positions = legacy.read_items(doc, collector, _opening(opening_date, fmt))
        return _result(fmt, encoding, collector, positions, base_currency=base)
    ghostfolio.read_items(doc, collector)
    return _result(fmt, encoding, collector)


def _json_format(doc: JsonDocument) -> LedgerFormat:
    if "format" in doc.keys:
        declared = doc.get("format")
        if declared == LedgerFormat.NATIVE.value:
            return LedgerFormat.NATIVE
        if isinstance(declared, str) and declared.startswith("portfoliowise/"):
            raise FileFormatError(
                f"a {declared} file is not an activities file: import it as a portfolio"
            )
        raise FileFormatError(f"unsupported format {preview(declared)}")
    if legacy.is_legacy(doc):
        return LedgerFormat.LEGACY_EXPORT
    if ghostfolio.is_ghostfolio(doc):
        return LedgerFormat.GHOSTFOLIO
    if "holdings" in doc.keys:
        raise FileFormatError("a portfolio file (holdings): import it as a portfolio")
    raise FileFormatError(
        "not an activities file: expected `activities` (this project's or Ghostfolio's "
        "export) or `currentAssets` (the existing app's export)"
    )


# -- CSV ---------------------------------------------------------------------------------
def _csv_format(cells: Sequence[str], forced: LedgerFormat | None) -> LedgerFormat | None:
    if forced is None:
        if generic_csv.is_header(cells):
            return LedgerFormat.GENERIC_CSV
        spec = brokers.detect(cells)
        return None if spec is None else spec.format
    if forced is LedgerFormat.GENERIC_CSV:
        return forced if generic_csv.is_header(cells) else None
    columns = find_columns(cells, brokers.SPECS[forced].columns, substrings=True)
    return forced if "symbol" in columns and "quantity" in columns else None


def _read_csv(
    text: str, encoding: str, forced: LedgerFormat | None, opening_date: date | None
) -> LedgerImport:
    table = read_table(text, lambda cells: _csv_format(cells, forced) is not None)
    fmt = _csv_format(table.header, forced)
    assert fmt is not None  # read_table found the header by it
    collector = Collector(_ID_PREFIX[fmt])
    if fmt is LedgerFormat.GENERIC_CSV:
        generic_csv.read_rows(table, collector)
        return _result(fmt, encoding, collector)
    spec: BrokerSpec = brokers.SPECS[fmt]
    positions = Positions(_opening(opening_date, fmt))
    brokers.read_rows(table, spec, collector, positions)
    return _result(fmt, encoding, collector, positions)
