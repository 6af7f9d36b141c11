"""The embedded SQLite store: its file (where it lives, WAL, schema versions and
migrations), durability across reopening, error translation, and concurrent writers on
one portfolio. The behaviour every store shares is in tests/contract."""

from __future__ import annotations

import json
import random
import sqlite3
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import platformdirs
import pytest

from portfoliowise.adapters.clock import FixedClock, SystemClock, UuidGenerator
from portfoliowise.adapters.memory import InMemoryEventPublisher
from portfoliowise.adapters.sqlite import (
    DATABASE_FILE,
    SCHEMA_VERSION,
    SchemaVersionError,
    SqliteDatabase,
    SqlitePortfolioRepository,
    SqliteStores,
    default_data_dir,
    open_database,
    open_sqlite_stores,
)
from portfoliowise.application.portfolio_commands import (
    PortfolioPorts,
    create_portfolio,
    update_portfolio,
)
from portfoliowise.domain.audit import AUDIT_RETENTION, AuditEntry, RequestContext, audit_entries
from portfoliowise.domain.errors import ConflictError, NotFoundError, SourceUnavailable
from portfoliowise.domain.instruments import parse_symbol
from portfoliowise.domain.money import JPY, Money
from portfoliowise.domain.portfolio import Holding, Portfolio
from portfoliowise.domain.quotes import QUOTE_FRESH_FOR, QUOTE_KEPT_FOR, Quote, QuoteStatus
from portfoliowise.domain.sessions import SESSION_TTL, Session

START = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
CONTEXT = RequestContext(ip="203.0.113.7", user_agent="integration-test")
TABLES = {"Portfolio", "Audit", "Session", "Cache"}
INDEXES = {
    "portfolioId-index",
    "updatedAt-index",
    "userId-date-index",
    "action-date-index",
    "audit-ttl-index",
    "userId-index",
    "expiresAt-index",
    "market-timestamp-index",
    "ttl-index",
}


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def stores(data_dir: Path, clock: FixedClock) -> Iterator[SqliteStores]:
    opened = open_sqlite_stores(data_dir, clock)
    yield opened
    opened.close()


def _raw(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None)


def _schema(path: Path) -> list[tuple[str, str, str]]:
    with _raw(path) as conn:
        rows = conn.execute(
            "SELECT type, name, COALESCE(sql, '') FROM sqlite_master ORDER BY type, name"
        ).fetchall()
    conn.close()
    return [(str(a), str(b), str(c)) for a, b, c in rows]


def _user_version(path: Path) -> int:
    conn = _raw(path)
    try:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])
    finally:
        conn.close()


def _portfolio(clock: FixedClock, user_id: str = "u1", portfolio_id: str = "p1") -> Portfolio:
    return Portfolio.create(
        user_id=user_id,
        portfolio_id=portfolio_id,
        name="老後資金 core",
        base_currency=JPY,
        at=clock.now(),
        holdings=[
            Holding.of("7203", "200", cost_basis=Money.of("512000", "JPY")),
            Holding.of("VTI", "12.5", cost_basis=Money.of("2750.25", "USD")),
        ],
        targets={"7203": "40", "VTI": "60"},
        allow_fractional=True,
    )


def _add(repo: SqlitePortfolioRepository, portfolio: Portfolio) -> None:
    repo.add(portfolio, audit_entries(portfolio.pull_events(), CONTEXT))


def _trail(stores: SqliteStores, clock: FixedClock, user_id: str = "u1") -> list[AuditEntry]:
    now = clock.now()
    return stores.audit.for_user(user_id, now - timedelta(days=1), now + timedelta(days=1))


def _quote(clock: FixedClock, symbol: str, price: str, currency: str = "JPY") -> Quote:
    return Quote(
        symbol=parse_symbol(symbol).symbol,
        price=Money.of(price, currency),
        status=QuoteStatus.LIVE,
        source="yahoo",
        as_of=clock.now(),
        change=Decimal("0.1"),
        volume=Decimal("1000"),
    )


