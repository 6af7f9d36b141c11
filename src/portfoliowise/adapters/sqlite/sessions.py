"""The `Session` table: one row per session, keyed by the hash of its cookie value
(`sessionId`), with `userId`, `expiresAt` (epoch microseconds, exact), `ttl` (whole epoch
seconds, rounded up) and the encrypted provider tokens as BLOBs. Expiry is honoured on
read; `purge_expired` deletes the rows past it."""

from __future__ import annotations

from datetime import datetime

from portfoliowise.adapters.sqlite.codec import (
    epoch_micros,
    from_epoch_micros,
    now_seconds,
    ttl_seconds,
)
from portfoliowise.adapters.sqlite.database import SqliteDatabase
from portfoliowise.domain.sessions import Session

_PUT = (
    "INSERT OR REPLACE INTO Session "
    "(sessionId, userId, expiresAt, ttl, accessToken, refreshToken) VALUES (?, ?, ?, ?, ?, ?)"
)
_GET = (
    "SELECT sessionId, userId, expiresAt, accessToken, refreshToken "
    "FROM Session WHERE sessionId = ?"
)


class SqliteSessionStore:
    """`SessionStore` over the `Session` table."""

    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    def put(self, session: Session) -> None:
        with self._db.writing() as conn:
            conn.execute(
                _PUT,
                (
                    session.session_hash,
                    session.user_id,
                    epoch_micros(session.expires_at),
                    ttl_seconds(session.expires_at),
                    bytes(session.access_token),
                    bytes(session.refresh_token),
                ),
            )

    def get(self, session_hash: str, now: datetime) -> Session | None:
        with self._db.reading() as conn:
            row = conn.execute(_GET, (session_hash,)).fetchone()
        if row is None:
            return None
        session_id, user_id, expires_at, access_token, refresh_token = row
        session = Session(
            session_hash=str(session_id),
            user_id=str(user_id),
            expires_at=from_epoch_micros(int(expires_at)),
            access_token=bytes(access_token),
            refresh_token=bytes(refresh_token),
        )
        return None if session.expired(now) else session

    def delete(self, session_hash: str) -> None:
        """Idempotent: deleting an absent session is not an error."""
        with self._db.writing() as conn:
            conn.execute("DELETE FROM Session WHERE sessionId = ?", (session_hash,))

    def purge_expired(self, now: datetime) -> int:
        """Delete the sessions that expired before `now` (the cleanup job)."""
        with self._db.writing() as conn:
            cursor = conn.execute("DELETE FROM Session WHERE ttl <= ?", (now_seconds(now),))
            return cursor.rowcount
