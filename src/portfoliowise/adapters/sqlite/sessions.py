"""The `Session` table: one row per session, keyed by the hash of its cookie value
(`sessionId`), with `userId`, `expiresAt` (epoch microseconds, exact), `ttl` (whole epoch
seconds, rounded up), the encrypted provider tokens and profile as BLOBs, and the refresh
token state (`refreshHash`, `previousRefreshHash`, `rotatedAt` in epoch microseconds;
migration 5). Expiry is honoured on read; `purge_expired` deletes the rows past it."""

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
    "(sessionId, userId, expiresAt, ttl, accessToken, refreshToken, profile, refreshHash, "
    "previousRefreshHash, rotatedAt) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_GET = (
    "SELECT sessionId, userId, expiresAt, accessToken, refreshToken, profile, refreshHash, "
    "previousRefreshHash, rotatedAt FROM Session WHERE sessionId = ?"
)
_ROTATE = (
    "UPDATE Session SET previousRefreshHash = refreshHash, refreshHash = ?, rotatedAt = ? "
    "WHERE sessionId = ? AND refreshHash = ?"
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
                    bytes(session.profile),
                    session.refresh_hash,
                    session.previous_refresh_hash,
                    None if session.rotated_at is None else epoch_micros(session.rotated_at),
                ),
            )

    def get(self, session_hash: str, now: datetime) -> Session | None:
        with self._db.reading() as conn:
            row = conn.execute(_GET, (session_hash,)).fetchone()
        if row is None:
            return None
        (session_id, user_id, expires_at, access, refresh, profile, current, previous, rotated) = (
            row
        )
        session = Session(
            session_hash=str(session_id),
            user_id=str(user_id),
            expires_at=from_epoch_micros(int(expires_at)),
            access_token=bytes(access),
            refresh_token=bytes(refresh),
            profile=bytes(profile),
            refresh_hash=str(current),
            previous_refresh_hash=str(previous),
            rotated_at=None if rotated is None else from_epoch_micros(int(rotated)),
        )
        return None if session.expired(now) else session

    def rotate_refresh(
        self, session_hash: str, expected_hash: str, new_hash: str, at: datetime
    ) -> bool:
        with self._db.writing() as conn:
            cursor = conn.execute(
                _ROTATE, (new_hash, epoch_micros(at), session_hash, expected_hash)
            )
            return cursor.rowcount == 1

    def delete(self, session_hash: str) -> None:
        """Idempotent: deleting an absent session is not an error."""
        with self._db.writing() as conn:
            conn.execute("DELETE FROM Session WHERE sessionId = ?", (session_hash,))

    def purge_expired(self, now: datetime) -> int:
        """Delete the sessions that expired before `now` (the cleanup job)."""
        with self._db.writing() as conn:
            cursor = conn.execute("DELETE FROM Session WHERE ttl <= ?", (now_seconds(now),))
            return cursor.rowcount
