"""The `Portfolio` table: one row per portfolio, keyed (`userId`, `portfolioId`), holding
the document as JSON (`Portfolio.to_json`: decimals as strings, so they round-trip
exactly) beside its `version` and `updatedAt`. Every write is one `BEGIN IMMEDIATE`
transaction with its audit entries, and a change is conditional on the version it was
read at (`UPDATE ... WHERE version = ?`). `totalValue` and `valuedAt` keep the latest
valuation (`record_valuation`, which changes neither `version` nor `updatedAt`); a change
sets them back to NULL.

Activities (migration 6) are rows of `Activity` (`userId`, `portfolioId`, `activityId`,
`day`, the document as JSON), never inside the portfolio's document; `ActivityBatch`
records each import applied (`batchId`). `commit` changes the portfolio, its activities and
its batches in the same transaction, so an import of 100,000 activities is all or nothing."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from datetime import datetime
from decimal import Decimal
from typing import NoReturn

from portfoliowise.adapters.sqlite.audit import insert_audit_entries
from portfoliowise.adapters.sqlite.codec import dump_json, load_json, utc_text
from portfoliowise.adapters.sqlite.database import SqliteDatabase
from portfoliowise.domain.activities import Activity, ActivityChange, activity_from_json
from portfoliowise.domain.audit import AuditEntry
from portfoliowise.domain.errors import ConflictError, CurrencyMismatchError, NotFoundError
from portfoliowise.domain.money import Money
from portfoliowise.domain.portfolio import Portfolio
from portfoliowise.domain.ports import Clock

PAGE_SIZE = 100
"""Rows per read of `all_portfolios` (each page its own short read)."""

_KEY = "userId = ? AND portfolioId = ?"
_SELECT = "SELECT document, version FROM Portfolio"
_INSERT = (
    "INSERT INTO Portfolio (userId, portfolioId, version, updatedAt, document) "
    "VALUES (?, ?, ?, ?, ?)"
)
_FORGET_VALUATION = "totalValue = NULL, valuedAt = NULL"  # it valued the replaced state
_UPDATE = (
    "UPDATE Portfolio SET version = ?, updatedAt = ?, document = ?, "
    f"{_FORGET_VALUATION} WHERE {_KEY}"
)
_UPSERT = (
    f"{_INSERT} ON CONFLICT (userId, portfolioId) DO UPDATE SET "
    "version = excluded.version, updatedAt = excluded.updatedAt, document = excluded.document, "
    f"{_FORGET_VALUATION}"
)


def _document(portfolio: Portfolio) -> str:
    snapshot = portfolio.to_json()
    del snapshot["version"]  # the column is the truth
    return dump_json(snapshot)


def _portfolio(row: sqlite3.Row) -> Portfolio:
    document = load_json(str(row["document"]))
    return Portfolio.from_json({**document, "version": int(row["version"])})


def _stored_version(conn: sqlite3.Connection, user_id: str, portfolio_id: str) -> int | None:
    row = conn.execute(f"SELECT version FROM Portfolio WHERE {_KEY}", (user_id, portfolio_id))
    found = row.fetchone()
    return None if found is None else int(found[0])


class SqlitePortfolioRepository:
    """`PortfolioRepository` over the `Portfolio` and `Audit` tables."""

    def __init__(self, db: SqliteDatabase, clock: Clock, *, page_size: int = PAGE_SIZE) -> None:
        # `clock` keeps the constructor uniform with the other stores: writes take their
        # times from the aggregate and its audit entries.
        self._db = db
        self._clock = clock
        self._page_size = page_size

    # -- reads --------------------------------------------------------------------
    def get(self, user_id: str, portfolio_id: str) -> Portfolio:
        with self._db.reading() as conn:
            row = conn.execute(f"{_SELECT} WHERE {_KEY}", (user_id, portfolio_id)).fetchone()
        if row is None:
            raise NotFoundError(f"portfolio {portfolio_id} not found")
        return _portfolio(row)

    def get_with_valuation(self, user_id: str, portfolio_id: str) -> tuple[Portfolio, Money | None]:
        with self._db.reading() as conn:
            row = conn.execute(
                f"SELECT document, version, totalValue FROM Portfolio WHERE {_KEY}",
                (user_id, portfolio_id),
            ).fetchone()
        if row is None:
            raise NotFoundError(f"portfolio {portfolio_id} not found")
        portfolio = _portfolio(row)
        total = row["totalValue"]
        kept = None if total is None else Money(Decimal(total), portfolio.base_currency)
        return portfolio, kept

    def list_for_user(self, user_id: str) -> list[Portfolio]:
        with self._db.reading() as conn:
            rows = conn.execute(
                f"{_SELECT} WHERE userId = ? ORDER BY portfolioId", (user_id,)
            ).fetchall()
        return [_portfolio(row) for row in rows]

    def all_portfolios(self) -> Iterator[Portfolio]:
        """Every portfolio in key order, read a page at a time (no connection is held
        while the caller works through a page)."""
        after: tuple[str, ...] = ()
        while True:
            where = "WHERE (userId, portfolioId) > (?, ?) " if after else ""
            with self._db.reading() as conn:
                rows = conn.execute(
                    f"SELECT document, version, userId, portfolioId FROM Portfolio {where}"
                    "ORDER BY userId, portfolioId LIMIT ?",
                    (*after, self._page_size),
                ).fetchall()
            for row in rows:
                yield _portfolio(row)
            if len(rows) < self._page_size:
                return
            after = (str(rows[-1]["userId"]), str(rows[-1]["portfolioId"]))

    # -- writes -------------------------------------------------------------------
    def record_valuation(
        self, user_id: str, portfolio_id: str, total: Money, at: datetime
    ) -> Money | None:
        """Read the kept total and write the new one in one write transaction (the row's
        `version`, `updatedAt` and document untouched)."""
        key = (user_id, portfolio_id)
        with self._db.writing() as conn:
            row = conn.execute(
                "SELECT json_extract(document, '$.baseCurrency') AS currency, totalValue "
                f"FROM Portfolio WHERE {_KEY}",
                key,
            ).fetchone()
            if row is None:
                raise NotFoundError(f"portfolio {portfolio_id} not found")
            if row["currency"] != total.currency.code:
                raise CurrencyMismatchError(
                    f"portfolio {portfolio_id} is valued in {row['currency']}, "
                    f"not {total.currency.code}"
                )
            conn.execute(
                f"UPDATE Portfolio SET totalValue = ?, valuedAt = ? WHERE {_KEY}",
                (str(total.amount), utc_text(at), *key),
            )
        previous = row["totalValue"]
        return None if previous is None else Money(Decimal(str(previous)), total.currency)

    def add(self, portfolio: Portfolio, audit: Sequence[AuditEntry]) -> None:
        """Store a new portfolio; `ConflictError` (with the stored version) if its id is
        taken."""
        new_version = portfolio.version + 1
        with self._db.writing() as conn:
            try:
                conn.execute(_INSERT, self._row(portfolio, new_version))
            except sqlite3.IntegrityError as exc:
                stored = _stored_version(conn, portfolio.user_id, portfolio.portfolio_id)
                raise ConflictError(
                    f"portfolio {portfolio.portfolio_id} already exists", stored
                ) from exc
            insert_audit_entries(conn, audit)
        portfolio.version = new_version

    def save(self, portfolio: Portfolio, audit: Sequence[AuditEntry]) -> None:
        """Store a change read at `portfolio.version` (a deleted portfolio is removed,
        with its activities), with its audit entries."""
        self.commit(portfolio, audit, ActivityChange())

    def activities(self, user_id: str, portfolio_id: str) -> list[Activity]:
        with self._db.reading() as conn:
            if _stored_version(conn, user_id, portfolio_id) is None:
                raise NotFoundError(f"portfolio {portfolio_id} not found")
            rows = conn.execute(
                f"SELECT document FROM Activity WHERE {_KEY}", (user_id, portfolio_id)
            ).fetchall()
        found = [activity_from_json(load_json(row[0])) for row in rows]
        return sorted(found, key=Activity.sort_key)

    def commit(
        self, portfolio: Portfolio, audit: Sequence[AuditEntry], change: ActivityChange
    ) -> None:
        """`save` and the activities of `change`, in one transaction."""
        key = (portfolio.user_id, portfolio.portfolio_id)
        read_at = portfolio.version
        with self._db.writing() as conn:
            if portfolio.deleted:
                cursor = conn.execute(
                    f"DELETE FROM Portfolio WHERE {_KEY} AND version = ?", (*key, read_at)
                )
            else:
                user_id, portfolio_id, *values = self._row(portfolio, read_at + 1)
                cursor = conn.execute(
                    f"{_UPDATE} AND version = ?", (*values, user_id, portfolio_id, read_at)
                )
            if cursor.rowcount != 1:
                self._refuse(conn, portfolio)
            if portfolio.deleted:
                conn.execute(f"DELETE FROM Activity WHERE {_KEY}", key)
                conn.execute(f"DELETE FROM ActivityBatch WHERE {_KEY}", key)
            else:
                _apply(conn, key, change)
            insert_audit_entries(conn, audit)
        portfolio.version = read_at + 1

    def restore(self, portfolio: Portfolio, audit: Sequence[AuditEntry]) -> None:
        """Overwrite with a backup snapshot, whatever is stored. Its version becomes the
        backup's, or the stored version + 1 when that is higher (read in the same
        transaction, so no change can slip in between)."""
        with self._db.writing() as conn:
            stored = _stored_version(conn, portfolio.user_id, portfolio.portfolio_id)
            new_version = max(portfolio.version, (stored or 0) + 1)
            conn.execute(_UPSERT, self._row(portfolio, new_version))
            insert_audit_entries(conn, audit)
        portfolio.version = new_version

    # -- internals ----------------------------------------------------------------
    @staticmethod
    def _row(portfolio: Portfolio, version: int) -> tuple[str, str, int, str, str]:
        return (
            portfolio.user_id,
            portfolio.portfolio_id,
            version,
            utc_text(portfolio.updated_at),
            _document(portfolio),
        )

    @staticmethod
    def _refuse(conn: sqlite3.Connection, portfolio: Portfolio) -> NoReturn:
        """Why a conditional write matched no row: gone, or stored at another version."""
        stored = _stored_version(conn, portfolio.user_id, portfolio.portfolio_id)
        if stored is None:
            raise NotFoundError(f"portfolio {portfolio.portfolio_id} not found")
        raise ConflictError(
            f"portfolio {portfolio.portfolio_id} is at version {stored}, not {portfolio.version}",
            stored,
        )


def _apply(conn: sqlite3.Connection, key: tuple[str, str], change: ActivityChange) -> None:
    if change.batch_id is not None:
        try:
            conn.execute(
                "INSERT INTO ActivityBatch (userId, portfolioId, batchId) VALUES (?, ?, ?)",
                (*key, change.batch_id),
            )
        except sqlite3.IntegrityError as exc:
            raise ConflictError(f"import {change.batch_id} is already applied", None) from exc
    conn.executemany(
        f"DELETE FROM Activity WHERE {_KEY} AND activityId = ?",
        [(*key, activity_id) for activity_id in change.removed],
    )
    conn.executemany(
        "INSERT OR REPLACE INTO Activity (userId, portfolioId, activityId, day, document) "
        "VALUES (?, ?, ?, ?, ?)",
        [(*key, a.activity_id, a.day.isoformat(), dump_json(a.to_json())) for a in change.added],
    )
