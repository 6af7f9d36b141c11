"""Activities files (`adapters.ledger_files`): this project's CSV and lossless JSON,
Ghostfolio's export, the existing app's export, the prices CSV; format detection,
encodings, line numbers, the two modes, and the bounds no input gets past.

Ghostfolio's export is modelled on Ghostfolio's own import test files:
https://github.com/ghostfolio/ghostfolio/blob/main/test/import/ok/sample.json (FEE with
its amount in `fee`, BUY, DIVIDEND as quantity × unitPrice, a MANUAL asset keyed by a
generated id, a zero-quantity BUY),
https://github.com/ghostfolio/ghostfolio/blob/main/test/import/ok/msft-buy-with-dividend.json
(activities with an `id`) and
https://github.com/ghostfolio/ghostfolio/blob/main/test/import/not-ok/invalid-type-deprecated.json
(an ITEM activity)."""

from __future__ import annotations

import json
import time
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from portfoliowise.adapters.ledger_files import (
    MAX_FIELD_LENGTH,
    MAX_LEDGER_BYTES,
    MAX_REPORTED,
    MAX_ROWS,
    LedgerFormat,
    LedgerImport,
    LedgerRejected,
    read_ledger,
    read_prices,
    write_ledger_json,
)
from portfoliowise.adapters.portfolio_files import FileFormatError, load_portfolio
from portfoliowise.domain.activities import Activity, ActivityType
from portfoliowise.domain.errors import OutOfRange, PayloadTooLarge, ValidationError
from portfoliowise.domain.limits import MAX_QUANTITY
from portfoliowise.domain.money import JPY, USD

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "ledger"
HEADER = "date,type,symbol,quantity,unit_price,amount,fees,taxes,currency,fx_rate,note"
OPENING = date(2026, 11, 27)


def csv_bytes(*rows: str, header: str = HEADER, encoding: str = "utf-8") -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode(encoding)


def read(data: bytes, **kwargs: Any) -> LedgerImport:
    kwargs.setdefault("filename", None)
    kwargs.setdefault("mode", "partial")
    return read_ledger(data, **kwargs)


def domain_message(**fields: Any) -> str:
    """What the domain says about an activity with these fields."""
    base: dict[str, Any] = {"activity_id": "x", "day": date(2024, 1, 5), "currency": JPY}
    with pytest.raises(ValidationError) as caught:
        Activity(**(base | fields))
    return str(caught.value)


# -- this project's CSV ------------------------------------------------------------------
def test_the_csv_format_reads_every_activity_type_exactly() -> None:
    data = csv_bytes(
        "2024-01-04,deposit,,,,1000000,,,JPY,,",
        "2024-01-05,buy,7203,100,2450.5,,500,,JPY,,first lot",
        "2024-02-01,buy,VTI,3,236.12,,0.01,,USD,143.5,",
        '2024-03-29,dividend,7203,,,"6,000",,1218,,,',
        "2024-04-01,interest,,,,0.1,,,USD,,",
        "2024-04-02,fee,,,,330,,,JPY,,account fee",
        "2024-04-03,tax,7203,,,15,,,JPY,,",
        "2024-05-01,split,7203,2,,,,,,,",
        "2024-06-03,sell,7203,50,3000,,500,1000,JPY,,",
        "2024-07-01,withdrawal,,,,0.30,,,USD,,",
    )

    result = read(data, mode="all_or_nothing")

    assert result.format is LedgerFormat.GENERIC_CSV
    assert result.encoding == "utf-8"
    assert result.rows == 10
    assert result.rejected == ()
    assert [a.type for a in result.activities] == [
        ActivityType.DEPOSIT,
        ActivityType.BUY,
        ActivityType.BUY,
        ActivityType.DIVIDEND,
        ActivityType.INTEREST,
        ActivityType.FEE,
        ActivityType.TAX,
        ActivityType.SPLIT,
        ActivityType.SELL,
        ActivityType.WITHDRAWAL,
    ]
    buy = result.activities[1]
    assert (buy.day, buy.symbol, buy.quantity, buy.unit_price, buy.fees, buy.note) == (
        date(2024, 1, 5),
        "7203",
        Decimal(100),
        Decimal("2450.5"),
        Decimal(500),
        "first lot",
    )
    vti = result.activities[2]
    assert (vti.currency, vti.fx_rate, str(vti.unit_price)) == (USD, Decimal("143.5"), "236.12")
    dividend = result.activities[3]
    assert (dividend.amount, dividend.taxes, dividend.currency) == (Decimal(6000), 1218, JPY)
    assert str(result.activities[9].amount) == "0.30"  # the digits as written
    assert all(
        isinstance(value, Decimal)
        for a in result.activities
        for value in (a.quantity, a.unit_price, a.amount, a.fees, a.taxes)
    )


