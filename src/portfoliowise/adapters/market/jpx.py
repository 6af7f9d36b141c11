"""JPX's list of Tokyo listed issues (東証上場銘柄一覧) as the symbol master: names, market
segments and the 33- and 17-sector classifications, to name Tokyo stocks, allocate by
sector and validate codes.

JPX publishes it monthly as a legacy Excel file,
`https://www.jpx.co.jp/markets/statistics-equities/misc/tvdivq0000001vg2-att/data_j.xls`,
one sheet with the header row
`日付, コード, 銘柄名, 市場・商品区分, 33業種コード, 33業種区分, 17業種コード, 17業種区分,
規模コード, 規模区分` (規模 = TOPIX size group). `-` means "none" (ETFs, REITs); numeric
cells come back from the sheet as floats (`7203.0`, `20251031.0`), the alphanumeric codes
(`130A`) as text. The same columns are read from CSV (UTF-8 or Shift_JIS) too.

A scheduled job downloads it (`refresh_listed_issues`, daily: JPX replaces the file in
place) and stores the parsed table as compact JSON in the blob store under
`reference/jpx/listed-issues.json`; other functions read that (`JpxSymbolMaster.read`) and
never parse Excel. xlrd is imported only when an .xls is parsed.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from typing import Any

import httpx

from portfoliowise.adapters.market import http
from portfoliowise.domain.errors import SourceUnavailable, ValidationError
from portfoliowise.domain.market import ListedIssue
from portfoliowise.domain.ports import BlobStore

JPX = "jpx"
JPX_URL = "https://www.jpx.co.jp/markets/statistics-equities/misc/tvdivq0000001vg2-att/data_j.xls"
BLOB_KEY = "reference/jpx/listed-issues.json"
FORMAT_VERSION = 1
MIN_EXPECTED_ISSUES = 3000
"""A refresh that parses fewer rows than this keeps the stored table (the real list has
about 4,400): a truncated or changed file must not replace a good one."""

DATE, CODE, NAME, SEGMENT = "日付", "コード", "銘柄名", "市場・商品区分"
SECTOR33_CODE, SECTOR33, SECTOR17_CODE, SECTOR17 = (
    "33業種コード",
    "33業種区分",
    "17業種コード",
    "17業種区分",
)
SIZE_CODE, SIZE = "規模コード", "規模区分"
HEADERS: tuple[str, ...] = (DATE, CODE, NAME, SEGMENT, SECTOR33_CODE, SECTOR33)
HEADERS += (SECTOR17_CODE, SECTOR17, SIZE_CODE, SIZE)
"""The file's columns, in order (the size group is not kept)."""
REQUIRED = (CODE, NAME, SEGMENT)
JSON_COLUMNS = ("code", "name", "segment", "sector33Code", "sector33", "sector17Code", "sector17")
_XLS_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # OLE2 compound document (.xls)
_ZIP_MAGIC = b"PK\x03\x04"  # .xlsx
_NONE = {"", "-", "－", "ー"}
_TOKYO_SUFFIXES = (".T", ".JP", ".TYO", ".JT")


def _key(code: str) -> str:
    text = code.strip().upper()
    for suffix in _TOKYO_SUFFIXES:
        if text.endswith(suffix):
            return text[: -len(suffix)]
    return text


def _optional(text: str) -> str | None:
    cleaned = text.strip()
    return None if cleaned in _NONE else cleaned


