"""The scheduled jobs of the design (UTC, as in the seed): cache warm `0 */6 * * *`,
backup `0 2 * * *` (weekly copy on Sundays, monthly on the 1st), cleanup `0 3 * * SUN`.

Each job is a plain function over ports returning a small report (a dict for the log
line); the scheduled Lambda and the local server's scheduler run the same functions, through
`run_and_announce`, which publishes a `JobCompleted` event with the report's counts.

The cache warm may be given a deadline (the seconds left to run: the Lambda context's remaining
time; none locally): it warms in batches of 100 and stops before a batch when less than
`WARM_MARGIN_SECONDS` are left, reporting what it did not reach (`notReached`)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from portfoliowise.application.backup import run_backup
from portfoliowise.application.pricing import (
    BATCH,
    PricingNeeds,
    QuoteService,
    in_batches,
    pricing_needs,
)
from portfoliowise.domain.errors import NotFoundError
from portfoliowise.domain.events import JsonValue
from portfoliowise.domain.job_events import JobCompleted, counts_of
from portfoliowise.domain.ports import BlobStore, Clock, EventPublisher, PortfolioRepository
from portfoliowise.domain.quotes import Quote, QuoteStatus

log = logging.getLogger(__name__)

CACHE_WARM = "cache-warm"
BACKUP = "backup"
CLEANUP = "cleanup"

SCHEDULES: dict[str, str] = {
    # job -> cron (minute hour day-of-month month day-of-week), UTC, from the seed
    CACHE_WARM: "0 */6 * * *",
    BACKUP: "0 2 * * *",
    CLEANUP: "0 3 * * SUN",
}

WARM_MARGIN_SECONDS = 35.0
"""The cache warm starts a batch only with this much time left: the market function's 30 s
timeout (one batch is one invoke of it) plus 5 s for the invoke and the completion event."""
NOT_REACHED_LISTED = 50
"""How many of the symbols (and of the pairs) not reached a report lists; it counts them all."""

Report = dict[str, object]
Deadline = Callable[[], float]
"""The seconds a job has left to run (in Lambda, the context's remaining time)."""


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
        for chunk in in_batches(symbols):
            quotes.update(self._market.get_quotes(chunk))
        for chunk in in_batches(pairs):
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


def warm_batches(
    symbols: Sequence[str], pairs: Sequence[str]
) -> list[tuple[Sequence[str], Sequence[str]]]:
    """Symbols then pairs, 100 at a time: the (symbols, pairs) of each warm call."""
    count = len(symbols)
    batches: list[tuple[Sequence[str], Sequence[str]]] = []
    for start in range(0, count + len(pairs), BATCH):
        end = start + BATCH
        batches.append((symbols[start:end], pairs[max(start - count, 0) : max(end - count, 0)]))
    return batches


def not_reached(batches: Sequence[tuple[Sequence[str], Sequence[str]]]) -> dict[str, JsonValue]:
    """What the batches not run hold: counted, and listed up to `NOT_REACHED_LISTED` each."""
    symbols = [symbol for batch, _ in batches for symbol in batch]
    pairs = [pair for _, batch in batches for pair in batch]
    return {
        "symbolCount": len(symbols),
        "pairCount": len(pairs),
        "symbols": list(symbols[:NOT_REACHED_LISTED]),
        "pairs": list(pairs[:NOT_REACHED_LISTED]),
    }


def warm_cache(
    repository: PortfolioRepository,
    warmer: CacheWarmer,
    deadline: Deadline | None = None,
    *,
    margin: float = WARM_MARGIN_SECONDS,
) -> Report:
    """Refresh the cache for every held symbol and rate, so that it is fresh before
    users ask; how many came back priced, and which are unavailable. With a `deadline`, a
    batch starts only while at least `margin` seconds are left; the batches not run are
    reported as `notReached`."""
    symbols, pairs = held_symbols(repository)
    batches = warm_batches(symbols, pairs)
    priced = 0
    unavailable: list[str] = []
    stopped: dict[str, JsonValue] | None = None
    for number, (batch_symbols, batch_pairs) in enumerate(batches):
        if deadline is not None and (left := deadline()) < margin:
            stopped = not_reached(batches[number:])
            log.warning(
                "cache warm stopped with %.1f s left after %d of %d batches: %s",
                left,
                number,
                len(batches),
                stopped,
            )
            break
        result = warmer.warm(batch_symbols, batch_pairs)
        priced += result.priced
        unavailable.extend(result.unavailable)
    report: Report = {
        "job": CACHE_WARM,
        "symbols": len(symbols),
        "pairs": len(pairs),
        "priced": priced,
        "unavailable": sorted(unavailable),
    }
    if stopped is not None:
        report["notReached"] = stopped
    return report


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


def completion_event(name: str, report: Report, clock: Clock) -> JobCompleted:
    """The `JobCompleted` of a run of job `name`: its report's counts, and what it did not
    reach (the report's `notReached`), if anything."""
    stopped = report.get("notReached")
    return JobCompleted(
        job=name,
        occurred_at=clock.now(),
        counts=counts_of(report, skip=frozenset({"job", "notReached"})),
        not_reached=dict(stopped) if isinstance(stopped, dict) else None,
    )


def run_and_announce(
    name: str, job: Callable[[], Report], events: EventPublisher, clock: Clock
) -> Report:
    """Run `job` and publish one `JobCompleted` with its counts; its report either way. A
    job that fails publishes nothing (it raises); an event that cannot be published is
    logged, not raised: the job's work is done."""
    report = job()
    event = completion_event(name, report, clock)
    try:
        events.publish([event])
    except Exception:
        log.exception("job %s: completion event %s not published", name, event.event_id)
    return report