def test_header_names_are_matched_loosely_and_have_aliases() -> None:
    header = "Date,Action,Ticker,Qty,unitPrice,Amount,Commission,Tax,CCY,fxRate,Comment,ID"
    data = csv_bytes("2024/1/5,Buy,brk.b,2,410.10,,1,,,,,my-id", header=header)

    (activity,) = read(data, mode="all_or_nothing").activities

    assert activity.activity_id == "my-id"
    assert (activity.day, activity.type, activity.symbol) == (date(2024, 1, 5), "buy", "BRK-B")
    assert (activity.currency, activity.fees) == (USD, Decimal(1))  # the symbol's currency


def test_a_tab_separated_file_is_read_too() -> None:
    data = "date\ttype\tsymbol\tquantity\tunit_price\n2024-01-05\tbuy\t7203\t100\t2450\n"

    (activity,) = read(data.encode(), mode="all_or_nothing").activities

    assert activity.quantity == 100


def test_ids_are_made_from_the_content_the_same_each_time() -> None:
    data = csv_bytes("2024-01-05,buy,7203,100,2450,,,,,,", "2024-01-05,buy,7203,100,2450,,,,,,")

    first = [a.activity_id for a in read(data).activities]
    again = [a.activity_id for a in read(data).activities]

    assert first == again
    assert first[0] != first[1]
    assert first[1] == first[0] + "-2"
    assert all(i.startswith("csv-") for i in first)


def test_a_csv_without_the_date_and_type_columns_is_no_activities_file() -> None:
    with pytest.raises(FileFormatError, match=r"^book\.csv: no known header in the first 20"):
        read(b"when,what\n2024-01-05,buy\n", filename="book.csv")


# -- line numbers, modes -----------------------------------------------------------------
MIXED = (
    HEADER,
    "2024-01-05,buy,7203,100,2450,,,,,,",  # line 2
    "",  # line 3: blank
    "2024-01-06,buy,7203,100,,,,,,,",  # line 4: no unit price
    '2024-01-07,buy,7203,100,2450,,,,,,"two',  # line 5, its note on two lines
    'lines"',  # line 6
    "2024-13-01,buy,7203,100,2450,,,,,,",  # line 7: no such date
    "2024-01-08,hold,7203,100,2450,,,,,,",  # line 8: unknown type
    "2024-01-09,buy,ZZZZZZZZZ,1,1,,,,,,",  # line 9: unknown symbol
    "2024-01-10,buy,7203,100,2450,,,,,,",  # line 10
)


def test_partial_mode_returns_the_good_rows_and_lists_the_others_by_line() -> None:
    result = read(("\n".join(MIXED) + "\n").encode(), mode="partial")

    assert [a.day.day for a in result.activities] == [5, 7, 10]
    assert result.activities[1].note == "two\nlines"
    assert [(r.line, r.code) for r in result.rejected] == [
        (4, "validation_error"),
        (7, "validation_error"),
        (8, "validation_error"),
        (9, "unknown_symbol"),
    ]
    assert result.rejected[0].reason == "a buy needs a unit price"
    assert result.rejected[1].reason == "no such date: '2024-13-01'"
    assert result.rejected[2].reason.startswith("activity type must be one of buy, sell")
    assert result.rejected[3].reason.startswith("unknown symbol 'ZZZZZZZZZ'")
    assert result.rows == 7


def test_all_or_nothing_mode_refuses_the_file_naming_each_line() -> None:
    with pytest.raises(LedgerRejected) as caught:
        read(("\n".join(MIXED) + "\n").encode(), filename="mine.csv", mode="all_or_nothing")

    error = caught.value
    assert isinstance(error, ValidationError)
    assert error.code == "rows_rejected"
    assert str(error).startswith("mine.csv: 4 of 7 rows refused, nothing imported: line 4: ")
    assert "line 7: no such date" in str(error)
    assert "line 9: unknown symbol" in str(error)
    assert [r.line for r in error.rejected] == [4, 7, 8, 9]
    assert "\n" not in str(error)  # one line, for the CLI


def test_all_or_nothing_lists_the_first_twenty_problems_and_the_count() -> None:
    rows = [f"2024-01-05,buy,7203,{-i - 1},2450,,,,,," for i in range(45)]

    with pytest.raises(LedgerRejected) as caught:
        read(csv_bytes(*rows), mode="all_or_nothing")

    message = str(caught.value)
    assert message.startswith("45 of 45 rows refused, nothing imported: line 2: quantity")
    assert message.count("line ") == MAX_REPORTED
    assert "line 21:" in message
    assert "line 22:" not in message
    assert message.endswith("; and 25 more")
    assert len(caught.value.rejected) == 45


def test_lines_ending_in_a_carriage_return_alone_are_counted_too() -> None:
    data = b"date,type,symbol,quantity,unit_price\r2024-01-05,buy,7203,1,1\r\r"
    data += b"2024-01-05,buy,7203,-2,1\r"

    (rejected,) = read(data).rejected

    assert rejected.line == 4


