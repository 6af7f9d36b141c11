"""One rule for what a portfolio needs priced: its symbols and the USD rate of every
currency involved (holdings, cost bases, base currency, the currency asked for). What the
warm job caches for that rule is enough to value the portfolio in its base currency or in
the requested one, cost bases included: every other rate is derived (inverse, cross)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal

from portfoliowise.application.pricing import price_portfolio, prices_in_batches, pricing_needs
from portfoliowise.domain.money import EUR, JPY, USD, Currency, Money
from portfoliowise.domain.portfolio import Holding, Portfolio
from portfoliowise.domain.quotes import Quote, QuoteStatus
from portfoliowise.domain.valuation import value_portfolio

NOW = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
PRICES = {"7203": Money.of("2500", JPY), "AAPL": Money.of("200", USD)}
USD_RATES = {"JPY": Decimal("150"), "EUR": Decimal("0.9")}


def _portfolio(base: Currency = JPY) -> Portfolio:
    return Portfolio.create(
        user_id="u",
        portfolio_id="p",
        name="mixed",
        base_currency=base,
        at=NOW,
        holdings=[
            Holding.of("7203", 100, cost_basis=Money.of("1500", EUR)),
            Holding.of("AAPL", 10, cost_basis=Money.of("1500", USD)),
        ],
    )


class CacheOnly:
    """What the Cache table holds after a warm of `pricing_needs`: quotes, and USD-XXX
    rates only. Any other pair asked for is unavailable, as a cache miss would be."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def get_quotes(self, symbols: Sequence[str]) -> dict[str, Quote]:
        return {s: Quote(s, PRICES[s], QuoteStatus.CACHED, "cache", NOW) for s in symbols}

    def get_prices(self, symbols: Sequence[str], pairs: Sequence[str]) -> dict[str, Quote]:
        return prices_in_batches(self, symbols, pairs)

    def get_rates(self, pairs: Sequence[str]) -> dict[str, Quote]:
        self.asked.extend(pairs)
        out = {}
        for pair in pairs:
            base, quote = pair.split("-")
            if base == "USD" and quote in USD_RATES:
                price = Money.of(USD_RATES[quote], Currency.of(quote))
                out[pair] = Quote(pair, price, QuoteStatus.CACHED, "cache", NOW)
            else:
                out[pair] = Quote(pair, None, QuoteStatus.UNAVAILABLE, "cache", None)
        return out


def test_the_needs_are_the_symbols_and_the_usd_rate_of_every_currency() -> None:
    needs = pricing_needs(_portfolio(), currency=USD)
    assert needs.symbols == ("7203", "AAPL")
    assert needs.pairs == ("USD-EUR", "USD-JPY")


def test_what_the_warm_job_caches_values_the_portfolio_in_any_involved_currency() -> None:
    for base, asked in ((JPY, None), (JPY, USD), (USD, JPY), (JPY, EUR)):
        portfolio = _portfolio(base)
        market = CacheOnly()
        prices = price_portfolio(market, portfolio, asked)
        assert set(market.asked) <= set(pricing_needs(portfolio).pairs) | {
            f"USD-{c.code}" for c in (asked,) if c is not None and c != USD
        }
        valuation = value_portfolio(portfolio, prices.quotes, prices.rates, at=NOW, currency=asked)
        assert valuation.unpriced == [], (base, asked)
        assert valuation.cost_basis is not None, (base, asked)


def test_a_jpy_portfolio_in_usd_is_converted_through_the_cached_usd_jpy_rate() -> None:
    portfolio = _portfolio()
    prices = price_portfolio(CacheOnly(), portfolio, USD)
    valuation = value_portfolio(portfolio, prices.quotes, prices.rates, at=NOW, currency=USD)
    assert valuation.total is not None
    # 100 x 2,500 JPY / 150 + 10 x 200 USD
    assert valuation.total.rounded().amount == Decimal("3666.67")
    assert valuation.cost_basis is not None
    # 1,500 EUR / 0.9 (EUR per USD) + 1,500 USD
    assert valuation.cost_basis.rounded().amount == Decimal("3166.67")
