"""The activities and performance routes, through recorded API Gateway REST proxy events
over the in-memory store (no network): add, list, delete and import activities, versions,
a ledger-based portfolio's holdings and valuation, the audit trail, and performance with
recorded closes."""

from __future__ import annotations

import base64
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from api_harness import NOW, assert_error_shape, call, fake_container
from dependency_injector import providers

from portfoliowise.adapters.clock import FixedClock
from portfoliowise.adapters.market.calendars import calendar_for
from portfoliowise.adapters.memory import InMemoryQuoteCache
from portfoliowise.application.market_service import MarketService
from portfoliowise.domain.errors import NotFoundError
from portfoliowise.domain.instruments import Instrument
from portfoliowise.domain.market import DailyClose, DailyHistory
from portfoliowise.handlers.api.app import build_app

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "ledger"
CSV = """date,type,symbol,quantity,unit_price,amount,fees,taxes,currency,fx_rate,note
2026-01-05,buy,7203,100,2450,,500,,,,first lot
2026-02-02,buy,7203,100,2550,,,,,,
2026-03-02,sell,7203,50,2600,,,,,,
2026-03-31,dividend,7203,,,6000,,1218,,,
"""
BAD_ROW = "2026-04-01,bogus,7203,1,1,,,,,,\n"
LATER = {"until": "2026-11-28T00:00:00Z"}  # the fixed clock: entries a few µs after it
CLOSES = {
    "7203": {
        "2026-10-30": "1900",
        "2026-11-02": "2000",
        "2026-11-16": "2100",
        "2026-11-26": "2200",
    },
    "AAPL": {"2026-10-30": "195", "2026-11-02": "200", "2026-11-25": "220"},  # 26: Thanksgiving
    "USD-JPY": {"2026-10-30": "150", "2026-11-02": "150", "2026-11-26": "155"},
}


class RecordedHistorySource:
    name = "recorded"

    def history(self, instrument: Instrument, start: date, end: date) -> DailyHistory:
        closes = CLOSES.get(instrument.symbol)
        if closes is None:
            raise NotFoundError(f"no history for {instrument.symbol}")
        points = sorted((date.fromisoformat(d), Decimal(c)) for d, c in closes.items())
        return DailyHistory(
            instrument.symbol,
            instrument.currency.code,
            tuple(DailyClose(d, c) for d, c in points if start <= d <= end),
            self.name,
        )


@pytest.fixture
def app() -> Any:
    clock = FixedClock(NOW)
    container = fake_container(clock)
    base = container.market()
    market = MarketService(
        InMemoryQuoteCache(clock),
        list(base._sources),
        list(base._fx_sources),
        [RecordedHistorySource()],  # type: ignore[list-item]
        clock,
        calendar_for,
    )
    container.market.override(providers.Object(market))
    return build_app(container)


def new_portfolio(app: Any, user: str = "userA", **body: Any) -> str:
    data = {"name": "Ledger", "baseCurrency": "JPY", **body}
    status, _, answer = call(app, "create_portfolio.json", user=user, body=data)
    assert status == 201, answer
    return str(answer["portfolioId"])


def post(app: Any, path: str, body: Any, **kw: Any) -> tuple[int, dict[str, Any], Any]:
    return call(app, "create_portfolio.json", method="POST", path=path, body=body, **kw)


def get(app: Any, path: str, **kw: Any) -> tuple[int, dict[str, Any], Any]:
    """Without `Accept-Encoding` (the large answers are gzipped when it allows)."""
    headers = {"Accept-Encoding": None, **kw.pop("headers", {})}
    return call(app, "get_portfolio.json", path=path, headers=headers, **kw)


def delete(app: Any, path: str, **kw: Any) -> tuple[int, dict[str, Any], Any]:
    return call(app, "delete_portfolio.json", path=path, **kw)


def put(app: Any, path: str, body: Any, **kw: Any) -> tuple[int, dict[str, Any], Any]:
    """The recorded PUT without its `If-Match` unless one is given."""
    headers = {"If-Match": None, **kw.pop("headers", {})}
    return call(app, "put_portfolio.json", path=path, body=body, headers=headers, **kw)


