"""The scheduled jobs of the design (UTC, as in the seed): cache warm `0 */6 * * *`,
backup `0 2 * * *` (weekly copy on Sundays, monthly on the 1st), cleanup `0 3 * * SUN`.

Each job is a plain function over ports returning a small report (a dict for the log
line); the scheduled Lambda and the local server's scheduler run the same functions."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from portfoliowise.application.backup import run_backup
from portfoliowise.application.pricing import PricingNeeds, pricing_needs
from portfoliowise.domain.errors import NotFoundError
from portfoliowise.domain.ports import BlobStore, Clock, PortfolioRepository
from portfoliowise.domain.quotes import Quote, QuoteStatus

CACHE_WARM = "cache-warm"
BACKUP = "backup"
CLEANUP = "cleanup"

SCHEDULES: dict[str, str] = {
    # job -> cron (minute hour day-of-month month day-of-week), UTC, from the seed
    CACHE_WARM: "0 */6 * * *",
    BACKUP: "0 2 * * *",
    CLEANUP: "0 3 * * SUN",
}

BATCH = 100  # symbols per market-service call (its limit)

Report = dict[str, object]


class QuoteService(Protocol):
    def get_quotes(self, symbols: Sequence[str]) -> dict[str, Quote]: ...

    def get_rates(self, pairs: Sequence[str]) -> dict[str, Quote]: ...


@dataclass(frozen=True, slots=True)
class WarmReport:
    priced: int
    unavailable: list[str]


class CacheWarmer(Protocol):
    """Refreshes the quote cache for symbols and FX pairs: the market service itself
    (`ServiceWarmer`), or the market function invoked by the scheduled one in AWS."""

    def warm(self, symbols: Sequence[str], pairs: Sequence[str]) -> WarmReport: ...


class ServiceWarmer:
    """Asks the market service in batches of 100; its fresh answers go to the cache."""

    def __init__(self, market: QuoteService) -> None:
        self._market = market

    def warm(self, symbols: Sequence[str], pairs: Sequence[str]) -> WarmReport:
        quotes: dict[str, Quote] = {}
        for chunk in _chunks(symbols):
            quotes.update(self._market.get_quotes(chunk))
        for chunk in _chunks(pairs):
            quotes.update(self._market.get_rates(chunk))
        unavailable = sorted(s for s, q in quotes.items() if q.status is QuoteStatus.UNAVAILABLE)
        return WarmReport(priced=len(quotes) - len(unavailable), unavailable=unavailable)


@dataclass(frozen=True, slots=True)
class Purge:
    """One store's cleanup step: its name and what it deletes (returns how many)."""

    name: str
    run: Callable[[], int]


def held_symbols(repository: PortfolioRepository) -> tuple[list[str], list[str]]:
    """Every symbol held or targeted in any portfolio, and the FX pairs their valuation
    needs (`pricing_needs`: the same rule the valuation routes price with)."""
    needs = PricingNeeds((), ())
    for portfolio in repository.all_portfolios():
        needs = needs | pricing_needs(portfolio)
    return list(needs.symbols), list(needs.pairs)


def _chunks(items: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), BATCH):
        yield items[start : start + BATCH]


def warm_cache(repository: PortfolioRepository, warmer: CacheWarmer) -> Report:
    """Refresh the cache for every held symbol and rate, so that it is fresh before
    users ask; how many came back priced, and which are unavailable."""
    symbols, pairs = held_symbols(repository)
    result = warmer.warm(symbols, pairs)
    return {
        "job": CACHE_WARM,
        "symbols": len(symbols),
        "pairs": len(pairs),
        "priced": result.priced,
        "unavailable": result.unavailable,
    }


def warm_portfolio(
    repository: PortfolioRepository, warmer: CacheWarmer, user_id: str, portfolio_id: str
) -> Report:
    """The consumer of a portfolio's change events: price its symbols now rather than at
    the next cache warm (the portfolio function values from the cache). Idempotent: a
    redelivered event only refreshes the cache again. A deleted portfolio is skipped."""
    try:
        portfolio = repository.get(user_id, portfolio_id)
    except NotFoundError:
        return {"job": "warm-portfolio", "skipped": "portfolio not found"}
    needs = pricing_needs(portfolio)
    result = warmer.warm(list(needs.symbols), list(needs.pairs))
    return {"job": "warm-portfolio", "priced": result.priced, "unavailable": result.unavailable}


def daily_backup(repository: PortfolioRepository, blobs: BlobStore, clock: Clock) -> Report:
    """Back up every portfolio under today's (UTC) date."""
    report = run_backup(repository, blobs, clock.now().date())
    return {
        "job": BACKUP,
        "prefixes": report.prefixes,
        "users": report.users,
        "portfolios": report.portfolios,
        "objects": report.objects,
        "bytes": report.bytes,
    }


def cleanup(purges: Sequence[Purge]) -> Report:
    """Delete what has expired from stores that do not expire items themselves (the
    embedded SQLite store; DynamoDB deletes by TTL on its own)."""
    return {"job": CLEANUP, "deleted": {purge.name: purge.run() for purge in purges}}
