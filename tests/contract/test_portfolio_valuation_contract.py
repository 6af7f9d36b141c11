"""PortfolioRepository.record_valuation: the latest valuation total kept beside the
portfolio (read with it by `get_with_valuation`), the previous one given back, the same
from every adapter (memory, SQLite, DynamoDB). It is not a change: no version, no
`updatedAt`, no audit entry, no conflict."""

from __future__ import annotations

from datetime import timedelta

import pytest
from contract_stores import Stores

from portfoliowise.domain.audit import RequestContext, audit_entries
from portfoliowise.domain.errors import CurrencyMismatchError, NotFoundError
from portfoliowise.domain.money import JPY, Money
from portfoliowise.domain.portfolio import Holding, Portfolio

CONTEXT = RequestContext(ip="203.0.113.7", user_agent="contract-test")


def _stored(stores: Stores, user_id: str = "u1", portfolio_id: str = "p1") -> Portfolio:
    stores.clock.advance(timedelta(seconds=1))  # each write its own audit key
    portfolio = Portfolio.create(
        user_id=user_id,
        portfolio_id=portfolio_id,
        name="core",
        base_currency=JPY,
        at=stores.clock.now(),
        holdings=[Holding.of("7203", "200")],
    )
    stores.portfolios.add(portfolio, audit_entries(portfolio.pull_events(), CONTEXT))
    return portfolio


def _record(stores: Stores, amount: str, portfolio_id: str = "p1") -> Money | None:
    stores.clock.advance(timedelta(minutes=1))
    return stores.portfolios.record_valuation(
        "u1", portfolio_id, Money.of(amount, "JPY"), stores.clock.now()
    )


def _trail(stores: Stores) -> list[str]:
    now = stores.clock.now()
    entries = stores.audit.for_user("u1", now - timedelta(days=1), now + timedelta(days=1))
    return [e.action for e in entries]


def test_the_first_valuation_has_no_previous_one(stores: Stores) -> None:
    _stored(stores)
    assert _record(stores, "1000000") is None


def test_each_valuation_gives_back_the_one_before_it_exactly(stores: Stores) -> None:
    _stored(stores)
    _stored(stores, portfolio_id="p2")
    assert _record(stores, "1000000") is None
    assert _record(stores, "1100000.5") == Money.of("1000000", "JPY")
    assert _record(stores, "990000") == Money.of("1100000.5", "JPY")
    assert _record(stores, "5", portfolio_id="p2") is None  # kept per portfolio
    assert _record(stores, "990001") == Money.of("990000", "JPY")


def test_a_valuation_is_not_a_change_of_the_portfolio(stores: Stores) -> None:
    portfolio = _stored(stores)
    before = stores.portfolios.get("u1", "p1")
    _record(stores, "1000000")
    _record(stores, "1200000")
    after = stores.portfolios.get("u1", "p1")
    assert after.version == before.version == 1
    assert after.updated_at == before.updated_at
    assert after.to_json() == before.to_json()
    assert _trail(stores) == ["portfolio.created"]
    # a change read before the valuation still goes through (no optimistic-lock conflict)
    portfolio.rename("renamed", at=stores.clock.now())
    stores.portfolios.save(portfolio, audit_entries(portfolio.pull_events(), CONTEXT))
    assert stores.portfolios.get("u1", "p1").version == 2


def test_a_change_forgets_the_kept_valuation(stores: Stores) -> None:
    portfolio = _stored(stores)
    _record(stores, "1000000")
    portfolio.add_holding(Holding.of("9984", "100"), at=stores.clock.now())
    stores.portfolios.save(portfolio, audit_entries(portfolio.pull_events(), CONTEXT))
    assert _record(stores, "2000000") is None
    assert _record(stores, "2100000") == Money.of("2000000", "JPY")


def test_a_restore_forgets_the_kept_valuation(stores: Stores) -> None:
    portfolio = _stored(stores)
    _record(stores, "1000000")
    stores.portfolios.restore(Portfolio.from_json(portfolio.to_json()), [])
    assert _record(stores, "1000000") is None


def test_the_kept_total_is_read_with_the_portfolio(stores: Stores) -> None:
    portfolio = _stored(stores)
    read, kept = stores.portfolios.get_with_valuation("u1", "p1")
    assert read.to_json() == stores.portfolios.get("u1", "p1").to_json()
    assert kept is None
    _record(stores, "1100000.5")
    assert stores.portfolios.get_with_valuation("u1", "p1")[1] == Money.of("1100000.5", "JPY")
    portfolio.rename("renamed", at=stores.clock.now())
    stores.portfolios.save(portfolio, audit_entries(portfolio.pull_events(), CONTEXT))
    read, kept = stores.portfolios.get_with_valuation("u1", "p1")
    assert (read.name, kept) == ("renamed", None)  # a change forgets it
    with pytest.raises(NotFoundError):
        stores.portfolios.get_with_valuation("u1", "nope")


def test_a_missing_deleted_or_other_users_portfolio_is_not_found(stores: Stores) -> None:
    portfolio = _stored(stores)
    at = stores.clock.now()
    with pytest.raises(NotFoundError):
        stores.portfolios.record_valuation("u1", "nope", Money.of("1", "JPY"), at)
    with pytest.raises(NotFoundError):
        stores.portfolios.record_valuation("u2", "p1", Money.of("1", "JPY"), at)
    portfolio.delete(at=at)
    stores.portfolios.save(portfolio, audit_entries(portfolio.pull_events(), CONTEXT))
    with pytest.raises(NotFoundError):
        stores.portfolios.record_valuation("u1", "p1", Money.of("1", "JPY"), at)
    with pytest.raises(NotFoundError):
        stores.portfolios.get("u1", "p1")  # not brought back by the valuation


def test_a_total_in_another_currency_is_refused_and_keeps_the_previous_one(
    stores: Stores,
) -> None:
    _stored(stores)
    _record(stores, "1000000")
    with pytest.raises(CurrencyMismatchError):
        stores.portfolios.record_valuation("u1", "p1", Money.of("6500", "USD"), stores.clock.now())
    assert _record(stores, "1050000") == Money.of("1000000", "JPY")