def upload(
    app: Any, pid: str, data: bytes, content_type: str = "text/csv", **kw: Any
) -> tuple[int, dict[str, Any], Any]:
    """The file as API Gateway passes it: text as is, a binary media type base64."""
    binary = content_type == "application/octet-stream"
    raw = base64.b64encode(data).decode() if binary else data.decode("utf-8")
    headers = {"Content-Type": content_type, "If-Match": None, **kw.pop("headers", {})}
    return call(
        app,
        "create_portfolio.json",
        method="POST",
        path=f"/portfolios/{pid}/activities/import",
        raw_body=raw,
        base64=binary,
        headers=headers,
        **kw,
    )


def activity(**fields: Any) -> dict[str, Any]:
    return {"type": "buy", "date": "2026-01-05", "symbol": "7203", **fields}


# -- add, list, delete ---------------------------------------------------------------------


def test_add_list_and_delete(app: Any) -> None:
    pid = new_portfolio(app)
    status, headers, body = post(
        app,
        f"/portfolios/{pid}/activities",
        {
            "activities": [
                activity(quantity="100", unitPrice="2450.5", fees=500),
                {"type": "deposit", "date": "2026-01-05", "currency": "JPY", "amount": "300000"},
                activity(id="aapl-1", symbol="AAPL", quantity="2", unitPrice="190", fxRate="150"),
            ]
        },
        headers={"If-Match": '"1"'},
    )
    assert status == 201, body
    assert headers["ETag"] == '"2"'
    assert body["version"] == 2
    assert body["activities"][0] == {
        "id": "p-0002",
        "type": "buy",
        "date": "2026-01-05",
        "currency": "JPY",
        "symbol": "7203",
        "quantity": "100",
        "unitPrice": "2450.5",
        "amount": "0",
        "fees": "500",
        "taxes": "0",
        "fxRate": None,
        "note": None,
    }

    status, headers, page = get(app, f"/portfolios/{pid}/activities", query={"limit": "2"})
    assert status == 200
    assert headers["ETag"] == '"2"'
    assert (page["total"], page["holdingsSource"], page["costBasis"]) == (3, "holdings", "average")
    assert [a["id"] for a in page["activities"]] == ["p-0003", "aapl-1"]  # deposit first
    status, _, rest = get(
        app, f"/portfolios/{pid}/activities", query={"limit": "2", "cursor": page["nextCursor"]}
    )
    assert [a["id"] for a in rest["activities"]] == ["p-0002"]
    assert rest["nextCursor"] is None

    status, headers, body = delete(
        app, f"/portfolios/{pid}/activities/aapl-1", headers={"If-Match": '"2"'}
    )
    assert (status, body, headers["ETag"]) == (204, None, '"3"')
    status, _, body = delete(app, f"/portfolios/{pid}/activities/aapl-1")
    assert status == 404
    assert_error_shape(status, body)


def test_bad_activities_are_400_and_stale_versions_409(app: Any) -> None:
    pid = new_portfolio(app)
    path = f"/portfolios/{pid}/activities"
    for bad in (
        {"activities": []},
        {"activities": [activity(type="gift")]},
        {"activities": [activity(quantity="abc")]},
        {"activities": [activity(id="has space")]},
        {"activities": [activity(quantity="1")], "extra": 1},
    ):
        status, _, body = post(app, path, bad)
        assert status == 400, bad
        assert_error_shape(status, body)
    status, _, body = post(app, path, {"activities": [activity(quantity="1", symbol="BAD!")]})
    assert (status, body["error"]["code"]) == (400, "unknown_symbol")
    assert body["error"]["message"].startswith("activities[0]: ")
    status, _, body = post(app, path, {"activities": [activity(quantity="-1", unitPrice="1")]})
    assert (status, body["error"]["code"]) == (400, "out_of_range")

    assert post(app, path, {"activities": [activity(quantity="1", unitPrice="1")]})[0] == 201
    status, _, body = post(
        app, path, {"activities": [activity(quantity="1", unitPrice="1")], "version": 1}
    )
    assert status == 409
    assert body["error"]["details"] == {"currentVersion": 2}
    status, _, body = delete(app, f"{path}/p-0002", headers={"If-Match": '"1"'})
    assert status == 409
    status, _, body = upload(app, pid, CSV.encode(), headers={"If-Match": '"1"'})
    assert status == 409
    status, _, body = post(app, path, {"activities": [activity(quantity="5", type="sell")]})
    assert (status, body["error"]["code"]) == (400, "oversell")


