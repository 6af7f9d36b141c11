"""The `portfoliowise` command line, run in-process through `main(argv)`: tables for the
bundled examples, `--json` documents with decimal-string amounts, and one-line errors with
exit code 2 (never a traceback)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from portfoliowise.handlers.cli import EXIT_USER_ERROR, main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
PORTFOLIO = str(EXAMPLES / "portfolio.json")
LEGACY = str(EXAMPLES / "legacy-export.json")
QUOTES = str(EXAMPLES / "quotes.sample.json")
DECIMAL = re.compile(r"^-?\d+(\.\d+)?$")
JPY_AMOUNT = re.compile(r"^-?\d+$")
USD_AMOUNT = re.compile(r"^-?\d+\.\d\d$")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    code, out, err = run(capsys, *argv, "--json")
    assert code == 0, err
    assert err == ""
    return json.loads(out)  # exactly one JSON document, nothing else on stdout


def assert_money(value: Any, currency: str) -> Decimal:
    assert set(value) == {"amount", "currency"}
    assert value["currency"] == currency
    assert isinstance(value["amount"], str)
    pattern = JPY_AMOUNT if currency == "JPY" else USD_AMOUNT
    assert pattern.match(value["amount"]), value["amount"]
    return Decimal(value["amount"])


def write(tmp_path: Path, data: Any, name: str = "file.json") -> str:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return str(path)


def example_portfolio(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(Path(PORTFOLIO).read_text(encoding="utf-8"))
    data.update(overrides)
    return data


def example_quotes(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(Path(QUOTES).read_text(encoding="utf-8"))
    data.update(overrides)
    return data


# -- tables ----------------------------------------------------------------------------
def test_value_table_for_the_example(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "value", PORTFOLIO, "--quotes", QUOTES, "--currency", "JPY")

    assert code == 0
    assert err == ""
    lines = out.splitlines()
    assert lines[0].startswith("Example: Tokyo stocks, US ETFs and a Japanese fund: valued in JPY")
    assert "SAMPLE DATA, not market prices" in lines[0]
    assert lines[1].split() == [
        "Symbol", "Name", "Quantity", "Price", "Value", "Weight%", "Target%", "P/L", "Quote",
    ]  # fmt: skip
    rows = {line.split()[0]: line for line in lines[3:9]}
    assert list(rows) == ["7203", "8306", "1306", "VTI", "BND", "0331418A"]
    assert "1,200,000" in rows["0331418A"]  # fund units
    assert "29,874 JPY" in rows["0331418A"]  # price per 10,000 units
    assert "3,584,880 JPY" in rows["0331418A"]  # 29,874 x 1,200,000 / 10,000
    assert "1,860,791 JPY" in rows["VTI"]  # 301.45 USD x 40 x 154.32
    assert "1,912.5 JPY" in rows["8306"]  # prices keep their decimals
    # weights are rounded, not truncated: 301,200 / 7,231,674 = 4.16501...%
    assert rows["1306"].split()[-3:] == ["4.17", "15.00", "cached"]
    assert "Total: 7,231,674 JPY" in lines
    assert "Unrealized P/L (holdings with a cost basis): 1,832,680 JPY" in lines
    for heading in ("By assetClass", "By currency", "By market", "By region"):
        assert heading in lines
    assert "Drift against targets (most under-weight first)" in lines
    drift = lines[lines.index("Drift against targets (most under-weight first)") + 3 :]
    assert [line.split()[0] for line in drift] == ["1306", "BND", "7203", "8306", "VTI", "0331418A"]
    assert drift[2].split()[:4] == ["7203", "10.00", "7.92", "-2.08"]  # 7.9235 -> 7.92


def test_value_table_in_usd(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "value", PORTFOLIO, "--quotes", QUOTES, "--currency", "usd")
    assert code == 0
    assert "valued in USD" in out.splitlines()[0]
    assert "Total: 46,861.55 USD" in out


def test_value_table_for_the_legacy_export_uses_the_files_prices(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(capsys, "value", LEGACY)

    assert code == 0
    assert err == ""
    assert "quotes: prices in the portfolio file" in out.splitlines()[0]
    assert "Total: 6,356,724 JPY" in out
    fund_row = next(line for line in out.splitlines() if line.startswith("0331418A"))
    assert "3,584,880 JPY" in fund_row  # price 29,874 x 120 lots


def test_value_table_lists_unpriced_holdings(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    quotes = write(tmp_path, example_quotes(rates={}), "norates.json")
    code, out, _ = run(capsys, "value", PORTFOLIO, "--quotes", quotes)
    assert code == 0
    assert "Unpriced, not in the total: VTI (no FX rate for USD->JPY" in out
    assert "Unpriced, not in the total: BND" in out
    assert "Total: 5,032,830 JPY" in out


def test_simulate_table_for_the_example(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ("simulate", PORTFOLIO, "--quotes", QUOTES, "--budget", "300000JPY")
    code, out, err = run(capsys, *argv)
    assert code == 0
    assert err == ""
    plan = run_json(capsys, *argv)

    lines = out.splitlines()
    assert lines[0].startswith("Example: Tokyo stocks, US ETFs and a Japanese fund: buy plan")
    assert "for 300,000 JPY" in lines[0]
    spent = Decimal(plan["spent"]["amount"])
    leftover = Decimal(plan["leftover"]["amount"])
    assert f"Spent: {spent:,} JPY   Leftover: {leftover:,} JPY" in lines
    if plan["orders"]:
        assert lines[1].split() == [
            "Side",
            "Symbol",
            "Quantity",
            "Price",
            "Amount",
            "Cost",
            "(JPY)",
        ]
        order_rows = lines[3 : 3 + len(plan["orders"])]
        for row, order in zip(order_rows, plan["orders"], strict=True):
            assert row.split()[:3] == [
                order["side"],
                order["symbol"],
                f"{Decimal(order['quantity']):,}",
            ]
    else:
        assert "No order" in lines[1]
    weights = lines[lines.index("Symbol    Target%   Now%  After%") + 2 :]
    assert [line.split()[0] for line in weights[:6]] == [
        "7203", "8306", "1306", "VTI", "BND", "0331418A",
    ]  # fmt: skip
    assert any(line.startswith("Distance from targets") for line in lines)


def test_simulate_table_for_the_legacy_export_uses_the_files_prices(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run(capsys, "simulate", LEGACY, "--budget", "300000JPY")
    assert code == 0
    assert err == ""
    assert "quotes: prices in the portfolio file" in out.splitlines()[0]
    assert "Spent: " in out


def test_a_negative_tolerance_reaches_the_rebalance_check(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ("simulate", PORTFOLIO, "--quotes", QUOTES, "--budget", "300000JPY")
    code, _, err = run(capsys, *argv, "--mode", "rebalance", "--tolerance", "-1")
    assert code == EXIT_USER_ERROR
    assert err.startswith("portfoliowise: error: ")
    assert "tolerance" in err


# -- --json ----------------------------------------------------------------------------
def test_value_json_shape_and_decimal_strings(capsys: pytest.CaptureFixture[str]) -> None:
    doc = run_json(capsys, "value", PORTFOLIO, "--quotes", QUOTES)

    assert doc["currency"] == "JPY"
    total = assert_money(doc["total"], "JPY")
    assert total == Decimal(7_231_674)
    assert doc["unpriced"] == []
    holdings = doc["holdings"]
    assert [h["symbol"] for h in holdings] == ["7203", "8306", "1306", "VTI", "BND", "0331418A"]
    for holding in holdings:
        assert {"symbol", "quantity", "value", "weight"} <= set(holding)
        assert DECIMAL.match(holding["quantity"])
        assert DECIMAL.match(holding["weight"])
        assert_money(holding["value"], "JPY")
    by_symbol = {h["symbol"]: h for h in holdings}
    assert by_symbol["0331418A"]["quantity"] == "1200000"
    assert by_symbol["0331418A"]["value"]["amount"] == "3584880"
    assert by_symbol["VTI"]["value"]["amount"] == "1860791"
    assert by_symbol["1306"]["weight"] == "4.1650"
    values = sum(Decimal(h["value"]["amount"]) for h in holdings)
    assert abs(values - total) <= len(holdings)  # each rounded to the yen
    weights = sum(Decimal(h["weight"]) for h in holdings)
    assert abs(weights - 100) <= Decimal("0.001")


def test_value_json_in_usd_has_cents(capsys: pytest.CaptureFixture[str]) -> None:
    doc = run_json(capsys, "value", PORTFOLIO, "--quotes", QUOTES, "--currency", "USD")
    assert doc["currency"] == "USD"
    assert assert_money(doc["total"], "USD") == Decimal("46861.55")
    for holding in doc["holdings"]:
        assert_money(holding["value"], "USD")


def test_value_json_reports_unpriced_holdings_and_leaves_them_out(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    quotes = example_quotes()
    del quotes["quotes"]["1306.T"]
    quotes["rates"] = {}
    doc = run_json(capsys, "value", PORTFOLIO, "--quotes", write(tmp_path, quotes))

    assert doc["unpriced"] == ["1306", "VTI", "BND"]
    assert [h["symbol"] for h in doc["holdings"]] == ["7203", "8306", "0331418A"]
    assert doc["total"] == {"amount": "4731630", "currency": "JPY"}  # no invented price or rate


def test_value_json_without_any_quotes_prices_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    doc = run_json(capsys, "value", PORTFOLIO)
    assert doc["holdings"] == []
    assert doc["unpriced"] == ["7203", "8306", "1306", "VTI", "BND", "0331418A"]
    assert doc["total"] == {"amount": "0", "currency": "JPY"}


def test_value_json_for_the_legacy_export(capsys: pytest.CaptureFixture[str]) -> None:
    doc = run_json(capsys, "value", LEGACY)
    assert doc["total"] == {"amount": "6356724", "currency": "JPY"}
    by_symbol = {h["symbol"]: h for h in doc["holdings"]}
    assert by_symbol["0331418A"]["quantity"] == "1200000"
    assert by_symbol["0331418A"]["value"] == {"amount": "3584880", "currency": "JPY"}
    assert doc["unpriced"] == []


def test_a_quotes_file_replaces_the_exports_prices_and_rate(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    quotes = example_quotes()
    quotes["quotes"]["VTI"]["price"] = "300"
    quotes["rates"] = {"USD-JPY": "150"}
    doc = run_json(capsys, "value", LEGACY, "--quotes", write(tmp_path, quotes))
    by_symbol = {h["symbol"]: h for h in doc["holdings"]}
    assert by_symbol["VTI"]["value"] == {"amount": "1800000", "currency": "JPY"}  # 300 x 40 x 150


def test_simulate_json_shape_and_decimal_strings(capsys: pytest.CaptureFixture[str]) -> None:
    doc = run_json(capsys, "simulate", PORTFOLIO, "--quotes", QUOTES, "--budget", "300000JPY")

    assert {"orders", "spent", "leftover"} <= set(doc)
    spent = assert_money(doc["spent"], "JPY")
    leftover = assert_money(doc["leftover"], "JPY")
    assert spent + leftover == Decimal(300_000)
    assert Decimal(0) <= spent <= Decimal(300_000)
    costs = Decimal(0)
    for order in doc["orders"]:
        assert {"symbol", "quantity", "cost"} <= set(order)
        assert DECIMAL.match(order["quantity"])
        assert Decimal(order["quantity"]) > 0
        costs += assert_money(order["cost"], "JPY")
    assert costs == spent  # buy mode: every order is a purchase


def test_simulate_json_with_a_usd_budget(capsys: pytest.CaptureFixture[str]) -> None:
    doc = run_json(capsys, "simulate", PORTFOLIO, "--quotes", QUOTES, "--budget", "1000USD")
    spent = assert_money(doc["spent"], "USD")
    leftover = assert_money(doc["leftover"], "USD")
    assert spent + leftover == Decimal(1000)
    for order in doc["orders"]:
        assert_money(order["cost"], "USD")


def test_simulate_json_for_the_legacy_export(capsys: pytest.CaptureFixture[str]) -> None:
    doc = run_json(capsys, "simulate", LEGACY, "--budget", "300000JPY")
    spent = assert_money(doc["spent"], "JPY")
    assert spent + assert_money(doc["leftover"], "JPY") == Decimal(300_000)


def test_a_budget_spelled_with_spaces_and_commas_is_accepted(
    capsys: pytest.CaptureFixture[str],
) -> None:
    doc = run_json(capsys, "simulate", PORTFOLIO, "--quotes", QUOTES, "--budget", "300,000 jpy")
    assert Decimal(doc["spent"]["amount"]) + Decimal(doc["leftover"]["amount"]) == 300_000


# -- errors: one line on stderr, exit 2 ------------------------------------------------
def assert_one_line_error(code: int, out: str, err: str, *fragments: str) -> None:
    assert code == EXIT_USER_ERROR
    assert out == ""
    assert err.endswith("\n")
    assert err.count("\n") == 1, err
    assert err.startswith("portfoliowise: error: ")
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in err


def test_missing_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    missing = str(tmp_path / "missing.json")
    assert_one_line_error(*run(capsys, "value", missing), "missing.json: no such file")
    assert_one_line_error(
        *run(capsys, "simulate", missing, "--budget", "1000JPY"), "missing.json: no such file"
    )


def test_missing_quotes_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    missing = str(tmp_path / "q.json")
    assert_one_line_error(*run(capsys, "value", PORTFOLIO, "--quotes", missing), "no such file")


def test_invalid_json(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bad = write(tmp_path, '{"holdings": [\n  {"symbol": "VTI"\n]}', "bad.json")
    assert_one_line_error(*run(capsys, "value", bad), "bad.json: not valid JSON", "line 3")
    assert_one_line_error(*run(capsys, "value", PORTFOLIO, "--quotes", bad), "not valid JSON")


def test_not_a_portfolio(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = write(tmp_path, {"assets": []})
    assert_one_line_error(*run(capsys, "value", path), "not a portfolio")


def test_a_file_that_is_not_utf8(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "binary.json"
    path.write_bytes(b"\xff\xfe\x00{")
    assert_one_line_error(*run(capsys, "value", str(path)), "not UTF-8 text")


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"holdings": [{"symbol": "???", "quantity": "1"}], "targets": {}}, "unknown symbol '???'"),
        (
            {"targets": {"7203": "50", "NOT-A-SYMBOL": "50"}},
            "targets: unknown symbol 'NOT-A-SYMBOL'",
        ),
    ],
)
def test_unknown_symbol_in_the_portfolio(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, change: dict[str, Any], fragment: str
) -> None:
    path = write(tmp_path, example_portfolio(**change))
    assert_one_line_error(*run(capsys, "value", path, "--quotes", QUOTES), fragment)


def test_unknown_symbol_in_the_quotes_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    quotes = example_quotes()
    quotes["quotes"]["NO SUCH"] = {"price": "1"}
    path = write(tmp_path, quotes)
    assert_one_line_error(
        *run(capsys, "value", PORTFOLIO, "--quotes", path), "unknown symbol 'NO SUCH'"
    )


def test_a_target_without_a_price_cannot_be_planned(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = write(tmp_path, example_portfolio(targets={"7203": "50", "AAPL": "50"}))
    argv = ("simulate", path, "--quotes", QUOTES, "--budget", "300000JPY")
    assert_one_line_error(*run(capsys, *argv), "AAPL")


@pytest.mark.parametrize(
    ("budget", "fragment"),
    [
        ("abc", "must end with a currency code"),
        ("-5JPY", "budget must be positive"),
        ("0JPY", "budget must be positive"),
        ("12XJPY", "not a number"),
        ("300000XYZ", "unknown currency code: 'XYZ'"),
        ("NaNJPY", "must be finite"),
        ("1e999999999JPY", "out of range"),
    ],
)
def test_bad_budget(capsys: pytest.CaptureFixture[str], budget: str, fragment: str) -> None:
    argv = ("simulate", PORTFOLIO, "--quotes", QUOTES, "--budget", budget)
    assert_one_line_error(*run(capsys, *argv), fragment)


def test_bad_budget_given_with_equals(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ("simulate", PORTFOLIO, "--quotes", QUOTES, "--budget=-5JPY")
    assert_one_line_error(*run(capsys, *argv), "budget must be positive")


def test_bad_budget_with_json_still_errors_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ("simulate", PORTFOLIO, "--quotes", QUOTES, "--budget", "abc", "--json")
    assert_one_line_error(*run(capsys, *argv), "currency code")


def test_unknown_currency(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ("value", PORTFOLIO, "--quotes", QUOTES, "--currency", "XYZ")
    assert_one_line_error(*run(capsys, *argv), "unknown currency code: 'XYZ'")


def test_unknown_base_currency_in_the_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = write(tmp_path, example_portfolio(baseCurrency="ABC"))
    assert_one_line_error(*run(capsys, "value", path), "baseCurrency: unknown currency code")


def test_targets_not_summing_to_100(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = write(tmp_path, example_portfolio(targets={"7203": "50", "VTI": "40"}))
    assert_one_line_error(*run(capsys, "value", path), "targets must sum to 100", "got 90")
    legacy = json.loads(Path(LEGACY).read_text(encoding="utf-8"))
    legacy["targetPortfolio"][0]["targetPercentage"] = 11
    path = write(tmp_path, legacy, "legacy.json")
    assert_one_line_error(*run(capsys, "value", path), "targets must sum to 100", "got 101")


def test_simulate_without_prices(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    argv = ("simulate", PORTFOLIO, "--budget", "300000JPY")
    assert_one_line_error(*run(capsys, *argv), "no prices to plan with", "--quotes")
    legacy = json.loads(Path(LEGACY).read_text(encoding="utf-8"))
    for asset in legacy["currentAssets"]:
        asset["price"] = 0
    path = write(tmp_path, legacy, "noprices.json")
    assert_one_line_error(*run(capsys, "simulate", path, "--budget", "1000JPY"), "no prices")


def test_simulate_without_targets(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = write(tmp_path, example_portfolio(targets={}))
    argv = ("simulate", path, "--quotes", QUOTES, "--budget", "300000JPY")
    assert_one_line_error(*run(capsys, *argv), "target")


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        ((), "required: command"),
        (("value",), "required: file"),
        (("simulate", PORTFOLIO), "required: --budget"),
        (("bogus",), "invalid choice: 'bogus'"),
        (("simulate", PORTFOLIO, "--budget", "1JPY", "--mode", "sell"), "invalid choice"),
        (("simulate", PORTFOLIO, "--budget", "1JPY", "--tolerance", "x"), "--tolerance"),
        (("value", PORTFOLIO, "--colour"), "unrecognized arguments: --colour"),
    ],
)
def test_usage_errors(
    capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], fragment: str
) -> None:
    assert_one_line_error(*run(capsys, *argv), fragment)


def test_the_installed_command_prints_no_traceback_on_a_bad_file(tmp_path: Path) -> None:
    bad = write(tmp_path, "{not json", "broken.json")
    for argv in (["value", bad], ["simulate", bad, "--budget", "-5JPY"]):
        result = subprocess.run(
            [sys.executable, "-m", "portfoliowise.handlers.cli", *argv],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == EXIT_USER_ERROR
        assert result.stdout == ""
        assert "Traceback" not in result.stderr
        assert result.stderr.count("\n") == 1
        assert result.stderr.startswith("portfoliowise: error: ")


def test_the_installed_command_values_the_example() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "portfoliowise.handlers.cli", "value", PORTFOLIO, "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0
    assert json.loads(result.stdout)["currency"] == "JPY"


def test_value_reads_a_csv_of_holdings(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "nisa.csv"
    path.write_text("Symbol,Quantity,Name\n7203,200,Toyota\nVTI,10,\n0331418A,100000,\n")
    data = run_json(
        capsys, "value", str(path), "--quotes", str(EXAMPLES / "quotes.sample.json"), "--json"
    )
    assert data["total"] == {"amount": "1336938", "currency": "JPY"}
    assert [h["symbol"] for h in data["holdings"]] == ["7203", "VTI", "0331418A"]


def test_a_csv_without_a_quantity_column_is_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("symbol,qty\n7203,100\n")
    code, out, err = run(capsys, "value", str(path))
    assert code == EXIT_USER_ERROR
    assert out == ""
    assert err.strip().endswith("a CSV portfolio needs `symbol` and `quantity` columns")
