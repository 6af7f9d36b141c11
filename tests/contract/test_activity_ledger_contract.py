"""ActivityLedger: the same promises from every store (memory, SQLite, DynamoDB): activities
beside the portfolio, changed only with a version-checked change of it and its audit
entries, all or nothing whatever their number, and an import applied once."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import cast

import pytest
from contract_stores import Stores

from portfoliowise.domain.activities import Activity, ActivityChange, ActivityType
from portfoliowise.domain.audit import RequestContext, audit_entries
from portfoliowise.domain.errors import ConflictError, NotFoundError
from portfoliowise.domain.money import JPY, USD
from portfoliowise.domain.portfolio import Holding, Portfolio
from portfoliowise.domain.ports import ActivityLedger

CONTEXT = RequestContext(ip="203.0.113.7", user_agent="contract-test")


def ledger(stores: Stores) -> ActivityLedger:
    return cast(ActivityLedger, stores.portfolios)


def _portfolio(stores: Stores, portfolio_id: str = "p1") -> Portfolio:
    stores.clock.advance(timedelta(seconds=1))  # audit entries are keyed by their time
    portfolio = Portfolio.create(
        user_id="u1",
        portfolio_id=portfolio_id,
        name="ledger",
        base_currency=JPY,
        at=stores.clock.now(),
        holdings=[Holding.of("7203", "100")],
    )
    stores.portfolios.add(portfolio, audit_entries(portfolio.pull_events(), CONTEXT))
    return portfolio


def buy(n: int, *, symbol: str = "VTI", day: date = date(2024, 1, 2)) -> Activity:
    return Activity(
        activity_id=f"a{n:06d}",
        type=ActivityType.BUY,
        day=day + timedelta(days=n % 3000),
        currency=USD,
        symbol=symbol,
        quantity=Decimal("1.5"),
        unit_price=Decimal("250.125"),
        fees=Decimal("0.99"),
        fx_rate=Decimal("149.8732"),
        note=f"積立 {n}",
    )


def _commit(stores: Stores, portfolio: Portfolio, change: ActivityChange) -> None:
    stores.clock.advance(timedelta(seconds=1))
    portfolio.rename(f"ledger v{portfolio.version}", at=stores.clock.now())
    ledger(stores).commit(portfolio, audit_entries(portfolio.pull_events(), CONTEXT), change)


def test_activities_read_back_exactly_in_order(stores: Stores) -> None:
    portfolio = _portfolio(stores)
    dividend = Activity(
        activity_id="d1",
        type=ActivityType.DIVIDEND,
        day=date(2024, 1, 2),
        currency=USD,
        symbol="VTI",
        amount=Decimal("12.34"),
        taxes=Decimal("1.234"),
    )
    added = (buy(2), dividend, buy(1))
    _commit(stores, portfolio, ActivityChange(added=added))

    found = ledger(stores).activities("u1", "p1")
    assert found == sorted(added, key=Activity.sort_key)
    assert portfolio.version == 2
    assert stores.portfolios.get("u1", "p1").name == "ledger v1"


def test_a_stale_change_applies_none_of_its_activities(stores: Stores) -> None:
    portfolio = _portfolio(stores)
    stale = stores.portfolios.get("u1", "p1")
    _commit(stores, portfolio, ActivityChange(added=(buy(1),)))
    with pytest.raises(ConflictError):
        _commit(stores, stale, ActivityChange(added=(buy(2), buy(3))))
    assert [a.activity_id for a in ledger(stores).activities("u1", "p1")] == ["a000001"]


def test_removing_and_adding_in_one_change(stores: Stores) -> None:
    portfolio = _portfolio(stores)
    _commit(stores, portfolio, ActivityChange(added=(buy(1), buy(2))))
    _commit(stores, portfolio, ActivityChange(added=(buy(3),), removed=("a000001",)))
    ids = [a.activity_id for a in ledger(stores).activities("u1", "p1")]
    assert ids == ["a000002", "a000003"]


def test_an_import_is_applied_once(stores: Stores) -> None:
    portfolio = _portfolio(stores)
    _commit(stores, portfolio, ActivityChange(added=(buy(1),), batch_id="import-1"))
    with pytest.raises(ConflictError):
        _commit(stores, portfolio, ActivityChange(added=(buy(1), buy(2)), batch_id="import-1"))
    assert len(ledger(stores).activities("u1", "p1")) == 1


def test_portfolios_keep_their_own_activities(stores: Stores) -> None:
    first, second = _portfolio(stores, "p1"), _portfolio(stores, "p2")
    _commit(stores, first, ActivityChange(added=(buy(1),)))
    _commit(stores, second, ActivityChange(added=(buy(2), buy(3))))
    assert len(ledger(stores).activities("u1", "p1")) == 1
    assert len(ledger(stores).activities("u1", "p2")) == 2
    # the portfolio list is not disturbed by activity items
    assert [p.portfolio_id for p in stores.portfolios.list_for_user("u1")] == ["p1", "p2"]


def test_deleting_the_portfolio_deletes_its_activities(stores: Stores) -> None:
    portfolio = _portfolio(stores)
    _commit(stores, portfolio, ActivityChange(added=(buy(1),)))
    stores.clock.advance(timedelta(seconds=1))
    portfolio.delete(at=stores.clock.now())
    stores.portfolios.save(portfolio, audit_entries(portfolio.pull_events(), CONTEXT))
    with pytest.raises(NotFoundError):
        ledger(stores).activities("u1", "p1")
    again = _portfolio(stores)  # the same id, created anew, starts empty
    assert ledger(stores).activities("u1", again.portfolio_id) == []


def test_an_unknown_portfolio_has_no_activities(stores: Stores) -> None:
    with pytest.raises(NotFoundError):
        ledger(stores).activities("u1", "nope")


def test_a_large_import_is_all_or_nothing(stores: Stores) -> None:
    """More activities than one DynamoDB transaction takes (100 items)."""
    portfolio = _portfolio(stores)
    many = tuple(buy(n) for n in range(1, 1_501))
    _commit(stores, portfolio, ActivityChange(added=many, batch_id="big"))
    found = ledger(stores).activities("u1", "p1")
    assert len(found) == 1_500
    assert found[0] == buy(1)
    stale = stores.portfolios.get("u1", "p1")
    stale.version -= 1
    with pytest.raises(ConflictError):
        _commit(stores, stale, ActivityChange(added=tuple(buy(n) for n in range(2_000, 2_300))))
    assert len(ledger(stores).activities("u1", "p1")) == 1_500