def test_a_quote_left_open_is_a_file_error_not_rows_taken_into_a_note() -> None:
    data = csv_bytes(
        '2024-01-05,buy,7203,1,1,,,,,,"open',
        "2024-01-06,buy,7203,1,1,,,,,,",
        '2024-01-07,buy,7203,1,1,,,,,,"closed"here',
    )

    with pytest.raises(FileFormatError, match=r"^a\.csv: line 4: malformed CSV"):
        read(data, filename="a.csv")
    with pytest.raises(FileFormatError, match=r"malformed CSV \(unexpected end of data\)"):
        read(csv_bytes('2024-01-05,buy,7203,1,1,,,,,,"open', "2024-01-06,buy,7203,1,1,,,,,,"))


def test_a_cell_over_the_csv_readers_own_limit_is_a_file_error() -> None:
    data = csv_bytes(f"2024-01-05,buy,7203,1,1,,,,,,{'x' * 200_000}")

    with pytest.raises(OutOfRange, match=r"^f\.csv: line 2: a CSV cell is too long"):
        read(data, filename="f.csv")


def test_an_unknown_mode_is_refused() -> None:
    with pytest.raises(ValidationError, match="mode must be one of all_or_nothing, partial"):
        read_ledger(csv_bytes(), filename=None, mode="some")  # type: ignore[arg-type]


# -- the domain's limits -----------------------------------------------------------------
def test_a_row_over_the_limits_is_refused_with_the_domains_out_of_range_reason() -> None:
    too_many = MAX_QUANTITY + 1
    data = csv_bytes(f"2024-01-05,buy,7203,{too_many},1,,,,,,", "2024-01-05,buy,7203,1,1,,,,,,")

    result = read(data)

    (rejected,) = result.rejected
    assert rejected.line == 2
    assert rejected.code == "out_of_range"
    assert rejected.reason == domain_message(
        type=ActivityType.BUY, symbol="7203", quantity=too_many, unit_price=Decimal(1)
    )
    assert "quantity is out of range" in rejected.reason
    assert len(result.activities) == 1


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ("2024-01-05,buy,7203,1,0.00000000001,,,,,,", "unit price is out of range"),
        ("2024-01-05,deposit,,,,1,,,JPY,,", None),
        ("2024-01-05,deposit,,,,-1,,,JPY,,", "amount is out of range"),
        ("1899-12-31,deposit,,,,1,,,JPY,,", "activity date must be from 1900-01-01"),
        ("2024-01-05,split,7203,10000,,,,,,,", "split ratio is out of range"),
        ("2024-01-05,deposit,7203,,,1,,,JPY,,", "a deposit names no symbol"),
        ("2024-01-05,deposit,,,,1,,,XYZ,,", "unknown currency code: 'XYZ'"),
        ("2024-01-05,buy,7203,1,1,,,,,0,", "fx rate is out of range"),
        ("2024-01-05,buy,7203,1e2,1,,,,,,", "quantity is not a decimal number: '1e2'"),
        ("2024-01-05,buy,7203,1.234.5,1,,,,,,", "quantity is not a decimal number"),
        ('2024-01-05,buy,7203,"1,23",1,,,,,,', "quantity is not a decimal number"),
        ("2024-01-05,dividend,7203,,,,,,,,", "a dividend needs an amount"),
        ("2024-01-05,deposit,,,,1,,,,,", "a deposit without a symbol needs a currency"),
    ],
)
def test_each_rule_of_the_domain_holds_for_a_csv_row(row: str, expected: str | None) -> None:
    result = read(csv_bytes(row))

    if expected is None:
        assert result.rejected == ()
    else:
        (rejected,) = result.rejected
        assert expected in rejected.reason


def test_a_note_over_the_limit_is_refused() -> None:
    note = "n" * 201

    (rejected,) = read(csv_bytes(f"2024-01-05,buy,7203,1,1,,,,,,{note}")).rejected

    assert rejected.reason == "an activity's note is at most 200 characters"


def test_a_cell_over_the_field_limit_is_refused_and_not_echoed() -> None:
    long_cell = "x" * (MAX_FIELD_LENGTH + 1)

    (rejected,) = read(csv_bytes(f"2024-01-05,buy,7203,1,1,,,,,,{long_cell}")).rejected

    assert rejected.code == "out_of_range"
    assert rejected.reason.startswith("a cell is out of range (at most 1,000 characters)")
    assert len(rejected.reason) < 200


def test_a_row_with_cells_beyond_the_header_is_refused() -> None:
    (rejected,) = read(csv_bytes("2024-01-05,buy,7203,1,1,,,,,,,surprise")).rejected

    assert rejected.reason == "12 cells, but the header has 11 columns (extra 'surprise')"


