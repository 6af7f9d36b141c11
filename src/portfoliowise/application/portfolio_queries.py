"""Reading a portfolio: list, one, its valuation, its allocation and drift, and a plan
for an additional investment. Prices come through `pricing` (one rule for what a
portfolio needs priced); the market service behind it is the live chain or the cache only,
as the runtime decides.

With `signals`, a complete valuation in the portfolio's base currency is also kept as its
latest total (`PortfolioRepository.record_valuation`: an UpdateItem of the portfolio item
in AWS), and a move of more than `large_change_percent` from the total kept before is
signalled to the operators (`LARGE_PORTFOLIO_CHANGE`). The kept total is read with the
portfolio (`get_with_valuation`, the same GetItem), so a valuation whose total has not
moved writes nothing: a warm valuation of 250 holdings is 5 requests, 3 in sequence
(session, portfolio, then the quotes and rates in concurrent BatchGetItems)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from portfoliowise.application.pricing import QuoteService, price_portfolio
from portfoliowise.domain.allocation import AllocationSlice, Dimension, TargetDrift, allocation
from portfoliowise.domain.allocation import drift as drift_of
from portfoliowise.domain.errors import NotFoundError
from portfoliowise.domain.measurements import Measurements, NoMeasurements
from portfoliowise.domain.money import Currency, Money, quantize
from portfoliowise.domain.portfolio import Portfolio
from portfoliowise.domain.ports import Clock, PortfolioRepository
from portfoliowise.domain.signals import (
    LARGE_CHANGE_PERCENT,
    Signal,
    SignalKind,
    Signals,
    subject_of,
)
from portfoliowise.domain.simulation import (
    Simulation,
    SimulationMode,
    SimulationOptions,
    simulate,
)
from portfoliowise.domain.valuation import Valuation, value_portfolio

log = logging.getLogger(__name__)

_PERCENT_PLACES = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class ValuedPortfolio:
    portfolio: Portfolio
    valuation: Valuation
    allocations: dict[str, list[AllocationSlice]]
    drift: list[TargetDrift]


def currency_or(code: str | None, default: Currency) -> Currency:
    """The currency named by `code` (any case), or `default` when none is given."""
    return default if code is None or not code.strip() else Currency.of(code)


@dataclass(frozen=True, slots=True)
class PortfolioQueries:
    repository: PortfolioRepository
    market: QuoteService
    clock: Clock
    signals: Signals | None = None
    measurements: Measurements = field(default_factory=NoMeasurements)
    large_change_percent: Decimal = LARGE_CHANGE_PERCENT

    def list(self, user_id: str) -> list[Portfolio]:
        return self.repository.list_for_user(user_id)

    def get(self, user_id: str, portfolio_id: str) -> Portfolio:
        return self.repository.get(user_id, portfolio_id)

    def _read(self, user_id: str, portfolio_id: str) -> tuple[Portfolio, Money | None]:
        """The portfolio, and the total kept for it when valuations are kept (`signals`)."""
        if self.signals is None:
            return self.get(user_id, portfolio_id), None
        return self.repository.get_with_valuation(user_id, portfolio_id)

    def _value(
        self, portfolio: Portfolio, currency: Currency, kept: Money | None = None
    ) -> Valuation:
        prices = price_portfolio(self.market, portfolio, currency)
        result = value_portfolio(
            portfolio, prices.quotes, prices.rates, at=self.clock.now(), currency=currency
        )
        self._watch(portfolio, result, kept)
        return result

    def _watch(self, portfolio: Portfolio, valuation: Valuation, kept: Money | None) -> None:
        """Keep a complete base-currency total and signal a large move from the one kept
        before (`kept`, as read with the portfolio: when the total equals it there is
        nothing to keep or signal, and nothing is written). Never fails the valuation: a
        store failure is logged, a portfolio deleted meanwhile is ignored. Without
        `signals` nothing is kept (no write on a read)."""
        if (
            self.signals is None
            or valuation.currency != portfolio.base_currency
            or not valuation.complete
        ):
            return
        after = valuation.total.rounded()
        if kept is not None and kept == after:
            return
        try:
            before = self.repository.record_valuation(
                portfolio.user_id, portfolio.portfolio_id, after, valuation.at
            )
            if before is None or before.is_zero():
                return  # the first valuation (since the last change), or no base to compare
            percent = (after.amount - before.amount) / before.amount * 100
            if abs(percent) <= self.large_change_percent:
                return
            self.signals.emit(
                Signal(
                    SignalKind.LARGE_PORTFOLIO_CHANGE,
                    subject_of(portfolio.user_id),
                    valuation.at,
                    {
                        "portfolioId": portfolio.portfolio_id,
                        "percent": str(quantize(percent, _PERCENT_PLACES, ROUND_HALF_UP)),
                        "before": str(before.rounded().amount),
                        "after": str(after.amount),
                        "currency": after.currency.code,
                    },
                )
            )
        except NotFoundError:
            log.info("portfolio %s was deleted while being valued", portfolio.portfolio_id)
        except Exception:
            log.exception(
                "the valuation of portfolio %s was not kept or not signalled",
                portfolio.portfolio_id,
            )

    def valuation(
        self, user_id: str, portfolio_id: str, currency: str | None = None
    ) -> ValuedPortfolio:
        """Values, weights, P/L, unpriced holdings and every breakdown."""
        portfolio, kept = self._read(user_id, portfolio_id)
        result = self._value(portfolio, currency_or(currency, portfolio.base_currency), kept)
        if result.complete:
            self.measurements.portfolio_valued(result.total)
        breakdowns = {by.value: allocation(result, by) for by in Dimension}
        return ValuedPortfolio(portfolio, result, breakdowns, drift_of(result, portfolio.targets))

    def allocation(
        self, user_id: str, portfolio_id: str, by: str, currency: str | None = None
    ) -> ValuedPortfolio:
        """One breakdown (`by`: holding, assetClass, currency, market, sector, region)."""
        dimension = Dimension.parse(by)
        portfolio, kept = self._read(user_id, portfolio_id)
        result = self._value(portfolio, currency_or(currency, portfolio.base_currency), kept)
        return ValuedPortfolio(
            portfolio,
            result,
            {dimension.value: allocation(result, dimension)},
            drift_of(result, portfolio.targets),
        )

    def simulate(
        self,
        user_id: str,
        portfolio_id: str,
        *,
        budget: Money,
        mode: str = SimulationMode.BUY.value,
        tolerance: Decimal = Decimal(5),
    ) -> Simulation:
        """The buy (or rebalance) orders for `budget`, priced in the budget's currency."""
        portfolio = self.get(user_id, portfolio_id)
        prices = price_portfolio(self.market, portfolio, budget.currency)
        options = SimulationOptions(mode=SimulationMode(mode), tolerance=tolerance)
        return simulate(portfolio, prices.quotes, prices.rates, budget, options)
