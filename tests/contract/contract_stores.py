"""What a storage backend provides to the contract suites."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from portfoliowise.adapters.clock import FixedClock
from portfoliowise.domain.analysis_jobs import AnalysisJobs
from portfoliowise.domain.ports import AuditLog, PortfolioRepository, QuoteCache, SessionStore
from portfoliowise.domain.users import UserRegistry

START = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


@dataclass
class Stores:
    name: str
    clock: FixedClock  # every store of the backend reads time from it (TTL on read)
    portfolios: PortfolioRepository
    audit: AuditLog
    sessions: SessionStore
    quotes: QuoteCache
    analysis_jobs: AnalysisJobs
    users: UserRegistry
