"""The existing web app's portfolio through every store (memory, SQLite, DynamoDB via
moto): what the app saved reads back exactly, numbers digit for digit, with the portfolio's
own new fields (additional budget, AI prompt template, a client's attributes on the
portfolio and on each holding), its changes audited with it, a stale version refused."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from contract_stores import Stores

from portfoliowise.adapters.clock import SequentialIds
from portfoliowise.adapters.memory import InMemoryEventPublisher
from portfoliowise.adapters.web_app_document import WebAppDocuments
from portfoliowise.application.portfolio_commands import PortfolioPorts
from portfoliowise.application.web_app_portfolio import (
    DEFAULT_PORTFOLIO_ID,
    load_web_app_portfolio,
    save_web_app_portfolio,
)
from portfoliowise.domain.attributes import Attributes
from portfoliowise.domain.audit import RequestContext, audit_entries
from portfoliowise.domain.errors import ConflictError
from portfoliowise.domain.money import JPY, Money
from portfoliowise.domain.portfolio import Holding, Portfolio

CONTEXT = RequestContext(ip="203.0.113.7", user_agent="contract-test")
BODY = Path(__file__).resolve().parents[1] / "fixtures" / "web_app" / "portfolio_put.json"


def app_document() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(BODY.read_text(encoding="utf-8"), parse_float=Decimal)
    del document["version"]
    return document


def ports(stores: Stores) -> PortfolioPorts:
    return PortfolioPorts(
        repository=stores.portfolios,
        events=InMemoryEventPublisher(),
        clock=stores.clock,
        ids=SequentialIds("p"),
    )


def save(stores: Stores, document: dict[str, Any], version: int | None) -> Portfolio:
    return save_web_app_portfolio(
        ports(stores),
        WebAppDocuments(),
        user_id="u1",
        document=document,
        version=version,
        context=CONTEXT,
    )


def trail(stores: Stores) -> list[str]:
    now = stores.clock.now()
    entries = stores.audit.for_user("u1", now - timedelta(days=1), now + timedelta(days=1))
    return [e.action for e in entries]


def test_what_the_app_saved_reads_back_exactly(stores: Stores) -> None:
    saved = save(stores, app_document(), None)
    assert (saved.portfolio_id, saved.version) == (DEFAULT_PORTFOLIO_ID, 1)
    loaded = load_web_app_portfolio(stores.portfolios, WebAppDocuments(), user_id="u1")
    assert loaded is not None
    assert loaded.version == 1
    assert loaded.document == app_document()
    fund = loaded.document["currentAssets"][2]
    assert str(fund["annualFee"]) == "0.0938"
    assert str(fund["holdings"]) == "1234.5"
    assert str(loaded.document["exchangeRate"]["rate"]) == "150.25"
    assert trail(stores) == ["portfolio.created"]


def test_a_change_reads_back_with_its_audit_entries_and_a_stale_version_is_refused(
    stores: Stores,
) -> None:
    save(stores, app_document(), None)
    stores.clock.advance(timedelta(minutes=1))
    changed = app_document()
    changed["currentAssets"][0]["holdings"] = 300
    changed["currentAssets"][1]["price"] = Decimal("515.07")
    changed["aiPromptTemplate"] = "短いテンプレート"
    assert save(stores, changed, 1).version == 2
    assert trail(stores) == [
        "portfolio.created",
        "holding.changed",
        "holding.changed",
        "portfolio.settings_changed",
    ]
    loaded = load_web_app_portfolio(stores.portfolios, WebAppDocuments(), user_id="u1")
    assert loaded is not None
    assert loaded.document == changed
    with pytest.raises(ConflictError) as caught:
        save(stores, app_document(), 1)
    assert caught.value.current_version == 2
    assert len(trail(stores)) == 4


def test_the_new_fields_round_trip_through_the_repository(stores: Stores) -> None:
    kept = Attributes.of(
        {
            "price": Decimal("2850.5"),
            "annualFee": Decimal("0.0938"),
            "isStock": True,
            "list": [1, "a", None],
            "nested": {"x": Decimal("1E-7")},
        }
    )
    portfolio = Portfolio.create(
        user_id="u1",
        portfolio_id="p1",
        name="アプリ",
        base_currency=JPY,
        at=stores.clock.now(),
        holdings=[Holding.of("7203", "200", attributes=kept), Holding.of("VOO", "12.5")],
        additional_budget=Money(Decimal("300000.25"), JPY),
        ai_prompt_template="あなたは投資分析に特化した AI アシスタントです。",
        attributes=Attributes.of({"exchangeRate": {"rate": Decimal("150.25")}}),
    )
    stores.portfolios.add(portfolio, audit_entries(portfolio.pull_events(), CONTEXT))
    stored = stores.portfolios.get("u1", "p1")
    assert stored.to_json() == portfolio.to_json()
    assert stored.holding("7203").attributes == kept  # type: ignore[union-attr]
    assert stored.holding("7203").attributes.as_dict()["nested"] == {"x": Decimal("1E-7")}  # type: ignore[union-attr]
    assert stored.additional_budget == Money(Decimal("300000.25"), JPY)
    assert str(stored.additional_budget.amount) == "300000.25"  # type: ignore[union-attr]
    assert stored.ai_prompt_template == "あなたは投資分析に特化した AI アシスタントです。"

    stores.clock.advance(timedelta(minutes=1))
    stored.change_details(at=stores.clock.now(), additional_budget=None, ai_prompt_template=None)
    stores.portfolios.save(stored, audit_entries(stored.pull_events(), CONTEXT))
    again = stores.portfolios.get("u1", "p1")
    assert again.additional_budget is None
    assert again.ai_prompt_template is None
    assert again.attributes == portfolio.attributes
    assert "additionalBudget" not in again.to_json()

    snapshot = Portfolio.from_json({**portfolio.to_json(), "version": 9})
    stores.portfolios.restore(snapshot, [])
    assert stores.portfolios.get("u1", "p1").to_json() == {**snapshot.to_json(), "version": 9}
