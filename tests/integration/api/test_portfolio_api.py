"""The portfolio routes, driven by recorded API Gateway REST proxy events."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from api_harness import (
    LambdaContext,
    assert_error_shape,
    call,
    load_event,
    make_event,
    market_service,
)
from dependency_injector import providers

from portfoliowise.adapters.clock import FixedClock
from portfoliowise.handlers.container import Container

PID = "p-0001"


def create(app: Any, user: str = "userA", **changes: Any) -> dict[str, Any]:
    status, headers, body = call(app, "create_portfolio.json", user=user, **changes)
    assert status == 201, body
    assert headers["Location"] == f"/portfolios/{body['portfolioId']}"
    return dict(body)


def test_create_answers_201_with_the_representation_and_its_version(app: Any) -> None:
    body = create(app)
    assert body["portfolioId"] == PID
    assert body["version"] == 1
    assert body["holdings"][0] == {
        "symbol": "7203",
        "market": "JP",
        "quantity": "100",
        "assetClass": "equity",
        "currency": "JPY",
        "costBasis": {"amount": "250000", "currency": "JPY"},
        "sector": None,
        "region": None,
        "name": None,
    }
    assert body["targets"] == {"7203": "50", "AAPL": "50"}
    assert "userId" not in body


def test_list_and_get_show_only_the_users_portfolios(app: Any) -> None:
    create(app)
    status, _, body = call(app, "list_portfolios.json")
    assert status == 200
    assert [p["portfolioId"] for p in body["portfolios"]] == [PID]
    status, headers, body = call(app, "get_portfolio.json")
    assert status == 200
    assert headers["ETag"] == '"1"'
    assert body["name"] == "老後資金"


def test_put_accepts_what_get_returns_with_if_match(app: Any) -> None:
    create(app)
    _, _, current = call(app, "get_portfolio.json")
    current["name"] = "NISA"
    current["holdings"] = [h for h in current["holdings"] if h["symbol"] == "7203"]
    current["targets"] = {"7203": "100"}
    status, headers, body = call(app, "put_portfolio.json", body=current)
    assert status == 200, body
    assert body["name"] == "NISA"
    assert [h["symbol"] for h in body["holdings"]] == ["7203"]
    assert body["version"] == 2
    assert headers["ETag"] == '"2"'


def test_put_takes_the_version_from_the_body_without_if_match(app: Any) -> None:
    create(app)
    _, _, current = call(app, "get_portfolio.json")
    current["name"] = "Renamed"
    status, _, body = call(app, "put_portfolio.json", body=current, headers={"If-Match": None})
    assert status == 200, body
    assert body["version"] == 2


def test_a_stale_version_is_409_with_the_current_version(app: Any) -> None:
    create(app)
    _, _, current = call(app, "get_portfolio.json")
    current["name"] = "first"
    assert call(app, "put_portfolio.json", body=current)[0] == 200
    current["name"] = "second, from a stale copy"
    status, _, body = call(app, "put_portfolio.json", body=current, headers={"If-Match": '"1"'})
    assert status == 409
    assert_error_shape(status, body)
    assert body["error"]["details"] == {"currentVersion": 2}


def test_put_without_any_version_is_400(app: Any) -> None:
    create(app)
    _, _, current = call(app, "get_portfolio.json")
    del current["version"]
    status, _, body = call(app, "put_portfolio.json", body=current, headers={"If-Match": None})
    assert status == 400
    assert_error_shape(status, body)


def test_delete_then_get_is_404(app: Any) -> None:
    create(app)
    status, _, _ = call(app, "delete_portfolio.json", headers={"If-Match": '"1"'})
    assert status == 204
    status, _, body = call(app, "get_portfolio.json")
    assert status == 404
    assert_error_shape(status, body)


def test_valuation_converts_with_the_rate_and_reports_weights(app: Any) -> None:
    create(app)
    status, _, body = call(app, "get_portfolio.json", path=f"/portfolios/{PID}/valuation")
    assert status == 200, body
    # 100 x 2,500 JPY + 10 x 200 USD x 150 = 250,000 + 300,000
    assert body["total"] == {"amount": "550000", "currency": "JPY"}
    assert body["unpriced"] == []
    weights = {h["symbol"]: h["weight"] for h in body["holdings"]}
    assert weights == {"7203": "45.4545", "AAPL": "54.5455"}
    assert {d["symbol"] for d in body["drift"]} == {"7203", "AAPL"}


def test_valuation_in_usd(app: Any) -> None:
    create(app)
    status, _, body = call(
        app,
        "get_portfolio.json",
        path=f"/portfolios/{PID}/valuation",
        query={"currency": "usd"},
    )
    assert status == 200, body
    assert body["currency"] == "USD"
    assert body["total"]["currency"] == "USD"


def test_valuation_reports_unpriced_holdings_when_every_source_fails(
    app: Any, container: Container, clock: FixedClock
) -> None:
    create(app)
    container.market.override(providers.Object(market_service(clock, failing=True)))
    status, _, body = call(app, "get_portfolio.json", path=f"/portfolios/{PID}/valuation")
    assert status == 200, body
    assert sorted(body["unpriced"]) == ["7203", "AAPL"]
    assert body["holdings"] == []


def test_allocation_by_asset_class_and_a_bad_dimension(app: Any) -> None:
    create(app)
    path = f"/portfolios/{PID}/allocation"
    status, _, body = call(app, "get_portfolio.json", path=path, query={"by": "assetClass"})
    assert status == 200, body
    assert body["by"] == "assetClass"
    assert body["slices"] == [
        {"key": "equity", "value": {"amount": "550000", "currency": "JPY"}, "weight": "100.0000"}
    ]
    status, _, body = call(app, "get_portfolio.json", path=path, query={"by": "colour"})
    assert status == 400
    assert_error_shape(status, body)


def test_simulate_plans_a_buy(app: Any) -> None:
    create(app)
    status, _, body = call(app, "simulate_portfolio.json")
    assert status == 200, body
    assert body["mode"] == "buy"
    assert body["budget"] == {"amount": "100000", "currency": "JPY"}
    assert all(order["side"] == "buy" for order in body["orders"])


def test_simulate_rejects_a_bad_budget(app: Any) -> None:
    create(app)
    status, _, body = call(
        app, "simulate_portfolio.json", body={"budget": {"amount": "-5", "currency": "JPY"}}
    )
    assert status == 400
    assert_error_shape(status, body)


def test_audit_trail_lists_the_changes_of_this_portfolio(app: Any) -> None:
    create(app)
    _, _, current = call(app, "get_portfolio.json")
    current["name"] = "Renamed"
    call(app, "put_portfolio.json", body=current)
    status, _, body = call(app, "get_portfolio.json", path=f"/portfolios/{PID}/audit")
    assert status == 200, body
    entries = body["entries"]
    assert entries
    assert {e["resource"] for e in entries} == {f"portfolio/{PID}"}
    assert entries[0]["ip"] == "203.0.113.10"
    assert entries[0]["userAgent"].startswith("Mozilla/5.0")


def test_export_json_and_import_it_back(app: Any) -> None:
    create(app)
    status, headers, exported = call(
        app, "get_portfolio.json", path=f"/portfolios/{PID}/export", query={"format": "json"}
    )
    assert status == 200
    assert "attachment" in headers["Content-Disposition"]
    assert exported["format"] == "portfoliowise/portfolio@1"
    status, _, imported = call(app, "import_portfolio.json", body=exported)
    assert status == 201, imported
    assert imported["portfolioId"] != PID
    assert imported["holdings"] == exported["holdings"]
    assert imported["targets"] == exported["targets"]


def test_export_csv_and_import_it_back(app: Any) -> None:
    create(app)
    status, headers, text = call(
        app, "get_portfolio.json", path=f"/portfolios/{PID}/export", query={"format": "csv"}
    )
    assert status == 200
    assert headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["symbol"] for r in rows] == ["7203", "AAPL"]
    assert rows[0]["costBasis"] == "250000"
    status, _, imported = call(
        app,
        "import_portfolio.json",
        raw_body=text,
        query={"name": "From CSV", "currency": "JPY"},
        headers={"Content-Type": "text/csv"},
    )
    assert status == 201, imported
    assert imported["name"] == "From CSV"
    assert [h["quantity"] for h in imported["holdings"]] == ["100", "10"]
    assert imported["holdings"][0]["costBasis"] == {"amount": "250000", "currency": "JPY"}


def test_import_the_existing_apps_export(app: Any) -> None:
    legacy = {
        "name": "旧アプリ",
        "baseCurrency": "JPY",
        "currentAssets": [
            {
                "ticker": "AAPL",
                "name": "Apple",
                "holdings": 5,
                "price": 200,
                "currency": "USD",
                "fundType": "個別株",
            }
        ],
        "targetPortfolio": [{"ticker": "AAPL", "targetPercentage": 100}],
    }
    status, _, body = call(app, "import_portfolio.json", body=legacy)
    assert status == 201, body
    assert [h["symbol"] for h in body["holdings"]] == ["AAPL"]


def test_import_rejects_a_file_that_is_not_a_portfolio(app: Any) -> None:
    for raw in ('{"hello": 1}', "{not json", "no,columns\n1,2\n"):
        status, _, body = call(app, "import_portfolio.json", raw_body=raw)
        assert status == 400, raw
        assert_error_shape(status, body)


def test_invalid_bodies_are_400_with_the_error_shape(app: Any) -> None:
    for bad in ({}, {"name": ""}, {"name": "x", "holdings": [{"symbol": "AAPL"}]}, [1, 2]):
        status, _, body = call(app, "create_portfolio.json", body=bad)
        assert status == 400, bad
        assert_error_shape(status, body)
    status, _, body = call(app, "create_portfolio.json", raw_body="{broken")
    assert status == 400
    assert_error_shape(status, body)


def test_domain_rules_are_400_too(app: Any) -> None:
    body = json.loads(load_event("create_portfolio.json")["body"])
    body["targets"] = {"7203": "30", "AAPL": "30"}  # not 100
    status, _, answer = call(app, "create_portfolio.json", body=body)
    assert status == 400
    assert_error_shape(status, answer)
    body["targets"] = {}
    body["holdings"][0]["symbol"] = "not a symbol!"
    status, _, answer = call(app, "create_portfolio.json", body=body)
    assert status == 400
    assert answer["error"]["code"] == "unknown_symbol"


def test_a_body_over_the_limit_is_413(app: Any) -> None:
    status, _, body = call(app, "create_portfolio.json", raw_body="x" * (1024 * 1024 + 1))
    assert status == 413
    assert_error_shape(status, body)


def test_without_a_session_every_route_is_401(app: Any) -> None:
    create(app)
    for name, path in (
        ("list_portfolios.json", "/portfolios"),
        ("get_portfolio.json", f"/portfolios/{PID}"),
        ("get_portfolio.json", f"/portfolios/{PID}/valuation"),
        ("simulate_portfolio.json", f"/portfolios/{PID}/simulate"),
        ("delete_portfolio.json", f"/portfolios/{PID}"),
    ):
        status, _, body = call(app, name, path=path, user=None)
        assert status == 401, path
        assert_error_shape(status, body)


def test_a_change_without_the_csrf_token_is_403(app: Any) -> None:
    status, _, body = call(app, "create_portfolio.json", headers={"X-CSRF-Token": None})
    assert status == 403
    assert_error_shape(status, body)
    status, _, body = call(app, "create_portfolio.json", headers={"X-CSRF-Token": "csrf-userB"})
    assert status == 403


def test_cors_only_for_configured_origins(app: Any) -> None:
    _, headers, _ = call(app, "preflight.json")
    assert headers["Access-Control-Allow-Origin"] == "https://portfolio-wise.com"
    assert headers["Access-Control-Allow-Credentials"] == "true"
    _, headers, _ = call(app, "health.json", headers={"Origin": "http://localhost:5173"})
    assert headers["Access-Control-Allow-Origin"] == "http://localhost:5173"
    _, headers, _ = call(app, "health.json", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in headers


def test_numbers_out_of_range_are_400_not_500(app: Any) -> None:
    body = {"name": "x", "holdings": [{"symbol": "AAPL", "quantity": "1e30"}]}
    status, _, answer = call(app, "create_portfolio.json", body=body)
    assert status == 400
    assert_error_shape(status, answer)
    # an imported file meets the same limits, in the domain, with the same code
    document = {"format": "portfoliowise/portfolio@1", **body}
    status, _, imported = call(app, "import_portfolio.json", body=document)
    assert status == 400
    assert imported["error"]["code"] == answer["error"]["code"] == "out_of_range"
    status, _, listed = call(app, "list_portfolios.json")
    assert listed["portfolios"] == []  # nothing was stored


def test_import_keeps_decimal_quantities_exact_and_refuses_binary(app: Any) -> None:
    document = '{"name": "f", "holdings": [{"symbol": "AAPL", "quantity": 0.1}]}'
    status, _, body = call(app, "import_portfolio.json", raw_body=document)
    assert status == 201, body
    assert body["holdings"][0]["quantity"] == "0.1"
    event_changes = {"raw_body": "//79/A==", "headers": {"Content-Type": "text/csv"}}
    event = make_event("import_portfolio.json", **event_changes)
    event["isBase64Encoded"] = True
    response = app.resolve(event, LambdaContext())
    assert response["statusCode"] == 400
    assert_error_shape(400, json.loads(response["body"]))


def test_json_numbers_in_bodies_are_read_exactly(app: Any) -> None:
    body = {"name": "x", "holdings": [{"symbol": "AAPL", "quantity": 0}]}
    raw = json.dumps(body).replace('"quantity": 0', '"quantity": 98765432.1234567891')
    status, _, created = call(app, "create_portfolio.json", raw_body=raw)
    assert status == 201, created
    assert created["holdings"][0]["quantity"] == "98765432.1234567891"


def test_if_match_forms_and_disagreement(app: Any) -> None:
    create(app)
    _, _, current = call(app, "get_portfolio.json")
    current["name"] = "weak etag"
    status, _, body = call(app, "put_portfolio.json", body=current, headers={"If-Match": 'W/"1"'})
    assert status == 200, body
    current["version"] = 2
    for header in ('"1"', "not-a-version"):  # disagrees with the body / unreadable
        status, _, body = call(
            app, "put_portfolio.json", body=current, headers={"If-Match": header}
        )
        assert status == 400, header
        assert_error_shape(status, body)


def test_put_and_delete_need_the_csrf_token(app: Any) -> None:
    create(app)
    _, _, current = call(app, "get_portfolio.json")
    status, _, _ = call(app, "put_portfolio.json", body=current, headers={"X-CSRF-Token": None})
    assert status == 403
    status, _, _ = call(app, "delete_portfolio.json", headers={"X-CSRF-Token": None})
    assert status == 403
    assert call(app, "get_portfolio.json")[0] == 200