def test_a_header_with_too_many_columns_is_refused() -> None:
    header = HEADER + "," + ",".join(f"x{i}" for i in range(100))

    with pytest.raises(OutOfRange, match=r"line 1: too many columns \(111, at most 64\)"):
        read(csv_bytes(header=header))


def test_a_200_mb_file_is_refused_before_it_is_read() -> None:
    data = bytes(200 * 1024 * 1024)

    started = time.perf_counter()
    with pytest.raises(PayloadTooLarge, match=r"^big\.csv: the file is 209,715,200 bytes"):
        read(data, filename="big.csv")

    assert time.perf_counter() - started < 1
    assert len(data) > MAX_LEDGER_BYTES


def test_a_million_row_csv_is_refused_before_its_rows_are_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from portfoliowise.adapters.ledger_files import generic_csv

    built = []
    monkeypatch.setattr(generic_csv, "_activity", lambda *args: built.append(args))
    data = ("date,type\n" + "2024-01-05,buy\n" * 1_000_000).encode()

    started = time.perf_counter()
    with pytest.raises(OutOfRange, match=r"too many activities \(at most 100,000\)"):
        read(data)

    assert time.perf_counter() - started < 10
    assert built == []  # refused by the count, before any row was read


def test_a_csv_of_blank_lines_is_refused() -> None:
    data = ("date,type\n" + "\n" * (MAX_ROWS + 20_000)).encode()

    with pytest.raises(OutOfRange, match=r"too many lines \(at most 110,000\)"):
        read(data)


def test_the_largest_csv_allowed_is_read() -> None:
    rows = "".join(f"2024-01-05,buy,7203,{i + 1},1\n" for i in range(2000))

    result = read(f"date,type,symbol,quantity,unit_price\n{rows}".encode())

    assert len(result.activities) == 2000


# -- encodings and garbage ---------------------------------------------------------------
def test_utf8_with_a_byte_order_mark() -> None:
    data = b"\xef\xbb\xbf" + csv_bytes("2024-01-05,buy,7203,100,2450,,,,,,トヨタ")

    result = read(data, mode="all_or_nothing")

    assert result.encoding == "utf-8-sig"
    assert result.activities[0].note == "トヨタ"


def test_shift_jis_with_japanese_headers_and_types() -> None:
    data = (FIXTURES / "activities_ja.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")  # really CP932 bytes

    result = read(data, mode="all_or_nothing")

    assert (result.encoding, result.format) == ("cp932", LedgerFormat.GENERIC_CSV)
    buy, dividend, deposit = result.activities
    assert (buy.type, buy.day, buy.symbol, buy.note) == (
        "buy",
        date(2024, 1, 5),
        "7203",
        "初回購入",
    )
    assert (dividend.type, dividend.amount, dividend.taxes) == ("dividend", 6000, 1218)
    assert (deposit.type, deposit.amount, deposit.currency) == ("deposit", 100000, JPY)


def test_utf16_is_refused_with_a_hint() -> None:
    data = "date,type\n".encode("utf-16")

    with pytest.raises(FileFormatError, match="UTF-16 text is not read: save the file as CSV"):
        read(data)


@pytest.mark.parametrize(
    "data",
    [
        bytes(range(256)) * 4,
        b"\x00\x01\x02PK\x03\x04" + bytes(500),  # a zip's start
        b"\x89PNG\r\n\x1a\n" + bytes(range(200)),
        b"\xfd\xfc\xff\xff",
        bytes((i * 7919) % 251 for i in range(5000)),
    ],
)
def test_garbage_bytes_are_a_clean_file_error(data: bytes) -> None:
    with pytest.raises(FileFormatError, match=r"^junk\.bin: not (a text file|UTF-8 or Shift)"):
        read(data, filename="junk.bin")


def test_text_that_is_neither_csv_nor_json_is_a_clean_error() -> None:
    with pytest.raises(FileFormatError, match="no known header"):
        read("これはただの文章です。\n二行目。\n".encode("cp932"))
    with pytest.raises(FileFormatError, match="no known header"):
        read(b"")


def test_a_json_file_name_with_other_content_says_it_is_not_json() -> None:
    with pytest.raises(FileFormatError, match=r"^a\.json: not valid JSON"):
        read(b"date,type\n", filename="a.json")


# -- this project's JSON -----------------------------------------------------------------
def ledger() -> list[Activity]:
    return [
        Activity("d1", ActivityType.DEPOSIT, date(2024, 1, 4), JPY, amount=Decimal("1E+6")),
        Activity(
            "b1",
            ActivityType.BUY,
            date(2024, 1, 5),
            JPY,
            "7203",
            quantity=Decimal("100"),
            unit_price=Decimal("2450.50"),
            fees=Decimal("0.0"),
            note='first "lot"\nnotes: ＮＩＳＡ',
        ),
        Activity(
            "v1",
            ActivityType.DIVIDEND,
            date(2024, 3, 1),
            USD,
            "VTI",
            amount=Decimal("0.8270"),
            taxes=Decimal("0.12"),
            fx_rate=Decimal("150.0000000001"),
        ),
    ]


