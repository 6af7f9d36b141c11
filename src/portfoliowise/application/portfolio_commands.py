"""Portfolio use cases: load, change through the aggregate, store the change together with
its audit entries (one atomic write), then publish the events the change recorded."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from portfoliowise.domain.audit import RequestContext, audit_entries
from portfoliowise.domain.errors import ConflictError, SourceUnavailable
from portfoliowise.domain.events import DomainEvent
from portfoliowise.domain.money import Currency
from portfoliowise.domain.portfolio import Holding, Portfolio
from portfoliowise.domain.ports import Clock, EventPublisher, IdGenerator, PortfolioRepository

log = logging.getLogger(__name__)

Change = Callable[[Portfolio, datetime], None]


@dataclass(frozen=True, slots=True)
class PortfolioPorts:
    repository: PortfolioRepository
    events: EventPublisher
    clock: Clock
    ids: IdGenerator


def _publish(ports: PortfolioPorts, portfolio: Portfolio, events: list[DomainEvent]) -> None:
    """Events go out after the change has committed. A failure here cannot undo the
    change, so it is logged for the operators rather than reported as a failed request."""
    try:
        ports.events.publish(events)
    except SourceUnavailable:
        log.exception(
            "events of portfolio %s were committed but not published", portfolio.portfolio_id
        )


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
    )
    events = portfolio.pull_events()
    ports.repository.add(portfolio, audit_entries(events, context))
    _publish(ports, portfolio, events)
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
    ports.repository.save(portfolio, audit_entries(events, context))
    _publish(ports, portfolio, events)
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
    recording one event per field, holding and target change."""

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
            if portfolio.holding(symbol) is None:
                portfolio.add_holding(holding, at=at)
            else:
                portfolio.change_holding(holding, at=at)
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
