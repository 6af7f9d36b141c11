"""`portfoliowise performance LEDGER --prices PRICES.csv`: the bundled example files end
to end, figures checked against hand-computed values, ranges, the base currency, the two
cost methods, partial imports, one-line errors, missing prices reported (never invented),
and a fresh interpreter that never loads the API, the AWS SDK, pandas or yfinance."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from portfoliowise.handlers.cli import EXIT_USER_ERROR, main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
ACTIVITIES = str(EXAMPLES / "activities.csv")
PRICES = str(EXAMPLES / "prices.csv")
GENERATOR = ROOT / "scripts" / "generate_example_prices.py"

JPY = re.compile(r"^-?\d+$")
USD = re.compile(r"^-?\d+\.\d\d$")
RATE = re.compile(r"^-?\d+\.\d{10}$")
FIGURES = ("value", "invested", "fees", "taxes", "income", "realized", "unrealized")
MONEY_KEYS = (
    *FIGURES,
    "startValue",
    "netFlows",
    "gain",
    "priceEffect",
    "currencyEffect",
    "cashCurrencyEffect",
)
PRICES_HEADER = "date,symbol,close,currency\n"
LEDGER_HEADER = "date,type,symbol,quantity,unit_price,amount,fees,taxes,currency,fx_rate,note\n"


def _no_floats(text: str) -> Any:
    raise AssertionError(f"a JSON number where a decimal string belongs: {text}")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["performance", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys: pytest.CaptureFixture[str], *argv: str, warnings: bool = False) -> Any:
    code, out, err = run(capsys, *argv, "--json")
    assert code == 0, err
    if not warnings:
        assert err == ""
    # exactly one JSON document; amounts are strings, the only numbers are counts
    return json.loads(out, parse_float=_no_floats)


def example(capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    return run_json(capsys, ACTIVITIES, "--prices", PRICES, *argv)


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def assert_one_error(code: int, out: str, err: str, *says: str) -> None:
    assert code == EXIT_USER_ERROR
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("portfoliowise: error: ")
    for text in says:
        assert text in err, err


# -- the bundled example ---------------------------------------------------------------
def test_the_example_files_end_to_end(capsys: pytest.CaptureFixture[str]) -> None:
    doc = example(capsys)

    assert doc["asOf"] == "2024-06-28"  # the last date of the prices file, not today
    assert doc["range"] == {
        "label": "MAX",
        "start": "2024-01-04",
        "end": "2024-06-28",
        "base": "2024-01-03",
    }
    assert doc["currency"] == "JPY"
    assert doc["method"] == "average"
    assert doc["flowBasis"] == "deposits"
    for key in MONEY_KEYS:
        assert isinstance(doc[key], str), key
        assert JPY.match(doc[key]), (key, doc[key])
    for key in ("twr", "xirr"):
        assert isinstance(doc[key], str), key
        assert RATE.match(doc[key]), (key, doc[key])
    assert doc["ledger"] == {
        "file": ACTIVITIES,
        "format": "activities-csv",
        "encoding": "utf-8",
        "activities": 9,
        "rejected": [],
        "unknownCost": [],
    }
    assert doc["prices"]["symbols"] == ["0331418A", "7203", "VOO"]
    assert doc["prices"]["pairs"] == ["USD-JPY"]
    assert "series" not in doc

    # By hand: deposits 3,000,000 JPY + 12,000 USD at its fx_rate 144.95.
    assert doc["invested"] == doc["netFlows"] == "4739400"
    # The dividend, 33.94 USD gross and 9.60 USD withheld, at 2024-03-27's 151.929.
    assert doc["income"] == "5156"  # 5,156.47
    assert doc["taxes"] == "1459"  # 1,458.52
    # VOO's fees: 2.16 x 145.370 + 2.71 x 147.857 + 1.87 x 159.463 = 1,012.89.
    assert doc["fees"] == "1013"
    value, gain = Decimal(doc["value"]), Decimal(doc["gain"])
    assert gain == value - Decimal(doc["startValue"]) - Decimal(doc["netFlows"])
    # The value is the holdings at the last closes plus the cash, in JPY at 160.800:
    # 400,000 units x 25,800 / 10,000 + 400 x 1,645 + 14 x 500.10 x 160.8
    # + 1,583,760 + 5,943.40 x 160.8 = 5,355,284.40.
    assert value == 5355284
    holdings = {h["symbol"]: h for h in doc["holdings"]}
    assert holdings["7203"]["quantity"] == "400"  # 200 shares, split 2-for-1
    assert holdings["0331418A"]["value"] == "1032000"
    assert holdings["VOO"]["price"] == "500.10"
    assert doc["cash"] == {"JPY": "1583760", "USD": "5943.40"}
    # Weekends and holidays are carried forward and counted, never left out.
    assert doc["filled"]["total"] > 0
    assert {"7203", "VOO", "0331418A", "USD-JPY"} <= set(doc["filled"])
    assert doc["unknown"] == {"days": 0}


def test_the_example_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, ACTIVITIES, "--prices", PRICES)

    assert code == 0
    assert err == ""
    lines = out.splitlines()
    assert lines[0].startswith(f"{ACTIVITIES} (activities-csv, 9 activities): performance in JPY")
    assert "MAX 2024-01-04..2024-06-28" in lines[0]
    figures = {
        line[:22].strip(): line[22:].strip() for line in lines if line[:1].isupper() and line[22:]
    }
    assert figures["Value"] == "5,355,284 JPY"
    assert figures["Invested"] == "4,739,400 JPY"
    assert figures["TWR"].endswith(" %")
    assert figures["XIRR (annual)"].endswith(" %")
    for label in ("Gain", "Income", "Fees", "Taxes", "Realized P/L", "Unrealized P/L"):
        assert figures[label].endswith(" JPY")
    assert any(line.startswith("Filled (carried from an earlier day): ") for line in lines)
    assert "Unknown days: 0" in lines
    assert any(line.startswith("VOO ") and "500.10 USD" in line for line in lines)
    assert lines[-1] == "Cash: 1,583,760 JPY, 5,943.40 USD"


def test_the_series_is_one_value_a_calendar_day(capsys: pytest.CaptureFixture[str]) -> None:
    doc = example(capsys, "--series")

    series = doc["series"]
    assert len(series) == 178  # 2024-01-03 (the base day) .. 2024-06-28
    assert series[0] == {"date": "2024-01-03", "value": "0", "flow": "0", "invested": "0"}
    assert series[-1]["value"] == doc["value"]
    saturday = next(p for p in series if p["date"] == "2024-06-22")
    friday = next(p for p in series if p["date"] == "2024-06-21")
    assert saturday["value"] == friday["value"]  # filled forward, not left out


def test_the_example_prices_are_the_generators_output(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = importlib.util.spec_from_file_location("generate_example_prices", GENERATOR)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)  # for its dataclass
    spec.loader.exec_module(module)

    assert module.render() == Path(PRICES).read_text(encoding="utf-8")
    days = {line.split(",")[0] for line in module.render().splitlines()[1:]}
    assert "2024-01-06" not in days  # a Saturday: no close


# -- ranges, as-of, currency, cost basis --------------------------------------------------
def test_a_range(capsys: pytest.CaptureFixture[str]) -> None:
    whole = example(capsys)
    doc = example(capsys, "--range", "2024-04-01..2024-06-28")

    assert doc["range"] == {
        "label": "2024-04-01..2024-06-28",
        "start": "2024-04-01",
        "end": "2024-06-28",
        "base": "2024-03-31",
    }
    assert doc["income"] == doc["taxes"] == "0"  # the dividend was paid in March
    assert doc["realized"] == whole["realized"]  # the sell of 2024-05-21 is in range
    assert doc["netFlows"] == "0"  # no deposit in the range
    assert doc["invested"] == whole["invested"]  # cumulative to the range's end
    assert doc["value"] == whole["value"]
    gain = Decimal(doc["value"]) - Decimal(doc["startValue"]) - Decimal(doc["netFlows"])
    assert Decimal(doc["gain"]) == gain

    ytd = example(capsys, "--range", "ytd")
    assert ytd["range"]["start"] == "2024-01-01"
    assert example(capsys, "--range", "1D")["range"]["start"] == "2024-06-28"
    assert example(capsys, "--range", "MTD")["range"]["start"] == "2024-06-01"


def test_the_as_of_date(capsys: pytest.CaptureFixture[str]) -> None:
    doc = example(capsys, "--as-of", "2024-03-31")

    assert doc["asOf"] == "2024-03-31"
    assert doc["range"]["end"] == "2024-03-31"
    assert doc["realized"] == "0"  # the sell comes later
    assert {h["symbol"]: h["quantity"] for h in doc["holdings"]}["7203"] == "200"  # no split yet


def test_the_base_currency(capsys: pytest.CaptureFixture[str]) -> None:
    doc = example(capsys, "--currency", "USD")

    assert doc["currency"] == "USD"
    for key in MONEY_KEYS:
        assert USD.match(doc[key]), (key, doc[key])
    # 12,000 USD, and 3,000,000 JPY at 2024-01-04's USD-JPY 144.600, inverted.
    assert doc["invested"] == "32746.89"
    assert doc["income"] == "33.94"
    assert doc["taxes"] == "9.60"
    assert doc["fees"] == "6.74"  # 2.16 + 2.71 + 1.87
    assert "JPY-USD" in doc["filled"]
    assert doc["cash"] == {"JPY": "1583760", "USD": "5943.40"}


def test_fifo_and_average_realize_different_amounts(capsys: pytest.CaptureFixture[str]) -> None:
    average = example(capsys)
    fifo = example(capsys, "--cost-basis", "fifo")

    assert (average["method"], fifo["method"]) == ("average", "fifo")
    # The sell of 8 VOO at 471.20 less 1.87 fees: 3,767.73 USD at 159.463 = 600,813.53 JPY.
    # Lots: 10 at 436.10 + 2.16 fees = 4,363.16 USD at 145.370 = 634,272.57 JPY, and
    # 12 at 456.90 + 2.71 fees = 5,485.51 USD at 147.857 = 811,071.05 JPY.
    # Average: 8/22 of 1,445,343.62 = 525,579.50; FIFO: 8/10 of the first lot = 507,418.06.
    assert average["realized"] == "75234"  # 600,813.53 - 525,579.50
    assert fifo["realized"] == "93395"  # 600,813.53 - 507,418.06
    # What is still held carries the rest of the cost: the sum does not depend on it.
    total = Decimal(average["realized"]) + Decimal(average["unrealized"])
    assert abs(total - Decimal(fifo["realized"]) - Decimal(fifo["unrealized"])) <= 1
    for key in ("value", "gain", "invested", "twr", "xirr"):
        assert average[key] == fifo[key], key


# -- hand-computed figures on tiny ledgers ----------------------------------------------
def test_a_tiny_ledger_by_hand(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ledger = write(tmp_path, "tiny.csv", LEDGER_HEADER + "2024-01-04,buy,7203,10,100,,,,,,\n")
    prices = write(
        tmp_path, "p.csv", PRICES_HEADER + "2024-01-04,7203,100,\n2024-01-05,7203,110,\n"
    )

    doc = run_json(capsys, ledger, "--prices", prices, "--as-of", "2024-01-07")

    assert doc["flowBasis"] == "trades"  # no deposit: the buy brings its cost in
    assert doc["value"] == "1100"  # 10 x 110, carried over the weekend
    assert doc["invested"] == "1000"
    assert doc["unrealized"] == "100"
    assert doc["gain"] == "100"
    assert doc["realized"] == doc["income"] == doc["fees"] == doc["taxes"] == "0"
    assert doc["twr"] == "0.1000000000"
    assert doc["filled"] == {"total": 2, "7203": 2}  # Saturday and Sunday
    # XIRR: -1,000 on 2024-01-04 and +1,100 three days later.
    rate = Decimal(doc["xirr"])
    assert abs(Decimal(1000) * (1 + rate) ** (Decimal(3) / 365) - 1100) < Decimal("0.001")


def test_xirr_is_null_for_one_signed_flows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A deposit all spent on fees: the only flow is paid in, nothing comes back.
    ledger = write(
        tmp_path,
        "spent.csv",
        LEDGER_HEADER + "2024-01-04,deposit,,,,1000,,,JPY,,\n2024-01-05,fee,,,,1000,,,JPY,,\n",
    )
    prices = write(tmp_path, "p.csv", PRICES_HEADER + "2024-01-05,7203,100,\n")

    doc = run_json(capsys, ledger, "--prices", prices)

    assert doc["value"] == "0"
    assert doc["invested"] == "1000"
    assert doc["fees"] == "1000"
    assert doc["xirr"] is None
    code, out, _ = run(capsys, ledger, "--prices", prices)
    assert code == 0
    assert re.search(r"^XIRR \(annual\) +n/a$", out, re.MULTILINE)


def test_a_symbol_missing_from_the_prices_is_reported_never_invented(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ledger = write(
        tmp_path,
        "l.csv",
        LEDGER_HEADER + "2024-01-04,buy,7203,10,100,,,,,,\n2024-01-04,buy,AAPL,1,180,,,,,150,\n",
    )
    prices = write(
        tmp_path, "p.csv", PRICES_HEADER + "2024-01-04,7203,100,\n2024-01-05,7203,110,\n"
    )

    doc = run_json(capsys, ledger, "--prices", prices)

    assert doc["value"] is None
    assert doc["unrealized"] is None
    assert doc["gain"] is None
    assert doc["xirr"] is None
    assert doc["invested"] == "28000"  # 1,000 + 180 USD at its fx_rate 150: known
    assert doc["unknown"] == {"days": 2, "AAPL": 2}  # 2024-01-04 and 2024-01-05
    aapl = {h["symbol"]: h for h in doc["holdings"]}["AAPL"]
    assert aapl["price"] is None
    assert aapl["value"] is None
    assert aapl["unknown"] == 2
    assert {h["symbol"]: h for h in doc["holdings"]}["7203"]["value"] == "1100"

    code, out, err = run(capsys, ledger, "--prices", prices)
    assert code == 0
    assert err == ""
    assert re.search(r"^Value +n/a$", out, re.MULTILINE)
    assert "Unknown days: 2 (AAPL 2)" in out


def test_a_currency_without_a_rate_is_unknown_from_then_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # VOO has closes but the file has no USD-JPY from 2024-01-05 on: the first day is
    # known, later days carry 2024-01-04's rate (filled), never a later one.
    ledger = write(tmp_path, "l.csv", LEDGER_HEADER + "2024-01-05,buy,VOO,1,430,,,,,150,\n")
    prices = write(
        tmp_path,
        "p.csv",
        PRICES_HEADER + "2024-01-05,VOO,430,USD\n2024-01-08,VOO,440,USD\n2024-01-04,USD-JPY,140,\n",
    )

    doc = run_json(capsys, ledger, "--prices", prices)

    assert doc["value"] == "61600"  # 440 x 140: the last known rate, carried
    assert doc["filled"]["USD-JPY"] == 4  # 2024-01-05 .. 2024-01-08
    no_rate = write(tmp_path, "q.csv", PRICES_HEADER + "2024-01-05,VOO,430,USD\n")
    code, out, err = run(capsys, ledger, "--prices", no_rate, "--json")
    assert code == 0, err
    assert json.loads(out)["unknown"] == {"days": 1, "USD-JPY": 1}


# -- files' own settings ---------------------------------------------------------------
def test_a_native_file_gives_its_base_currency_and_cost_basis(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    native = (
        '{"format": "portfoliowise/activities@1", "baseCurrency": "JPY", "costBasis": "fifo",'
        ' "activities": [\n'
        '{"id": "d1", "type": "deposit", "date": "2024-01-04", "currency": "EUR",'
        ' "amount": "1000", "fxRate": "160"}\n]}\n'
    )
    ledger = write(tmp_path, "ledger.json", native)
    prices = write(
        tmp_path,
        "p.csv",
        PRICES_HEADER + "2024-01-04,EUR-USD,1.10,\n2024-01-04,USD-JPY,145,\n"
        "2024-01-04,GBP-CHF,1.10,\n",
    )

    doc = run_json(capsys, ledger, "--prices", prices)
    assert (doc["currency"], doc["method"]) == ("JPY", "fifo")
    assert doc["invested"] == "160000"  # the file's own rate into its base currency

    # In another base the file's rates (into JPY) say nothing: the prices file's are used.
    doc = run_json(
        capsys, ledger, "--prices", prices, "--currency", "USD", "--cost-basis", "average"
    )
    assert (doc["currency"], doc["method"]) == ("USD", "average")
    assert doc["invested"] == "1100.00"  # 1,000 EUR at EUR-USD 1.10, not at 160
    assert doc["value"] == "1100.00"


def test_a_holdings_file_opens_on_the_first_price_date(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ledger = write(tmp_path, "holdings.csv", "code,quantity,purchasePrice\n7203,100,2500\n")
    prices = write(
        tmp_path, "p.csv", PRICES_HEADER + "2024-01-04,7203,2600,\n2024-01-05,7203,2700,\n"
    )

    doc = run_json(capsys, ledger, "--prices", prices)
    assert doc["ledger"]["format"] == "positions-csv"
    assert doc["range"]["start"] == "2024-01-04"  # the opening buy's day
    assert doc["invested"] == "250000"
    assert doc["unrealized"] == "20000"  # 100 x (2,700 - 2,500)

    doc = run_json(capsys, ledger, "--prices", prices, "--opening-date", "2024-01-05")
    assert doc["range"]["start"] == "2024-01-05"

    no_cost = write(tmp_path, "nocost.csv", "code,quantity,price\n7203,100,2600\n")
    code, out, err = run(capsys, no_cost, "--prices", prices, "--json")
    assert code == 0
    assert json.loads(out)["ledger"]["unknownCost"] == ["7203"]
    assert err == (
        f"portfoliowise: warning: {no_cost}: no acquisition price for 7203: their opening "
        "buys are at the file's current price\n"
    )


# -- partial imports and errors ----------------------------------------------------------
BAD_LEDGER = (
    LEDGER_HEADER
    + "2024-01-04,deposit,,,,1000000,,,JPY,,\n"
    + "2024-01-05,purchase?,7203,100,2795,,,,,,\n"  # line 3: unknown type
    + "2024-01-05,buy,7203,100,2795,,,,,,\n"
    + "2024-13-01,buy,7203,100,2795,,,,,,\n"  # line 5: no such date
)
BAD_PRICES = PRICES_HEADER + "2024-01-05,7203,2800,\n2024-01-08,7203,-5,\n2024-01-09,7203,2900,\n"


def test_partial_mode_warns_with_line_numbers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ledger = write(tmp_path, "ledger.csv", BAD_LEDGER)
    prices = write(tmp_path, "prices.csv", BAD_PRICES)

    code, out, err = run(capsys, ledger, "--prices", prices, "--mode", "partial", "--json")

    assert code == 0
    warnings = err.splitlines()
    assert len(warnings) == 3
    assert all(w.startswith("portfoliowise: warning: ") for w in warnings)
    assert warnings[0].startswith(f"portfoliowise: warning: {prices}: line 3: ")
    assert warnings[1].startswith(f"portfoliowise: warning: {ledger}: line 3: ")
    assert warnings[2].startswith(f"portfoliowise: warning: {ledger}: line 5: ")
    assert all(w.endswith("(row skipped)") for w in warnings)
    doc = json.loads(out)
    assert [r["line"] for r in doc["ledger"]["rejected"]] == [3, 5]
    assert [r["line"] for r in doc["prices"]["rejected"]] == [3]
    assert doc["ledger"]["activities"] == 2
    assert doc["value"] == "1010500"  # 720,500 cash + 100 x 2,900


def test_all_or_nothing_refuses_a_file_with_bad_rows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ledger = write(tmp_path, "ledger.csv", BAD_LEDGER)
    prices = write(tmp_path, "prices.csv", PRICES_HEADER + "2024-01-05,7203,2800,\n")

    code, out, err = run(capsys, ledger, "--prices", prices)

    assert_one_error(code, out, err, ledger, "2 of 4 rows refused", "line 3", "line 5")


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ("hello,world\n1,2\n", "prices.csv"),  # no header with date, symbol and close
        (PRICES_HEADER + "2024-01-05,7203,abc,\n", "line 2"),  # not a number
        (PRICES_HEADER + "2024-01-05,7203,100,\n2024-01-05,7203,101,\n", "a second close"),
        (PRICES_HEADER + "2024-01-05,NOT A SYMBOL,100,\n", "line 2"),
        (PRICES_HEADER + "2024-01-05,USD-JPY,100,USD\n", "line 2"),  # a rate in its quote
        (b"date,symbol,close\n\x00\x01\x02", "prices.csv"),  # not text
    ],
)
def test_a_bad_prices_file_is_one_error_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | bytes, says: str
) -> None:
    path = tmp_path / "prices.csv"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")

    code, out, err = run(capsys, ACTIVITIES, "--prices", str(path))

    assert_one_error(code, out, err, says)


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        ([ACTIVITIES, "--prices", "/no/such/prices.csv"], "/no/such/prices.csv: no such file"),
        (["/no/such/ledger.csv", "--prices", PRICES], "/no/such/ledger.csv: no such file"),
        ([ACTIVITIES], "--prices"),  # required
        ([ACTIVITIES, "--prices", PRICES, "--range", "2Y"], "range must be one of"),
        ([ACTIVITIES, "--prices", PRICES, "--range", "2024-01-01..2025-01-01"], "after the as-of"),
        ([ACTIVITIES, "--prices", PRICES, "--as-of", "28/06/2024"], "--as-of: not a date"),
        ([ACTIVITIES, "--prices", PRICES, "--currency", "XYZ"], "XYZ"),
        ([ACTIVITIES, "--prices", PRICES, "--cost-basis", "lifo"], "lifo"),
        ([ACTIVITIES, "--prices", PRICES, "--mode", "some"], "some"),
        ([ACTIVITIES, "--prices", str(EXAMPLES)], "cannot read"),  # a directory
    ],
)
def test_user_errors_are_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], says: str
) -> None:
    code, out, err = run(capsys, *argv)

    assert_one_error(code, out, err, says)


def test_a_rate_the_ledger_needs_is_never_assumed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A USD buy with no fx_rate and no USD-JPY on or before its day: an error naming it.
    ledger = write(tmp_path, "l.csv", LEDGER_HEADER + "2024-01-05,buy,VOO,1,430,,,,,,\n")
    prices = write(
        tmp_path, "p.csv", PRICES_HEADER + "2024-01-05,VOO,430,USD\n2024-01-08,USD-JPY,145,\n"
    )

    code, out, err = run(capsys, ledger, "--prices", prices)

    assert_one_error(code, out, err, "no USD->JPY rate on or before that day")


def test_a_holdings_file_too_large_is_refused_before_it_is_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "big.csv"
    with path.open("wb") as handle:
        handle.truncate(33 * 1024 * 1024)  # sparse: nothing is written

    code, out, err = run(capsys, str(path), "--prices", PRICES)

    assert_one_error(code, out, err, "big.csv: the file is 34,603,008 bytes, over the limit")


# -- what the command loads ------------------------------------------------------------
FORBIDDEN = (
    "boto3",
    "botocore",
    "pandas",
    "numpy",
    "yfinance",
    "openai",
    "httpx",
    "aws_lambda_powertools",
    "portfoliowise.handlers.api",
    "portfoliowise.handlers.container",
    "portfoliowise.adapters.market.chain",
    "portfoliowise.adapters.market.yahoo",
)
PROBE = """
import json, sys
from portfoliowise.handlers.cli import main
code = main(["performance", {ledger!r}, "--prices", {prices!r}, "--json"])
sys.stdout.flush()
print(json.dumps({{"code": code, "loaded": sorted(
    m for m in sys.modules if any(m == f or m.startswith(f + ".") for f in {forbidden!r})
)}}), file=sys.stderr)
"""


def test_the_command_never_loads_the_api_the_aws_sdk_pandas_or_yfinance() -> None:
    probe = PROBE.format(ledger=ACTIVITIES, prices=PRICES, forbidden=FORBIDDEN)
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["value"] == "5355284"
    result = json.loads(done.stderr.splitlines()[-1])
    assert result == {"code": 0, "loaded": []}


def test_the_other_commands_are_still_there(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for command in ("value", "simulate", "performance", "analyze", "backup", "serve"):
        assert command in out