def test_the_json_export_reads_back_the_same_activities() -> None:
    text = write_ledger_json(ledger(), base_currency="JPY", cost_basis="fifo")

    result = read(text.encode(), filename="ledger.json", mode="all_or_nothing")

    assert result.format is LedgerFormat.NATIVE
    assert (result.base_currency, result.cost_basis) == (JPY, "fifo")
    assert result.activities == tuple(ledger())
    assert [str(a.amount) for a in result.activities] == ["1E+6", "0", "0.8270"]
    assert str(result.activities[1].fees) == "0.0"


def test_the_json_export_is_one_activity_a_line_with_decimal_strings() -> None:
    text = write_ledger_json(ledger(), base_currency=JPY)
    document = json.loads(text)
    lines = text.splitlines()

    assert document["format"] == "portfoliowise/activities@1"
    assert document["costBasis"] == "average"
    assert document["activities"][1]["unitPrice"] == "2450.50"
    assert len(lines) == 2 + len(ledger())
    assert json.loads(lines[2].rstrip(","))["id"] == "b1"


def test_the_json_export_of_nothing_reads_back_as_nothing() -> None:
    text = write_ledger_json([], base_currency="USD")

    result = read(text.encode(), mode="all_or_nothing")

    assert (result.activities, result.base_currency) == ((), USD)


def test_the_json_export_refuses_an_unknown_cost_basis_method() -> None:
    with pytest.raises(ValidationError, match="cost basis must be one of average, fifo"):
        write_ledger_json([], base_currency="JPY", cost_basis="lifo")  # type: ignore[arg-type]


def native(items: list[dict[str, Any]], **top: Any) -> bytes:
    document = {"format": "portfoliowise/activities@1", "baseCurrency": "JPY"} | top
    document["activities"] = items
    return json.dumps(document, indent=2).encode()


def test_a_bad_json_item_is_refused_on_its_line() -> None:
    good = {"id": "a", "type": "buy", "date": "2024-01-05", "currency": "JPY", "symbol": "7203"}
    data = native(
        [
            good | {"quantity": "1", "unitPrice": "2"},
            good | {"id": "b", "quantity": "1", "unitPrice": 2.5},  # a JSON number: fine
            good | {"id": "c", "quantity": "1", "unitPrice": "2", "colour": "red"},
            good | {"id": "a", "quantity": "1", "unitPrice": "2"},  # the id again
            good | {"id": "d", "quantity": True, "unitPrice": "2"},
            good | {"id": "e", "date": "2024/01/05", "quantity": "1", "unitPrice": "2"},
        ]
    )

    result = read(data)

    assert [a.activity_id for a in result.activities] == ["a", "b"]
    assert result.activities[1].unit_price == Decimal("2.5")
    lines = data.decode().splitlines()
    assert [(r.where, r.reason) for r in result.rejected] == [
        ("activities[2]", "unknown field 'colour'"),
        ("activities[3]", "a second activity with id 'a'"),
        ("activities[4]", "`quantity` must be a decimal, not True"),
        ("activities[5]", "`date` must be YYYY-MM-DD, not '2024/01/05'"),
    ]
    for rejected in result.rejected:
        assert lines[rejected.line - 1].strip() == "{"  # the line the item starts on
    assert [r.line for r in result.rejected] == sorted({r.line for r in result.rejected})


def test_the_json_file_is_checked_as_a_whole() -> None:
    item = {"id": "a", "type": "deposit", "date": "2024-01-05", "currency": "JPY", "amount": "1"}

    with pytest.raises(FileFormatError, match="unknown key 'extra'"):
        read(native([item], extra=1))
    with pytest.raises(FileFormatError, match="`costBasis` must be one of average, fifo"):
        read(native([item], costBasis="lifo"))
    with pytest.raises(FileFormatError, match="baseCurrency: unknown currency code: 'XYZ'"):
        read(native([item], baseCurrency="XYZ"))
    with pytest.raises(FileFormatError, match=r"not valid JSON \(Expecting"):
        read(b'{"format": "portfoliowise/activities@1", "activities": [{"id": }]}')
    with pytest.raises(FileFormatError, match="a portfoliowise/portfolio@1 file is not an"):
        read(b'{"format": "portfoliowise/portfolio@1", "holdings": []}')
    with pytest.raises(FileFormatError, match=r"a portfolio file \(holdings\)"):
        read(b'{"holdings": []}')
    with pytest.raises(FileFormatError, match="not an activities file"):
        read(b'{"name": "x"}')
    with pytest.raises(FileFormatError, match=r"a JSON activities file is an object"):
        read(b"[1, 2]")