# -- the file ---------------------------------------------------------------------
def test_the_file_lives_in_the_data_dir_which_is_created(tmp_path: Path) -> None:
    data_dir = tmp_path / "nested" / "data"
    with open_database(data_dir) as db:
        assert db.path == data_dir / DATABASE_FILE
    assert (data_dir / "portfoliowise.db").is_file()


def test_the_default_data_dir_is_the_users_data_dir() -> None:
    assert default_data_dir() == platformdirs.user_data_path("portfoliowise")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="XDG_DATA_HOME is Linux's")
def test_the_default_store_opens_in_the_users_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock: FixedClock
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    stores = open_sqlite_stores(None, clock)
    try:
        assert stores.database.path == tmp_path / "xdg" / "portfoliowise" / DATABASE_FILE
        assert stores.database.path.is_file()
    finally:
        stores.close()


def test_the_journal_is_write_ahead(stores: SqliteStores) -> None:
    assert stores.database.journal_mode == "wal"
    _add(stores.portfolios, _portfolio(FixedClock(START)))
    conn = _raw(stores.database.path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        conn.close()


def test_the_schema_is_created_on_first_use_and_versioned(stores: SqliteStores) -> None:
    path = stores.database.path
    assert stores.database.schema_version == SCHEMA_VERSION >= 1
    assert _user_version(path) == SCHEMA_VERSION
    names = {(kind, name) for kind, name, _ in _schema(path)}
    assert {("table", table) for table in TABLES} <= names
    assert {("index", index) for index in INDEXES} <= names


def test_reopening_is_a_no_op(stores: SqliteStores, clock: FixedClock) -> None:
    path = stores.database.path
    _add(stores.portfolios, _portfolio(clock))
    before = _schema(path)
    stores.close()
    with SqliteDatabase(path) as again:
        assert again.schema_version == SCHEMA_VERSION
    assert _schema(path) == before
    assert _user_version(path) == SCHEMA_VERSION


def test_a_newer_schema_version_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / DATABASE_FILE
    SqliteDatabase(path).close()
    conn = _raw(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    before = _schema(path)
    with pytest.raises(SchemaVersionError, match="upgrade PortfolioWise") as caught:
        SqliteDatabase(path)
    assert caught.value.found == SCHEMA_VERSION + 1
    assert caught.value.known == SCHEMA_VERSION
    assert _user_version(path) == SCHEMA_VERSION + 1
    assert _schema(path) == before


def _with_migration(monkeypatch: pytest.MonkeyPatch, *statements: str) -> int:
    """Pretend the code knows one more migration than has shipped."""
    from portfoliowise.adapters.sqlite import database, schema

    migrations = (*schema.MIGRATIONS, schema.Migration("test", statements))
    monkeypatch.setattr(database, "MIGRATIONS", migrations)
    monkeypatch.setattr(database, "SCHEMA_VERSION", len(migrations))
    return len(migrations)


def test_an_older_file_gets_the_migrations_it_lacks(
    stores: SqliteStores, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = stores.database.path
    _add(stores.portfolios, _portfolio(clock))
    stores.close()
    newer = _with_migration(
        monkeypatch,
        "ALTER TABLE Portfolio ADD COLUMN note TEXT",
        "UPDATE Portfolio SET note = 'migrated'",
    )
    with SqliteDatabase(path) as db:
        assert db.schema_version == newer
        assert SqlitePortfolioRepository(db, clock).get("u1", "p1").version == 1
    conn = _raw(path)
    try:
        assert conn.execute("SELECT note FROM Portfolio").fetchall() == [("migrated",)]
    finally:
        conn.close()


def test_a_failing_migration_changes_nothing(
    stores: SqliteStores, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = stores.database.path
    stores.close()
    before = _schema(path)
    _with_migration(monkeypatch, "ALTER TABLE Portfolio ADD COLUMN note TEXT", "NOT SQL")
    with pytest.raises(sqlite3.OperationalError):
        SqliteDatabase(path)
    assert _schema(path) == before
    assert _user_version(path) == SCHEMA_VERSION


def test_a_closed_database_refuses_use(stores: SqliteStores) -> None:
    stores.close()
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        stores.portfolios.list_for_user("u1")


# -- durability -------------------------------------------------------------------
def test_everything_survives_closing_and_reopening(
    data_dir: Path, clock: FixedClock, stores: SqliteStores
) -> None:
    portfolio = _portfolio(clock)
    _add(stores.portfolios, portfolio)
    session = Session("h" * 64, "u1", clock.now() + SESSION_TTL, b"\x00secret\xff", b"r")
    stores.sessions.put(session)
    quote = _quote(clock, "7203", "2891.5")
    stores.quotes.put_many([quote], clock.now() + QUOTE_FRESH_FOR)
    trail = _trail(stores, clock)
    stores.close()

    reopened = open_sqlite_stores(data_dir, clock)
    try:
        assert reopened.portfolios.get("u1", "p1").to_json() == portfolio.to_json()
        assert reopened.sessions.get(session.session_hash, clock.now()) == session
        assert reopened.quotes.get_many([parse_symbol("7203")])["7203"].quote == quote
        assert _trail(reopened, clock) == trail
        assert [e.action for e in trail] == ["portfolio.created"]
    finally:
        reopened.close()


def test_decimals_are_stored_as_text(stores: SqliteStores, clock: FixedClock) -> None:
    _add(stores.portfolios, _portfolio(clock))
    stores.quotes.put_many([_quote(clock, "AAPL", "234.070", "USD")], clock.now())
    conn = _raw(stores.database.path)
    try:
        document, version = conn.execute("SELECT document, version FROM Portfolio").fetchone()
        price = conn.execute("SELECT price, typeof(price), cacheKey FROM Cache").fetchone()
    finally:
        conn.close()
    holdings = {h["symbol"]: h for h in json.loads(document)["holdings"]}
    assert holdings["VTI"]["quantity"] == "12.5"
    assert holdings["VTI"]["costBasis"] == {"amount": "2750.25", "currency": "USD"}
    assert version == 1
    assert price == ("234.070", "text", "AAPL#US")


# -- writes -----------------------------------------------------------------------
def test_an_audit_key_collision_fails_the_whole_write(
    stores: SqliteStores, clock: FixedClock
) -> None:
    """Two writes of one user in the same microsecond would share `timestamp#userId`: the
    second is refused as a conflict (to be retried), not stored without its entry."""
    _add(stores.portfolios, _portfolio(clock, "u1", "p1"))
    with pytest.raises(ConflictError):
        _add(stores.portfolios, _portfolio(clock, "u1", "p2"))
    with pytest.raises(NotFoundError):
        stores.portfolios.get("u1", "p2")
    assert len(_trail(stores, clock)) == 1


def test_a_stale_delete_is_a_conflict_and_a_gone_portfolio_not_found(
    stores: SqliteStores, clock: FixedClock
) -> None:
    _add(stores.portfolios, _portfolio(clock))
    first = stores.portfolios.get("u1", "p1")
    second = stores.portfolios.get("u1", "p1")
    first.rename("renamed", at=clock.now())
    stores.portfolios.save(first, audit_entries(first.pull_events(), CONTEXT))
    second.delete(at=clock.now())
    with pytest.raises(ConflictError) as caught:
        stores.portfolios.save(second, audit_entries(second.pull_events(), CONTEXT))
    assert caught.value.current_version == 2
    assert stores.portfolios.get("u1", "p1").name == "renamed"
    gone = stores.portfolios.get("u1", "p1")
    gone.delete(at=clock.now())
    stores.portfolios.save(gone, audit_entries(gone.pull_events(), CONTEXT))
    with pytest.raises(NotFoundError):
        stores.portfolios.save(first, [])
    assert [e.action for e in _trail(stores, clock)] == [
        "portfolio.created",
        "portfolio.renamed",
        "portfolio.deleted",
    ]


def test_a_held_write_lock_makes_the_store_unavailable(tmp_path: Path, clock: FixedClock) -> None:
    path = tmp_path / DATABASE_FILE
    db = SqliteDatabase(path, busy_timeout_ms=50)
    repo = SqlitePortfolioRepository(db, clock)
    blocker = _raw(path)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(SourceUnavailable):
            _add(repo, _portfolio(clock))
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    _add(repo, _portfolio(clock))  # the connection is usable again
    assert repo.get("u1", "p1").version == 1
    db.close()


def test_all_portfolios_reads_page_by_page(stores: SqliteStores, clock: FixedClock) -> None:
    repo = SqlitePortfolioRepository(stores.database, clock, page_size=2)
    for i in range(5):
        _add(repo, _portfolio(clock, f"u{i}", "p1"))
    assert [p.user_id for p in repo.all_portfolios()] == [f"u{i}" for i in range(5)]


def test_get_many_reads_more_keys_than_one_query_holds(
    stores: SqliteStores, clock: FixedClock
) -> None:
    codes = [str(2000 + i) for i in range(1200)]
    stores.quotes.put_many(
        [_quote(clock, code, str(100 + i)) for i, code in enumerate(codes)],
        clock.now() + QUOTE_FRESH_FOR,
    )
    found = stores.quotes.get_many([parse_symbol(code) for code in codes])
    assert len(found) == 1200
    assert found["3199"].quote.price == Money.of("1299", "JPY")


def test_expired_rows_are_purged(stores: SqliteStores, clock: FixedClock) -> None:
    _add(stores.portfolios, _portfolio(clock))
    stores.sessions.put(Session("h" * 64, "u1", clock.now() + SESSION_TTL))
    stores.quotes.put_many([_quote(clock, "7203", "2891")], clock.now() + QUOTE_FRESH_FOR)
    assert stores.audit.purge_expired() == 0
    assert stores.quotes.purge_expired() == 0
    assert stores.sessions.purge_expired(clock.now()) == 0
    clock.advance(AUDIT_RETENTION + QUOTE_KEPT_FOR)
    assert stores.audit.purge_expired() == 1
    assert stores.quotes.purge_expired() == 1
    assert stores.sessions.purge_expired(clock.now()) == 1
    assert stores.portfolios.get("u1", "p1").version == 1  # portfolios never expire


# -- concurrency ------------------------------------------------------------------
def test_concurrent_read_modify_writes_lose_nothing(tmp_path: Path) -> None:
    clock = SystemClock()
    stores = open_sqlite_stores(tmp_path / "data", clock)
    ports = PortfolioPorts(stores.portfolios, InMemoryEventPublisher(), clock, UuidGenerator())
    created = create_portfolio(
        ports,
        user_id="u1",
        name="shared",
        base_currency=JPY,
        context=CONTEXT,
        holdings=[Holding.of("VTI", "0")],
    )
    conflicts: Counter[str] = Counter()
    failures: list[BaseException] = []
    start = threading.Barrier(8)

    def one_more(portfolio: Portfolio, at: datetime) -> None:
        held = portfolio.holding("VTI")
        assert held is not None
        portfolio.set_quantity("VTI", held.quantity + 1, at=at)

    def writer(name: str) -> None:
        try:
            start.wait()
            for _ in range(25):
                tries = 0
                while True:
                    try:
                        update_portfolio(
                            ports,
                            user_id="u1",
                            portfolio_id=created.portfolio_id,
                            change=one_more,
                            context=CONTEXT,
                        )
                        break
                    except ConflictError:
                        conflicts[name] += 1
                        tries += 1
                        time.sleep(random.uniform(0, min(0.05, 0.001 * 2**tries)))
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)

    threads = [threading.Thread(target=writer, args=(f"w{i}",)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert failures == []
        final = stores.portfolios.get("u1", created.portfolio_id)
        assert final.holding("VTI").quantity == 200  # type: ignore[union-attr]
        assert final.version == 201
        now = clock.now()
        trail = stores.audit.for_user("u1", now - timedelta(hours=1), now + timedelta(hours=1))
        changed = [e for e in trail if e.action == "holding.changed"]
        assert len(changed) == 200
        assert len({e.sort_key for e in changed}) == 200
        assert [e.changes["quantity"] for e in changed] == [
            {"before": str(i), "after": str(i + 1)} for i in range(200)
        ]
        assert sum(conflicts.values()) > 0  # the writers did race
    finally:
        stores.close()