class JpxSymbolMaster:
    """The listed issues by code. Satisfies the `SymbolMaster` port."""

    def __init__(self, issues: Iterable[ListedIssue], as_of: date | None = None) -> None:
        self._issues = {_key(issue.code): issue for issue in issues}
        self.as_of = as_of

    # -- the port -------------------------------------------------------------------------

    def lookup(self, code: str) -> ListedIssue | None:
        """`7203`, `7203.T` or `130a` -> the issue, or None for a code not listed."""
        return self._issues.get(_key(code))

    def __len__(self) -> int:
        return len(self._issues)

    def __iter__(self) -> Iterator[ListedIssue]:
        return iter(self._issues.values())

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and _key(code) in self._issues

    # -- parsing --------------------------------------------------------------------------

    @classmethod
    def load(cls, data: bytes) -> JpxSymbolMaster:
        """Parse JPX's .xls, or the same columns as CSV. Raises `ValidationError` for
        anything else (an HTML error page, an .xlsx, a file without the headers)."""
        if data.startswith(_XLS_MAGIC):
            rows = _xls_rows(data)
        elif data.startswith(_ZIP_MAGIC):
            raise ValidationError("JPX list: an .xlsx file, only .xls and CSV are read")
        else:
            rows = _csv_rows(data)
        return cls._from_rows(rows)

    @classmethod
    def _from_rows(cls, rows: Iterable[Sequence[str]]) -> JpxSymbolMaster:
        iterator = iter(rows)
        columns = _header(iterator)
        issues: list[ListedIssue] = []
        latest: date | None = None

        def cell(row: Sequence[str], name: str) -> str:
            at = columns.get(name)
            return row[at].strip() if at is not None and at < len(row) else ""

        for row in iterator:
            code, name = _key(cell(row, CODE)), cell(row, NAME)
            if not code or not name:
                continue
            issues.append(
                ListedIssue(
                    code=code,
                    name=name,
                    segment=cell(row, SEGMENT),
                    sector33_code=_optional(cell(row, SECTOR33_CODE)),
                    sector33=_optional(cell(row, SECTOR33)),
                    sector17_code=_optional(cell(row, SECTOR17_CODE)),
                    sector17=_optional(cell(row, SECTOR17)),
                )
            )
            day = _yyyymmdd(cell(row, DATE))
            if day is not None and (latest is None or day > latest):
                latest = day
        return cls(issues, latest)

    @classmethod
    def fetch(
        cls, client: httpx.Client, url: str = JPX_URL, *, min_issues: int = MIN_EXPECTED_ISSUES
    ) -> JpxSymbolMaster:
        """Download and parse the list; `SourceUnavailable` when the download fails or is
        not the list (fewer than `min_issues` rows counts as not the list)."""
        response = http.get(client, url, source=JPX)
        try:
            master = cls.load(response.content)
        except ValidationError as exc:
            raise SourceUnavailable(f"{JPX}: {exc} ({http.snippet(response)})") from exc
        if len(master) < min_issues:
            raise SourceUnavailable(f"{JPX}: only {len(master)} issues (expected {min_issues}+)")
        return master

    # -- persistence ----------------------------------------------------------------------

    def to_json(self) -> bytes:
        issues = [
            [i.code, i.name, i.segment, i.sector33_code, i.sector33, i.sector17_code, i.sector17]
            for i in sorted(self._issues.values(), key=lambda issue: issue.code)
        ]
        document = {
            "format": FORMAT_VERSION,
            "source": JPX_URL,
            "asOf": self.as_of.isoformat() if self.as_of else None,
            "columns": list(JSON_COLUMNS),
            "issues": issues,
        }
        return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, data: bytes) -> JpxSymbolMaster:
        try:
            document = json.loads(data)
            if document.get("format") != FORMAT_VERSION:
                raise ValidationError(f"JPX table: unknown format {document.get('format')!r}")
            if list(document["columns"]) != list(JSON_COLUMNS):
                raise ValidationError("JPX table: unexpected columns")
            issues = [ListedIssue(*_issue_fields(row)) for row in document["issues"]]
            as_of = date.fromisoformat(document["asOf"]) if document.get("asOf") else None
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            if isinstance(exc, ValidationError):
                raise
            raise ValidationError(f"JPX table: unreadable ({exc})") from exc
        return cls(issues, as_of)

    def save(self, store: BlobStore, key: str = BLOB_KEY) -> None:
        store.put(key, self.to_json(), "application/json")

    @classmethod
    def read(cls, store: BlobStore, key: str = BLOB_KEY) -> JpxSymbolMaster:
        """The stored table (`NotFoundError` before the first refresh)."""
        return cls.from_json(store.get(key))


def refresh_listed_issues(
    client: httpx.Client,
    store: BlobStore,
    *,
    url: str = JPX_URL,
    key: str = BLOB_KEY,
    min_issues: int = MIN_EXPECTED_ISSUES,
) -> JpxSymbolMaster:
    """The scheduled job's step: download, parse, check, store. On any failure nothing is
    stored and the previous table stays."""
    master = JpxSymbolMaster.fetch(client, url, min_issues=min_issues)
    master.save(store, key)
    return master


def _issue_fields(row: Any) -> tuple[str, str, str, str | None, str | None, str | None, str | None]:
    if not isinstance(row, list) or len(row) != len(JSON_COLUMNS):
        raise ValueError(f"bad issue row {row!r}")
    code, name, segment, s33c, s33, s17c, s17 = row
    for value in (code, name, segment):
        if not isinstance(value, str):
            raise ValueError(f"bad issue row {row!r}")
    for value in (s33c, s33, s17c, s17):
        if value is not None and not isinstance(value, str):
            raise ValueError(f"bad issue row {row!r}")
    return code, name, segment, s33c, s33, s17c, s17


def _header(rows: Iterator[Sequence[str]]) -> dict[str, int]:
    """Column positions from the first row naming the required columns (rows before it,
    such as a title, are skipped)."""
    for row in rows:
        names = [cell.strip() for cell in row]
        if all(name in names for name in REQUIRED):
            return {name: names.index(name) for name in names if name}
    raise ValidationError(f"JPX list: no header row with {', '.join(REQUIRED)}")


def _yyyymmdd(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip()) if len(text.strip()) == 8 else None
    except ValueError:
        return None


def _csv_rows(data: bytes) -> list[list[str]]:
    for encoding in ("utf-8-sig", "cp932"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if text.lstrip().startswith("<"):
            raise ValidationError("JPX list: an HTML page, not the list")
        return list(csv.reader(io.StringIO(text)))
    raise ValidationError("JPX list: neither UTF-8 nor Shift_JIS text")


def _xls_rows(data: bytes) -> list[list[str]]:
    import xlrd  # type: ignore[import-untyped]  # only the refresh job parses Excel

    try:
        book = xlrd.open_workbook(file_contents=data, on_demand=True)
        sheet = book.sheet_by_index(0)
        return [[_cell_text(cell) for cell in sheet.row(index)] for index in range(sheet.nrows)]
    except Exception as exc:  # xlrd raises XLRDError, CompDocError, struct/index errors
        raise ValidationError(f"JPX list: unreadable .xls ({type(exc).__name__}: {exc})") from exc


def _cell_text(cell: Any) -> str:
    """A cell as text: whole numbers without their `.0` (7203.0 -> 7203)."""
    value = cell.value
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value).strip()
