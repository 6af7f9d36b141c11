"""Every portfolio route is scoped to the signed-in user: user B gets a 404 for user A's
portfolio, on every route, and A's portfolio is left as it was."""

from __future__ import annotations

from typing import Any

import pytest
from api_harness import assert_error_shape, call

PID = "p-0001"

B_ATTEMPTS = [
    ("read", "get_portfolio.json", {"path": f"/portfolios/{PID}"}),
    ("value", "get_portfolio.json", {"path": f"/portfolios/{PID}/valuation"}),
    ("allocation", "get_portfolio.json", {"path": f"/portfolios/{PID}/allocation"}),
    ("export", "get_portfolio.json", {"path": f"/portfolios/{PID}/export"}),
    (
        "export csv",
        "get_portfolio.json",
        {"path": f"/portfolios/{PID}/export", "query": {"format": "csv"}},
    ),
    ("audit", "get_portfolio.json", {"path": f"/portfolios/{PID}/audit"}),
    ("simulate", "simulate_portfolio.json", {}),
    ("change", "put_portfolio.json", {}),
    ("change without version", "put_portfolio.json", {"headers": {"If-Match": None}}),
    ("delete", "delete_portfolio.json", {}),
]


@pytest.fixture
def portfolio_of_a(app: Any) -> dict[str, Any]:
    status, _, body = call(app, "create_portfolio.json", user="userA")
    assert status == 201
    assert body["portfolioId"] == PID
    return dict(body)


@pytest.mark.parametrize(("what", "event", "changes"), B_ATTEMPTS, ids=[a[0] for a in B_ATTEMPTS])
def test_user_b_gets_404_for_user_as_portfolio(
    app: Any, portfolio_of_a: dict[str, Any], what: str, event: str, changes: dict[str, Any]
) -> None:
    if event == "put_portfolio.json":
        body = dict(portfolio_of_a, name="taken over", version=1)
        changes = {**changes, "body": body}
    status, _, answer = call(app, event, user="userB", **changes)
    assert status == 404, (what, answer)
    assert_error_shape(status, answer)
    assert answer["error"]["code"] == "not_found"

    status, _, after = call(app, "get_portfolio.json", user="userA")
    assert status == 200
    assert after == portfolio_of_a  # unchanged, not deleted


def test_user_b_lists_none_of_user_as_portfolios(app: Any, portfolio_of_a: dict[str, Any]) -> None:
    status, _, body = call(app, "list_portfolios.json", user="userB")
    assert status == 200
    assert body == {"portfolios": []}


def test_b_importing_a_portfolio_id_creates_bs_own(
    app: Any, portfolio_of_a: dict[str, Any]
) -> None:
    document = {"format": "portfoliowise/portfolio@1", **portfolio_of_a}
    status, _, body = call(app, "import_portfolio.json", user="userB", body=document)
    assert status == 201
    assert body["portfolioId"] != PID
    status, _, mine = call(app, "get_portfolio.json", user="userA")
    assert mine == portfolio_of_a
