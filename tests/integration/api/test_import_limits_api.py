"""`POST /portfolios` and `POST /portfolios/import` (this project's JSON, the existing
app's export, CSV) refuse the same values with the same answer: 400 `out_of_range`, from
the domain's limits, and store nothing."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from api_harness import assert_error_shape, call

LONG = "x" * 100_000
MANY = 10_001


def us_symbols(count: int) -> list[str]:
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return [letters[n // 676 % 26] + letters[n // 26 % 26] + letters[n % 26] for n in range(count)]


# (holdings, portfolio name) in the API's terms
CASES: dict[str, tuple[list[dict[str, Any]], str]] = {
    "quantity 1e40": ([{"symbol": "VTI", "quantity": "1e40"}], "mine"),
    "quantity 1e40 as a JSON number": ([{"symbol": "VTI", "quantity": 1e40}], "mine"),
    "negative quantity": ([{"symbol": "VTI", "quantity": "-5"}], "mine"),
    "cost basis 10^16": (
        [{"symbol": "VTI", "quantity": "5", "costBasis": {"amount": "1e16", "currency": "JPY"}}],
        "mine",
    ),
    "100 KB holding name": ([{"symbol": "VTI", "quantity": "5", "name": LONG}], "mine"),
    "100 KB portfolio name": ([{"symbol": "VTI", "quantity": "5"}], LONG),
    "10,001 holdings": ([{"symbol": s, "quantity": "1"} for s in us_symbols(MANY)], "mine"),
}


def legacy(holdings: list[dict[str, Any]], name: str) -> dict[str, Any]:
    assets = []
    for h in holdings:
        asset = {"ticker": h["symbol"], "holdings": h["quantity"], "name": h.get("name")}
        if "costBasis" in h:  # the export has no cost basis: a price as far out of range
            asset["price"] = h["costBasis"]["amount"]
        assets.append(asset)
    return {"name": name, "baseCurrency": "JPY", "currentAssets": assets}


def csv_text(holdings: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["symbol", "quantity", "costBasis", "costBasisCurrency", "name"])
    for h in holdings:
        cost = h.get("costBasis") or {}
        row = [h["symbol"], h["quantity"], cost.get("amount", ""), cost.get("currency", "")]
        writer.writerow([*row, h.get("name", "")])
    return out.getvalue()


def assert_out_of_range(status: int, body: Any) -> None:
    assert status == 400, body
    assert_error_shape(status, body)
    assert body["error"]["code"] == "out_of_range", body["error"]
    assert len(body["error"]["message"]) < 500


@pytest.mark.parametrize("case", list(CASES))
def test_create_and_every_import_format_give_the_same_answer(app: Any, case: str) -> None:
    holdings, name = CASES[case]

    answers = [
        call(app, "create_portfolio.json", body={"name": name, "holdings": holdings}),
        call(
            app,
            "import_portfolio.json",
            body={"format": "portfoliowise/portfolio@1", "name": name, "holdings": holdings},
        ),
        call(app, "import_portfolio.json", body=legacy(holdings, name)),
    ]
    if name == "mine":  # a CSV's portfolio name is the `name` parameter (at most 100)
        answers.append(
            call(
                app,
                "import_portfolio.json",
                raw_body=csv_text(holdings),
                headers={"Content-Type": "text/csv"},
                query={"name": "mine", "currency": "JPY"},
            )
        )

    for status, _, body in answers:
        assert_out_of_range(status, body)
    _, _, listed = call(app, "list_portfolios.json")
    assert listed["portfolios"] == []  # nothing was stored


def test_a_budget_out_of_range_is_out_of_range(app: Any) -> None:
    created = {"name": "mine", "holdings": [{"symbol": "AAPL", "quantity": "5"}]}
    status, _, body = call(app, "create_portfolio.json", body=created | {"targets": {"AAPL": 100}})
    assert status == 201, body
    status, _, answer = call(
        app,
        "create_portfolio.json",
        path=f"/portfolios/{body['portfolioId']}/simulate",
        body={"budget": {"amount": "1e16", "currency": "JPY"}},
    )
    assert_out_of_range(status, answer)
