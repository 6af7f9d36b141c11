"""The Japanese brokers' holdings exports the existing web app imports (SBI証券, 楽天証券,
マネックス証券) and its generic holdings CSV, read as positions (`positions`).

Based on the app's parser, `frontend/webapp/src/utils/csvParsers.ts` of
github.com/Rih0z/portfolio-manager, and its tests (`src/__tests__/unit/utils/
csvParsers.test.ts`), whose CSV samples the tests here follow:

- Detection by the header, as the app's `detectBrokerFormat`, in this order: SBI証券 has
  銘柄コード and 預り区分 or a column naming 口座 (口座区分); 楽天証券 has 銘柄コード or
  ISINコード, and トータルリターン or a column naming 楽天; マネックス証券 has 銘柄コード and
  評価損益. Anything else with a code column and a quantity column is the app's generic
  holdings CSV (`ticker`, `holdings`, `price`, `purchasePrice`, `currency`...).
- Columns: each field takes the first of the app's names for it that is a column, else
  the first column whose name contains one of them (the app's fuzzy match), never a
  column another field took (the app can read 銘柄コード as the name; this cannot).
- Numbers: ¥, ￥, $, ＄, 円 and thousands separators are left out (`"¥2,000"`); `-`,
  `--` or an empty cell is no value. Otherwise a number must be a plain decimal: a cell
  the app would read as 0 is refused here.
- Quantities are units (口) for funds, as written: the app divides a fund's 10,000 or
  more units by 10,000 (it counts lots); this project counts units, so it does not.
- The currency is the instrument's (USD for US tickers, JPY otherwise), as the app's
  `guessCurrency`; the generic CSV's `currency` column wins when given.
- A row with neither a code nor a name is skipped, as the app does; a row with a name
  but no code is refused (a holding is imported by its code). 楽天証券's ISINコード is
  turned into the fund's association code for the funds of the bundled table
  (`adapters/market/fund_isins.csv`); any other ISIN is refused.

The brokers' transaction histories (取引履歴) are not read: the app has no parser or
sample for them, and their columns are not guessed here."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from portfoliowise.adapters.ledger_files.collect import Collector
from portfoliowise.adapters.ledger_files.csv_rows import (
    CsvRow,
    CsvTable,
    cell,
    check_row_shape,
    find_columns,
    header_key,
    parse_broker_number,
)
from portfoliowise.adapters.ledger_files.model import LedgerFormat
from portfoliowise.adapters.ledger_files.positions import Positions
from portfoliowise.adapters.portfolio_files import FileFormatError
from portfoliowise.domain.errors import DomainError, UnknownSymbolError, ValidationError
from portfoliowise.domain.instruments import Instrument, parse_symbol
from portfoliowise.domain.money import Currency


@dataclass(frozen=True, slots=True)
class BrokerSpec:
    format: LedgerFormat
    label: str
    columns: dict[str, tuple[str, ...]]  # field -> the app's names, resolved in this order


# The app's candidate names (csvParsers.ts), per parser. Fields are resolved symbol first
# and name last, so that 銘柄 does not take the 銘柄コード column, and cost before price,
# so that `price` does not take `purchase_price`.
SBI: Final = BrokerSpec(
    LedgerFormat.SBI,
    "SBI証券",
    {
        "symbol": ("銘柄コード", "ティッカー", "コード"),
        "quantity": ("保有数量", "数量", "口数", "保有口数"),
        "cost": ("取得単価", "取得価額", "買付単価", "平均取得単価"),
        "price": ("現在値", "基準価額", "現在の基準価額"),
        "name": ("銘柄", "銘柄名", "ファンド名"),
    },
)
RAKUTEN: Final = BrokerSpec(
    LedgerFormat.RAKUTEN,
    "楽天証券",
    {
        "symbol": ("銘柄コード", "ISINコード", "コード", "ティッカー"),
        "quantity": ("数量", "口数", "保有数量", "保有口数"),
        "cost": ("取得単価", "取得価額", "買付単価", "平均取得単価"),
        "price": ("現在値", "基準価額", "時価"),
        "name": ("銘柄名", "銘柄", "ファンド名"),
    },
)
MONEX: Final = BrokerSpec(
    LedgerFormat.MONEX,
    "マネックス証券",
    {
        "symbol": ("銘柄コード", "銘柄コード（ISINコード）", "コード"),
        "quantity": ("保有数量", "保有口数", "数量", "口数"),
        "cost": ("平均取得単価", "取得単価", "買付単価"),
        "price": ("現在値", "基準価額", "時価"),
        "name": ("銘柄名", "ファンド名"),
    },
)
GENERIC: Final = BrokerSpec(
    LedgerFormat.POSITIONS_CSV,
    "holdings CSV",
    {
        "symbol": ("ticker", "symbol", "code", "銘柄コード", "コード", "ISINコード"),
        "quantity": ("holdings", "quantity", "shares", "数量", "口数", "保有数量", "保有口数"),
        "cost": (
            "purchasePrice",
            "cost",
            "purchase_price",
            "取得単価",
            "取得価額",
            "買付単価",
            "平均取得単価",
        ),
        "price": ("price", "価格", "現在値", "基準価額", "時価", "current_price"),
        "currency": ("currency", "通貨"),
        "name": ("name", "銘柄名", "銘柄", "ファンド名", "description"),
    },
)
SPECS: Final = {spec.format: spec for spec in (SBI, RAKUTEN, MONEX, GENERIC)}

_ISIN: Final = re.compile(r"[A-Z]{2}[A-Z0-9]{9}[0-9]")


def detect(cells: Sequence[str]) -> BrokerSpec | None:
    """The broker a header belongs to (the app's rules, on the header's cells)."""
    keys = [header_key(c) for c in cells]

    def has(name: str) -> bool:
        wanted = header_key(name)
        return any(wanted in key for key in keys)

    if has("銘柄コード") and (has("預り区分") or has("口座")):
        return SBI
    if (has("銘柄コード") or has("ISINコード")) and (has("トータルリターン") or has("楽天")):
        return RAKUTEN
    if has("銘柄コード") and has("評価損益"):
        return MONEX
    columns = find_columns(cells, GENERIC.columns, substrings=True)
    if "symbol" in columns and "quantity" in columns:
        return GENERIC
    return None


def read_rows(
    table: CsvTable, spec: BrokerSpec, collector: Collector, positions: Positions
) -> None:
    if spec is GENERIC and "costbasis" in {header_key(c) for c in table.header}:
        raise FileFormatError(
            "this is a portfolio CSV (holdings with a total costBasis): import it as a "
            "portfolio, not as activities"
        )
    columns = find_columns(table.header, spec.columns, substrings=True)
    width = len(table.header)
    for row in table.rows:
        symbol_text = cell(row, columns, "symbol").strip('"').strip()
        name = cell(row, columns, "name") or None
        if not symbol_text and not name:
            continue  # as the app: a row with neither is no holding
        collector.rows += 1
        try:
            _row(row, spec, columns, width, symbol_text, name, collector, positions)
        except DomainError as exc:
            collector.reject(row.line, exc)


def _row(
    row: CsvRow,
    spec: BrokerSpec,
    columns: dict[str, int],
    width: int,
    symbol_text: str,
    name: str | None,
    collector: Collector,
    positions: Positions,
) -> None:
    check_row_shape(row, width)
    if not symbol_text:
        raise ValidationError(
            f"no code (銘柄コード) for {name!r}: a holding known only by its name cannot be "
            "imported"
        )
    instrument = instrument_of(symbol_text)
    currency_text = cell(row, columns, "currency")
    currency = Currency.of(currency_text) if currency_text else instrument.currency
    positions.add(
        collector,
        line=row.line,
        instrument=instrument,
        currency=currency,
        quantity=parse_broker_number(cell(row, columns, "quantity"), "quantity"),
        cost_price=parse_broker_number(cell(row, columns, "cost"), "acquisition price"),
        price=parse_broker_number(cell(row, columns, "price"), "price"),
        name=name,
        id_parts=(spec.format.value, *row.cells),
    )


def instrument_of(text: str) -> Instrument:
    """A code as a broker writes it: a symbol, or a Japanese fund's ISIN when the bundled
    table knows the fund."""
    code = text.strip().upper()
    if _ISIN.fullmatch(code):
        from portfoliowise.adapters.market.funds import bundled_fund_isins

        for listing in bundled_fund_isins().values():
            if listing.isin == code:
                return parse_symbol(listing.code)
        raise UnknownSymbolError(
            text, "an ISIN this project cannot map to a fund code: give the 8-character code"
        )
    return parse_symbol(text)
