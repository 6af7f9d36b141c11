"""CSV text as numbered rows, within bounds, and the cell parsers the CSV formats share.

Rows carry the line they start on (1-based, blank lines and the header counted, a cell
with a line break in quotes spanning several lines), which is the row number a
spreadsheet shows when the file has no multi-line cells. The file is counted first, in
one pass that stops at the limits (`MAX_LINES` lines, `MAX_ROWS` data rows), so that no
input makes the reader build more than a portfolio's worth of activities."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Final

from portfoliowise.adapters.ledger_files.model import (
    MAX_COLUMNS,
    MAX_FIELD_LENGTH,
    MAX_HEADER_SEARCH,
    MAX_LINES,
    MAX_ROWS,
)
from portfoliowise.adapters.portfolio_files import FileFormatError
from portfoliowise.domain.errors import OutOfRange, ValidationError, preview
from portfoliowise.domain.limits import check_count


@dataclass(frozen=True, slots=True)
class CsvRow:
    line: int
    cells: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CsvTable:
    """A CSV file cut at its header: the header's cells (as written) and line, and the
    data rows after it (blank rows and repeats of the header left out)."""

    header: tuple[str, ...]
    header_line: int
    rows: Iterator[CsvRow]


def header_key(cell: str) -> str:
    """A header cell as it is matched: NFKC (full-width letters and brackets become
    ASCII), lower case, without spaces, underscores, hyphens or dots."""
    text = unicodedata.normalize("NFKC", cell).strip().lstrip("\ufeff").lower()
    return re.sub(r"[\s_\-.]", "", text)


def _delimiter(text: str) -> str:
    sample = text[:65536]
    return "\t" if sample.count("\t") > sample.count(",") else ","


def _records(text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """(start line, cells) of every record, blank ones included."""
    # newline="": lines end at \n, \r\n or \r, and a quoted cell keeps its own (csv's rule)
    # strict: a quote left open (which would take the next rows into one cell) is an error
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    start = 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            line = reader.line_num
            if "field larger than field limit" in str(exc):
                limit = f"at most {csv.field_size_limit():,} characters a cell"
                raise OutOfRange(
                    "cell", limit, message=f"line {line}: a CSV cell is too long ({limit})"
                ) from None
            raise FileFormatError(f"line {line}: malformed CSV ({exc})") from None
        yield start, cells
        start = reader.line_num + 1


def _blank(cells: Sequence[str]) -> bool:
    return not any(cell.strip() for cell in cells)


def _count(text: str, delimiter: str, max_rows: int, what: str) -> None:
    """Refuse a file with too many lines or rows before anything is built from it."""
    max_lines = max_rows + MAX_LINES - MAX_ROWS
    rows = 0
    for lines, (_, cells) in enumerate(_records(text, delimiter), start=1):
        if lines > max_lines:
            check_count(lines, "lines", max_lines)
        if not _blank(cells):
            rows += 1
            if rows > max_rows + MAX_HEADER_SEARCH:
                check_count(rows, what, max_rows)


def read_table(
    text: str,
    is_header: Callable[[Sequence[str]], bool],
    *,
    max_rows: int = MAX_ROWS,
    what: str = "activities",
) -> CsvTable:
    """The table whose header is the first of the first `MAX_HEADER_SEARCH` non-blank
    rows that `is_header` accepts (the rows before it, a broker's title lines, are
    skipped). More than `max_rows` data rows is an `OutOfRange` naming `what`, raised
    before any row is read when the file has that many."""
    delimiter = _delimiter(text)
    _count(text, delimiter, max_rows, what)
    records = _records(text, delimiter)
    seen = 0
    for line, cells in records:
        if _blank(cells):
            continue
        seen += 1
        if len(cells) > MAX_COLUMNS:
            raise OutOfRange(
                "columns",
                f"at most {MAX_COLUMNS}",
                message=f"line {line}: too many columns ({len(cells):,}, at most {MAX_COLUMNS})",
            )
        if is_header(cells):
            header = tuple(cell.strip().lstrip("\ufeff") for cell in cells)
            return CsvTable(header, line, _data_rows(records, header, max_rows, what))
        if seen >= MAX_HEADER_SEARCH:
            break
    raise FileFormatError(
        f"no known header in the first {MAX_HEADER_SEARCH} lines (see the README, "
        "'Activities files', for the columns of each format)"
    )


def _data_rows(
    records: Iterator[tuple[int, list[str]]], header: tuple[str, ...], max_rows: int, what: str
) -> Iterator[CsvRow]:
    keys = tuple(header_key(cell) for cell in header)
    count = 0
    for line, cells in records:
        if _blank(cells) or (
            len(cells) == len(keys)
            and header_key(cells[0]) == keys[0]
            and tuple(header_key(cell) for cell in cells) == keys
        ):
            continue  # a blank line, or the header repeated (a broker's next section)
        count += 1
        check_count(count, what, max_rows)
        yield CsvRow(line, tuple(cells))


def check_row_shape(row: CsvRow, columns: int) -> None:
    """A row's cells within bounds: at most `MAX_COLUMNS`, nothing past the header's
    columns but empty cells, no cell over `MAX_FIELD_LENGTH` characters."""
    if len(row.cells) > MAX_COLUMNS:
        raise OutOfRange(
            "columns",
            f"at most {MAX_COLUMNS}",
            message=f"too many cells ({len(row.cells):,}, at most {MAX_COLUMNS})",
        )
    extra = [cell for cell in row.cells[columns:] if cell.strip()]
    if extra:
        raise ValidationError(
            f"{len(row.cells)} cells, but the header has {columns} columns "
            f"(extra {preview(extra[0])})"
        )
    for cell in row.cells:
        if len(cell) > MAX_FIELD_LENGTH:
            raise OutOfRange(
                "cell", f"at most {MAX_FIELD_LENGTH:,} characters", value=cell, label="a cell"
            )


# -- columns ---------------------------------------------------------------------------
def find_columns(
    header: Sequence[str],
    candidates: Mapping[str, Sequence[str]],
    *,
    substrings: bool = False,
) -> dict[str, int]:
    """Which column holds each field: the first candidate (in the given order) that names
    a column exactly (as `header_key` compares them). With `substrings`, a field none of
    whose candidates is a column takes the first column whose name contains one (the
    existing app's fuzzy match), never a column another field took. Fields are resolved in
    the order of `candidates`."""
    keys = [header_key(cell) for cell in header]
    found: dict[str, int] = {}
    taken: set[int] = set()
    for name, options in candidates.items():
        wanted = [header_key(option) for option in options]
        index = next(
            (keys.index(w) for w in wanted if w in keys and keys.index(w) not in taken), None
        )
        if index is None and substrings:
            index = next(
                (
                    i
                    for w in wanted
                    for i, key in enumerate(keys)
                    if i not in taken and key and w in key
                ),
                None,
            )
        if index is not None:
            found[name] = index
            taken.add(index)
    return found


def cell(row: CsvRow, columns: Mapping[str, int], name: str) -> str:
    index = columns.get(name)
    if index is None or index >= len(row.cells):
        return ""
    return row.cells[index].strip()


# -- values ------------------------------------------------------------------------------
_PLAIN: Final = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
_GROUPED: Final = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?")
_MONEY_MARKS: Final = re.compile(r"[¥\\$€£円\s]")
_NOTHING: Final = frozenset({"", "-", "--", "―", "ー", "—", "–"})
_DATE: Final = re.compile(r"(\d{4})([-/.])(\d{1,2})\2(\d{1,2})")
_DATE_JA: Final = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日")


def parse_decimal(text: str, what: str) -> Decimal | None:
    """A decimal written plainly (`1234.5`, `-3`, `.5`) or with thousands separators
    (`1,234.5`, as a quoted cell), full-width digits allowed; None for an empty cell.
    Exponents, spaces inside and anything else are refused: no guessing."""
    value = unicodedata.normalize("NFKC", text).strip()
    if not value:
        return None
    if _PLAIN.fullmatch(value):
        return Decimal(value)
    if _GROUPED.fullmatch(value):
        return Decimal(value.replace(",", ""))
    raise ValidationError(f"{what} is not a decimal number: {preview(text)}")


def parse_broker_number(text: str, what: str) -> Decimal | None:
    """A broker's number: as `parse_decimal`, with currency marks (¥ ￥ $ ＄ 円) and
    spaces left out; `-`, `--` or an empty cell is no value (None), as the app reads it."""
    value = _MONEY_MARKS.sub("", unicodedata.normalize("NFKC", text))
    if value in _NOTHING:
        return None
    return parse_decimal(value, what)


def parse_day(text: str) -> date:
    """`YYYY-MM-DD`, `YYYY/MM/DD` (one-digit month and day allowed, as Excel writes them)
    or `YYYY年M月D日`."""
    value = unicodedata.normalize("NFKC", text).strip()
    match = _DATE.fullmatch(value)
    parts = (match.group(1), match.group(3), match.group(4)) if match else None
    if parts is None:
        ja = _DATE_JA.fullmatch(value)
        parts = (ja.group(1), ja.group(2), ja.group(3)) if ja else None
    if parts is None:
        raise ValidationError(f"date must be YYYY-MM-DD or YYYY/MM/DD, not {preview(text)}")
    try:
        return date(int(parts[0]), int(parts[1]), int(parts[2]))
    except ValueError:
        raise ValidationError(f"no such date: {preview(text)}") from None
