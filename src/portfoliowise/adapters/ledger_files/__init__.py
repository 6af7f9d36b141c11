"""Activities files: import (`read_ledger`, one entry point for every format, detected
from the content) and export (`write_ledger_json`), and the prices CSV of the
performance CLI (`read_prices`). See the README, "Activities files".

Formats (`LedgerFormat`): this project's lossless JSON (`native`), its activities CSV
(`generic_csv`), the SBI証券 / 楽天証券 / マネックス証券 holdings exports and the
existing app's generic holdings CSV (`brokers`), Ghostfolio's export (`ghostfolio`) and
the existing app's JSON export (`legacy`). Text is UTF-8 (BOM or not) or Shift-JIS
(CP932), detected (`encoding`). Every row goes through the domain's `Activity` (and
`Holding`), so an import meets the same limits as the API."""

from portfoliowise.adapters.ledger_files.model import (
    ALL_OR_NOTHING,
    MAX_COLUMNS,
    MAX_FIELD_LENGTH,
    MAX_ITEM_BYTES,
    MAX_LEDGER_BYTES,
    MAX_REPORTED,
    MAX_ROWS,
    PARTIAL,
    CostBasisMethod,
    ImportMode,
    LedgerFormat,
    LedgerImport,
    LedgerRejected,
    RejectedRow,
)
from portfoliowise.adapters.ledger_files.native import write_ledger_json
from portfoliowise.adapters.ledger_files.prices import MAX_PRICE_ROWS, PriceFile, read_prices
from portfoliowise.adapters.ledger_files.reader import read_ledger

__all__ = [
    "ALL_OR_NOTHING",
    "MAX_COLUMNS",
    "MAX_FIELD_LENGTH",
    "MAX_ITEM_BYTES",
    "MAX_LEDGER_BYTES",
    "MAX_PRICE_ROWS",
    "MAX_REPORTED",
    "MAX_ROWS",
    "PARTIAL",
    "CostBasisMethod",
    "ImportMode",
    "LedgerFormat",
    "LedgerImport",
    "LedgerRejected",
    "PriceFile",
    "RejectedRow",
    "read_ledger",
    "read_prices",
    "write_ledger_json",
]