def test_another_users_portfolio_is_404_and_no_session_401(app: Any) -> None:
    pid = new_portfolio(app)
    paths = [
        ("get", f"/portfolios/{pid}/activities"),
        ("get", f"/portfolios/{pid}/performance"),
        ("post", f"/portfolios/{pid}/activities"),
        ("delete", f"/portfolios/{pid}/activities/x"),
        ("put", f"/portfolios/{pid}/ledger"),
    ]
    body = {"activities": [activity(quantity="1", unitPrice="1")]}
    for user, expected in (("userB", 404), (None, 401)):
        for method, path in paths:
            if method == "get":
                status, _, answer = get(app, path, user=user)
            elif method == "delete":
                status, _, answer = delete(app, path, user=user)
            elif method == "put":
                status, _, answer = put(
                    app, path, {"holdingsSource": "holdings", "version": 1}, user=user
                )
            else:
                status, _, answer = post(app, path, body, user=user)
            assert status == expected, (user, method, path, answer)
            assert_error_shape(status, answer)
        status, _, answer = upload(app, pid, CSV.encode(), user=user)
        assert status == expected
    # a state-changing request without the CSRF token
    status, _, _ = post(app, f"/portfolios/{pid}/activities", body, headers={"X-CSRF-Token": None})
    assert status == 403


# -- imports ---------------------------------------------------------------------------------


def test_all_or_nothing_and_partial_imports(app: Any) -> None:
    pid = new_portfolio(app)
    status, _, body = upload(app, pid, (CSV + BAD_ROW).encode())
    assert_error_shape(status, body)
    assert (status, body["error"]["code"]) == (400, "rows_rejected")
    details = body["error"]["details"]
    assert (details["rows"], details["rejectedCount"]) == (5, 1)
    assert details["rejected"][0]["line"] == 6
    assert "bogus" in details["rejected"][0]["reason"]
    assert get(app, f"/portfolios/{pid}/activities")[2]["total"] == 0

    status, headers, body = upload(app, pid, (CSV + BAD_ROW).encode(), query={"mode": "partial"})
    assert status == 201, body
    assert headers["ETag"] == '"2"'
    assert (body["imported"], body["rows"], body["rejectedCount"]) == (4, 5, 1)
    assert body["rejected"] == [
        {"line": 6, "reason": body["rejected"][0]["reason"], "code": "validation_error"}
    ]
    assert (body["format"], body["encoding"], body["alreadyImported"]) == (
        "activities-csv",
        "utf-8",
        False,
    )
    assert len(body["batchId"]) == len(body["sha256"]) == 64


def test_the_same_import_twice_adds_nothing_and_is_audited_once(app: Any) -> None:
    pid = new_portfolio(app)
    first = upload(app, pid, CSV.encode())
    assert first[0] == 201
    status, headers, again = upload(app, pid, CSV.encode())
    assert status == 200
    assert headers["ETag"] == '"2"'
    assert (again["imported"], again["duplicates"], again["alreadyImported"]) == (0, 4, True)
    assert again["batchId"] == first[2]["batchId"]
    assert get(app, f"/portfolios/{pid}/activities")[2]["total"] == 4
    status, _, trail = get(app, f"/portfolios/{pid}/audit", query=LATER)
    entries = [e for e in trail["entries"] if e["action"] == "portfolio.activities_changed"]
    assert len(entries) == 1
    assert entries[0]["resource"] == f"portfolio/{pid}/activities"
    assert entries[0]["changes"]["added"] == {"before": None, "after": 4}
    assert entries[0]["changes"]["sha256"]["after"] == first[2]["sha256"]


