"""The Japanese brokers' holdings exports the existing web app imports (SBI証券, 楽天証券,
マネックス証券) and its generic holdings CSV, read as opening buys and holdings.

The headers, their detection and the sample rows are the app's: its parser
`frontend/webapp/src/utils/csvParsers.ts` and its tests
`frontend/webapp/src/__tests__/unit/utils/csvParsers.test.ts`
(github.com/Rih0z/portfolio-manager). The fixtures under `tests/fixtures/ledger/` are
those samples as the brokers publish files: CP932 bytes, CRLF line ends (written by
`tests/fixtures/ledger/make_ledger_fixtures.py`)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from portfoliowise.adapters.ledger_files import (
    LedgerFormat,
    LedgerImport,
    LedgerRejected,
    read_ledger,
)
from portfoliowise.adapters.portfolio_files import FileFormatError
from portfoliowise.domain.activities import ActivityType
from portfoliowise.domain.money import JPY, USD, Money
from portfoliowise.domain.portfolio import AssetClass

FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "ledger"
OPENING = date(2026, 11, 27)
UNKNOWN_COST = "opening position at the file's price: cost unknown"


def fixture(name: str) -> bytes:
    data = (FIXTURES / name).read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")  # the brokers' encoding, not UTF-8
    return data


def read(data: bytes, **kwargs: Any) -> LedgerImport:
    kwargs.setdefault("filename", None)
    kwargs.setdefault("mode", "partial")
    kwargs.setdefault("opening_date", OPENING)
    return read_ledger(data, **kwargs)


def sjis(text: str) -> bytes:
    return text.replace("\n", "\r\n").encode("cp932")


# -- detection: the app's detectBrokerFormat cases ---------------------------------------
@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("銘柄コード,銘柄名,預り区分,保有数量,取得単価,現在値", LedgerFormat.SBI),
        ("銘柄コード,銘柄名,口座,保有数量,取得単価,現在値", LedgerFormat.SBI),
        ("銘柄コード,銘柄名,口座区分,保有数量", LedgerFormat.SBI),
        ("銘柄コード,銘柄名,預り区分,評価損益,保有数量", LedgerFormat.SBI),  # SBI first
        ("銘柄コード,銘柄名,数量,取得単価,現在値,トータルリターン", LedgerFormat.RAKUTEN),
        ("ISINコード,銘柄名,数量,取得単価,現在値,トータルリターン", LedgerFormat.RAKUTEN),
        ("銘柄コード,銘柄,トータルリターン,保有数量", LedgerFormat.RAKUTEN),
        ("銘柄コード,銘柄名,楽天ポイント,数量", LedgerFormat.RAKUTEN),
        ("銘柄コード,銘柄名,保有数量,平均取得単価,現在値,評価損益", LedgerFormat.MONEX),
        (
            "銘柄コード,銘柄名,市場,保有数量,平均取得単価,現在値,評価額,評価損益,評価損益率",
            LedgerFormat.MONEX,
        ),
        ("銘柄コード,銘柄名,数量,価格", LedgerFormat.POSITIONS_CSV),
        ("ticker,price,holdings", LedgerFormat.POSITIONS_CSV),
        ("ticker,name,price,holdings,currency", LedgerFormat.POSITIONS_CSV),
    ],
)
def test_each_brokers_header_is_recognised(header: str, expected: LedgerFormat) -> None:
    cells = header.split(",")
    row = ",".join(
        {"銘柄コード": "7203", "ISINコード": "7203", "ticker": "7203"}.get(c, "100") for c in cells
    )

    result = read(sjis(f"{header}\n{row}\n"))

    assert result.format is expected


@pytest.mark.parametrize(
    "header", ["銘柄名,保有数量,評価損益", "銘柄,数量,価格", "保有銘柄,数量,価格"]
)
def test_a_holdings_file_without_codes_is_refused(header: str) -> None:
    # The app reads these as its generic format, each holding known by its name only;
    # a holding is imported here by its code, so there is nothing to import.
    with pytest.raises(FileFormatError, match="no known header"):
        read(sjis(f"{header}\nトヨタ,100,2500\n"))


# -- SBI証券 -------------------------------------------------------------------------------
def test_sbi_holdings_become_opening_buys_and_holdings() -> None:
    result = read(fixture("sbi_holdings.csv"), filename="sbi.csv")

    assert (result.format, result.encoding) == (LedgerFormat.SBI, "cp932")
    assert [
        (a.symbol, a.quantity, a.unit_price, a.currency, a.note) for a in result.activities
    ] == [
        ("7203", 100, 2000, JPY, "トヨタ"),
        ("7203", 1000, 2100, JPY, "トヨタ"),  # "1,000" and "￥2,100"
        ("9984", 50, 6000, JPY, "ソフトバンクG"),  # "\6000": Shift-JIS's yen sign
        ("0331418A", 500_000, 15000, JPY, "eMAXIS Slim 全世界株式（オール・カントリー）"),
        ("AAPL", 10, 175, USD, f"Apple Inc ({UNKNOWN_COST})"),
    ]
    assert all(a.type is ActivityType.BUY and a.day == OPENING for a in result.activities)
    assert result.unknown_cost == ("AAPL",)
    holdings = {h.symbol: h for h in result.holdings}
    assert list(holdings) == ["7203", "9984", "0331418A", "AAPL"]
    assert holdings["7203"].quantity == 1100  # the NISA and the taxable rows added up
    assert holdings["7203"].cost_basis == Money(Decimal(2_300_000), JPY)
    # Fund units are kept (the app would divide by 10,000); the price is per 10,000.
    assert holdings["0331418A"].cost_basis == Money(Decimal(750_000), JPY)
    assert holdings["0331418A"].asset_class is AssetClass.OTHER
    assert holdings["AAPL"].cost_basis is None
    (rejected,) = result.rejected  # the empty row is skipped, as the app does
    assert rejected.line == 8
    assert rejected.reason.startswith("no code (銘柄コード) for 'テストファンド名称'")


def test_a_broker_file_is_all_or_nothing_too() -> None:
    with pytest.raises(LedgerRejected, match=r"^sbi\.csv: 1 of 6 rows refused.*line 8: no code"):
        read(fixture("sbi_holdings.csv"), filename="sbi.csv", mode="all_or_nothing")


def test_the_apps_sbi_parser_fixture_with_a_forced_format() -> None:
    # parseSBICSV's own sample: its header names no broker, so the app's tests call
    # the SBI parser directly; `format` forces it here, as the app's forceFormat does.
    data = sjis(
        "ティッカー,ファンド名,保有数量,取得単価,現在値\n7203,トヨタ自動車,100,2000,2500\n"
        "9984,ソフトバンクG,50,6000,7000\n12345678,eMAXIS Slim,50000,15000,16000\n"
    )

    result = read(data, format="sbi", mode="all_or_nothing")

    assert result.format is LedgerFormat.SBI
    assert [(a.symbol, a.quantity, a.unit_price, a.note) for a in result.activities] == [
        ("7203", 100, 2000, "トヨタ自動車"),
        ("9984", 50, 6000, "ソフトバンクG"),
        ("12345678", 50_000, 15000, "eMAXIS Slim"),
    ]


@pytest.mark.parametrize(
    ("cells", "reason"),
    [
        ("7203,トヨタ,特定,-,2000,2500", "7203: no quantity (保有数量)"),
        ("7203,トヨタ,特定,100,-,--", "7203: neither an acquisition price (取得単価) nor"),
        ("7203,トヨタ,特定,100,0,0", "7203: neither an acquisition price"),
        ("7203,トヨタ,特定,100,abc,2500", "acquisition price is not a decimal number: 'abc'"),
        ("7203,トヨタ,特定,-100,2000,2500", "7203 quantity is out of range"),
        ("7203,トヨタ,特定,10000000000000,2000,2500", "quantity is out of range"),
        ("合計,,,,,1234567", "unknown symbol '合計'"),
        ("JP1234567890,テスト,特定,1,1,1", "an ISIN this project cannot map to a fund code"),
    ],
)
def test_a_bad_broker_row_is_refused_with_the_reason(cells: str, reason: str) -> None:
    data = sjis(f"銘柄コード,銘柄名,預り区分,保有数量,取得単価,現在値\n{cells}\n")

    (rejected,) = read(data).rejected

    assert rejected.line == 2
    assert reason in rejected.reason


def test_title_lines_before_the_header_and_repeated_headers_are_skipped() -> None:
    data = sjis(
        "保有証券一覧\n"
        "2026/11/27 現在\n"
        "\n"
        "銘柄コード,銘柄名,預り区分,保有数量,取得単価,現在値\n"
        "7203,トヨタ,特定,100,2000,2500\n"
        "\n"
        "銘柄コード,銘柄名,預り区分,保有数量,取得単価,現在値\n"
        "9984,ソフトバンクG,NISA,50,6000,7000\n"
        "9434,ソフトバンク,NISA,x,6000,7000\n"
    )

    result = read(data)

    assert [a.symbol for a in result.activities] == ["7203", "9984"]
    assert [r.line for r in result.rejected] == [9]


def test_a_symbol_listed_in_two_currencies_is_refused_on_its_second_row() -> None:
    data = sjis("ticker,name,holdings,purchasePrice,currency\nVTI,V,1,200,USD\nVTI,V,1,30000,JPY\n")

    result = read(data)

    assert result.format is LedgerFormat.POSITIONS_CSV
    (rejected,) = result.rejected
    assert (rejected.line, rejected.reason) == (3, "VTI is listed in USD on line 2, in JPY here")


def test_quantities_that_add_up_over_the_limit_are_a_file_error() -> None:
    data = sjis(
        "銘柄コード,銘柄名,預り区分,保有数量,取得単価,現在値\n"
        "0331418A,F,特定,900000000000,1,1\n0331418A,F,NISA,900000000000,1,1\n"
    )

    with pytest.raises(Exception, match=r"0331418A, its rows added up: .*quantity is out of range"):
        read(data)


# -- 楽天証券 -----------------------------------------------------------------------------
def test_rakuten_holdings() -> None:
    result = read(fixture("rakuten_holdings.csv"), mode="all_or_nothing")

    assert result.format is LedgerFormat.RAKUTEN
    assert [(a.symbol, a.quantity, a.unit_price, a.currency) for a in result.activities] == [
        ("7203", 100, 2000, JPY),
        ("9984", 50, 6000, JPY),
        ("VTI", 5, 200, USD),
    ]
    assert [h.cost_basis for h in result.holdings] == [
        Money(Decimal(200_000), JPY),
        Money(Decimal(300_000), JPY),
        Money(Decimal(1000), USD),
    ]


def test_rakuten_funds_by_isin() -> None:
    result = read(fixture("rakuten_funds_isin.csv"))

    (fund,) = result.activities
    assert (fund.symbol, fund.quantity, fund.unit_price) == ("0331418A", 30_000, 15000)
    (rejected,) = result.rejected
    assert rejected.line == 3
    assert rejected.code == "unknown_symbol"
    assert "'JP1234567890': an ISIN this project cannot map" in rejected.reason


# -- マネックス証券 -------------------------------------------------------------------------
def test_monex_stocks() -> None:
    result = read(fixture("monex_holdings.csv"), mode="all_or_nothing")

    assert result.format is LedgerFormat.MONEX
    assert [(a.symbol, a.quantity, a.unit_price, a.note) for a in result.activities] == [
        ("7203", 100, 2000, "トヨタ自動車"),  # 平均取得単価, not 現在値 or 評価額
        ("9984", 50, 6000, "ソフトバンクG"),
    ]


def test_monex_funds_and_us_stocks() -> None:
    result = read(fixture("monex_funds.csv"), mode="all_or_nothing")

    assert result.format is LedgerFormat.MONEX
    fund, apple = result.activities
    assert (fund.symbol, fund.quantity, fund.unit_price) == ("12345678", 50_000, 15000)
    assert (apple.symbol, apple.currency, apple.unit_price) == ("AAPL", USD, 150)
    assert result.holdings[0].cost_basis == Money(Decimal(75_000), JPY)


# -- the app's generic holdings CSV --------------------------------------------------------
def test_the_apps_generic_holdings_csv() -> None:
    data = (
        "ticker,name,price,holdings,currency,purchasePrice,annualFee\n"
        "AAPL,Apple Inc,175.50,10,usd,150,0\n"
        "VTI,Vanguard Total,220.00,5,USD,,0.03\n"
        "7203,トヨタ,2500,100,JPY,2000,0\n"
    ).encode()

    result = read(data, mode="all_or_nothing")

    assert result.format is LedgerFormat.POSITIONS_CSV
    assert result.encoding == "utf-8"
    assert [(a.symbol, a.unit_price, a.currency) for a in result.activities] == [
        ("AAPL", 150, USD),
        ("VTI", Decimal("220.00"), USD),
        ("7203", 2000, JPY),
    ]
    assert result.unknown_cost == ("VTI",)


def test_the_generic_holdings_csv_reads_japanese_headers_in_utf8_with_bom() -> None:
    data = b"\xef\xbb\xbf" + "銘柄コード,銘柄名,価格,数量\n7203,トヨタ,2500,100\n".encode()

    result = read(data, mode="all_or_nothing")

    assert (result.format, result.encoding) == (LedgerFormat.POSITIONS_CSV, "utf-8-sig")
    assert result.activities[0].note == f"トヨタ ({UNKNOWN_COST})"


def test_a_positions_file_without_an_opening_date_is_refused() -> None:
    with pytest.raises(FileFormatError, match=r"^m\.csv: a monex file lists holdings"):
        read_ledger(fixture("monex_holdings.csv"), filename="m.csv", mode="partial")
