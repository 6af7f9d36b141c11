"""`GET/PUT /api/portfolio`: the existing web app's portfolio sync, checked against what the
app reads (its portfolioSyncService.ts, portfolioStore.ts syncToServer / syncFromServer /
resolveConflict, apiUtils.ts authFetch and errorHandler.ts handleApiError), with a request
body recorded in the app's exact shape (tests/fixtures/web_app/portfolio_put.json: a Tokyo
stock, a US ETF and a fund, two targets, the exchange rate, the additional budget and a
Japanese AI prompt template). Numbers are compared as `Decimal` and as the text sent, so
that `0.0938`, `1234.5` and `150.25` must come back with exactly their digits."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from api_harness import LambdaContext, call, make_event

from portfoliowise.adapters.clock import FixedClock
from portfoliowise.adapters.memory import InMemoryAuditLog, InMemoryEventPublisher
from portfoliowise.domain.events import (
    HoldingAdded,
    HoldingChanged,
    HoldingRemoved,
    PortfolioCreated,
    PortfolioSettingsChanged,
    TargetsSet,
)
from portfoliowise.domain.limits import (
    MAX_ATTRIBUTE_NAMES,
    MAX_ATTRIBUTE_TEXT_LENGTH,
    MAX_HOLDINGS,
    MAX_PROMPT_TEMPLATE_LENGTH,
    MAX_TEXT_LENGTH,
)
from portfoliowise.handlers.container import Container
from portfoliowise.handlers.presenters import json_with_numbers

PATH = "/api/portfolio"
BODY_FILE = Path(__file__).resolve().parents[2] / "fixtures" / "web_app" / "portfolio_put.json"
BODY_TEXT = BODY_FILE.read_text(encoding="utf-8")
SERVER_FIELDS = ("version", "updatedAt")


def app_body() -> dict[str, Any]:
    """The recorded body, numbers as `Decimal` (as the app's JSON has them)."""
    body: dict[str, Any] = json.loads(BODY_TEXT, parse_float=Decimal)
    return body


def decimals(text: str) -> Any:
    return json.loads(text, parse_float=Decimal)


def raw_call(app: Any, method: str, *, raw_body: str | None = None, **kw: Any) -> tuple[int, str]:
    """(status, body text) of a call to /api/portfolio."""
    if method == "GET":
        event = make_event("get_portfolio.json", path=PATH, **kw)
    else:
        headers = {"If-Match": None, **kw.pop("headers", {})}
        event = make_event(
            "put_portfolio.json", method="PUT", path=PATH, raw_body=raw_body, headers=headers, **kw
        )
    response = app.resolve(event, LambdaContext())
    return response["statusCode"], response.get("body") or ""


def dumps(document: Any) -> str:
    """JSON text of a document with `Decimal` numbers, every digit kept (as the app's
    `JSON.stringify` writes its numbers)."""
    return json_with_numbers(document)


def get(app: Any, user: str = "userA") -> tuple[int, Any, str]:
    status, text = raw_call(app, "GET", user=user)
    return status, decimals(text) if text else None, text


def put(app: Any, document: Any, user: str = "userA", **kw: Any) -> tuple[int, Any]:
    status, text = raw_call(app, "PUT", raw_body=dumps(document), user=user, **kw)
    return status, decimals(text) if text else None


def saved(app: Any, document: Any | None = None, user: str = "userA") -> dict[str, Any]:
    status, body = put(app, app_body() if document is None else document, user=user)
    assert status == 200, body
    return dict(body["data"])


def app_document(data: dict[str, Any]) -> dict[str, Any]:
    """GET's `data` without the server's fields: what the app sends back on PUT."""
    return {k: v for k, v in data.items() if k not in SERVER_FIELDS}


def sent_document(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k not in SERVER_FIELDS}


def assert_app_error(status: int, body: Any, code: str | None = None) -> None:
    """The standard error shape, with what the app reads: `success`, `error.code`,
    `error.message` and `message`."""
    assert 400 <= status < 600
    assert set(body) == {"success", "error", "message"}, body
    assert body["success"] is False
    assert set(body["error"]) <= {"code", "message", "details"}
    assert body["error"]["message"]
    assert body["message"] == body["error"]["message"]
    if code is not None:
        assert body["error"]["code"] == code, body


def audit(container: Container) -> InMemoryAuditLog:
    log = container.audit_log()
    assert isinstance(log, InMemoryAuditLog)
    return log


def published(container: Container) -> InMemoryEventPublisher:
    bus = container.events()
    assert isinstance(bus, InMemoryEventPublisher)
    return bus


# -- reading ------------------------------------------------------------------------------


def test_a_user_without_a_portfolio_gets_data_null(app: Any) -> None:
    status, body, _ = get(app)
    assert status == 200
    assert body == {"success": True, "data": None}


def test_signed_out_is_401_in_the_error_shape(app: Any) -> None:
    status, text = raw_call(app, "GET", user=None)
    assert status == 401
    assert_app_error(status, decimals(text))
    status, text = raw_call(app, "PUT", raw_body=BODY_TEXT, user=None)
    assert status == 401
    assert_app_error(status, decimals(text))


def test_a_write_without_the_csrf_token_is_refused(app: Any) -> None:
    status, body = put(app, app_body(), headers={"X-CSRF-Token": None})
    assert status == 403
    assert_app_error(status, body)
    assert get(app)[1]["data"] is None


# -- the first save -----------------------------------------------------------------------


def test_the_first_save_creates_the_default_portfolio(app: Any) -> None:
    status, body = put(app, app_body())
    assert status == 200, body
    # saveServerPortfolio reads `success` and `data` ({version, updatedAt}).
    assert body == {
        "success": True,
        "data": {"version": 1, "updatedAt": "2026-11-27T06:00:00+00:00"},
    }
    status, _, listed = call(app, "list_portfolios.json")
    assert status == 200
    assert [(p["portfolioId"], p["name"]) for p in listed["portfolios"]] == [
        ("default", "My portfolio")
    ]


def test_get_answers_every_field_the_app_reads(app: Any) -> None:
    saved(app)
    status, body, text = get(app)
    assert status == 200
    assert body["success"] is True
    data = body["data"]
    # fetchServerPortfolio -> ServerPortfolio: exactly these fields.
    assert set(data) == {
        "currentAssets",
        "targetPortfolio",
        "baseCurrency",
        "exchangeRate",
        "additionalBudget",
        "aiPromptTemplate",
        "version",
        "updatedAt",
    }
    assert data["version"] == 1
    assert data["updatedAt"] == "2026-11-27T06:00:00+00:00"  # `new Date(...)` reads it
    assert data["baseCurrency"] == "JPY"
    sent = app_body()
    toyota, voo, fund = data["currentAssets"]
    for got, want in zip(data["currentAssets"], sent["currentAssets"], strict=True):
        assert got == want  # every field, each value and type
    assert toyota["ticker"] == "7203.T"  # the app's spelling, not our canonical 7203
    assert toyota["symbol"] == "7203"
    assert toyota["holdings"] == 200
    assert toyota["price"] == Decimal("2850.5")
    assert toyota["purchasePrice"] == 2450
    assert toyota["purchaseDate"] == "2024-03-15"
    assert toyota["isStock"] is True
    assert toyota["annualFee"] == 0
    assert toyota["feeSource"] == "個別株"
    assert toyota["dividendYield"] == Decimal("2.8")
    assert toyota["hasDividend"] is True
    assert toyota["dividendFrequency"] == "semi-annual"
    assert toyota["region"] == "日本"
    assert voo["holdings"] == Decimal("12.5")
    assert voo["currency"] == "USD"
    assert voo["fundType"] == "ETF（米国）"
    assert voo["annualFee"] == Decimal("0.03")
    assert voo["feeIsEstimated"] is False
    assert voo["dividendIsEstimated"] is True
    assert fund["holdings"] == Decimal("1234.5")  # lots of 10,000 units, as sent
    assert fund["isMutualFund"] is True
    assert fund["annualFee"] == Decimal("0.0938")
    assert fund["id"] == "0331418A"
    assert fund["lastUpdated"] == "2026-11-26T15:00:00+00:00"
    assert fund["source"] == "投資信託協会"
    assert data["targetPortfolio"] == [
        {"id": "7203.T", "ticker": "7203.T", "name": "トヨタ自動車", "targetPercentage": 62.5},
        {"id": "VOO", "ticker": "VOO", "name": "Vanguard S&P 500 ETF", "targetPercentage": 37.5},
    ]
    assert data["exchangeRate"] == {
        "rate": Decimal("150.25"),
        "source": "exchangerate-api",
        "lastUpdated": "2026-11-27T05:00:00.000Z",
        "isDefault": False,
        "isStale": False,
    }
    assert data["additionalBudget"] == {"amount": 300000, "currency": "JPY"}
    assert data["aiPromptTemplate"] == sent["aiPromptTemplate"]
    assert "{totalAssets}" in data["aiPromptTemplate"]
    # JSON numbers with exactly their digits, never strings or a float's approximation.
    for digits in ('"annualFee": 0.0938', '"holdings": 1234.5', '"rate": 150.25'):
        assert digits in text
    assert '"holdings": 200,' in text


def test_get_put_get_is_the_identity(app: Any) -> None:
    saved(app)
    _, first, first_text = get(app)
    document = {**app_document(first["data"]), "version": first["data"]["version"]}
    status, body = put(app, document)
    assert status == 200, body
    assert body["data"]["version"] == 1  # nothing changed: nothing written
    _, second, second_text = get(app)
    assert second == first
    assert second_text == first_text
    assert app_document(second["data"]) == sent_document(app_body())


def test_the_domain_has_the_typed_fields(app: Any) -> None:
    saved(app)
    status, _, portfolio = call(app, "get_portfolio.json", path="/portfolios/default")
    assert status == 200, portfolio
    holdings = {h["symbol"]: h for h in portfolio["holdings"]}
    assert list(holdings) == ["7203", "VOO", "0331418A"]
    toyota, voo, fund = holdings["7203"], holdings["VOO"], holdings["0331418A"]
    assert (toyota["quantity"], toyota["currency"], toyota["assetClass"]) == (
        "200",
        "JPY",
        "equity",
    )
    assert (toyota["name"], toyota["region"]) == ("トヨタ自動車", "日本")
    assert toyota["costBasis"] == {"amount": "490000", "currency": "JPY"}  # 2450 x 200
    assert (voo["quantity"], voo["currency"]) == ("12.5", "USD")
    assert voo["costBasis"] == {"amount": "5015.625", "currency": "USD"}  # 401.25 x 12.5
    assert Decimal(fund["quantity"]) == Decimal(12_345_000)  # 1234.5 lots of 10,000 units
    assert fund["costBasis"] == {"amount": "34566617.25", "currency": "JPY"}  # 28000.5 x 1234.5
    assert portfolio["targets"] == {"7203": "62.5", "VOO": "37.5"}
    assert portfolio["additionalBudget"] == {"amount": "300000", "currency": "JPY"}
    assert portfolio["aiPromptTemplate"] == app_body()["aiPromptTemplate"]
    kept = json.loads(toyota["attributes"])
    assert kept["ticker"] == "7203.T"
    assert kept["fundType"] == "個別株"
    assert "holdings" not in kept  # typed: the quantity is the truth
    assert "exchangeRate" in json.loads(portfolio["attributes"])


def test_the_apps_price_is_never_our_quote(app: Any) -> None:
    saved(app)
    status, _, valuation = call(app, "get_portfolio.json", path="/portfolios/default/valuation")
    assert status == 200, valuation
    priced = {h["symbol"]: h["price"] for h in valuation["holdings"]}
    assert priced == {"7203": {"amount": "2500", "currency": "JPY"}}  # our quote, not 2850.5
    assert sorted(valuation["unpriced"]) == ["0331418A", "VOO"]  # not at the app's prices


# -- versions -----------------------------------------------------------------------------


def test_a_stale_version_is_a_409_the_app_recognises(app: Any) -> None:
    saved(app)  # version 1
    changed = app_body()
    changed["version"] = 1
    changed["currentAssets"][0]["holdings"] = 300
    assert put(app, changed)[0] == 200  # version 2, from another device
    stale = app_body()
    stale["version"] = 1
    stale["currentAssets"][0]["holdings"] = 400
    status, body = put(app, stale)
    assert status == 409
    # handleApiError passes `data.error` on as it is only when `userFriendly` is true;
    # syncToServer then finds `code` VERSION_CONFLICT on what authFetch throws.
    assert set(body) == {"success", "error", "message"}
    assert body["success"] is False
    error = body["error"]
    assert error["code"] == "VERSION_CONFLICT"
    assert error["userFriendly"] is True
    assert error["details"] == {"serverVersion": 2}
    assert error["message"]
    assert body["message"] == error["message"]
    _, current, _ = get(app)
    assert current["data"]["version"] == 2
    assert current["data"]["currentAssets"][0]["holdings"] == 300


def test_version_null_overwrites_what_is_stored(app: Any, container: Container) -> None:
    saved(app)
    other = app_body()
    other["version"] = 1
    other["aiPromptTemplate"] = "別の端末のテンプレート"
    assert put(app, other)[0] == 200  # version 2
    mine = app_body()  # resolveConflict('local'): version null
    mine["currentAssets"] = mine["currentAssets"][:2]
    mine["currentAssets"][1]["holdings"] = 20
    status, body = put(app, mine)
    assert status == 200, body
    assert body["data"]["version"] == 3
    _, current, _ = get(app)
    assert app_document(current["data"]) == sent_document(mine)
    # Nothing is lost for good: the overwritten template is in the trail.
    changes = [
        e.changes["aiPromptTemplate"]
        for e in audit(container).entries
        if "aiPromptTemplate" in e.changes and e.action == "portfolio.settings_changed"
    ]
    assert changes[-1] == {
        "before": "別の端末のテンプレート",
        "after": app_body()["aiPromptTemplate"],
    }


def test_version_null_never_wipes_holdings_with_an_empty_document(app: Any) -> None:
    """A browser that has not synced yet (after a reload the app saves before reading the
    server's copy: its ServerSyncInitializer runs before the token is refreshed) sends its
    empty state with `version: null`: a conflict the app shows, not a wiped portfolio."""
    saved(app)
    empty = app_body()
    empty["currentAssets"] = []
    empty["targetPortfolio"] = []
    empty["version"] = None
    status, body = put(app, empty)
    assert status == 409
    assert body["error"]["code"] == "VERSION_CONFLICT"
    assert body["error"]["details"] == {"serverVersion": 1}
    _, current, _ = get(app)
    assert len(current["data"]["currentAssets"]) == len(app_body()["currentAssets"])


def test_any_version_creates_the_portfolio_of_a_user_without_one(app: Any) -> None:
    body = app_body()
    body["version"] = 7  # a device that synced a portfolio since deleted
    status, answer = put(app, body)
    assert status == 200, answer
    assert answer["data"]["version"] == 1


def test_a_bad_version_is_400(app: Any) -> None:
    for version in ("1", -1, True, 1.5):
        body = app_body()
        body["version"] = version
        status, answer = put(app, body)
        assert status == 400, (version, answer)
        assert_app_error(status, answer)


def test_the_default_is_the_oldest_portfolio(app: Any, clock: FixedClock) -> None:
    status, _, created = call(app, "create_portfolio.json")  # p-0001, version 1
    assert status == 201
    _, body, _ = get(app)
    assert body["data"]["version"] == 1
    assert [a["ticker"] for a in body["data"]["currentAssets"]] == ["7203", "AAPL"]
    # A holding the app has never seen gets its symbol as `id` (the app keys rows by id).
    assert body["data"]["currentAssets"][0]["id"] == "7203"
    assert [t["targetPercentage"] for t in body["data"]["targetPortfolio"]] == [50, 50]
    document = app_body()
    document["version"] = 1
    assert put(app, document)[0] == 200
    status, _, stored = call(
        app, "get_portfolio.json", path=f"/portfolios/{created['portfolioId']}"
    )
    assert [h["symbol"] for h in stored["holdings"]] == ["7203", "VOO", "0331418A"]
    assert stored["name"] == created["name"]  # the app has no name: kept


# -- what a save records ------------------------------------------------------------------


def test_a_save_is_audited_and_published_like_any_change(app: Any, container: Container) -> None:
    saved(app)
    log, bus = audit(container), published(container)
    assert [e.action for e in log.entries] == ["portfolio.created"]
    assert [type(e) for e in bus.published] == [PortfolioCreated]
    created = log.entries[0]
    assert created.ip == "203.0.113.10"
    assert created.user_agent.startswith("Mozilla/5.0")
    assert created.resource == "portfolio/default"

    document = app_body()
    document["version"] = 1
    document["currentAssets"][0]["holdings"] = 300
    document["currentAssets"][0]["price"] = Decimal("2901")
    del document["currentAssets"][2]
    document["currentAssets"].append(
        {
            "id": "AAPL",
            "ticker": "AAPL",
            "name": "Apple",
            "price": Decimal("230.1"),
            "holdings": 3,
            "currency": "USD",
            "fundType": "個別株",
            "annualFee": 0,
        }
    )
    document["targetPortfolio"][0]["targetPercentage"] = 50
    document["targetPortfolio"][1]["targetPercentage"] = 50
    document["additionalBudget"] = {"amount": Decimal("150000.5"), "currency": "JPY"}
    document["exchangeRate"]["rate"] = Decimal("151.02")
    status, body = put(app, document)
    assert status == 200, body
    assert body["data"]["version"] == 2
    kinds = [type(e) for e in bus.published[1:]]
    assert kinds == [
        HoldingRemoved,
        HoldingChanged,
        HoldingAdded,
        TargetsSet,
        PortfolioSettingsChanged,  # the budget
        PortfolioSettingsChanged,  # the app's own fields: its target list, its rate
    ]
    entries = log.entries[1:]
    assert [e.action for e in entries] == [
        "holding.removed",
        "holding.changed",
        "holding.added",
        "portfolio.targets_set",
        "portfolio.settings_changed",
        "portfolio.settings_changed",
    ]
    assert [e.event_id for e in entries] == [e.event_id for e in bus.published[1:]]
    assert len({e.sort_key for e in log.entries}) == len(log.entries)  # one key each
    toyota = entries[1]
    assert toyota.resource == "portfolio/default/holding/7203"
    assert toyota.changes["quantity"] == {"before": "200", "after": "300"}
    assert toyota.changes["costBasis"] == {
        "before": {"amount": "490000", "currency": "JPY"},
        "after": {"amount": "735000", "currency": "JPY"},
    }
    assert '"price":2850.5' in toyota.changes["attributes"]["before"]  # type: ignore[index, operator]
    assert '"price":2901' in toyota.changes["attributes"]["after"]  # type: ignore[index, operator]
    assert entries[3].changes["targets"] == {
        "before": {"7203": "62.5", "VOO": "37.5"},
        "after": {"7203": "50", "VOO": "50"},
    }
    assert entries[4].changes == {
        "additionalBudget": {
            "before": {"amount": "300000", "currency": "JPY"},
            "after": {"amount": "150000.5", "currency": "JPY"},
        }
    }
    assert '"rate":151.02' in entries[5].changes["attributes"]["after"]  # type: ignore[index, operator]
    _, current, _ = get(app)
    assert app_document(current["data"]) == sent_document(document)


def test_a_document_that_changes_nothing_writes_nothing(app: Any, container: Container) -> None:
    saved(app)
    document = app_body()
    document["version"] = 1
    assert put(app, document)[1]["data"]["version"] == 1
    assert len(audit(container).entries) == 1
    assert len(published(container).published) == 1


# -- what the domain cannot take as it is ------------------------------------------------


@pytest.mark.parametrize(
    "targets",
    [
        [0, 0],  # the app starts every target at 0 %
        [60, 30],  # a user editing one target at a time
        [None, 100.5],  # parseFloat('') is NaN, written null
    ],
)
def test_targets_that_are_not_an_allocation_are_kept_but_not_set(
    app: Any, targets: list[Any]
) -> None:
    document = app_body()
    for entry, pct in zip(document["targetPortfolio"], targets, strict=True):
        entry["targetPercentage"] = None if pct is None else Decimal(str(pct))
    saved(app, document)
    _, portfolio_json = call(app, "get_portfolio.json", path="/portfolios/default")[::2]
    assert portfolio_json["targets"] == {}
    _, current, _ = get(app)
    assert current["data"]["targetPortfolio"] == document["targetPortfolio"]


def test_spellings_the_domain_writes_otherwise_come_back_as_sent(app: Any) -> None:
    document = app_body()
    toyota = document["currentAssets"][0]
    toyota["name"] = ""
    toyota["currency"] = "jpy"
    toyota["holdings"] = "200"
    del toyota["region"]
    document["baseCurrency"] = "jpy"
    document["aiPromptTemplate"] = ""
    document["additionalBudget"] = {"amount": 300000, "currency": "JPY", "note": "月末"}
    document["exchangeRate"] = None
    document["lastUpdated"] = "2026-11-27T06:00:00.000Z"  # a field the app may add
    saved(app, document)
    _, current, _ = get(app)
    assert app_document(current["data"]) == sent_document(document)
    _, _, portfolio = call(app, "get_portfolio.json", path="/portfolios/default")
    assert portfolio["holdings"][0]["name"] is None
    assert portfolio["holdings"][0]["region"] is None
    assert portfolio["holdings"][0]["quantity"] == "200"
    assert "aiPromptTemplate" not in portfolio


def test_a_change_made_elsewhere_shows_through(app: Any) -> None:
    saved(app)
    _, _, native = call(app, "get_portfolio.json", path="/portfolios/default")
    native["holdings"][0]["quantity"] = "500"
    native["holdings"][0]["name"] = "Toyota Motor"
    native["targets"] = {"7203": "70", "VOO": "30"}
    status, _, _ = call(
        app,
        "put_portfolio.json",
        path="/portfolios/default",
        body=native,
        headers={"If-Match": '"1"'},
    )
    assert status == 200
    _, current, _ = get(app)
    toyota = current["data"]["currentAssets"][0]
    assert toyota["holdings"] == 500
    assert toyota["name"] == "Toyota Motor"
    assert toyota["price"] == Decimal("2850.5")  # the app's own fields are kept
    assert [t["targetPercentage"] for t in current["data"]["targetPortfolio"]] == [70, 30]
    assert current["data"]["version"] == 2


def test_fields_an_asset_leaves_out_are_kept(app: Any) -> None:
    saved(app)
    document = app_body()
    document["version"] = 1
    for field in ("name", "region", "purchasePrice"):
        del document["currentAssets"][0][field]
    del document["aiPromptTemplate"]
    del document["exchangeRate"]
    status, body = put(app, document)
    assert status == 200, body
    _, _, portfolio = call(app, "get_portfolio.json", path="/portfolios/default")
    toyota = portfolio["holdings"][0]
    assert (toyota["name"], toyota["region"]) == ("トヨタ自動車", "日本")
    assert toyota["costBasis"] == {"amount": "490000", "currency": "JPY"}
    _, current, _ = get(app)
    assert current["data"]["aiPromptTemplate"] == app_body()["aiPromptTemplate"]
    assert current["data"]["exchangeRate"]["rate"] == Decimal("150.25")
    assert "purchasePrice" not in current["data"]["currentAssets"][0]


# -- limits and bad documents: 400 --------------------------------------------------------


def _with(change: Any) -> dict[str, Any]:
    document = app_body()
    change(document)
    return document


def _asset(document: dict[str, Any], **fields: Any) -> None:
    document["currentAssets"][0].update(fields)


BAD_DOCUMENTS: list[tuple[str, Any, str]] = [
    (
        "prompt template too long",
        lambda d: d.update(aiPromptTemplate="あ" * (MAX_PROMPT_TEMPLATE_LENGTH + 1)),
        "out_of_range",
    ),
    (
        "too many attributes on a holding",
        lambda d: _asset(d, **{f"x{i}": i for i in range(MAX_ATTRIBUTE_NAMES + 1)}),
        "out_of_range",
    ),
    (
        "an attribute text too long",
        lambda d: _asset(d, feeSource="x" * (MAX_ATTRIBUTE_TEXT_LENGTH + 1)),
        "out_of_range",
    ),
    (
        "a holding's attributes too long",
        lambda d: _asset(d, **{f"note{i}": "x" * 1000 for i in range(5)}),
        "out_of_range",
    ),
    (
        "a number with too many digits",
        lambda d: _asset(d, annualFee=Decimal("1e-60")),
        "out_of_range",
    ),
    (
        "attributes nested too deep",
        lambda d: _asset(d, extra={"a": {"b": {"c": {"d": {"e": 1}}}}}),
        "out_of_range",
    ),
    ("a name too long", lambda d: _asset(d, name="x" * (MAX_TEXT_LENGTH + 1)), "out_of_range"),
    ("negative holdings", lambda d: _asset(d, holdings=-1), "out_of_range"),
    ("holdings that are not a number", lambda d: _asset(d, holdings=[1]), "validation_error"),
    ("an unknown ticker", lambda d: _asset(d, ticker="NOT A TICKER"), "unknown_symbol"),
    ("an unknown currency", lambda d: _asset(d, currency="XYZ"), "unknown_currency"),
    (
        "a ticker listed twice",
        lambda d: d["currentAssets"].append(dict(d["currentAssets"][0], ticker="7203")),
        "invariant_violation",
    ),
    (
        "a negative budget",
        lambda d: d.update(additionalBudget={"amount": -1, "currency": "JPY"}),
        "out_of_range",
    ),
    (
        "a budget that is not a number",
        lambda d: d.update(additionalBudget={"amount": "300000", "currency": "JPY"}),
        "validation_error",
    ),
    (
        "a cost basis beyond the largest amount",
        lambda d: _asset(d, purchasePrice=Decimal("1e14"), holdings=100),
        "out_of_range",
    ),
    ("a target without a ticker", lambda d: d["targetPortfolio"].append({"id": "x"}), None),
    ("no currentAssets", lambda d: d.pop("currentAssets"), "validation_error"),
    ("no version", lambda d: d.pop("version"), "validation_error"),
]


@pytest.mark.parametrize(
    ("change", "code"),
    [pytest.param(change, code, id=name) for name, change, code in BAD_DOCUMENTS],
)
def test_a_document_that_breaks_a_rule_is_400_and_changes_nothing(
    app: Any, container: Container, change: Any, code: str | None
) -> None:
    saved(app)
    document = _with(change)
    document["version"] = 1 if "version" in document else None
    if "version" not in _with(change):
        del document["version"]
    status, body = put(app, document)
    assert status == 400, body
    assert_app_error(status, body, code)
    assert get(app)[1]["data"]["version"] == 1
    assert len(audit(container).entries) == 1


def test_too_many_holdings_is_400(app: Any) -> None:
    document = app_body()
    document["currentAssets"] = [{"ticker": "7203", "holdings": 1} for _ in range(MAX_HOLDINGS + 1)]
    status, body = put(app, document)
    assert status == 400
    assert_app_error(status, body)


def test_a_body_that_is_not_json_is_400(app: Any) -> None:
    status, text = raw_call(app, "PUT", raw_body="{not json")
    assert status == 400
    assert_app_error(status, decimals(text))
