"""PortfolioRepository: the same promises from every adapter (optimistic lock, change and
audit together, scoping by user, exact decimals)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from contract_stores import Stores

from portfoliowise.domain.audit import RequestContext, audit_entries
from portfoliowise.domain.errors import ConflictError, NotFoundError
from portfoliowise.domain.money import JPY, USD, Money
from portfoliowise.domain.portfolio import Holding, Portfolio

CONTEXT = RequestContext(ip="203.0.113.7", user_agent="contract-test")


def _portfolio(stores: Stores, user_id: str = "u1", portfolio_id: str = "p1") -> Portfolio:
    return Portfolio.create(
        user_id=user_id,
        portfolio_id=portfolio_id,
        name="老後資金 core",
        base_currency=JPY,
        at=stores.clock.now(),
        holdings=[
            Holding.of("7203", "200", cost_basis=Money.of("512000", "JPY"), sector="自動車"),
            Holding.of("VTI", "12.5", cost_basis=Money.of("2750.25", "USD")),
            Holding.of("0331418A", "1234567"),
        ],
        targets={"7203": "30", "VTI": "50", "0331418A": "20"},
        allow_fractional=True,
    )


def _add(stores: Stores, portfolio: Portfolio) -> None:
    stores.portfolios.add(portfolio, audit_entries(portfolio.pull_events(), CONTEXT))


def _save(stores: Stores, portfolio: Portfolio) -> None:
    stores.portfolios.save(portfolio, audit_entries(portfolio.pull_events(), CONTEXT))


def _trail(stores: Stores, user_id: str = "u1") -> list[str]:
    now = stores.clock.now()
    entries = stores.audit.for_user(user_id, now - timedelta(days=1), now + timedelta(days=1))
    return [e.action for e in entries]


def test_added_portfolio_reads_back_identically(stores: Stores) -> None:
    portfolio = _portfolio(stores)
    _add(stores, portfolio)
    assert portfolio.version == 1
    stored = stores.portfolios.get("u1", "p1")
    assert stored.to_json() == portfolio.to_json()
    assert stored.holding("VTI") is not None
    assert stored.holding("VTI").quantity == Decimal("12.5")  # type: ignore[union-attr]
    assert str(stored.holding("VTI").cost_basis.amount) == "2750.25"  # type: ignore[union-attr]
    assert _trail(stores) == ["portfolio.created"]


def test_adding_a_taken_id_is_a_conflict_and_changes_nothing(stores: Stores) -> None:
    _add(stores, _portfolio(stores))
    again = _portfolio(stores)
    again.rename("other", at=stores.clock.now())
    with pytest.raises(ConflictError):
        _add(stores, again)
    assert stores.portfolios.get("u1", "p1").name == "老後資金 core"
    assert _trail(stores) == ["portfolio.created"]


def test_missing_and_other_users_portfolios_are_not_found(stores: Stores) -> None:
    _add(stores, _portfolio(stores))
    with pytest.raises(NotFoundError):
        stores.portfolios.get("u1", "nope")
    with pytest.raises(NotFoundError):
        stores.portfolios.get("u2", "p1")


def test_save_bumps_the_version_and_records_the_audit_entries(stores: Stores) -> None:
    _add(stores, _portfolio(stores))
    stores.clock.advance(timedelta(minutes=5))
    portfolio = stores.portfolios.get("u1", "p1")
    portfolio.rename("renamed", at=stores.clock.now())
    portfolio.set_quantity("7203", Decimal("300"), at=stores.clock.now())
    _save(stores, portfolio)
    assert portfolio.version == 2
    stored = stores.portfolios.get("u1", "p1")
    assert stored.version == 2
    assert stored.name == "renamed"
    assert stored.holding("7203").quantity == Decimal("300")  # type: ignore[union-attr]
    assert _trail(stores) == ["portfolio.created", "portfolio.renamed", "holding.changed"]


def test_a_stale_version_is_a_conflict_with_the_current_version_and_writes_nothing(
    stores: Stores,
) -> None:
    _add(stores, _portfolio(stores))
    first = stores.portfolios.get("u1", "p1")
    second = stores.portfolios.get("u1", "p1")
    first.rename("first", at=stores.clock.now())
    _save(stores, first)
    second.rename("second", at=stores.clock.now())
    with pytest.raises(ConflictError) as caught:
        _save(stores, second)
    assert caught.value.current_version == 2
    assert stores.portfolios.get("u1", "p1").name == "first"
    assert _trail(stores) == ["portfolio.created", "portfolio.renamed"]


def test_saving_a_portfolio_that_is_gone_is_not_found(stores: Stores) -> None:
    with pytest.raises(NotFoundError):
        _save(stores, _portfolio(stores))
    assert _trail(stores) == []


def test_delete_removes_it_and_audits_it(stores: Stores) -> None:
    _add(stores, _portfolio(stores))
    portfolio = stores.portfolios.get("u1", "p1")
    portfolio.delete(at=stores.clock.now())
    _save(stores, portfolio)
    with pytest.raises(NotFoundError):
        stores.portfolios.get("u1", "p1")
    assert stores.portfolios.list_for_user("u1") == []
    assert _trail(stores) == ["portfolio.created", "portfolio.deleted"]


def test_list_for_user_is_scoped_and_ordered_by_id(stores: Stores) -> None:
    for user_id, portfolio_id in [("u1", "p3"), ("u2", "p2"), ("u1", "p1"), ("u1", "p2")]:
        # one user's audit key is its time: creations a second apart, as requests would be
        stores.clock.advance(timedelta(seconds=1))
        _add(stores, _portfolio(stores, user_id, portfolio_id))
    assert [p.portfolio_id for p in stores.portfolios.list_for_user("u1")] == ["p1", "p2", "p3"]
    assert [p.portfolio_id for p in stores.portfolios.list_for_user("u2")] == ["p2"]
    assert stores.portfolios.list_for_user("nobody") == []


def test_all_portfolios_covers_every_user(stores: Stores) -> None:
    for user_id, portfolio_id in [("u1", "p1"), ("u2", "p1"), ("u3", "p9")]:
        _add(stores, _portfolio(stores, user_id, portfolio_id))
    found = sorted((p.user_id, p.portfolio_id) for p in stores.portfolios.all_portfolios())
    assert found == [("u1", "p1"), ("u2", "p1"), ("u3", "p9")]


def test_restore_into_an_empty_store_keeps_the_backup_version(stores: Stores) -> None:
    snapshot = Portfolio.from_json({**_portfolio(stores).to_json(), "version": 7})
    stores.portfolios.restore(snapshot, [])
    stored = stores.portfolios.get("u1", "p1")
    assert stored.version == 7
    assert stored.to_json() == {**snapshot.to_json(), "version": 7}


def test_restore_over_a_newer_version_moves_the_version_on(stores: Stores) -> None:
    _add(stores, _portfolio(stores))
    current = stores.portfolios.get("u1", "p1")
    for name in ["a", "b", "c"]:
        current.rename(name, at=stores.clock.now())
        _save(stores, current)
    assert current.version == 4
    old = Portfolio.from_json({**_portfolio(stores).to_json(), "version": 2})
    stores.portfolios.restore(old, [])
    stored = stores.portfolios.get("u1", "p1")
    assert stored.version == 5
    assert stored.name == "老後資金 core"
    current.rename("stale writer", at=stores.clock.now())
    with pytest.raises(ConflictError):
        _save(stores, current)


def test_restore_writes_its_audit_entries_with_it(stores: Stores) -> None:
    from portfoliowise.domain.events import FieldChange, PortfolioRestored

    snapshot = Portfolio.from_json({**_portfolio(stores).to_json(), "version": 3})
    event = PortfolioRestored(
        user_id="u1",
        portfolio_id="p1",
        occurred_at=stores.clock.now(),
        changes={"restoredFrom": FieldChange(None, "daily/2026-11-26")},
    )
    stores.portfolios.restore(snapshot, audit_entries([event], CONTEXT))
    assert _trail(stores) == ["portfolio.restored"]


def test_usd_portfolio_without_targets_round_trips(stores: Stores) -> None:
    portfolio = Portfolio.create(
        user_id="u1",
        portfolio_id="p-usd",
        name="US",
        base_currency=USD,
        at=stores.clock.now(),
        holdings=[Holding.of("BRK.B", "0.0001")],
    )
    _add(stores, portfolio)
    stored = stores.portfolios.get("u1", "p-usd")
    assert stored.targets == {}
    assert stored.base_currency == USD
    assert stored.holding("BRK-B").quantity == Decimal("0.0001")  # type: ignore[union-attr]
