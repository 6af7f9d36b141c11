"""The scheduled jobs over in-memory adapters and a fake market service."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal

from portfoliowise.adapters.clock import FixedClock
from portfoliowise.adapters.memory import (
    InMemoryAuditLog,
    InMemoryBlobStore,
    InMemoryPortfolioRepository,
)
from portfoliowise.application import scheduled_jobs as jobs
from portfoliowise.domain.audit import RequestContext, audit_entries
from portfoliowise.domain.money import JPY, USD, Money
from portfoliowise.domain.portfolio import Holding, Portfolio
from portfoliowise.domain.quotes import Quote, QuoteStatus

T0 = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)  # a Sunday


class FakeMarket:
    """Prices every symbol but `missing`; records each call's symbols."""

    def __init__(self, missing: frozenset[str] = frozenset()) -> None:
        self.calls: list[tuple[str, list[str]]] = []
        self.missing = missing

    def _answer(self, kind: str, symbols: Sequence[str]) -> dict[str, Quote]:
        self.calls.append((kind, list(symbols)))
        return {
            s: Quote(s, None, QuoteStatus.UNAVAILABLE, "none", None)
            if s in self.missing
            else Quote(s, Money(Decimal(100), JPY), QuoteStatus.LIVE, "fake", T0)
            for s in symbols
        }

    def get_quotes(self, symbols: Sequence[str]) -> dict[str, Quote]:
        return self._answer("quotes", symbols)

    def get_rates(self, pairs: Sequence[str]) -> dict[str, Quote]:
        return self._answer("rates", pairs)


def _repo(*portfolios: Portfolio) -> InMemoryPortfolioRepository:
    repo = InMemoryPortfolioRepository(InMemoryAuditLog())
    for portfolio in portfolios:
        repo.add(portfolio, audit_entries(portfolio.pull_events(), RequestContext()))
    return repo


def _portfolio(user: str, symbols: list[str], base: str = "JPY", **kw: object) -> Portfolio:
    return Portfolio.create(
        user_id=user,
        portfolio_id="p1",
        name="p",
        base_currency=JPY if base == "JPY" else USD,
        at=T0,
        holdings=[Holding.of(s, 1) for s in symbols],
        **kw,  # type: ignore[arg-type]
    )


def test_held_symbols_and_the_rates_their_valuation_needs() -> None:
    repo = _repo(
        _portfolio("u1", ["7203", "AAPL"]),
        _portfolio("u2", ["AAPL", "0331418A"], base="USD"),
    )
    assert jobs.held_symbols(repo) == (
        ["0331418A", "7203", "AAPL"],
        ["USD-JPY"],  # every rate among JPY and USD is derived from the pivot pair
    )


def test_cache_warm_asks_in_batches_of_100_and_reports_the_unavailable() -> None:
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    us = [letters[i // 26] + letters[i % 26] + "X" for i in range(250)]
    repo = _repo(_portfolio("u1", us))
    market = FakeMarket(missing=frozenset({us[0]}))
    report = jobs.warm_cache(repo, jobs.ServiceWarmer(market))
    assert [(kind, len(symbols)) for kind, symbols in market.calls] == [
        ("quotes", 100),
        ("quotes", 100),
        ("quotes", 50),
        ("rates", 1),
    ]
    assert report == {
        "job": "cache-warm",
        "symbols": 250,
        "pairs": 1,
        "priced": 250,
        "unavailable": [us[0]],
    }


def test_the_backup_job_backs_up_today_with_the_sunday_copy() -> None:
    blobs = InMemoryBlobStore()
    report = jobs.daily_backup(_repo(_portfolio("u1", ["7203"])), blobs, FixedClock(T0))
    assert report["prefixes"] == ["daily/2026-11-29/", "weekly/2026-W48/"]
    assert report["portfolios"] == 1
    assert "daily/2026-11-29/manifest.json" in blobs.list("daily/")


def test_cleanup_runs_every_purge_and_counts() -> None:
    report = jobs.cleanup([jobs.Purge("sessions", lambda: 3), jobs.Purge("cache", lambda: 0)])
    assert report == {"job": "cleanup", "deleted": {"sessions": 3, "cache": 0}}


def test_a_changed_portfolio_is_priced_right_away_and_a_deleted_one_skipped() -> None:
    portfolio = _portfolio("u1", ["7203", "AAPL"])
    repo = _repo(portfolio)
    market = FakeMarket()
    report = jobs.warm_portfolio(repo, jobs.ServiceWarmer(market), "u1", "p1")
    assert report == {"job": "warm-portfolio", "priced": 3, "unavailable": []}
    assert market.calls == [("quotes", ["7203", "AAPL"]), ("rates", ["USD-JPY"])]
    gone = jobs.warm_portfolio(repo, jobs.ServiceWarmer(market), "u1", "nope")
    assert gone == {"job": "warm-portfolio", "skipped": "portfolio not found"}
