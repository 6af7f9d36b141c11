"""Portfolio use cases: load, change through the aggregate, store the change together with
its audit entries (one atomic write), then publish the events the change recorded, and
(with `signals` and `audit_log`) tell the operators when a user's writes become unusual."""

from __future__ import annotations

import logging
from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from portfoliowise.domain.attributes import Attributes
from portfoliowise.domain.audit import AuditEntry, RequestContext, audit_entries
from portfoliowise.domain.errors import ConflictError, PayloadTooLarge, SourceUnavailable
from portfoliowise.domain.events import DomainEvent
from portfoliowise.domain.money import Currency, Money
from portfoliowise.domain.portfolio import Holding, Portfolio
from portfoliowise.domain.ports import (
    AuditLog,
    Clock,
    EventPublisher,
    IdGenerator,
    PortfolioRepository,
)
from portfoliowise.domain.signals import (
    UNUSUAL_WRITES_PER_HOUR,
    Signal,
    SignalKind,
    Signals,
    subject_of,
)

log = logging.getLogger(__name__)

Change = Callable[[Portfolio, datetime], None]

ACTIVITY_WINDOW = timedelta(hours=1)
"""The window in which a user's portfolio writes are counted (`unusual_writes_per_hour`)."""

_USER_WRITE_ACTIONS = ("portfolio.", "holding.")
_NOT_USER_WRITES = frozenset({"portfolio.restored"})  # the operators' restore from a backup
_SAME_WRITE = timedelta(microseconds=1)  # `audit_entries` spaces one write's entries so


@dataclass(frozen=True, slots=True)
class PortfolioPorts:
    """What the portfolio commands need. With both `signals` and `audit_log`, every
    successful write also counts the user's portfolio writes of the last hour and signals
    `UNUSUAL_ACTIVITY` when they first pass `unusual_writes_per_hour` (`_watch_activity`).
    That costs one extra read of the audit trail per write: in AWS one more Query (with
    its pages) on the Audit table's `userId-date-index`, reading the user's entries of the
    UTC day(s) of the last two hours. Leave either out and nothing is counted."""

    repository: PortfolioRepository
    events: EventPublisher
    clock: Clock
    ids: IdGenerator
    signals: Signals | None = None
    audit_log: AuditLog | None = None
    unusual_writes_per_hour: int = UNUSUAL_WRITES_PER_HOUR


def _publish(ports: PortfolioPorts, portfolio: Portfolio, events: list[DomainEvent]) -> None:
    """Events go out after the change has committed. A failure here (the bus unavailable,
    an event over its size limit) cannot undo the change, so it is logged for the
    operators rather than reported as a failed request."""
    try:
        ports.events.publish(events)
    except (SourceUnavailable, PayloadTooLarge):
        log.exception(
            "events of portfolio %s were committed but not published", portfolio.portfolio_id
        )


def _writes(entries: Iterable[AuditEntry]) -> list[list[AuditEntry]]:
    """The user's portfolio writes among `entries`, oldest first, each as its entries: one
    write's entries are on one portfolio and 1 µs apart (`audit_entries`), so a PUT that
    changes 50 holdings is one write, not 50. Restores from a backup are not the user's."""
    groups: list[list[AuditEntry]] = []
    for entry in sorted(entries, key=lambda e: (e.timestamp, e.sort_key)):
        if not entry.action.startswith(_USER_WRITE_ACTIONS) or entry.action in _NOT_USER_WRITES:
            continue
        last = groups[-1][-1] if groups else None
        same_portfolio = last is not None and _portfolio_of(last) == _portfolio_of(entry)
        if last is not None and same_portfolio and entry.timestamp - last.timestamp <= _SAME_WRITE:
            groups[-1].append(entry)
        else:
            groups.append([entry])
    return groups


def _portfolio_of(entry: AuditEntry) -> str:
    """`portfolio/{id}` or `portfolio/{id}/holding/{symbol}` -> the portfolio id."""
    parts = entry.resource.split("/")
    return parts[1] if len(parts) > 1 else entry.resource


