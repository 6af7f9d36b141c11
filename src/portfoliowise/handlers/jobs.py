"""The scheduled jobs, wired: what the scheduled Lambda and the local scheduler run for
each job name of `SCHEDULES`. The cache-warm job also keeps the JPX symbol master fresh
(JPX republishes its listed-issues file monthly; a copy older than a week is refreshed).

Each job takes an optional deadline (the seconds left to run: the scheduled Lambda passes its
context's remaining time; the local scheduler none) and, given an event publisher, announces
its run with a `JobCompleted` event (`run_and_announce`)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Protocol

import httpx

from portfoliowise.adapters.market.chain import SOURCE_LIMITS
from portfoliowise.adapters.market.http import build_client
from portfoliowise.adapters.market.jpx import (
    MIN_EXPECTED_ISSUES,
    JpxSymbolMaster,
    refresh_listed_issues,
)
from portfoliowise.application.scheduled_jobs import (
    BACKUP,
    CACHE_WARM,
    CLEANUP,
    CacheWarmer,
    Deadline,
    Purge,
    Report,
    cleanup,
    daily_backup,
    run_and_announce,
    warm_cache,
)
from portfoliowise.domain.errors import DomainError
from portfoliowise.domain.ports import BlobStore, Clock, EventPublisher, PortfolioRepository

log = logging.getLogger(__name__)

SYMBOL_MASTER_MAX_AGE = timedelta(days=7)
SYMBOL_MASTER_MARGIN_SECONDS = SOURCE_LIMITS["jpx"].timeout_seconds + 5
"""After the warm, the symbol master is looked at only with this much time left (a download
may take the JPX timeout): otherwise it waits for the next cache warm."""


class Job(Protocol):
    """A scheduled job: its report. `deadline`: the seconds it has left (None: no limit)."""

    def __call__(self, deadline: Deadline | None = None) -> Report: ...


def _jpx_client() -> httpx.Client:
    return build_client(SOURCE_LIMITS["jpx"].timeout_seconds)


def refresh_symbol_master(
    reference: BlobStore,
    clock: Clock,
    client: Callable[[], httpx.Client] = _jpx_client,
    *,
    min_issues: int = MIN_EXPECTED_ISSUES,
) -> dict[str, object]:
    """Refresh the stored JPX table when it is missing or older than a week. A failed
    download keeps the previous table and is reported, not raised: quotes still warm."""
    try:
        stored = JpxSymbolMaster.read(reference)
        if stored.as_of and clock.now().date() - stored.as_of < SYMBOL_MASTER_MAX_AGE:
            return {"status": "fresh", "issues": len(stored), "asOf": stored.as_of.isoformat()}
    except DomainError:  # NotFoundError included
        pass  # first run, or an unreadable copy: download it
    try:
        with client() as http:
            master = refresh_listed_issues(http, reference, min_issues=min_issues)
    except DomainError as exc:
        log.warning("JPX symbol master not refreshed: %s", exc)
        return {"status": "failed", "error": str(exc)}
    as_of = master.as_of.isoformat() if master.as_of else None
    return {"status": "refreshed", "issues": len(master), "asOf": as_of}


def build_jobs(
    *,
    repository: PortfolioRepository,
    backups: BlobStore,
    reference: BlobStore,
    warmer: CacheWarmer,
    clock: Clock,
    purges: Sequence[Purge] = (),
    jpx_client: Callable[[], httpx.Client] = _jpx_client,
    events: EventPublisher | None = None,
) -> dict[str, Job]:
    """The jobs by name; with `events`, each run publishes its `JobCompleted`."""

    def cache_warm(deadline: Deadline | None = None) -> Report:
        report = warm_cache(repository, warmer, deadline)
        if deadline is not None and deadline() < SYMBOL_MASTER_MARGIN_SECONDS:
            report["symbolMaster"] = {"status": "skipped", "reason": "no time left"}
        else:
            report["symbolMaster"] = refresh_symbol_master(reference, clock, jpx_client)
        return report

    def backup(deadline: Deadline | None = None) -> Report:
        return daily_backup(repository, backups, clock)

    def clean(deadline: Deadline | None = None) -> Report:
        return cleanup(purges)

    jobs: dict[str, Job] = {CACHE_WARM: cache_warm, BACKUP: backup, CLEANUP: clean}
    if events is None:
        return jobs
    return {name: _announced(name, job, events, clock) for name, job in jobs.items()}


def _announced(name: str, job: Job, events: EventPublisher, clock: Clock) -> Job:
    def run(deadline: Deadline | None = None) -> Report:
        return run_and_announce(name, lambda: job(deadline), events, clock)

    return run
