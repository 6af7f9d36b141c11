"""What a portfolio needs priced, and pricing it: one rule for the routes, the cache-warm
job and the change-event consumer.

A portfolio needs a quote for every symbol it holds or targets (FX pairs aside), and a
rate for every currency involved (its holdings', its cost bases', its base currency and the
currency asked for) against the pivot, USD: `USD-JPY`, `USD-EUR`, ... Any conversion
between two of those currencies is then derived from what is cached (direct, inverse, or
across USD: `RateTable`), so a `?currency=USD` on a JPY portfolio or a USD cost basis is
priced from the same cached rates the warm job keeps fresh."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from portfoliowise.application.market_limits import MAX_SYMBOLS
from portfoliowise.domain.fx import FxRate, RateTable
from portfoliowise.domain.instruments import Market, parse_symbol
from portfoliowise.domain.money import USD, Currency
from portfoliowise.domain.portfolio import Portfolio
from portfoliowise.domain.quotes import Quote

BATCH = MAX_SYMBOLS  # symbols per market-service call (its limit)
PIVOT = USD


class QuoteService(Protocol):
    """The market service as the pricing rule sees it (live chain, or the cache only).
    `get_quotes` and `get_rates` take up to 100 each; `get_prices` takes a portfolio's
    symbols and pairs together, any number, in as few round trips as the service can
    (`MarketService`: one cache read for all). `prices_in_batches` is a plain
    implementation of `get_prices` over the other two."""

    def get_quotes(self, symbols: Sequence[str]) -> dict[str, Quote]: ...

    def get_rates(self, pairs: Sequence[str]) -> dict[str, Quote]: ...

    def get_prices(self, symbols: Sequence[str], pairs: Sequence[str]) -> dict[str, Quote]: ...


@dataclass(frozen=True, slots=True)
class PricingNeeds:
    symbols: tuple[str, ...]
    pairs: tuple[str, ...]

    def __or__(self, other: PricingNeeds) -> PricingNeeds:
        return PricingNeeds(
            tuple(sorted(set(self.symbols) | set(other.symbols))),
            tuple(sorted(set(self.pairs) | set(other.pairs))),
        )


@dataclass(frozen=True, slots=True)
class Prices:
    quotes: dict[str, Quote]
    rates: RateTable


def pivot_pairs(currencies: Iterable[Currency]) -> tuple[str, ...]:
    """`USD-XXX` for each currency but USD: enough to derive every rate among them."""
    return tuple(sorted({f"{PIVOT.code}-{c.code}" for c in currencies if c != PIVOT}))


def pricing_needs(portfolio: Portfolio, currency: Currency | None = None) -> PricingNeeds:
    """What valuing `portfolio` in `currency` (default: its base currency) needs."""
    symbols = {h.symbol for h in portfolio.holdings}
    for symbol in portfolio.targets:
        instrument = parse_symbol(symbol)
        if instrument.market is not Market.FX:
            symbols.add(instrument.symbol)
    currencies = {portfolio.base_currency, currency or portfolio.base_currency}
    for holding in portfolio.holdings:
        currencies.add(holding.currency)
        currencies.add(holding.instrument.currency)
        if holding.cost_basis is not None:
            currencies.add(holding.cost_basis.currency)
    for symbol in symbols:
        currencies.add(parse_symbol(symbol).currency)
    return PricingNeeds(tuple(sorted(symbols)), pivot_pairs(currencies))


def in_batches(items: Sequence[str]) -> Iterable[Sequence[str]]:
    """`items` 100 at a time: what one market-service call takes."""
    for start in range(0, len(items), BATCH):
        yield items[start : start + BATCH]


def rates_from_quotes(quotes: Iterable[Quote]) -> RateTable:
    """A `RateTable` of the priced FX quotes (stale ones included, with their `asOf`);
    unavailable pairs are left out, so converting through them raises `MissingRateError`."""
    table = RateTable()
    for quote in quotes:
        if quote.price is None:
            continue
        instrument = parse_symbol(quote.symbol)
        if instrument.market is Market.FX:
            base = Currency.of(instrument.code[:3])
            table.add(FxRate(base, quote.price.currency, quote.price.amount, quote.as_of))
    return table


def prices_in_batches(
    market: QuoteService, symbols: Sequence[str], pairs: Sequence[str]
) -> dict[str, Quote]:
    """`get_prices` as `get_quotes` and `get_rates` calls of 100, one after another."""
    quotes: dict[str, Quote] = {}
    for chunk in in_batches(symbols):
        quotes.update(market.get_quotes(chunk))
    for chunk in in_batches(pairs):
        quotes.update(market.get_rates(chunk))
    return quotes


def fetch_prices(market: QuoteService, needs: PricingNeeds) -> Prices:
    """The quotes and rates of `needs`, in one `get_prices` call. A quote currency that
    `needs` did not foresee (a US symbol quoted in another currency: a cache item written
    by hand) adds its pivot pair, in one more call."""
    found = market.get_prices(needs.symbols, needs.pairs)
    quotes: dict[str, Quote] = {}
    rate_quotes: dict[str, Quote] = {}
    for symbol, quote in found.items():
        if parse_symbol(symbol).market is Market.FX:
            rate_quotes[symbol] = quote
        else:
            quotes[symbol] = quote
    quoted = {q.price.currency for q in quotes.values() if q.price is not None}
    extra = sorted(set(pivot_pairs(quoted)) - set(needs.pairs) - set(rate_quotes))
    if extra:
        rate_quotes.update(market.get_prices((), extra))
    return Prices(quotes, rates_from_quotes(rate_quotes.values()))


def price_portfolio(
    market: QuoteService, portfolio: Portfolio, currency: Currency | None = None
) -> Prices:
    return fetch_prices(market, pricing_needs(portfolio, currency))