def test_a_json_array_of_a_million_items_is_refused_fast(monkeypatch: pytest.MonkeyPatch) -> None:
    from portfoliowise.adapters.ledger_files import ghostfolio

    built = []
    monkeypatch.setattr(ghostfolio, "_activity", lambda *args: built.append(args))
    data = b'{"activities": [' + b",".join([b'{"type":"BUY"}'] * 1_000_000) + b"]}"

    started = time.perf_counter()
    with pytest.raises(OutOfRange, match=r"too many activities \(at most 100,000\)"):
        read(data)

    assert time.perf_counter() - started < 10
    assert built == []


def test_a_huge_json_item_is_refused_without_being_built() -> None:
    data = b'{"activities": [{"comment": [' + b",".join([b"1.5"] * 2_000_000) + b"]}]}"

    (rejected,) = read(data).rejected

    assert rejected.reason == "the item is too large (at most 65,536 bytes)"
    assert rejected.code == "out_of_range"


def test_json_nested_too_deep_is_refused() -> None:
    data = b'{"activities": [' + b"[" * 100 + b"]" * 100 + b"]}"

    with pytest.raises(FileFormatError, match="JSON nested deeper than 32 levels"):
        read(data)


# -- Ghostfolio --------------------------------------------------------------------------
def ghostfolio_export(*activities: dict[str, Any]) -> bytes:
    """A Ghostfolio export shaped like its test/import/ok/sample.json."""
    document = {
        "meta": {"date": "2023-02-05T00:00:00.000Z", "version": "dev"},
        "accounts": [
            {
                "balance": 2000,
                "balances": [{"date": "2024-12-31T00:00:00.000Z", "value": 2000}],
                "currency": "USD",
                "id": "4c1a-account",
                "name": "My Online Trading Account",
            }
        ],
        "assetProfiles": [{"dataSource": "MANUAL", "symbol": "1f0e-manual", "marketData": []}],
        "activities": list(activities),
        "user": {"settings": {"currency": "USD", "performanceCalculationType": "ROAI"}},
    }
    return json.dumps(document, indent=2, ensure_ascii=False).encode()


def gf(type_: str, symbol: str | None, **fields: Any) -> dict[str, Any]:
    activity = {
        "accountId": "4c1a-account",
        "comment": None,
        "fee": 0,
        "quantity": 0,
        "type": type_,
        "unitPrice": 0,
        "currency": "USD",
        "dataSource": "YAHOO",
        "date": "2021-09-16T00:00:00.000Z",
        "symbol": symbol,
        "tags": [],
    }
    return activity | fields


def test_ghostfolios_sample_export() -> None:
    data = ghostfolio_export(
        gf("FEE", "1f0e-manual", fee=49, dataSource="MANUAL", date="2021-09-01T00:00:00.000Z"),
        gf("BUY", "MSFT", fee=19, quantity=5, unitPrice=298.58, comment="My first order 🤓"),
        gf("DIVIDEND", "MSFT", quantity=5, unitPrice=0.62, date="2021-11-17T00:00:00.000Z"),
        gf(
            "BUY",
            "7e91b7d4-1430-4212-8380-289a06c9bbc1",
            quantity=1,
            unitPrice=500000,
            dataSource="MANUAL",
            accountId=None,
        ),
        gf("BUY", "MSFT", date="2050-06-06T00:00:00.000Z"),
    )

    result = read(data, filename="ghostfolio.json")

    assert result.format is LedgerFormat.GHOSTFOLIO
    fee, buy, dividend = result.activities
    assert (fee.type, fee.symbol, fee.amount, fee.currency, fee.day) == (
        ActivityType.FEE,
        None,
        Decimal(49),
        USD,
        date(2021, 9, 1),
    )
    assert (buy.symbol, buy.quantity, buy.unit_price, buy.fees, buy.note) == (
        "MSFT",
        5,
        Decimal("298.58"),
        19,
        "My first order 🤓",
    )
    assert (dividend.type, dividend.amount, str(dividend.amount)) == (
        "dividend",
        Decimal("3.1"),
        "3.10",
    )
    assert [(r.where, r.code) for r in result.rejected] == [
        ("activities[3]", "unknown_symbol"),
        ("activities[4]", "validation_error"),
    ]
    assert result.rejected[1].reason == "a buy needs a quantity above 0"
    lines = data.decode().splitlines()
    assert all(lines[r.line - 1].strip() == "{" for r in result.rejected)


