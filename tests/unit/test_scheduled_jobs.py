"""The scheduled jobs over in-memory adapters and a fake market service."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from portfoliowise.adapters.clock import FixedClock
from portfoliowise.adapters.events import ALL, InProcessBus
from portfoliowise.adapters.events.eventbridge import check_sizes, entry_for
from portfoliowise.adapters.memory import (
    InMemoryAuditLog,
    InMemoryBlobStore,
    InMemoryPortfolioRepository,
)
from portfoliowise.application import scheduled_jobs as jobs
from portfoliowise.domain.audit import RequestContext, audit_entries
from portfoliowise.domain.errors import SourceUnavailable
from portfoliowise.domain.events import DomainEvent
from portfoliowise.domain.job_events import JobCompleted, counts_of
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


# -- the warm's deadline -----------------------------------------------------------------------


class Countdown:
    """A deadline whose time runs down by `per_batch` seconds for each warm call."""

    def __init__(self, warmer: jobs.CacheWarmer, left: float, per_batch: float) -> None:
        self._warmer = warmer
        self.left = left
        self._per_batch = per_batch

    def __call__(self) -> float:
        return self.left

    def warm(self, symbols: Sequence[str], pairs: Sequence[str]) -> jobs.WarmReport:
        self.left -= self._per_batch
        return self._warmer.warm(symbols, pairs)


def _symbols(count: int) -> list[str]:
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return [letters[i // 26] + letters[i % 26] + "X" for i in range(count)]


def test_warm_batches_take_symbols_then_pairs_100_at_a_time() -> None:
    symbols = _symbols(150)
    batches = jobs.warm_batches(symbols, ["USD-JPY", "EUR-JPY"])
    assert [(len(s), list(p)) for s, p in batches] == [(100, []), (50, ["USD-JPY", "EUR-JPY"])]
    assert jobs.warm_batches([], []) == []


def test_the_warm_stops_when_the_time_left_runs_out_and_lists_what_it_did_not_reach() -> None:
    us = _symbols(320)  # batches: 100, 100, 100, 20 + the pair
    repo = _repo(_portfolio("u1", us))
    market = FakeMarket()
    # 90 s left, 30 s a batch: 90, 60, then 30 < the 35 s margin: two batches only
    timed = Countdown(jobs.ServiceWarmer(market), left=90.0, per_batch=30.0)
    report = jobs.warm_cache(repo, timed, timed)
    assert [len(symbols) for _kind, symbols in market.calls] == [100, 100]
    assert report == {
        "job": "cache-warm",
        "symbols": 320,
        "pairs": 1,
        "priced": 200,
        "unavailable": [],
        "notReached": {
            "symbolCount": 120,
            "pairCount": 1,
            "symbols": sorted(us)[200:250],  # the first NOT_REACHED_LISTED of the rest
            "pairs": ["USD-JPY"],
        },
    }
    assert jobs.NOT_REACHED_LISTED == 50
    assert jobs.WARM_MARGIN_SECONDS == 35.0


def test_with_time_enough_or_no_deadline_every_batch_runs() -> None:
    us = _symbols(250)
    repo = _repo(_portfolio("u1", us))
    for deadline in (None, Countdown(jobs.ServiceWarmer(FakeMarket()), 300.0, 0.0)):
        market = FakeMarket()
        report = jobs.warm_cache(repo, jobs.ServiceWarmer(market), deadline)
        assert len(market.calls) == 4
        assert "notReached" not in report
        assert report["priced"] == 251


def test_no_time_left_at_the_start_warms_nothing() -> None:
    repo = _repo(_portfolio("u1", ["7203", "AAPL"]))
    market = FakeMarket()
    report = jobs.warm_cache(repo, jobs.ServiceWarmer(market), lambda: 34.9)
    assert market.calls == []
    assert report["priced"] == 0
    assert report["notReached"] == {
        "symbolCount": 2,
        "pairCount": 1,
        "symbols": ["7203", "AAPL"],
        "pairs": ["USD-JPY"],
    }


# -- the completion event ------------------------------------------------------------------


def _bus() -> tuple[InProcessBus, list[DomainEvent]]:
    bus = InProcessBus()
    received: list[DomainEvent] = []
    bus.subscribe(ALL, received.append)
    return bus, received


def test_a_run_publishes_one_completion_event_with_the_reports_counts() -> None:
    bus, received = _bus()
    blobs = InMemoryBlobStore()
    repo = _repo(_portfolio("u1", ["7203"]))
    report = jobs.run_and_announce(
        "backup", lambda: jobs.daily_backup(repo, blobs, FixedClock(T0)), bus, FixedClock(T0)
    )
    assert report["portfolios"] == 1
    (event,) = received
    assert isinstance(event, JobCompleted)
    assert (event.source, event.name, event.resource) == (
        "portfoliowise.jobs",
        "JobCompleted",
        "job/backup",
    )
    assert event.to_json() == {
        "eventId": event.event_id,
        "occurredAt": "2026-11-29T02:00:00+00:00",
        "job": "backup",
        "counts": {
            "prefixes": 2,  # daily + weekly (a Sunday)
            "users": 1,
            "portfolios": 1,
            "objects": report["objects"],
            "bytes": report["bytes"],
        },
    }


def test_the_cleanup_counts_are_nested_and_what_was_not_reached_is_carried() -> None:
    bus, received = _bus()
    purges = [jobs.Purge("sessions", lambda: 3), jobs.Purge("cache", lambda: 0)]
    jobs.run_and_announce("cleanup", lambda: jobs.cleanup(purges), bus, FixedClock(T0))
    repo = _repo(_portfolio("u1", _symbols(150)))
    timed = Countdown(jobs.ServiceWarmer(FakeMarket()), left=40.0, per_batch=30.0)
    jobs.run_and_announce(
        "cache-warm", lambda: jobs.warm_cache(repo, timed, timed), bus, FixedClock(T0)
    )
    cleanup, warm = (event.to_json() for event in received)
    assert cleanup["counts"] == {"deleted": {"sessions": 3, "cache": 0}}
    assert "notReached" not in cleanup
    assert warm["counts"] == {"symbols": 150, "pairs": 1, "priced": 100, "unavailable": 0}
    assert warm["notReached"] == {
        "symbolCount": 50,
        "pairCount": 1,
        "symbols": sorted(_symbols(150))[100:],
        "pairs": ["USD-JPY"],
    }


def test_the_completion_event_goes_on_the_bus_as_a_jobs_event() -> None:
    event = jobs.completion_event(
        "cleanup", {"job": "cleanup", "deleted": {"a": 1}}, FixedClock(T0)
    )
    entry = entry_for(event)
    assert entry["Source"] == "portfoliowise.jobs"
    assert entry["DetailType"] == "JobCompleted"
    assert json.loads(entry["Detail"]) == {
        "eventId": event.event_id,
        "occurredAt": "2026-11-29T02:00:00+00:00",
        "job": "cleanup",
        "counts": {"deleted": {"a": 1}},
    }
    check_sizes([event])  # well within the bus's limit


def test_a_publish_failure_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    class Down:
        calls = 0

        def publish(self, events: Sequence[DomainEvent]) -> None:
            Down.calls += 1
            raise SourceUnavailable("EventBridge is down")

    with caplog.at_level(logging.ERROR):
        report = jobs.run_and_announce("cleanup", lambda: jobs.cleanup([]), Down(), FixedClock(T0))
    assert report == {"job": "cleanup", "deleted": {}}
    assert Down.calls == 1
    assert "completion event" in caplog.text
    assert "not published" in caplog.text


def test_a_failing_job_publishes_nothing() -> None:
    bus, received = _bus()

    def boom() -> jobs.Report:
        raise SourceUnavailable("market function down")

    with pytest.raises(SourceUnavailable):
        jobs.run_and_announce("cache-warm", boom, bus, FixedClock(T0))
    assert received == []


def test_counts_keep_numbers_and_sizes_only() -> None:
    report = {
        "job": "x",
        "n": 2,
        "ok": True,
        "items": ["a", "b", "c"],
        "status": {"status": "fresh", "issues": 10, "asOf": "2026-11-25"},
        "text": {"status": "failed"},
    }
    assert counts_of(report, skip=frozenset({"job"})) == {
        "n": 2,
        "items": 3,
        "status": {"issues": 10},
    }
