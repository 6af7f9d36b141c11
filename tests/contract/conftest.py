"""One contract suite per storage port, run against every adapter: in-memory, SQLite and
DynamoDB (moto, in-process). Each backend module builds the stores for one test."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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


@pytest.fixture
def serialised_dynamodb(stores: Stores, monkeypatch: pytest.MonkeyPatch) -> Stores:
    """moto applies a conditional write without a lock, so two requests in two threads
    can both pass one condition; DynamoDB applies writes to one item one at a time. Run
    moto's requests one at a time, as DynamoDB would: the callers' requests still
    interleave, so an operation made of a read and a separate write would still fail."""
    if stores.name == "dynamodb":
        from moto.dynamodb.responses import DynamoHandler

        lock = threading.Lock()
        call_action = DynamoHandler.call_action

        def serialised(self: DynamoHandler) -> Any:
            with lock:
                return call_action(self)

        monkeypatch.setattr(DynamoHandler, "call_action", serialised)
    return stores