def test_ghostfolio_types_and_symbols() -> None:
    data = ghostfolio_export(
        gf("INTEREST", None, quantity=1, unitPrice=12.5, dataSource="MANUAL"),
        gf("SELL", "7203.T", quantity=100, unitPrice=2500, currency="JPY", fee=55),
        gf("BUY", "VOD.L", quantity=10, unitPrice=7250, currency="GBp"),
        gf("BUY", "VOD", quantity=10, unitPrice=7250, currency="GBp", dataSource="MANUAL"),
        gf("BUY", "bitcoin", quantity=1, unitPrice=1, dataSource="COINGECKO"),
        gf("ITEM", "Penthouse Apartment", quantity=1, unitPrice=500000, dataSource="MANUAL"),
        gf("LIABILITY", "Mortgage", quantity=1, unitPrice=1000, dataSource="MANUAL"),
        gf("STAKE", "ETH", quantity=1, unitPrice=1),
        {**gf("BUY", "AAPL", quantity=1, unitPrice=150), "id": "ac5970cf-4bb9-5385"},
        gf("BUY", "AAPL", quantity=1, unitPrice=150, date="16.09.2021"),
    )

    result = read(data)

    interest, sell, pence, aapl = result.activities
    assert (interest.type, interest.symbol, interest.amount) == ("interest", None, Decimal("12.5"))
    assert (sell.symbol, sell.currency, sell.fees) == ("7203", JPY, 55)
    assert (pence.currency.code, pence.unit_price, pence.symbol) == ("GBP", Decimal("72.5"), "VOD")
    assert aapl.activity_id == "ac5970cf-4bb9-5385"
    reasons = {r.where: r.reason for r in result.rejected}
    assert reasons["activities[2]"].endswith("a Yahoo symbol of exchange .L (Tokyo and US only)")
    assert reasons["activities[4]"].endswith("a crypto asset (COINGECKO) is not tracked")
    assert reasons["activities[5]"] == "a valuable (ITEM) is not an investment this project tracks"
    assert reasons["activities[6]"].startswith("a liability (LIABILITY) is not")
    assert reasons["activities[7]"].startswith("Ghostfolio type 'STAKE' is not read")
    assert reasons["activities[9]"] == "`date` is not an ISO 8601 date-time: '16.09.2021'"


def test_ghostfolio_numbers_are_never_floats() -> None:
    data = ghostfolio_export(gf("BUY", "AAPL", quantity=0.1, unitPrice=0.2, fee=0.3))

    (buy,) = read(data, mode="all_or_nothing").activities

    assert (str(buy.quantity), str(buy.unit_price), str(buy.fees)) == ("0.1", "0.2", "0.3")
    assert buy.gross == Decimal("0.02")


# -- the existing app's export -----------------------------------------------------------
def test_the_existing_apps_export_becomes_opening_buys_at_its_prices() -> None:
    path = ROOT / "examples" / "legacy-export.json"

    result = read(path.read_bytes(), opening_date=OPENING, mode="all_or_nothing")

    assert result.format is LedgerFormat.LEGACY_EXPORT
    assert result.base_currency == JPY
    assert [(a.symbol, a.quantity, a.unit_price, a.currency) for a in result.activities] == [
        ("7203", 200, 2865, JPY),
        ("VTI", 40, Decimal("301.45"), USD),
        ("BND", 30, Decimal("73.02"), USD),
        ("0331418A", 1_200_000, 29874, JPY),  # 120 lots of 10,000 units
    ]
    assert {a.day for a in result.activities} == {OPENING}
    assert all(a.type is ActivityType.BUY for a in result.activities)
    assert result.unknown_cost == ("7203", "VTI", "BND", "0331418A")  # the export has no cost
    assert all(h.cost_basis is None for h in result.holdings)
    loaded = load_portfolio(path, at=datetime(2026, 11, 27, tzinfo=UTC)).portfolio
    assert [(h.symbol, h.quantity, h.asset_class) for h in result.holdings] == [
        (h.symbol, h.quantity, h.asset_class) for h in loaded.holdings
    ]


def test_an_assets_purchase_price_and_date_are_its_cost() -> None:
    export = {
        "baseCurrency": "JPY",
        "currentAssets": [
            {
                "ticker": "7203.T",
                "name": "トヨタ",
                "holdings": 100,
                "price": 2865,
                "purchasePrice": 2000,
                "purchaseDate": "2023-04-01",
            },
            {"ticker": "0331418A", "holdings": 5, "price": 29874, "purchasePrice": 20000},
            {"ticker": "AAPL", "holdings": 1, "price": 0},
        ],
    }

    result = read(json.dumps(export).encode(), opening_date=OPENING)

    toyota, fund = result.activities
    assert (toyota.day, toyota.unit_price, toyota.note) == (date(2023, 4, 1), 2000, "トヨタ")
    assert (fund.day, fund.quantity, fund.unit_price) == (OPENING, 50_000, 20000)
    assert [h.cost_basis.amount for h in result.holdings if h.cost_basis] == [200_000, 100_000]
    assert result.unknown_cost == ()
    (rejected,) = result.rejected
    assert (rejected.where, rejected.line) == ("currentAssets[2]", 1)
    assert "neither an acquisition price" in rejected.reason


