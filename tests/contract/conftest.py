"""One contract suite per storage port, run against every adapter: in-memory, SQLite and
DynamoDB (moto, in-process). Each backend module builds the stores for one test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from contract_stores import START, Stores

from portfoliowise.adapters.clock import FixedClock

BACKENDS = ["memory", "sqlite", "dynamodb"]


def _memory(clock: FixedClock, tmp_path: Path) -> Iterator[Stores]:
    from portfoliowise.adapters.memory import (
        InMemoryAnalysisJobs,
        InMemoryAuditLog,
        InMemoryPortfolioRepository,
        InMemoryQuoteCache,
        InMemorySessionStore,
        InMemoryUserRegistry,
    )

    audit = InMemoryAuditLog(clock)
    yield Stores(
        "memory",
        clock,
        InMemoryPortfolioRepository(audit),
        audit,
        InMemorySessionStore(),
        InMemoryQuoteCache(clock),
        InMemoryAnalysisJobs(clock),
        users=InMemoryUserRegistry(),
    )


@pytest.fixture(params=BACKENDS)
def stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Stores]:
    clock = FixedClock(START)
    if request.param == "memory":
        yield from _memory(clock, tmp_path)
    elif request.param == "sqlite":
        from backend_sqlite import sqlite_stores

        yield from sqlite_stores(clock, tmp_path)
    else:
        from backend_dynamodb import dynamodb_stores

        yield from dynamodb_stores(clock, tmp_path)
