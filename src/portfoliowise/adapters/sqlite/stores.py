"""The embedded stores (the four tables of the design and the analysis jobs) over one
database file, opened together."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from portfoliowise.adapters.sqlite.analysis_jobs import SqliteAnalysisJobs
from portfoliowise.adapters.sqlite.audit import SqliteAuditLog
from portfoliowise.adapters.sqlite.database import SqliteDatabase, open_database
from portfoliowise.adapters.sqlite.portfolios import SqlitePortfolioRepository
from portfoliowise.adapters.sqlite.quotes import SqliteQuoteCache
from portfoliowise.adapters.sqlite.sessions import SqliteSessionStore
from portfoliowise.adapters.sqlite.users import SqliteUserRegistry
from portfoliowise.domain.ports import Clock


@dataclass(frozen=True, slots=True)
class SqliteStores:
    database: SqliteDatabase
    portfolios: SqlitePortfolioRepository
    audit: SqliteAuditLog
    sessions: SqliteSessionStore
    quotes: SqliteQuoteCache
    analysis_jobs: SqliteAnalysisJobs
    users: SqliteUserRegistry

    def close(self) -> None:
        self.database.close()


def stores_for(database: SqliteDatabase, clock: Clock) -> SqliteStores:
    """The stores over an open database."""
    return SqliteStores(
        database=database,
        portfolios=SqlitePortfolioRepository(database, clock),
        audit=SqliteAuditLog(database, clock),
        sessions=SqliteSessionStore(database),
        quotes=SqliteQuoteCache(database, clock),
        analysis_jobs=SqliteAnalysisJobs(database, clock),
        users=SqliteUserRegistry(database),
    )


def open_sqlite_stores(data_dir: Path | None, clock: Clock) -> SqliteStores:
    """Open (creating if needed) `data_dir/portfoliowise.db`, by default in the user's data
    directory, and the stores over it."""
    return stores_for(open_database(data_dir), clock)
