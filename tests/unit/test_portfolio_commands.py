"""Portfolio use cases over the in-memory adapters: what is stored, audited and published."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from portfoliowise.adapters.clock import FixedClock, SequentialIds
from portfoliowise.adapters.memory import (
    InMemoryAuditLog,
    InMemoryEventPublisher,
    InMemoryPortfolioRepository,
)
from portfoliowise.application import portfolio_commands as commands
from portfoliowise.domain.audit import RequestContext
from portfoliowise.domain.errors import (
    ConflictError,
    InvariantViolation,
    NotFoundError,
    SourceUnavailable,
    ValidationError,
)
from portfoliowise.domain.events import DomainEvent
from portfoliowise.domain.money import JPY, USD
from portfoliowise.domain.portfolio import Holding, Portfolio

CONTEXT = RequestContext(ip="203.0.113.9", user_agent="pytest")
T0 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


class FailingPublisher:
    def publish(self, events: object) -> None:
        raise SourceUnavailable("bus down")


@pytest.fixture
def world() -> tuple[commands.PortfolioPorts, InMemoryAuditLog, InMemoryEventPublisher]:
    clock = FixedClock(T0)
    audit = InMemoryAuditLog(clock)
    bus = InMemoryEventPublisher()
    ports = commands.PortfolioPorts(
        InMemoryPortfolioRepository(audit), bus, clock, SequentialIds("p")
    )
    return ports, audit, bus


def _create(ports: commands.PortfolioPorts) -> Portfolio:
    return commands.create_portfolio(
        ports,
        user_id="u1",
        name="NISA",
        base_currency=JPY,
        context=CONTEXT,
        holdings=[Holding.of("7203", "100"), Holding.of("VOO", "3")],
        targets={"7203": 40, "VOO": 60},
    )


def _trail(audit: InMemoryAuditLog) -> list[tuple[str, str, str, str]]:
    return [(e.action, e.resource, e.ip, e.user_agent) for e in audit.entries]


def test_create_stores_audits_and_publishes(world) -> None:  # type: ignore[no-untyped-def]
    ports, audit, bus = world
    portfolio = _create(ports)
    assert portfolio.portfolio_id == "p-0001"
    assert ports.repository.get("u1", "p-0001").version == 1
    assert _trail(audit) == [("portfolio.created", "portfolio/p-0001", "203.0.113.9", "pytest")]
    assert [e.name for e in bus.published] == ["PortfolioCreated"]
    assert bus.published[0].event_id == audit.entries[0].event_id


def test_each_edit_is_audited_with_before_and_after(world) -> None:  # type: ignore[no-untyped-def]
    ports, audit, bus = world
    _create(ports)
    key = {"user_id": "u1", "portfolio_id": "p-0001", "context": CONTEXT}
    commands.rename_portfolio(ports, name="NISA 2026", **key)  # type: ignore[arg-type]
    commands.add_holding(ports, holding=Holding.of("AAPL", "2"), **key)  # type: ignore[arg-type]
    commands.change_holding(ports, holding=Holding.of("AAPL", "5"), **key)  # type: ignore[arg-type]
    commands.remove_holding(ports, symbol="7203.T", **key)  # type: ignore[arg-type]
    commands.set_targets(ports, targets={"VOO": 70, "AAPL": 30}, **key)  # type: ignore[arg-type]
    stored = ports.repository.get("u1", "p-0001")
    assert stored.version == 6
    assert [h.symbol for h in stored.holdings] == ["VOO", "AAPL"]
    assert [a for a, *_ in _trail(audit)] == [
        "portfolio.created",
        "portfolio.renamed",
        "holding.added",
        "holding.changed",
        "holding.removed",
        "portfolio.targets_set",
    ]
    changed = audit.entries[3]
    assert changed.resource == "portfolio/p-0001/holding/AAPL"
    assert changed.changes == {"quantity": {"before": "2", "after": "5"}}
    assert len(bus.published) == 6


def test_a_change_that_changes_nothing_writes_nothing(world) -> None:  # type: ignore[no-untyped-def]
    ports, audit, bus = world
    _create(ports)
    same = commands.rename_portfolio(
        ports, user_id="u1", portfolio_id="p-0001", name="NISA", context=CONTEXT
    )
    assert same.version == 1
    assert len(audit.entries) == 1
    assert len(bus.published) == 1


def test_a_stale_if_match_is_a_conflict_before_any_change(world) -> None:  # type: ignore[no-untyped-def]
    ports, audit, _ = world
    _create(ports)
    commands.rename_portfolio(
        ports, user_id="u1", portfolio_id="p-0001", name="v2", context=CONTEXT, expected_version=1
    )
    with pytest.raises(ConflictError) as caught:
        commands.rename_portfolio(
            ports,
            user_id="u1",
            portfolio_id="p-0001",
            name="v3",
            context=CONTEXT,
            expected_version=1,
        )
    assert caught.value.current_version == 2
    assert ports.repository.get("u1", "p-0001").name == "v2"
    assert len(audit.entries) == 2


def test_invalid_changes_are_refused_and_lose_nothing(world) -> None:  # type: ignore[no-untyped-def]
    ports, audit, _ = world
    _create(ports)
    key = {"user_id": "u1", "portfolio_id": "p-0001", "context": CONTEXT}
    with pytest.raises(ValidationError):
        commands.set_targets(ports, targets={"7203": 50, "VOO": 49}, **key)  # type: ignore[arg-type]
    with pytest.raises(InvariantViolation):
        commands.add_holding(ports, holding=Holding.of("7203", "1"), **key)  # type: ignore[arg-type]
    with pytest.raises(NotFoundError):
        commands.rename_portfolio(
            ports, user_id="u2", portfolio_id="p-0001", name="x", context=CONTEXT
        )
    stored = ports.repository.get("u1", "p-0001")
    assert stored.version == 1
    assert stored.targets == {"7203": Decimal(40), "VOO": Decimal(60)}
    assert len(audit.entries) == 1


def test_replace_records_one_event_per_difference(world) -> None:  # type: ignore[no-untyped-def]
    ports, audit, _ = world
    _create(ports)
    desired = Portfolio(
        user_id="u1",
        portfolio_id="p-0001",
        name="Renamed",
        base_currency=USD,
        created_at=T0,
        holdings=[Holding.of("VOO", "4"), Holding.of("1306", "100")],
        targets={"VOO": 50, "1306": 50},
    )
    result = commands.replace_portfolio(
        ports,
        user_id="u1",
        portfolio_id="p-0001",
        desired=desired,
        context=CONTEXT,
        expected_version=1,
    )
    assert result.version == 2
    stored = ports.repository.get("u1", "p-0001")
    assert stored.name == "Renamed"
    assert stored.base_currency == USD
    assert sorted(h.symbol for h in stored.holdings) == ["1306", "VOO"]
    assert sorted(a for a, *_ in _trail(audit)[1:]) == [
        "holding.added",
        "holding.changed",
        "holding.removed",
        "portfolio.renamed",
        "portfolio.settings_changed",
        "portfolio.targets_set",
    ]
    assert len({e.sort_key for e in audit.entries}) == len(audit.entries)


def test_delete_removes_and_audits(world) -> None:  # type: ignore[no-untyped-def]
    ports, audit, bus = world
    _create(ports)
    commands.delete_portfolio(
        ports, user_id="u1", portfolio_id="p-0001", context=CONTEXT, expected_version=1
    )
    with pytest.raises(NotFoundError):
        ports.repository.get("u1", "p-0001")
    assert audit.entries[-1].action == "portfolio.deleted"
    assert bus.published[-1].name == "PortfolioDeleted"


def test_a_bus_failure_after_commit_keeps_the_change(caplog) -> None:  # type: ignore[no-untyped-def]
    clock = FixedClock(T0)
    audit = InMemoryAuditLog(clock)
    ports = commands.PortfolioPorts(
        InMemoryPortfolioRepository(audit), FailingPublisher(), clock, SequentialIds("p")
    )
    portfolio = _create(ports)
    assert ports.repository.get("u1", portfolio.portfolio_id).version == 1
    assert len(audit.entries) == 1
    assert "committed but not published" in caplog.text


def test_events_carry_the_design_envelope(world) -> None:  # type: ignore[no-untyped-def]
    ports, _, bus = world
    _create(ports)
    clock = ports.clock
    assert isinstance(clock, FixedClock)
    clock.advance(timedelta(seconds=1))
    commands.add_holding(
        ports,
        user_id="u1",
        portfolio_id="p-0001",
        holding=Holding.of("AAPL", "1"),
        context=CONTEXT,
    )
    event: DomainEvent = bus.published[-1]
    assert event.source == "portfoliowise.portfolio"
    assert event.name == "HoldingAdded"
    detail = event.to_json()
    assert {"eventId", "occurredAt", "userId"} <= set(detail)
