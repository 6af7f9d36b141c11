"""The SQLite backend of the contract suites: a fresh database file in the test's
temporary directory, closed after the test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from contract_stores import Stores

from portfoliowise.adapters.clock import FixedClock
from portfoliowise.adapters.sqlite import open_sqlite_stores


def sqlite_stores(clock: FixedClock, tmp_path: Path) -> Iterator[Stores]:
    stores = open_sqlite_stores(tmp_path / "data", clock)
    try:
        yield Stores(
            "sqlite",
            clock,
            stores.portfolios,
            stores.audit,
            stores.sessions,
            stores.quotes,
            stores.analysis_jobs,
            users=stores.users,
        )
    finally:
        stores.close()
