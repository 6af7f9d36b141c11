"""Every way in refuses what the domain refuses, with the same error: `OutOfRange`
(`out_of_range`, the same `field`). This project's JSON (portfolio@1), the existing app's
export and CSV, read as documents and as files; the CLI (`portfoliowise value FILE`: exit
code 2 and one line); and a restored backup, refused while it is verified, before
anything is written. Quotes files meet the price and rate limits."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from portfoliowise.adapters.memory import (
    InMemoryAuditLog,
    InMemoryBlobStore,
    InMemoryPortfolioRepository,
)
from portfoliowise.adapters.portfolio_csv import COLUMNS, csv_document
from portfoliowise.adapters.portfolio_files import (
    PORTFOLIO_FORMAT,
    load_portfolio,
    parse_portfolio_document,
    parse_quotes_document,
)
from portfoliowise.application import backup
from portfoliowise.domain.audit import RequestContext, audit_entries
from portfoliowise.domain.errors import DomainError, OutOfRange
from portfoliowise.domain.limits import MAX_HOLDINGS
from portfoliowise.domain.money import JPY, Money
from portfoliowise.domain.portfolio import Holding, Portfolio
from portfoliowise.handlers.cli import EXIT_USER_ERROR, main

AT = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
LONG = "x" * 100_000  # a 100 KB name
MANY = MAX_HOLDINGS + 1


def us_symbols(count: int) -> list[str]:
    """`count` distinct US symbols (AAA, AAB, ...)."""
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return [letters[n // 676 % 26] + letters[n // 26 % 26] + letters[n % 26] for n in range(count)]


# -- one bad value, in each format -------------------------------------------------------
# Each case: (holding fields, portfolio fields) in this project's terms; the formats below
# spell them their own way.
CASES: dict[str, tuple[list[dict[str, str]], dict[str, str]]] = {
    "quantity 1e40": ([{"symbol": "VTI", "quantity": "1e40"}], {}),
    "negative quantity": ([{"symbol": "VTI", "quantity": "-5"}], {}),
    "cost basis 10^16": (
        [{"symbol": "VTI", "quantity": "5", "costBasis": "10000000000000000"}],
        {},
    ),
    "100 KB holding name": ([{"symbol": "VTI", "quantity": "5", "name": LONG}], {}),
    "100 KB portfolio name": ([{"symbol": "VTI", "quantity": "5"}], {"name": LONG}),
    "10,001 holdings": ([{"symbol": s, "quantity": "1"} for s in us_symbols(MANY)], {}),
}
FIELDS = {
    "quantity 1e40": "quantity",
    "negative quantity": "quantity",
    "cost basis 10^16": "costBasis",
    "100 KB holding name": "name",
    "100 KB portfolio name": "name",
    "10,001 holdings": "holdings",
}


def domain_error(case: str) -> OutOfRange:
    """What the domain itself says, building the same holdings and portfolio."""
    holdings_data, portfolio_data = CASES[case]

    def build() -> Portfolio:
        holdings = [
            Holding.of(
                h["symbol"],
                h["quantity"],
                name=h.get("name"),
                cost_basis=Money.of(h["costBasis"], JPY) if "costBasis" in h else None,
            )
            for h in holdings_data
        ]
        return Portfolio(
            user_id="u1",
            portfolio_id="p1",
            name=portfolio_data.get("name", "mine"),
            base_currency=JPY,
            created_at=AT,
            holdings=holdings,
        )

    with pytest.raises(OutOfRange) as caught:
        build()
    return caught.value


def native(case: str) -> dict[str, Any]:
    holdings_data, portfolio_data = CASES[case]
    holdings: list[dict[str, Any]] = []
    for h in holdings_data:
        item: dict[str, Any] = {k: v for k, v in h.items() if k != "costBasis"}
        if "costBasis" in h:
            item["costBasis"] = {"amount": h["costBasis"], "currency": "JPY"}
        holdings.append(item)
    return {
        "format": PORTFOLIO_FORMAT,
        "name": "mine",
        **portfolio_data,
        "holdings": holdings,
    }


def legacy(case: str) -> dict[str, Any]:
    """The existing app's export. It has no cost basis: its `price` (per share) stands in
    for the amount out of range (same limit family, field `price`)."""
    holdings_data, portfolio_data = CASES[case]
    assets = []
    for h in holdings_data:
        asset: dict[str, Any] = {"ticker": h["symbol"], "holdings": h["quantity"]}
        if "name" in h:
            asset["name"] = h["name"]
        if "costBasis" in h:
            asset["price"] = h["costBasis"]
        assets.append(asset)
    return {"baseCurrency": "JPY", **portfolio_data, "currentAssets": assets}


def csv_text(case: str) -> str:
    holdings_data, _ = CASES[case]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for h in holdings_data:
        writer.writerow(h | ({"costBasisCurrency": "JPY"} if "costBasis" in h else {}))
    return out.getvalue()


def from_csv(case: str) -> Any:
    _, portfolio_data = CASES[case]
    return csv_document(
        csv_text(case), name=portfolio_data.get("name", "mine"), base_currency="JPY"
    )


FORMATS: dict[str, Callable[[str], Any]] = {
    "portfolio@1": native,
    "export": legacy,
    "csv": from_csv,
}


def expected_field(case: str, fmt: str) -> str:
    return "price" if fmt == "export" and case == "cost basis 10^16" else FIELDS[case]


def parse(fmt: str, case: str) -> Any:
    return parse_portfolio_document(FORMATS[fmt](case), at=AT, default_name="mine")


@pytest.mark.parametrize("fmt", list(FORMATS))
@pytest.mark.parametrize("case", list(CASES))
def test_every_format_refuses_what_the_domain_refuses(fmt: str, case: str) -> None:
    with pytest.raises(DomainError) as caught:
        parse(fmt, case)
    error = caught.value
    assert type(error) is OutOfRange, error
    assert error.code == "out_of_range"
    assert error.field == expected_field(case, fmt)
    if error.field == FIELDS[case]:  # the domain's own error: same class, field and limit
        domain = domain_error(case)
        assert (type(domain), domain.field, domain.limit) == (OutOfRange, error.field, error.limit)
    assert len(str(error)) < 400, str(error)[:400]


def write_file(tmp_path: Path, fmt: str, case: str) -> Path:
    if fmt == "csv":
        path = tmp_path / "mine.csv"
        path.write_text(csv_text(case), encoding="utf-8")
    else:
        path = tmp_path / "mine.json"
        path.write_text(json.dumps(FORMATS[fmt](case)), encoding="utf-8")
    return path


# A CSV names its portfolio after its file: no file name is 100 KB long.
FILE_CASES = [
    (fmt, case)
    for fmt in FORMATS
    for case in CASES
    if (fmt, case) != ("csv", "100 KB portfolio name")
]


@pytest.mark.parametrize(("fmt", "case"), FILE_CASES)
def test_every_file_refuses_it_naming_the_file(tmp_path: Path, fmt: str, case: str) -> None:
    path = write_file(tmp_path, fmt, case)
    with pytest.raises(OutOfRange) as caught:
        load_portfolio(path, at=AT)
    assert caught.value.code == "out_of_range"
    assert caught.value.field == expected_field(case, fmt)
    assert str(caught.value).startswith(f"{path}: ")


@pytest.mark.parametrize(("fmt", "case"), FILE_CASES)
def test_the_cli_refuses_it_in_one_line_with_exit_code_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, fmt: str, case: str
) -> None:
    path = write_file(tmp_path, fmt, case)

    code = main(["value", str(path)])

    out, err = capsys.readouterr()
    assert code == EXIT_USER_ERROR
    assert out == ""
    assert err.startswith(f"portfoliowise: error: {path}: ")
    assert err.count("\n") == 1
    assert err.endswith("\n")
    assert "out of range" in err or "too many holdings" in err
    assert len(err) < 500


@pytest.mark.parametrize("budget", ["1e16JPY", "1e40USD", "300000.00000000001JPY"])
def test_the_cli_refuses_a_budget_outside_the_limits(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, budget: str
) -> None:
    path = tmp_path / "ok.json"
    document = native("quantity 1e40")
    document["holdings"][0]["quantity"] = "5"
    document["targets"] = {"VTI": "100"}
    path.write_text(json.dumps(document), encoding="utf-8")
    quotes = tmp_path / "quotes.json"
    quotes.write_text(
        json.dumps({"quotes": {"VTI": {"price": "301.45"}}, "rates": {"USD-JPY": "154.32"}}),
        encoding="utf-8",
    )

    code = main(["simulate", str(path), "--quotes", str(quotes), "--budget", budget])

    _, err = capsys.readouterr()
    assert code == EXIT_USER_ERROR
    assert err.startswith("portfoliowise: error: budget is out of range")
    assert err.count("\n") == 1


# -- quotes files: prices and rates -------------------------------------------------------
@pytest.mark.parametrize(
    ("document", "field"),
    [
        ({"quotes": {"VTI": {"price": "1e10"}}}, "price"),
        ({"quotes": {"VTI": {"price": "0.00000000001"}}}, "price"),
        ({"quotes": {}, "rates": {"USD-JPY": "1e7"}}, "rate"),
        ({"quotes": {}, "rates": {"USD-JPY": "1e-7"}}, "rate"),
    ],
)
def test_a_quotes_file_meets_the_price_and_rate_limits(document: Any, field: str) -> None:
    with pytest.raises(OutOfRange) as caught:
        parse_quotes_document(document)
    assert caught.value.field == field


def test_the_exports_exchange_rate_meets_the_rate_limit() -> None:
    document = legacy("negative quantity") | {"exchangeRate": {"rate": "1e9"}}
    document["currentAssets"][0]["holdings"] = "5"
    with pytest.raises(OutOfRange) as caught:
        parse_portfolio_document(document, at=AT, default_name="mine")
    assert caught.value.field == "rate"


def test_an_average_cost_is_checked_before_it_is_multiplied() -> None:
    document = native("negative quantity")
    document["holdings"][0] = {
        "symbol": "VTI",
        "quantity": "5",
        "averageCost": {"amount": "1e999999", "currency": "USD"},
    }
    with pytest.raises(OutOfRange) as caught:
        parse_portfolio_document(document, at=AT, default_name="mine")
    assert caught.value.field == "averageCost"


def test_a_computed_cost_basis_is_kept_to_10_decimal_places() -> None:
    document = native("negative quantity")
    document["holdings"][0] = {
        "symbol": "VTI",
        "quantity": "0.1234567891",
        "averageCost": {"amount": "72.1234567891", "currency": "USD"},
    }
    loaded = parse_portfolio_document(document, at=AT, default_name="mine")
    cost = loaded.portfolio.holdings[0].cost_basis
    assert cost is not None
    assert cost.amount == (Decimal("0.1234567891") * Decimal("72.1234567891")).quantize(
        Decimal("1e-10")
    )


# -- a restored backup -------------------------------------------------------------------
def stored(*portfolio_ids: str) -> InMemoryPortfolioRepository:
    repo = InMemoryPortfolioRepository(InMemoryAuditLog())
    for portfolio_id in portfolio_ids:
        portfolio = Portfolio.create(
            user_id="u1",
            portfolio_id=portfolio_id,
            name=portfolio_id,
            base_currency=JPY,
            at=AT,
            holdings=[Holding.of("7203", "100")],
        )
        repo.add(portfolio, audit_entries(portfolio.pull_events(), RequestContext()))
    return repo


def tamper(blobs: InMemoryBlobStore, change: Callable[[dict[str, Any]], None]) -> None:
    """Change the second portfolio of u1's object and re-sign it in the manifest: a whole
    backup (checksums match), holding a value the limits refuse."""
    manifest = json.loads(blobs.get("daily/2026-11-28/manifest.json"))
    key = "daily/2026-11-28/" + str(manifest["objects"][0]["key"])  # u1's, named by content
    document = json.loads(gzip.decompress(blobs.get(key)))
    change(document["portfolios"][1])
    body = gzip.compress(json.dumps(document).encode(), mtime=0)
    blobs.put(key, body)
    manifest = json.loads(blobs.get("daily/2026-11-28/manifest.json"))
    manifest["objects"][0].update(sha256=hashlib.sha256(body).hexdigest(), bytes=len(body))
    blobs.put("daily/2026-11-28/manifest.json", json.dumps(manifest).encode())


def quantity_1e40(portfolio: dict[str, Any]) -> None:
    portfolio["holdings"][0]["quantity"] = "1e40"


def long_name(portfolio: dict[str, Any]) -> None:
    portfolio["name"] = LONG


def many_holdings(portfolio: dict[str, Any]) -> None:
    template = portfolio["holdings"][0]
    portfolio["holdings"] = [template | {"symbol": s} for s in us_symbols(MANY)]


@pytest.mark.parametrize(
    ("change", "field"),
    [(quantity_1e40, "quantity"), (long_name, "name"), (many_holdings, "holdings")],
)
def test_a_backup_holding_a_value_out_of_range_is_refused_before_anything_is_written(
    change: Callable[[dict[str, Any]], None], field: str
) -> None:
    blobs = InMemoryBlobStore()
    backup.run_backup(stored("a", "b", "c"), blobs, AT.date())
    tamper(blobs, change)
    target = stored()

    with pytest.raises(OutOfRange) as caught:
        backup.plan_restore(target, blobs, "2026-11-28")

    assert caught.value.code == "out_of_range"
    assert caught.value.field == field
    message = str(caught.value)
    assert "daily/2026-11-28/" in message
    assert re.search(r"u1/[0-9a-f]{16}\.json\.gz: portfolios\[1\]", message)
    assert len(message) < 500
    assert list(target.all_portfolios()) == []  # verified first: nothing half-restored
    with pytest.raises(OutOfRange):  # a direct verify says the same
        backup.verify_backup(blobs, "daily/2026-11-28/")


def test_a_backup_both_corrupt_and_out_of_range_is_reported_corrupt_naming_both() -> None:
    blobs = InMemoryBlobStore()
    backup.run_backup(stored("a", "b"), blobs, AT.date())
    tamper(blobs, quantity_1e40)
    manifest = json.loads(blobs.get("daily/2026-11-28/manifest.json"))
    manifest["portfolios"] = 7
    blobs.put("daily/2026-11-28/manifest.json", json.dumps(manifest).encode())

    with pytest.raises(DomainError) as caught:
        backup.plan_restore(stored(), blobs, "2026-11-28")

    assert caught.value.code == "backup_corrupt"
    assert "counts do not add up" in str(caught.value)
    assert "quantity is out of range" in str(caught.value)


def test_the_good_portfolios_of_a_refused_backup_are_not_restored_either() -> None:
    """All or nothing: the portfolios before and after the refused one stay unwritten,
    and those already stored stay as they were."""
    blobs = InMemoryBlobStore()
    backup.run_backup(stored("a", "b", "c"), blobs, AT.date())
    tamper(blobs, quantity_1e40)
    target = stored("a")
    before = target.get("u1", "a").to_json()

    with pytest.raises(OutOfRange):
        backup.plan_restore(target, blobs, "2026-11-28")

    assert [p.portfolio_id for p in target.all_portfolios()] == ["a"]
    assert target.get("u1", "a").to_json() == before
