"""The `users` table (migration 3): one row per user ever signed in, keyed by `userId`,
with `firstSeenAt` (UTC ISO-8601 text). `first_seen` is one `INSERT OR IGNORE` inside a
`BEGIN IMMEDIATE` transaction: SQLite serialises writers, so of concurrent first sign-ins
of one user (threads or processes) exactly one inserts the row."""

from __future__ import annotations

from datetime import datetime

from portfoliowise.adapters.sqlite.codec import utc_text
from portfoliowise.adapters.sqlite.database import SqliteDatabase

_INSERT = "INSERT OR IGNORE INTO users (userId, firstSeenAt) VALUES (?, ?)"


class SqliteUserRegistry:
    """`UserRegistry` over the `users` table."""

    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    def first_seen(self, user_id: str, at: datetime) -> bool:
        with self._db.writing() as conn:
            cursor = conn.execute(_INSERT, (user_id, utc_text(at)))
            return cursor.rowcount == 1
