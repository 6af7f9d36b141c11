"""Migration 5: sessions stored before refresh tokens read back with an empty refresh state
and a profile of none, and can start their first refresh token."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from portfoliowise.adapters.sqlite import database, schema
from portfoliowise.adapters.sqlite.database import SqliteDatabase
from portfoliowise.adapters.sqlite.sessions import SqliteSessionStore

START = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)


def test_a_session_of_schema_version_4_gains_the_refresh_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert schema.MIGRATIONS[4].description == "the session's profile and refresh-token rotation"
    path = tmp_path / "portfoliowise.db"
    with monkeypatch.context() as older:
        older.setattr(database, "MIGRATIONS", schema.MIGRATIONS[:4])
        older.setattr(database, "SCHEMA_VERSION", 4)
        with SqliteDatabase(path) as db, db.writing() as conn:
            conn.execute(
                "INSERT INTO Session (sessionId, userId, expiresAt, ttl, accessToken, "
                "refreshToken) VALUES (?, ?, ?, ?, ?, ?)",
                ("h" * 64, "google:1", 1_900_000_000_000_000, 1_900_000_000, b"a", b""),
            )
    with SqliteDatabase(path) as db:
        assert db.schema_version == schema.SCHEMA_VERSION
        store = SqliteSessionStore(db)
        session = store.get("h" * 64, START)
        assert session is not None
        assert (session.profile, session.refresh_hash, session.rotated_at) == (b"", "", None)
        assert store.rotate_refresh("h" * 64, "", "r" * 64, START + timedelta(minutes=1))
        rotated = store.get("h" * 64, START)
        assert rotated is not None
        assert rotated.refresh_hash == "r" * 64