def test_a_positions_file_needs_the_import_date() -> None:
    path = ROOT / "examples" / "legacy-export.json"

    with pytest.raises(FileFormatError, match=r"legacy-export file lists holdings.*opening_date"):
        read(path.read_bytes(), filename="export.json")


# -- format detection --------------------------------------------------------------------
def test_a_forced_format_must_be_the_files() -> None:
    text = write_ledger_json(ledger(), base_currency="JPY").encode()

    assert read(text, format="portfoliowise/activities@1").format is LedgerFormat.NATIVE
    with pytest.raises(FileFormatError, match="is a portfoliowise/activities@1 file, not ghost"):
        read(text, format=LedgerFormat.GHOSTFOLIO)
    with pytest.raises(ValidationError, match="format must be one of"):
        read(text, format="excel")


def test_this_projects_portfolio_csv_is_pointed_to_the_portfolio_import() -> None:
    data = b"symbol,quantity,costBasis,costBasisCurrency\n7203,100,245000,JPY\n"

    with pytest.raises(FileFormatError, match="this is a portfolio CSV"):
        read(data, opening_date=OPENING)


# -- prices ------------------------------------------------------------------------------
PRICES = """date,symbol,close,currency
2024-01-05,7203.T,2650,
2024-01-04,7203,2600,JPY
2024-01-04,VTI,236.12,USD
2024-01-04,USDJPY,143.52,
2024/01/05,USD-JPY,"1,44.10",
2024-01-05,USD/JPY,144.10,JPY
2024-01-05,0331418A,23456,
"""


def test_prices_give_daily_closes_and_fx_rates() -> None:
    prices = read_prices(
        PRICES.replace('"1,44.10"', "144.05").encode(), filename=None, mode="partial"
    )

    assert sorted(prices.closes) == ["0331418A", "7203", "VTI"]
    toyota = prices.closes["7203"]
    assert (toyota.symbol, toyota.currency, toyota.source) == ("7203", "JPY", "file")
    assert [(c.day.day, c.close) for c in toyota.closes] == [(4, 2600), (5, 2650)]
    assert prices.closes["VTI"].currency == "USD"
    usd_jpy = prices.fx["USD-JPY"]
    assert usd_jpy.currency == "JPY"
    assert [(c.day.day, str(c.close)) for c in usd_jpy.closes] == [(4, "143.52"), (5, "144.05")]
    (rejected,) = prices.rejected
    assert (rejected.line, rejected.reason) == (7, "a second close for USD-JPY on 2024-01-05")


def test_prices_never_answer_with_a_later_close() -> None:
    prices = read_prices(
        PRICES.replace('"1,44.10"', "144.05").encode(), filename=None, mode="partial"
    )

    assert prices.close_on("7203.T", date(2024, 1, 3)) is None
    assert prices.close_on("7203", date(2024, 1, 4)).close == 2600  # type: ignore[union-attr]
    assert prices.close_on("7203", date(2024, 2, 1)).close == 2650  # type: ignore[union-attr]
    (rate,) = prices.rates_on(date(2024, 1, 4))
    assert (rate.pair, rate.rate, rate.as_of) == (
        "USD-JPY",
        Decimal("143.52"),
        datetime(2024, 1, 4, tzinfo=UTC),
    )
    assert prices.rates_on(date(2024, 1, 3)) == ()


def test_bad_price_rows_are_reported_by_line() -> None:
    data = """date,symbol,close,currency
2024-01-04,7203,0,
2024-01-04,VTI,236.12,JPY
2024-01-05,VTI,240,USD
2024-01-04,USD-JPY,143.52,USD
2024-01-04,EUR-USD,10000000,
2024-01-06,7203,,
not a date,7203,1,
2024-01-07,ZZZZZZZZZ,1,
"""

    with pytest.raises(LedgerRejected) as caught:
        read_prices(data.encode(), filename="prices.csv")

    lines = {r.line: r.reason for r in caught.value.rejected}
    assert sorted(lines) == [2, 4, 5, 6, 7, 8, 9]
    assert lines[2].startswith("7203 close is out of range (above 0 to 1,000,000,000")
    assert lines[4] == "VTI has closes in JPY (line 3), not USD"
    assert lines[5] == "USD-JPY is a rate in JPY, not USD"
    assert lines[6].startswith("EUR-USD rate is out of range")
    assert lines[7] == "7203: no close"
    assert str(caught.value).startswith("prices.csv: 7 of 8 rows refused")


def test_a_prices_file_needs_its_three_columns() -> None:
    with pytest.raises(FileFormatError, match=r"^p\.csv: no known header"):
        read_prices(b"date,symbol\n2024-01-04,7203\n", filename="p.csv")


def test_prices_in_shift_jis() -> None:
    data = "日付,銘柄コード,終値\n2024/01/04,7203,2600\n".encode("cp932")

    prices = read_prices(data, filename=None)

    assert prices.encoding == "cp932"
    assert prices.closes["7203"].closes[0].close == 2600