def test_a_shift_jis_broker_file_as_octet_stream(app: Any) -> None:
    pid = new_portfolio(app)
    data = (FIXTURES / "sbi_holdings.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    status, _, body = upload(app, pid, data, "application/octet-stream")
    assert status == 400  # a holdings file needs its opening date
    assert "opening_date" in body["error"]["message"]
    status, _, body = upload(
        app,
        pid,
        data,
        "application/octet-stream",
        query={"mode": "partial", "openingDate": "2026-01-05", "filename": "sbi.csv"},
    )
    assert status == 201, body
    assert (body["format"], body["encoding"], body["imported"]) == ("sbi", "cp932", 5)
    assert [r["line"] for r in body["rejected"]] == [8]


def test_the_guard_still_refuses_non_utf8_on_other_routes(app: Any) -> None:
    data = (FIXTURES / "sbi_holdings.csv").read_bytes()
    status, _, body = call(
        app,
        "import_portfolio.json",
        raw_body=base64.b64encode(data).decode(),
        base64=True,
        headers={"Content-Type": "text/csv"},
    )
    assert (status, body["error"]["message"]) == (400, "the body is not valid UTF-8 text")
    pid = new_portfolio(app)
    status, _, body = upload(app, pid, b"x", "application/xml")
    assert status == 415


# -- ledger-based portfolios -----------------------------------------------------------------


def test_a_ledger_based_portfolio_follows_its_activities_and_values_them(app: Any) -> None:
    pid = new_portfolio(app)
    status, headers, body = put(
        app,
        f"/portfolios/{pid}/ledger",
        {"holdingsSource": "activities"},
    )
    assert status == 400  # the version is required
    status, headers, body = put(
        app,
        f"/portfolios/{pid}/ledger",
        {"holdingsSource": "activities"},
        headers={"If-Match": '"1"'},
    )
    assert status == 200, body
    assert (body["holdingsSource"], body["version"], headers["ETag"]) == ("activities", 2, '"2"')
    path = f"/portfolios/{pid}/activities"
    post(app, path, {"activities": [activity(quantity="100", unitPrice="2000")]})
    post(
        app,
        path,
        {"activities": [activity(date="2026-02-02", quantity="100", unitPrice="2200")]},
    )
    status, _, _ = post(
        app,
        path,
        {
            "activities": [
                activity(type="sell", date="2026-03-02", quantity="50", unitPrice="2400"),
                {"type": "split", "date": "2026-04-01", "symbol": "7203", "quantity": "2"},
            ]
        },
    )
    assert status == 201
    status, _, portfolio = get(app, f"/portfolios/{pid}")
    (holding,) = portfolio["holdings"]
    assert (holding["symbol"], holding["quantity"]) == ("7203", "300")
    assert holding["costBasis"] == {"amount": "315000", "currency": "JPY"}  # 150 x 2,100
    assert portfolio["holdingsSource"] == "activities"
    status, _, valuation = get(app, f"/portfolios/{pid}/valuation")
    assert status == 200
    assert valuation["total"] == {"amount": "750000", "currency": "JPY"}  # 300 x 2,500
    status, _, trail = get(app, f"/portfolios/{pid}/audit", query=LATER)
    actions = [e["action"] for e in trail["entries"]]
    assert actions.count("portfolio.activities_changed") == 3
    assert actions.count("holding.added") == 1
    assert actions.count("holding.changed") == 2

    status, _, body = put(app, f"/portfolios/{pid}/ledger", {"costBasis": "fifo", "version": 5})
    assert status == 200, body
    assert body["costBasis"] == "fifo"
    assert body["holdings"][0]["costBasis"] == {"amount": "320000", "currency": "JPY"}
    status, _, body = put(app, f"/portfolios/{pid}/ledger", {"costBasis": "lifo", "version": 6})
    assert status == 400
    status, _, body = put(app, f"/portfolios/{pid}/ledger", {"costBasis": "fifo", "version": 1})
    assert status == 409


def test_a_portfolio_with_holdings_and_no_activities_cannot_follow_them(app: Any) -> None:
    status, _, created = call(app, "create_portfolio.json")  # 7203 and AAPL held
    pid = created["portfolioId"]
    status, _, body = put(
        app, f"/portfolios/{pid}/ledger", {"holdingsSource": "activities", "version": 1}
    )
    assert (status, body["error"]["code"]) == (400, "invariant_violation")


# -- performance -----------------------------------------------------------------------------


def test_performance_of_a_ledger_and_of_a_holdings_only_portfolio(app: Any) -> None:
    ledger = new_portfolio(app)
    post(
        app,
        f"/portfolios/{ledger}/activities",
        {"activities": [activity(date="2026-11-02", quantity="100", unitPrice="2000")]},
    )
    query = {"from": "2026-11-01", "to": "2026-11-26"}
    status, _, body = get(app, f"/portfolios/{ledger}/performance", query=query)
    assert status == 200, body
    assert body["basis"] == "activities"
    assert (body["value"], body["invested"], body["gain"], body["twr"]) == (
        "220000",
        "200000",
        "20000",
        "0.1000000000",
    )
    assert "series" not in body
    status, _, body = get(
        app, f"/portfolios/{ledger}/performance", query={**query, "series": "true"}
    )
    assert len(body["series"]) == 27
    assert body["series"][-1] == {
        "date": "2026-11-26",
        "value": "220000",
        "flow": "0",
        "invested": "200000",
    }

    holdings = new_portfolio(
        app, holdings=[{"symbol": "7203", "quantity": "100"}, {"symbol": "AAPL", "quantity": "10"}]
    )
    status, _, body = get(
        app,
        f"/portfolios/{holdings}/performance",
        query={"range": "2026-11-03..2026-11-26", "currency": "JPY"},
    )
    assert status == 200, body
    assert body["basis"] == "holdings"
    assert (body["startValue"], body["value"], body["twr"]) == ("500000", "561000", "0.1220000000")
    assert (body["xirr"], body["invested"]) == (None, None)
    status, _, body = get(
        app, f"/portfolios/{holdings}/performance", query={"range": "MTD", "currency": "USD"}
    )
    assert (status, body["currency"], body["range"]["start"]) == (200, "USD", "2026-11-01")


def test_unknown_closes_are_reported(app: Any) -> None:
    pid = new_portfolio(
        app, holdings=[{"symbol": "7203", "quantity": "100"}, {"symbol": "9984", "quantity": "1"}]
    )
    status, _, body = get(
        app, f"/portfolios/{pid}/performance", query={"from": "2026-11-03", "to": "2026-11-26"}
    )
    assert status == 200
    assert body["unavailable"] == [{"symbol": "9984", "reason": "not_found"}]
    assert body["value"] is None
    assert body["unknown"]["9984"] == body["unknown"]["days"] == 25


def test_performance_parameters_are_checked(app: Any) -> None:
    pid = new_portfolio(app)
    for query in (
        {"range": "2W"},
        {"currency": "EUR"},
        {"from": "yesterday"},
        {"range": "YTD", "from": "2026-01-01"},
        {"to": "2027-01-01"},
        {"series": "maybe"},
    ):
        status, _, body = get(app, f"/portfolios/{pid}/performance", query=query)
        assert status == 400, query
        assert_error_shape(status, body)


def test_an_empty_portfolio_performs_zero_in_plain_decimals(app: Any) -> None:
    pid = new_portfolio(app)
    status, _, body = get(app, f"/portfolios/{pid}/performance", query={"range": "1D"})
    assert status == 200
    assert (body["basis"], body["value"], body["twr"], body["xirr"]) == (
        "holdings",
        "0",
        "0.0000000000",  # never `0E-10`
        None,
    )
    assert body["range"]["start"] == body["asOf"] == NOW.date().isoformat()
