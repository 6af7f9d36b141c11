"""The existing web app's portfolio (`GET/PUT /api/portfolio`): the user's default
portfolio, read and saved whole as the app's document, with an optimistic version.

- The default portfolio is the user's oldest (by creation time, then id). A user with none
  gets one on the first save, named `DEFAULT_NAME`, with the id `DEFAULT_PORTFOLIO_ID`:
  fixed, so that two first saves at once (two devices) cannot make two portfolios; the
  second is a conflict, as any other concurrent write.
- `version` is the version the app last read. A portfolio stored at another version is a
  `ConflictError` carrying the stored version (the app then asks its user which side
  wins). `None` is the app's "keep mine" (`resolveConflict('local')`, and a device that
  has never synced): the document overwrites what is stored. Nothing is lost for good:
  every change is audited with its before and after, as any other. The write is still
  conditional on the version it read, and tried again (`FORCE_ATTEMPTS` in all) when
  another write slips in between. With no portfolio yet, any version creates it: there is nothing to
  conflict with (a portfolio deleted elsewhere comes back with the app's data rather than
  leaving the app in a conflict it cannot resolve).
- Except one case: `None` never replaces a portfolio that has holdings with one that has
  none. That is the app's empty state on a browser that has not synced yet (after a
  reload the app saves before it has read the server's copy): a conflict, so the app asks
  its user, instead of wiping the portfolio.
- A save is a change like any other: one event per field, holding and target that
  changed, stored with their audit entries in one write, then published; a document that
  changes nothing writes nothing and keeps the version.

How the document maps to the domain (what is typed, what is kept as sent) is the
`WebAppDocuments` port's (`adapters.web_app_document`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any, Final, Protocol

from portfoliowise.application.portfolio_commands import (
    Change,
    PortfolioPorts,
    create_portfolio,
    update_portfolio,
)
from portfoliowise.domain.attributes import Attributes
from portfoliowise.domain.audit import RequestContext
from portfoliowise.domain.errors import ConflictError, NotFoundError
from portfoliowise.domain.money import Currency, Money
from portfoliowise.domain.portfolio import Holding, Portfolio
from portfoliowise.domain.ports import PortfolioRepository

DEFAULT_NAME: Final = "My portfolio"
DEFAULT_PORTFOLIO_ID: Final = "default"
FORCE_ATTEMPTS: Final = 3
"""Reads and writes a forced save (`version` None) tries before it answers a conflict, and
any save tries when the portfolio it read is deleted before it writes."""


@dataclass(frozen=True, slots=True)
class WebAppState:
    """What the app's document says, in the domain's terms: the whole state to save."""

    base_currency: Currency
    holdings: tuple[Holding, ...]
    targets: Mapping[str, Decimal]  # empty: no targets
    additional_budget: Money | None
    ai_prompt_template: str | None
    attributes: Attributes  # the portfolio's, kept as sent


class WebAppDocuments(Protocol):
    def read(self, document: Mapping[str, Any], current: Portfolio | None) -> WebAppState:
        """The state `document` describes, over `current` (the stored portfolio, None for
        a new one): what the document leaves out is kept from it. Raises
        `ValidationError` (`OutOfRange` for a limit) naming where in the document."""
        ...

    def write(self, portfolio: Portfolio) -> dict[str, Any]:
        """The app's document of `portfolio`, without `version` and `updatedAt`; numbers
        are `Decimal` (the app reads JSON numbers)."""
        ...


@dataclass(frozen=True, slots=True)
class WebAppPortfolio:
    document: dict[str, Any]
    version: int
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class _FixedId:
    value: str

    def new_id(self) -> str:
        return self.value


def default_portfolio(repository: PortfolioRepository, user_id: str) -> Portfolio | None:
    """The user's oldest portfolio (creation time, then id), or None."""
    portfolios = [p for p in repository.list_for_user(user_id) if not p.deleted]
    if not portfolios:
        return None
    return min(portfolios, key=lambda p: (p.created_at, p.portfolio_id))


def load_web_app_portfolio(
    repository: PortfolioRepository, documents: WebAppDocuments, *, user_id: str
) -> WebAppPortfolio | None:
    """The app's document of the user's default portfolio, None when there is none."""
    portfolio = default_portfolio(repository, user_id)
    if portfolio is None:
        return None
    return WebAppPortfolio(documents.write(portfolio), portfolio.version, portfolio.updated_at)


def save_web_app_portfolio(
    ports: PortfolioPorts,
    documents: WebAppDocuments,
    *,
    user_id: str,
    document: Mapping[str, Any],
    version: int | None,
    context: RequestContext,
) -> Portfolio:
    """Save the app's document as the user's default portfolio (see the module docstring):
    `ValidationError` for a document that breaks a rule (before any version is looked at),
    `ConflictError` (with the stored version) for a stale `version`."""
    fresh = documents.read(document, None)  # a bad document is a 400 whatever the version
    for attempt in range(1, FORCE_ATTEMPTS + 1):
        last = attempt == FORCE_ATTEMPTS
        try:
            current = default_portfolio(ports.repository, user_id)
            if current is None:
                return _create(ports, fresh, user_id, context)
            if version is None and len(current) > 0 and not fresh.holdings:
                raise ConflictError(
                    "the stored portfolio has holdings and this one has none: load it first",
                    current.version,
                )
            return update_portfolio(
                ports,
                user_id=user_id,
                portfolio_id=current.portfolio_id,
                change=_becomes(documents, document),
                context=context,
                expected_version=version,
            )
        except ConflictError:
            if version is not None or last:
                raise
        except NotFoundError:  # deleted between the read and the write: look again
            if last:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def _create(
    ports: PortfolioPorts, state: WebAppState, user_id: str, context: RequestContext
) -> Portfolio:
    return create_portfolio(
        replace(ports, ids=_FixedId(DEFAULT_PORTFOLIO_ID)),
        user_id=user_id,
        name=DEFAULT_NAME,
        base_currency=state.base_currency,
        context=context,
        holdings=state.holdings,
        targets=state.targets or None,
        additional_budget=state.additional_budget,
        ai_prompt_template=state.ai_prompt_template,
        attributes=state.attributes,
    )


def _becomes(documents: WebAppDocuments, document: Mapping[str, Any]) -> Change:
    """The change that makes a stored portfolio what `document` says (its name and
    fractional-share setting, which the app does not have, stay as they are)."""

    def change(portfolio: Portfolio, at: datetime) -> None:
        state = documents.read(document, portfolio)
        portfolio.change_settings(at=at, base_currency=state.base_currency)
        wanted = {holding.symbol: holding for holding in state.holdings}
        for held in portfolio.holdings:
            if held.symbol not in wanted:
                portfolio.remove_holding(held.symbol, at=at)
        for symbol, holding in wanted.items():
            if portfolio.holding(symbol) is None:
                portfolio.add_holding(holding, at=at)
            else:
                portfolio.change_holding(holding, at=at)
        portfolio.set_targets(state.targets or None, at=at)
        portfolio.change_details(
            at=at,
            additional_budget=state.additional_budget,
            ai_prompt_template=state.ai_prompt_template,
            attributes=state.attributes,
        )

    return change
