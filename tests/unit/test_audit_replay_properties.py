"""Hypothesis: random sequences of portfolio commands leave an audit trail that replays to
the stored state; backup -> wipe -> restore gives back identical portfolios."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portfoliowise.adapters.clock import FixedClock, SequentialIds
from portfoliowise.adapters.memory import (
    InMemoryAuditLog,
    InMemoryBlobStore,
    InMemoryEventPublisher,
    InMemoryPortfolioRepository,
)
from portfoliowise.application import backup
from portfoliowise.application import portfolio_commands as commands
from portfoliowise.domain.audit import RequestContext
from portfoliowise.domain.audit_replay import replay, state_of
from portfoliowise.domain.errors import ValidationError
from portfoliowise.domain.money import JPY, USD
from portfoliowise.domain.portfolio import Holding, Portfolio

SYMBOLS = ["7203", "6758", "130A", "AAPL", "BRK-B", "VOO", "0331418A"]
CONTEXT = RequestContext(ip="192.0.2.1", user_agent="hypothesis")
T0 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)

quantities = st.decimals(min_value=0, max_value=100000, places=2, allow_nan=False)
names = st.text(alphabet="abcあいう 0123", min_size=1, max_size=12).filter(str.strip)


@st.composite
def targets(draw: st.DrawFn) -> dict[str, int] | None:
    chosen = draw(st.lists(st.sampled_from(SYMBOLS), min_size=1, max_size=4, unique=True))
    if draw(st.booleans()):
        return None
    cuts = sorted(
        draw(st.lists(st.integers(0, 100), min_size=len(chosen) - 1, max_size=len(chosen) - 1))
    )
    bounds = [0, *cuts, 100]
    return {s: bounds[i + 1] - bounds[i] for i, s in enumerate(chosen)}


command = st.one_of(
    st.tuples(st.just("rename"), names),
    st.tuples(st.just("add"), st.sampled_from(SYMBOLS), quantities),
    st.tuples(st.just("quantity"), st.sampled_from(SYMBOLS), quantities),
    st.tuples(st.just("remove"), st.sampled_from(SYMBOLS)),
    st.tuples(st.just("targets"), targets()),
    st.tuples(st.just("currency"), st.sampled_from([JPY, USD])),
    st.tuples(st.just("advance"), st.integers(0, 3600)),
)


def _apply(
    ports: commands.PortfolioPorts, clock: FixedClock, user: str, pid: str, cmd: tuple
) -> None:  # type: ignore[type-arg]
    kind, *args = cmd
    key = {"user_id": user, "portfolio_id": pid, "context": CONTEXT}
    try:
        if kind == "rename":
            commands.rename_portfolio(ports, name=args[0], **key)  # type: ignore[arg-type]
        elif kind == "add":
            commands.add_holding(ports, holding=Holding.of(args[0], args[1]), **key)  # type: ignore[arg-type]
        elif kind == "quantity":
            commands.update_portfolio(
                ports,
                change=lambda p, at: p.set_quantity(args[0], Decimal(args[1]), at=at),
                **key,  # type: ignore[arg-type]
            )
        elif kind == "remove":
            commands.remove_holding(ports, symbol=args[0], **key)  # type: ignore[arg-type]
        elif kind == "targets":
            commands.set_targets(ports, targets=args[0], **key)  # type: ignore[arg-type]
        elif kind == "currency":
            commands.update_portfolio(
                ports,
                change=lambda p, at: p.change_settings(at=at, base_currency=args[0]),
                **key,  # type: ignore[arg-type]
            )
        else:
            clock.advance(timedelta(seconds=args[0]))
    except ValidationError:
        pass  # refused commands (duplicate, unknown holding...) must leave no trace


def _world() -> tuple[commands.PortfolioPorts, FixedClock, InMemoryAuditLog]:
    clock = FixedClock(T0)
    audit = InMemoryAuditLog(clock)
    repo = InMemoryPortfolioRepository(audit)
    return (
        commands.PortfolioPorts(repo, InMemoryEventPublisher(), clock, SequentialIds("p")),
        clock,
        audit,
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(command, max_size=30), st.booleans())
def test_the_audit_trail_replays_to_the_stored_state(cmds: list[tuple], delete: bool) -> None:  # type: ignore[type-arg]
    ports, clock, audit = _world()
    created = commands.create_portfolio(
        ports, user_id="u1", name="start", base_currency=JPY, context=CONTEXT
    )
    for cmd in cmds:
        _apply(ports, clock, "u1", created.portfolio_id, cmd)
    if delete:
        commands.delete_portfolio(
            ports, user_id="u1", portfolio_id=created.portfolio_id, context=CONTEXT
        )
    trail = audit.for_user("u1", T0 - timedelta(days=1), clock.now() + timedelta(days=1))
    assert len(trail) == len(audit.entries)
    rebuilt = replay(trail, created.portfolio_id)
    if delete:
        assert rebuilt is None
    else:
        stored = ports.repository.get("u1", created.portfolio_id)
        assert rebuilt == state_of(stored.to_json())
        assert stored.version == len(trail)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(st.sampled_from(["u1", "u2", "user@example.com"]), st.lists(command, max_size=8)),
        min_size=1,
        max_size=5,
    ),
    st.dates(min_value=date(2026, 1, 1), max_value=date(2027, 12, 31)),
)
def test_backup_wipe_restore_gives_back_identical_portfolios(
    plan: list[tuple[str, list[tuple]]],
    day: date,  # type: ignore[type-arg]
) -> None:
    ports, clock, _ = _world()
    for user, cmds in plan:
        created = commands.create_portfolio(
            ports, user_id=user, name="p", base_currency=USD, context=CONTEXT
        )
        for cmd in cmds:
            _apply(ports, clock, user, created.portfolio_id, cmd)
    before = sorted((p.to_json() for p in ports.repository.all_portfolios()), key=str)
    blobs = InMemoryBlobStore()
    report = backup.run_backup(ports.repository, blobs, day)
    assert report.portfolios == len(before)

    fresh, _, _ = _world()
    restore_plan = backup.plan_restore(fresh.repository, blobs, day.isoformat())
    assert restore_plan.overwrites == []
    backup.restore(fresh.repository, restore_plan, clock)
    after = sorted((p.to_json() for p in fresh.repository.all_portfolios()), key=str)
    assert after == before
    assert all(isinstance(p, Portfolio) for p in fresh.repository.all_portfolios())
