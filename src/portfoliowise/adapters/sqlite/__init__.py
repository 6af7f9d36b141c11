"""The embedded default store: the four storage ports and the analysis jobs over one SQLite
file (WAL) in the user's data directory, standard library `sqlite3` only. Key formats and
table layouts live in this package alone (see `schema`)."""

from portfoliowise.adapters.sqlite.analysis_jobs import SqliteAnalysisJobs
from portfoliowise.adapters.sqlite.audit import SqliteAuditLog
from portfoliowise.adapters.sqlite.database import (
    DATABASE_FILE,
    SchemaVersionError,
    SqliteDatabase,
    default_data_dir,
    open_database,
)
from portfoliowise.adapters.sqlite.portfolios import SqlitePortfolioRepository
from portfoliowise.adapters.sqlite.quotes import SqliteQuoteCache
from portfoliowise.adapters.sqlite.schema import SCHEMA_VERSION
from portfoliowise.adapters.sqlite.sessions import SqliteSessionStore
from portfoliowise.adapters.sqlite.stores import SqliteStores, open_sqlite_stores, stores_for
from portfoliowise.adapters.sqlite.users import SqliteUserRegistry

__all__ = [
    "DATABASE_FILE",
    "SCHEMA_VERSION",
    "SchemaVersionError",
    "SqliteAnalysisJobs",
    "SqliteAuditLog",
    "SqliteDatabase",
    "SqlitePortfolioRepository",
    "SqliteQuoteCache",
    "SqliteSessionStore",
    "SqliteStores",
    "SqliteUserRegistry",
    "default_data_dir",
    "open_database",
    "open_sqlite_stores",
    "stores_for",
]
