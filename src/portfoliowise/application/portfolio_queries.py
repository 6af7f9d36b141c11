"""Reading a portfolio: list, one, its valuation, its allocation and drift, and a plan
for an additional investment. Prices come through `pricing` (one rule for what a
portfolio needs priced); the market service behind it is the live chain or the cache only,
as the runtime decides."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from portfoliowise.application.pricing import QuoteService, price_portfolio
from portfoliowise.domain.allocation import AllocationSlice, Dimension, TargetDrift, allocation
from portfoliowise.domain.allocation import drift as drift_of
from portfoliowise.domain.money import Currency, Money
from portfoliowise.domain.portfolio import Portfolio
from portfoliowise.domain.ports import Clock, PortfolioRepository
from portfoliowise.domain.simulation import (
    Simulation,
    SimulationMode,
    SimulationOptions,
    simulate,
)
from portfoliowise.domain.valuation import Valuation, value_portfolio


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

    def list(self, user_id: str) -> list[Portfolio]:
        return self.repository.list_for_user(user_id)

    def get(self, user_id: str, portfolio_id: str) -> Portfolio:
        return self.repository.get(user_id, portfolio_id)

    def _value(self, portfolio: Portfolio, currency: Currency) -> Valuation:
        prices = price_portfolio(self.market, portfolio, currency)
        return value_portfolio(
            portfolio, prices.quotes, prices.rates, at=self.clock.now(), currency=currency
        )

    def valuation(
        self, user_id: str, portfolio_id: str, currency: str | None = None
    ) -> ValuedPortfolio:
        """Values, weights, P/L, unpriced holdings and every breakdown."""
        portfolio = self.get(user_id, portfolio_id)
        result = self._value(portfolio, currency_or(currency, portfolio.base_currency))
        breakdowns = {by.value: allocation(result, by) for by in Dimension}
        return ValuedPortfolio(portfolio, result, breakdowns, drift_of(result, portfolio.targets))

    def allocation(
        self, user_id: str, portfolio_id: str, by: str, currency: str | None = None
    ) -> ValuedPortfolio:
        """One breakdown (`by`: holding, assetClass, currency, market, sector, region)."""
        dimension = Dimension.parse(by)
        portfolio = self.get(user_id, portfolio_id)
        result = self._value(portfolio, currency_or(currency, portfolio.base_currency))
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
