"""The committed OpenAPI document (docs/openapi.json) is the one the code generates, and
the API serves it at GET /openapi.json. Regenerate with
`python -m portfoliowise.handlers.api.app docs/openapi.json`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from api_harness import call

from portfoliowise.handlers.api.app import document_of_every_route

DOC = Path(__file__).resolve().parents[3] / "docs" / "openapi.json"


def test_the_committed_document_is_current() -> None:
    generated = document_of_every_route()
    assert DOC.read_text(encoding="utf-8") == generated, (
        "docs/openapi.json is out of date: run "
        "`python -m portfoliowise.handlers.api.app docs/openapi.json`"
    )


def test_the_api_serves_its_document(app: Any) -> None:
    status, _, body = call(app, "health.json", path="/openapi.json", user=None)
    assert status == 200
    assert body["openapi"].startswith("3.")
    assert body["info"]["title"] == "PortfolioWise API"
    assert body["paths"] == json.loads(DOC.read_text(encoding="utf-8"))["paths"]


def test_the_document_names_every_route_of_the_design() -> None:
    paths = json.loads(DOC.read_text(encoding="utf-8"))["paths"]
    expected = {
        "/portfolios": {"get", "post"},
        "/portfolios/{portfolio_id}": {"get", "put", "delete"},
        "/portfolios/{portfolio_id}/valuation": {"get"},
        "/portfolios/{portfolio_id}/allocation": {"get"},
        "/portfolios/{portfolio_id}/simulate": {"post"},
        "/portfolios/{portfolio_id}/audit": {"get"},
        "/portfolios/{portfolio_id}/export": {"get"},
        "/portfolios/import": {"post"},
        "/market/quotes": {"get"},
        "/market/history": {"get"},
        "/api/market-data": {"get"},
        "/health": {"get"},
    }
    for path, methods in expected.items():
        assert set(paths[path]) == methods, path
    created = paths["/portfolios"]["post"]["responses"]
    assert created["201"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/PortfolioOut"
    }
    assert "422" not in created
    assert "200" not in created
    for status in ("400", "401", "403", "413", "415"):
        assert created[status]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/ErrorBody"
        }
    assert "204" in paths["/auth/logout"]["post"]["responses"]
    assert "204" in paths["/portfolios/{portfolio_id}"]["delete"]["responses"]
    for path, operations in paths.items():
        for method, operation in operations.items():
            for status, answer in operation["responses"].items():
                schema = answer.get("content", {}).get("application/json", {}).get("schema")
                assert schema != {"type": "object"}, (method, path, status)
