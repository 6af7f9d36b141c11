"""The `Audit` table: one row per audit entry, keyed (`date`, `sortKey` =
`timestamp#userId`), read per user through `userId-date-index`, expired by `ttl` (epoch
seconds of `AuditEntry.expires_at`; rows past it are never returned and are deleted by
`purge_expired`). `insert_audit_entries` is also how the portfolio repository writes its
entries, inside its own transaction."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime

from portfoliowise.adapters.sqlite.codec import (
    dump_json,
    load_json,
    now_seconds,
    ttl_seconds,
    utc_text,
)
from portfoliowise.adapters.sqlite.database import SqliteDatabase
from portfoliowise.domain.audit import AuditEntry
from portfoliowise.domain.errors import ConflictError
from portfoliowise.domain.ports import Clock

_COLUMNS = (
    'date, sortKey, timestamp, userId, "action", resource, changes, ip, userAgent, eventId, ttl'
)
_INSERT = f"INSERT INTO Audit ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
_PUT = f"INSERT OR REPLACE INTO Audit ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
_FOR_USER = f"""SELECT {_COLUMNS} FROM Audit
    WHERE userId = ? AND date BETWEEN ? AND ? AND timestamp BETWEEN ? AND ? AND ttl > ?
    ORDER BY timestamp, sortKey"""

Row = tuple[str, str, str, str, str, str, str, str, str, str, int]


def audit_row(entry: AuditEntry) -> Row:
    return (
        entry.date,
        entry.sort_key,
        utc_text(entry.timestamp),
        entry.user_id,
        entry.action,
        entry.resource,
        dump_json(entry.changes),
        entry.ip,
        entry.user_agent,
        entry.event_id,
        ttl_seconds(entry.expires_at),
    )


def audit_entry_from_row(row: Sequence[object]) -> AuditEntry:
    date, _, timestamp, user_id, action, resource, changes, ip, user_agent, event_id, _ = row
    return AuditEntry.from_json(
        {
            "date": date,
            "timestamp": timestamp,
            "userId": user_id,
            "action": action,
            "resource": resource,
            "changes": load_json(str(changes)),
            "ip": ip,
            "userAgent": user_agent,
            "eventId": event_id,
        }
    )


def insert_audit_entries(
    conn: sqlite3.Connection, entries: Sequence[AuditEntry], *, overwrite: bool = False
) -> None:
    """Write `entries` on `conn` (inside the caller's transaction). Without `overwrite`,
    an entry whose key is taken (two writes of one user in the same microsecond) is a
    `ConflictError`, so that the caller's whole transaction rolls back."""
    rows = [audit_row(entry) for entry in entries]
    if overwrite:
        conn.executemany(_PUT, rows)
        return
    try:
        conn.executemany(_INSERT, rows)
    except sqlite3.IntegrityError as exc:
        raise ConflictError(
            "an audit entry of this user is already stored at this time: retry the change"
        ) from exc


class SqliteAuditLog:
    """`AuditLog` over the `Audit` table."""

    def __init__(self, db: SqliteDatabase, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    def record(self, entries: Sequence[AuditEntry]) -> None:
        """Entries not tied to a portfolio write (sign-in, sign-out), in one transaction;
        recording an entry again overwrites it (idempotent, as DynamoDB's put)."""
        if not entries:
            return
        with self._db.writing() as conn:
            insert_audit_entries(conn, entries, overwrite=True)

    def for_user(self, user_id: str, since: datetime, until: datetime) -> list[AuditEntry]:
        """One query on `userId-date-index` over the UTC dates of [since, until]; the
        exact expiry is checked on each row (the `ttl` column is in whole seconds)."""
        if since > until:
            return []
        now = self._clock.now()
        first, last = utc_text(since), utc_text(until)
        with self._db.reading() as conn:
            rows = conn.execute(
                _FOR_USER, (user_id, first[:10], last[:10], first, last, now_seconds(now))
            ).fetchall()
        entries = (audit_entry_from_row(row) for row in rows)
        return [entry for entry in entries if now < entry.expires_at]

    def purge_expired(self) -> int:
        """Delete the entries past their retention (the cleanup job); how many went."""
        with self._db.writing() as conn:
            cursor = conn.execute(
                "DELETE FROM Audit WHERE ttl <= ?", (now_seconds(self._clock.now()),)
            )
            return cursor.rowcount
