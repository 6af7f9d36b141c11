"""What reading an activities file gives back, the errors it raises, and its bounds.

A file is read whole or not at all (`all_or_nothing`), or row by row (`partial`); either
way every refused row is reported with its line number, never dropped silently."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final, Literal

from portfoliowise.adapters.portfolio_files import FileFormatError
from portfoliowise.domain.activities import MAX_ACTIVITIES, Activity
from portfoliowise.domain.errors import DomainError, OutOfRange, PayloadTooLarge
from portfoliowise.domain.money import Currency
from portfoliowise.domain.portfolio import Holding

ImportMode = Literal["all_or_nothing", "partial"]
ALL_OR_NOTHING: Final = "all_or_nothing"
PARTIAL: Final = "partial"
MODES: Final = (ALL_OR_NOTHING, PARTIAL)

CostBasisMethod = Literal["average", "fifo"]
COST_BASIS_METHODS: Final = ("average", "fifo")

MAX_LEDGER_BYTES: Final = 32 * 1024 * 1024
"""A file's size: 100,000 activities of this project's JSON take about 25 MB."""

MAX_ROWS: Final = MAX_ACTIVITIES
"""Data rows (or JSON items) in one file: as many activities as a portfolio holds."""

MAX_LINES: Final = MAX_ROWS + 10_000
"""Lines of a CSV file, blank ones included."""

MAX_COLUMNS: Final = 64
"""Cells in a CSV row: the brokers' exports have about 20."""

MAX_FIELD_LENGTH: Final = 1_000
"""Characters in one CSV cell (a note is at most 200)."""

MAX_ITEM_BYTES: Final = 64 * 1024
"""One JSON activity, as text: about 300 bytes written by this project."""

MAX_HEADER_SEARCH: Final = 20
"""Lines a CSV file may have before its header (a broker's title and date lines)."""

MAX_REPORTED: Final = 20
"""Problems listed in the error of a refused `all_or_nothing` import."""


class LedgerFormat(StrEnum):
    NATIVE = "portfoliowise/activities@1"
    GENERIC_CSV = "activities-csv"
    SBI = "sbi"
    RAKUTEN = "rakuten"
    MONEX = "monex"
    POSITIONS_CSV = "positions-csv"
    GHOSTFOLIO = "ghostfolio"
    LEGACY_EXPORT = "legacy-export"

    @property
    def positions(self) -> bool:
        """Whether the format lists holdings (read as opening buys), not transactions."""
        return self in _POSITION_FORMATS


_POSITION_FORMATS: Final = frozenset(
    {
        LedgerFormat.SBI,
        LedgerFormat.RAKUTEN,
        LedgerFormat.MONEX,
        LedgerFormat.POSITIONS_CSV,
        LedgerFormat.LEGACY_EXPORT,
    }
)


@dataclass(frozen=True, slots=True)
class RejectedRow:
    """A row (CSV) or item (JSON) that was not imported: where, why, and the domain
    error's code (`out_of_range`, `unknown_symbol`, `validation_error`, ...)."""

    line: int  # 1-based, as a spreadsheet or an editor shows it
    reason: str
    code: str = "validation_error"
    where: str | None = None  # JSON: `activities[3]`

    def describe(self) -> str:
        place = f"line {self.line}" if self.where is None else f"line {self.line} ({self.where})"
        return f"{place}: {self.reason}"


@dataclass(frozen=True, slots=True)
class LedgerImport:
    """The activities a file holds, and the rows refused (empty in `all_or_nothing` mode).

    Position formats (`format.positions`) also give `holdings`: one per instrument, the
    quantities of repeated rows added up, with a cost basis when the file gives one;
    `unknown_cost` lists the symbols whose opening buy is at the file's price because the
    file gives no acquisition price."""

    format: LedgerFormat
    encoding: str
    activities: tuple[Activity, ...]
    rejected: tuple[RejectedRow, ...] = ()
    rows: int = 0  # data rows (CSV) or items (JSON) read, accepted or not
    holdings: tuple[Holding, ...] = ()
    unknown_cost: tuple[str, ...] = ()
    base_currency: Currency | None = None
    cost_basis: CostBasisMethod | None = None


class LedgerRejected(FileFormatError):
    """An `all_or_nothing` import refused because of bad rows: the message lists the
    first `MAX_REPORTED` with their line numbers and says how many there are."""

    code = "rows_rejected"

    def __init__(self, rejected: Sequence[RejectedRow], rows: int, where: str | None) -> None:
        shown = "; ".join(row.describe() for row in rejected[:MAX_REPORTED])
        more = len(rejected) - MAX_REPORTED
        tail = f"; and {more:,} more" if more > 0 else ""
        prefix = f"{where}: " if where else ""
        count = f"{len(rejected):,} of {rows:,} rows" if rows != 1 else "the only row"
        super().__init__(f"{prefix}{count} refused, nothing imported: {shown}{tail}")
        self.rejected = tuple(rejected)
        self.rows = rows


def in_file(exc: DomainError, where: str | None) -> DomainError:
    """A file-level error, its message prefixed with the file's name: out-of-range and
    too-large errors keep their class (and code), any other becomes a `FileFormatError`."""
    if isinstance(exc, LedgerRejected):
        return exc
    if not where:
        keep = isinstance(exc, FileFormatError | OutOfRange | PayloadTooLarge)
        return exc if keep else FileFormatError(str(exc))
    if isinstance(exc, OutOfRange):
        return exc.located(where)
    if isinstance(exc, PayloadTooLarge):
        return PayloadTooLarge(f"{where}: {exc}")
    return FileFormatError(f"{where}: {exc}")