def unusual_activity_crossed(
    starts: Sequence[datetime], current: int, threshold: int, window: timedelta = ACTIVITY_WINDOW
) -> bool:
    """The rule of `UNUSUAL_ACTIVITY`, over the start times of a user's writes (sorted)
    and the index of the write just made. With count(i) the writes in (tᵢ − window, tᵢ],
    write i *crosses* when count(i) = threshold + 1: the one that takes the count past the
    threshold. The write just made signals when it crosses and no write in the window
    before it crossed: one signal when a burst begins, none for the writes after it (the
    count is then above threshold + 1), and none when the count hovers at the threshold
    and crosses again and again; a new burst signals once the last crossing is a window
    old."""

    def count(i: int) -> int:
        return i - bisect_right(starts, starts[i] - window) + 1

    if count(current) != threshold + 1:
        return False
    first = bisect_right(starts, starts[current] - window)
    return not any(count(i) == threshold + 1 for i in range(first, current))


def _watch_activity(ports: PortfolioPorts, user_id: str, written: Sequence[AuditEntry]) -> None:
    """After a committed write (whose entries are `written`): count the user's writes and
    signal unusual activity by the rule of `unusual_activity_crossed`. It reads the audit
    trail of the last two hours (a crossing in the last hour needs the hour before it).
    The write's own entries are added when the read misses them (DynamoDB's index is
    eventually consistent). Never fails the write: a failure is logged and nothing is
    signalled."""
    if ports.signals is None or ports.audit_log is None or not written:
        return
    try:
        start = written[0].timestamp
        read = ports.audit_log.for_user(user_id, start - 2 * ACTIVITY_WINDOW, written[-1].timestamp)
        seen = {entry.event_id for entry in read}
        writes = _writes([*read, *(entry for entry in written if entry.event_id not in seen)])
        mine = {entry.event_id for entry in written}
        current = next(
            (i for i, group in enumerate(writes) if any(e.event_id in mine for e in group)),
            None,
        )
        if current is None:
            return  # not a write of the user's (no entry counts)
        starts = [group[0].timestamp for group in writes]
        threshold = ports.unusual_writes_per_hour
        if not unusual_activity_crossed(starts, current, threshold):
            return
        ports.signals.emit(
            Signal(
                SignalKind.UNUSUAL_ACTIVITY,
                subject_of(user_id),
                ports.clock.now(),
                {
                    "writes": str(threshold + 1),
                    "threshold": str(threshold),
                    "windowMinutes": str(int(ACTIVITY_WINDOW.total_seconds()) // 60),
                },
            )
        )
    except Exception:
        log.exception("the portfolio writes of a user could not be counted for signals")


def create_portfolio(
    ports: PortfolioPorts,
    *,
    user_id: str,
    name: str,
    base_currency: Currency,
    context: RequestContext,
    holdings: Iterable[Holding] = (),
    targets: Mapping[str, object] | None = None,
    allow_fractional: bool = False,
    additional_budget: Money | None = None,
    ai_prompt_template: str | None = None,
    attributes: Attributes | None = None,
) -> Portfolio:
    portfolio = Portfolio.create(
        user_id=user_id,
        portfolio_id=ports.ids.new_id(),
        name=name,
        base_currency=base_currency,
        at=ports.clock.now(),
        holdings=holdings,
        targets=targets,
        allow_fractional=allow_fractional,
        additional_budget=additional_budget,
        ai_prompt_template=ai_prompt_template,
        attributes=attributes,
    )
    events = portfolio.pull_events()
    entries = audit_entries(events, context)
    ports.repository.add(portfolio, entries)
    _publish(ports, portfolio, events)
    _watch_activity(ports, user_id, entries)
    return portfolio


def update_portfolio(
    ports: PortfolioPorts,
    *,
    user_id: str,
    portfolio_id: str,
    change: Change,
    context: RequestContext,
    expected_version: int | None = None,
) -> Portfolio:
    """Apply `change` to the stored portfolio. With `expected_version` (the client's
    `If-Match`), a portfolio stored at another version is a `ConflictError` before anything
    is changed; either way the write itself is conditional on the version that was read."""
    portfolio = ports.repository.get(user_id, portfolio_id)
    if expected_version is not None and expected_version != portfolio.version:
        raise ConflictError(
            f"portfolio {portfolio_id} is at version {portfolio.version}, not {expected_version}",
            portfolio.version,
        )
    change(portfolio, ports.clock.now())
    events = portfolio.pull_events()
    if not events:
        return portfolio  # nothing changed: nothing to store, audit or publish
    entries = audit_entries(events, context)
    ports.repository.save(portfolio, entries)
    _publish(ports, portfolio, events)
    _watch_activity(ports, user_id, entries)
    return portfolio


def rename_portfolio(
    ports: PortfolioPorts,
    *,
    user_id: str,
    portfolio_id: str,
    name: str,
    context: RequestContext,
    expected_version: int | None = None,
) -> Portfolio:
    return update_portfolio(
        ports,
        user_id=user_id,
        portfolio_id=portfolio_id,
        change=lambda p, at: p.rename(name, at=at),
        context=context,
        expected_version=expected_version,
    )


def add_holding(
    ports: PortfolioPorts,
    *,
    user_id: str,
    portfolio_id: str,
    holding: Holding,
    context: RequestContext,
    expected_version: int | None = None,
) -> Portfolio:
    return update_portfolio(
        ports,
        user_id=user_id,
        portfolio_id=portfolio_id,
        change=lambda p, at: p.add_holding(holding, at=at),
        context=context,
        expected_version=expected_version,
    )


def change_holding(
    ports: PortfolioPorts,
    *,
    user_id: str,
    portfolio_id: str,
    holding: Holding,
    context: RequestContext,
    expected_version: int | None = None,
) -> Portfolio:
    return update_portfolio(
        ports,
        user_id=user_id,
        portfolio_id=portfolio_id,
        change=lambda p, at: p.change_holding(holding, at=at),
        context=context,
        expected_version=expected_version,
    )


def remove_holding(
    ports: PortfolioPorts,
    *,
    user_id: str,
    portfolio_id: str,
    symbol: str,
    context: RequestContext,
    expected_version: int | None = None,
) -> Portfolio:
    return update_portfolio(
        ports,
        user_id=user_id,
        portfolio_id=portfolio_id,
        change=lambda p, at: p.remove_holding(symbol, at=at),
        context=context,
        expected_version=expected_version,
    )


def set_targets(
    ports: PortfolioPorts,
    *,
    user_id: str,
    portfolio_id: str,
    targets: Mapping[str, object] | None,
    context: RequestContext,
    expected_version: int | None = None,
) -> Portfolio:
    return update_portfolio(
        ports,
        user_id=user_id,
        portfolio_id=portfolio_id,
        change=lambda p, at: p.set_targets(targets, at=at),
        context=context,
        expected_version=expected_version,
    )


def replace_portfolio(
    ports: PortfolioPorts,
    *,
    user_id: str,
    portfolio_id: str,
    desired: Portfolio,
    context: RequestContext,
    expected_version: int | None = None,
) -> Portfolio:
    """Make the stored portfolio look like `desired` (a PUT of the whole representation),
    recording one event per field, holding and target change. A client's attributes, which
    this representation does not carry, are kept: a holding of `desired` without any keeps
    the stored holding's, and the portfolio's own (additional budget, AI prompt template,
    attributes) are left as they are."""

    def change(portfolio: Portfolio, at: datetime) -> None:
        portfolio.rename(desired.name, at=at)
        portfolio.change_settings(
            at=at,
            base_currency=desired.base_currency,
            allow_fractional=desired.allow_fractional,
        )
        wanted = {h.symbol: h for h in desired.holdings}
        for held in portfolio.holdings:
            if held.symbol not in wanted:
                portfolio.remove_holding(held.symbol, at=at)
        for symbol, holding in wanted.items():
            stored = portfolio.holding(symbol)
            if stored is None:
                portfolio.add_holding(holding, at=at)
            else:
                kept = holding.attributes or stored.attributes
                portfolio.change_holding(replace(holding, attributes=kept), at=at)
        portfolio.set_targets(desired.targets or None, at=at)

    return update_portfolio(
        ports,
        user_id=user_id,
        portfolio_id=portfolio_id,
        change=change,
        context=context,
        expected_version=expected_version,
    )


def delete_portfolio(
    ports: PortfolioPorts,
    *,
    user_id: str,
    portfolio_id: str,
    context: RequestContext,
    expected_version: int | None = None,
) -> None:
    update_portfolio(
        ports,
        user_id=user_id,
        portfolio_id=portfolio_id,
        change=lambda p, at: p.delete(at=at),
        context=context,
        expected_version=expected_version,
    )
