"""Migration 4 of the embedded store: `Portfolio.totalValue` and `valuedAt`, added to a file
written before it without touching its portfolios."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from portfoliowise.adapters.clock import FixedClock
from portfoliowise.adapters.sqlite import database, schema
from portfoliowise.adapters.sqlite.database import SqliteDatabase
from portfoliowise.adapters.sqlite.portfolios import SqlitePortfolioRepository
from portfoliowise.domain.audit import RequestContext, audit_entries
from portfoliowise.domain.money import JPY, Money
from portfoliowise.domain.portfolio import Holding, Portfolio

START = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def test_a_file_of_schema_version_3_gains_the_valuation_columns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert schema.MIGRATIONS[3].description == "the latest valuation of a portfolio"
    path = tmp_path / "portfoliowise.db"
    clock = FixedClock(START)
    with monkeypatch.context() as older:
        older.setattr(database, "MIGRATIONS", schema.MIGRATIONS[:3])
        older.setattr(database, "SCHEMA_VERSION", 3)
        with SqliteDatabase(path) as db:
            portfolio = Portfolio.create(
                user_id="u1",
                portfolio_id="p1",
                name="core",
                base_currency=JPY,
                at=START,
                holdings=[Holding.of("7203", "100")],
            )
            SqlitePortfolioRepository(db, clock).add(
                portfolio, audit_entries(portfolio.pull_events(), RequestContext())
            )
    with SqliteDatabase(path) as db:
        assert db.schema_version == schema.SCHEMA_VERSION
        repository = SqlitePortfolioRepository(db, clock)
        assert repository.get("u1", "p1").to_json() == portfolio.to_json()
        at = START + timedelta(hours=1)
        assert repository.record_valuation("u1", "p1", Money.of("250000", JPY), at) is None
        assert repository.record_valuation("u1", "p1", Money.of("1", JPY), at) == Money.of(
            "250000", JPY
        )
        assert repository.get("u1", "p1").version == 1
