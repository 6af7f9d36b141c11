"""Japanese mutual funds (投資信託): the daily 基準価額 by 8-character association code
(協会コード), from the Investment Trusts Association's fund library (投信総合検索ライブラリー).

The library serves a fund's whole history since inception as one CSV:
`https://toushin-lib.fwg.ne.jp/FdsWeb/FDST030000/csv-file-download?isinCd={ISIN}&associFundCd={code}`

- Encoded in Shift_JIS (CP932), whatever its Content-Type says (utf-8).
- Header `年月日,基準価額(円),純資産総額（百万円）,分配金,決算期`; dates as `2026年11月27日`;
  基準価額 in yen per 10,000 units (口), e.g. `33012`.
- A fund it has no data for answers `{"statusCode":null}` (left out of the answer; a
  `NotFoundError` for history); an HTML page (maintenance, a bot check) fails the source.

The latest row is the quote (priced per 10,000 units: `Instrument.price_unit`), and
`change` is its difference from the previous row (the usual 前日比). `as_of` is the NAV's
date at 15:30 Tokyo time (the exchange's close), since the value is that business day's.

The download needs the fund's ISIN as well as its code, and the library has no lookup by
code alone: the ISINs come from a mapping (constructor argument) on top of a small
bundled table of common funds (`fund_isins.csv`). A fund without an ISIN is left out.

One request per fund is unavoidable: the library has no batch download. They are sent one
after the other; a 429 stops the rest, and the source fails as a whole only when no fund
could be priced and at least one request failed.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cache
from importlib import resources
from zoneinfo import ZoneInfo

import httpx

from portfoliowise.adapters.market import http
from portfoliowise.domain.errors import NotFoundError, SourceUnavailable
from portfoliowise.domain.instruments import Instrument, Market
from portfoliowise.domain.market import DailyClose, DailyHistory
from portfoliowise.domain.money import JPY, Money
from portfoliowise.domain.quotes import Quote, QuoteStatus

log = logging.getLogger(__name__)

FUND_LIBRARY = "toushin-lib"
CSV_URL = "https://toushin-lib.fwg.ne.jp/FdsWeb/FDST030000/csv-file-download"
ENCODING = "cp932"
NAV_TZ = ZoneInfo("Asia/Tokyo")
NAV_TIME = time(15, 30)
MARKETS = frozenset({Market.FUND})
DATE_COLUMN = "年月日"
NAV_COLUMN = "基準価額(円)"
PERCENT_PLACES = Decimal("0.01")
_DATE = re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$")
_ISIN = re.compile(r"^[A-Z]{2}[0-9A-Z]{9}[0-9]$")


@dataclass(frozen=True, slots=True)
class FundListing:
    """A fund the library can be asked about: its association code and ISIN."""

    code: str
    isin: str
    name: str | None = None

    def __post_init__(self) -> None:
        if not isin_is_valid(self.isin):
            raise ValueError(f"fund {self.code}: {self.isin!r} is not a valid ISIN")


@dataclass(frozen=True, slots=True)
class NavRow:
    day: date
    nav: Decimal  # yen per 10,000 units


def isin_is_valid(isin: str) -> bool:
    """ISIN shape and check digit (Luhn over the letters' base-36 values)."""
    if not _ISIN.match(isin):
        return False
    digits = "".join(str(int(char, 36)) for char in isin[:-1])
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char) * (2 if index % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return (10 - total % 10) % 10 == int(isin[-1])


def load_fund_isins(text: str) -> dict[str, FundListing]:
    """A code->ISIN table from CSV text with columns association_code,isin[,name]."""
    listings: dict[str, FundListing] = {}
    for row in csv.DictReader(io.StringIO(text)):
        code = (row.get("association_code") or "").strip().upper()
        isin = (row.get("isin") or "").strip().upper()
        if code and isin:
            listings[code] = FundListing(code, isin, (row.get("name") or "").strip() or None)
    return listings


@cache
def bundled_fund_isins() -> Mapping[str, FundListing]:
    """The bundled table of common funds (see `fund_isins.csv`)."""
    package = resources.files("portfoliowise.adapters.market")
    return load_fund_isins(package.joinpath("fund_isins.csv").read_text(encoding="utf-8"))


def parse_nav_csv(text: str) -> list[NavRow] | None:
    """The NAV rows of a library CSV, oldest first; None when the library says it has no
    data for the fund. Raises `SourceUnavailable` for a body that is neither."""
    stripped = text.strip().lstrip("\ufeff")
    if stripped.startswith("{") and "statusCode" in stripped:
        return None
    reader = csv.reader(io.StringIO(stripped))
    header = [cell.strip() for cell in next(reader, [])]
    if DATE_COLUMN not in header or NAV_COLUMN not in header:
        raise SourceUnavailable(f"{FUND_LIBRARY}: not a NAV CSV: {stripped[:80]!r}")
    day_at, nav_at = header.index(DATE_COLUMN), header.index(NAV_COLUMN)
    rows: dict[date, NavRow] = {}
    for cells in reader:
        if len(cells) <= max(day_at, nav_at):
            continue
        day = _day(cells[day_at])
        nav = _nav(cells[nav_at])
        if day is None or nav is None:
            if any(cell.strip() for cell in cells):
                log.warning("%s: malformed NAV row ignored: %s", FUND_LIBRARY, cells)
            continue
        rows[day] = NavRow(day, nav)
    return [rows[day] for day in sorted(rows)]


def _day(text: str) -> date | None:
    match = _DATE.match(text.strip())
    if match is None:
        return None
    try:
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None


def _nav(text: str) -> Decimal | None:
    try:
        nav = Decimal(text.strip().replace(",", ""))
    except InvalidOperation:
        return None
    return nav if nav.is_finite() and nav > 0 else None


class FundNavSource:
    """Quotes and daily history of Japanese mutual funds (JPY per 10,000 units)."""

    markets = MARKETS

    def __init__(
        self,
        client: httpx.Client,
        isins: Mapping[str, str | FundListing] | None = None,
        *,
        include_bundled: bool = True,
        url: str = CSV_URL,
        name: str = FUND_LIBRARY,
    ) -> None:
        self._client = client
        self._url = url
        self.name = name
        listings: dict[str, FundListing] = dict(bundled_fund_isins()) if include_bundled else {}
        for code, value in (isins or {}).items():
            key = code.strip().upper()
            listing = value if isinstance(value, FundListing) else FundListing(key, value.upper())
            listings[key] = listing
        self._listings = listings

    def listing(self, code: str) -> FundListing | None:
        return self._listings.get(code.strip().upper())

    def fetch(self, instruments: Sequence[Instrument]) -> dict[str, Quote]:
        found: dict[str, Quote] = {}
        failures: list[SourceUnavailable] = []
        funds = list(dict.fromkeys(i for i in instruments if i.market in MARKETS))
        for instrument in funds:
            listing = self.listing(instrument.code)
            if listing is None:
                log.info("%s: no ISIN known for fund %s", self.name, instrument.code)
                continue
            try:
                rows = self._navs(listing)
            except http.Throttled as exc:
                failures.append(exc)
                break  # do not send it the rest
            except SourceUnavailable as exc:
                failures.append(exc)
                continue
            if rows:
                found[instrument.symbol] = self._quote(instrument, listing, rows)
        if failures and not found:
            raise SourceUnavailable(
                f"{self.name}: {len(failures)} of {len(funds)} fund requests failed: {failures[0]}"
            )
        if failures:
            log.warning("%s: %d fund requests failed: %s", self.name, len(failures), failures[0])
        return found

    def history(self, instrument: Instrument, start: date, end: date) -> DailyHistory:
        listing = self.listing(instrument.code) if instrument.market in MARKETS else None
        if listing is None:
            raise NotFoundError(f"{self.name}: no ISIN known for {instrument.symbol}")
        rows = self._navs(listing)
        if rows is None:
            raise NotFoundError(f"{self.name}: no NAV history for {instrument.symbol}")
        return DailyHistory(
            symbol=instrument.symbol,
            currency=JPY.code,
            closes=tuple(DailyClose(r.day, r.nav) for r in rows if start <= r.day <= end),
            source=self.name,
        )

    def _navs(self, listing: FundListing) -> list[NavRow] | None:
        params = {"isinCd": listing.isin, "associFundCd": listing.code}
        response = http.get(self._client, self._url, source=self.name, params=params)
        return parse_nav_csv(http.text_of(response, source=self.name, encoding=ENCODING))

    def _quote(self, instrument: Instrument, listing: FundListing, rows: list[NavRow]) -> Quote:
        last = rows[-1]
        change = change_percent = None
        if len(rows) > 1:
            previous = rows[-2].nav
            change = last.nav - previous
            change_percent = (change * 100 / previous).quantize(PERCENT_PLACES, ROUND_HALF_UP)
        return Quote(
            symbol=instrument.symbol,
            price=Money(last.nav, JPY),
            status=QuoteStatus.LIVE,
            source=self.name,
            as_of=datetime.combine(last.day, NAV_TIME, tzinfo=NAV_TZ).astimezone(UTC),
            change=change,
            change_percent=change_percent,
            name=listing.name,
        )
