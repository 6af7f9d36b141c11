"""Valuation: a portfolio valued from quotes and FX rates at a time.

Holdings with no quote, an unavailable quote or no FX rate into the valuation currency
are listed as unpriced and left out of the total: never valued at a made-up price.
Stale quotes are used but flagged."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from portfoliowise.domain.errors import MissingRateError
from portfoliowise.domain.fx import RateTable
from portfoliowise.domain.money import Currency, Money
from portfoliowise.domain.portfolio import Holding, Portfolio
from portfoliowise.domain.quotes import Quote, QuoteStatus

HUNDRED = Decimal(100)


class UnpricedReason(StrEnum):
    NO_QUOTE = "no_quote"
    QUOTE_UNAVAILABLE = "quote_unavailable"
    MISSING_FX_RATE = "missing_fx_rate"


@dataclass(frozen=True, slots=True)
class UnpricedHolding:
    holding: Holding
    reason: UnpricedReason
    detail: str

    @property
    def symbol(self) -> str:
        return self.holding.symbol


@dataclass(frozen=True, slots=True)
class HoldingValuation:
    holding: Holding
    quote: Quote
    price: Money  # per price unit (per 10,000 units for funds), in the quote's currency
    value: Money  # in the quote's currency
    fx_rate: Decimal  # quote currency -> valuation currency
    base_value: Money  # in the valuation currency
    weight: Decimal  # percent of the priced total, full precision
    cost_basis: Money | None  # in the valuation currency, when known and convertible
    unrealized_pl: Money | None
    unrealized_pl_percent: Decimal | None

    @property
    def symbol(self) -> str:
        return self.holding.symbol

    @property
    def stale(self) -> bool:
        return self.quote.status is QuoteStatus.STALE


@dataclass(frozen=True, slots=True)
class Valuation:
    portfolio_id: str
    currency: Currency
    at: datetime
    total: Money
    holdings: list[HoldingValuation]
    unpriced: list[UnpricedHolding]
    cost_basis: Money | None  # of the holdings whose cost is known
    unrealized_pl: Money | None

    @property
    def stale(self) -> list[str]:
        return [h.symbol for h in self.holdings if h.stale]

    @property
    def complete(self) -> bool:
        return not self.unpriced

    def priced(self, symbol: str) -> HoldingValuation | None:
        for item in self.holdings:
            if item.symbol == symbol:
                return item
        return None


@dataclass(frozen=True, slots=True)
class _Priced:
    holding: Holding
    quote: Quote
    price: Money
    value: Money
    rate: Decimal
    base_value: Money


def value_portfolio(
    portfolio: Portfolio,
    quotes: Mapping[str, Quote],
    rates: RateTable,
    *,
    at: datetime,
    currency: Currency | None = None,
) -> Valuation:
    """Value every holding in its quote currency and in `currency` (default: the
    portfolio's base currency). `quotes` is keyed by canonical symbol."""
    target = currency or portfolio.base_currency
    priced: list[_Priced] = []
    unpriced: list[UnpricedHolding] = []
    for holding in portfolio.holdings:
        quote = quotes.get(holding.symbol)
        if quote is None:
            unpriced.append(UnpricedHolding(holding, UnpricedReason.NO_QUOTE, "no quote"))
            continue
        if quote.price is None:
            unpriced.append(
                UnpricedHolding(
                    holding, UnpricedReason.QUOTE_UNAVAILABLE, f"quote unavailable ({quote.source})"
                )
            )
            continue
        price = quote.price
        rate = rates.find(price.currency, target)
        if rate is None:
            detail = str(MissingRateError(price.currency.code, target.code))
            unpriced.append(UnpricedHolding(holding, UnpricedReason.MISSING_FX_RATE, detail))
            continue
        value = Money(holding.instrument.value_of(holding.quantity, price.amount), price.currency)
        priced.append(
            _Priced(holding, quote, price, value, rate, Money(value.amount * rate, target))
        )

    total = Money(sum((p.base_value.amount for p in priced), Decimal(0)), target)
    items: list[HoldingValuation] = []
    cost_total = Decimal(0)
    pl_total = Decimal(0)
    any_cost = False
    for p in priced:
        weight = p.base_value.amount / total.amount * HUNDRED if total.amount else Decimal(0)
        cost = _cost_in(p.holding, target, rates)
        pl = None if cost is None else p.base_value - cost
        pl_pct = None if cost is None or not cost.amount else pl.amount / cost.amount * HUNDRED  # type: ignore[union-attr]
        if cost is not None and pl is not None:
            any_cost = True
            cost_total += cost.amount
            pl_total += pl.amount
        items.append(
            HoldingValuation(
                holding=p.holding,
                quote=p.quote,
                price=p.price,
                value=p.value,
                fx_rate=p.rate,
                base_value=p.base_value,
                weight=weight,
                cost_basis=cost,
                unrealized_pl=pl,
                unrealized_pl_percent=pl_pct,
            )
        )
    return Valuation(
        portfolio_id=portfolio.portfolio_id,
        currency=target,
        at=at,
        total=total,
        holdings=items,
        unpriced=unpriced,
        cost_basis=Money(cost_total, target) if any_cost else None,
        unrealized_pl=Money(pl_total, target) if any_cost else None,
    )


def _cost_in(holding: Holding, currency: Currency, rates: RateTable) -> Money | None:
    """Cost basis in the valuation currency. A cost paid in another currency is
    converted at today's rate; with no rate, P/L is unknown rather than guessed."""
    if holding.cost_basis is None:
        return None
    rate = rates.find(holding.cost_basis.currency, currency)
    if rate is None:
        return None
    return Money(holding.cost_basis.amount * rate, currency)
