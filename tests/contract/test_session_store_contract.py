"""SessionStore: sessions by the hash of their cookie, absent once expired or deleted."""

from __future__ import annotations

from datetime import timedelta

from contract_stores import Stores

from portfoliowise.domain.sessions import SESSION_TTL, Session


def _session(stores: Stores, session_hash: str = "h" * 64, user_id: str = "u1") -> Session:
    return Session(
        session_hash=session_hash,
        user_id=user_id,
        expires_at=stores.clock.now() + SESSION_TTL,
        access_token=b"\x00\x01ciphertext\xff",
        refresh_token=b"",
    )


def test_a_session_reads_back_whole(stores: Stores) -> None:
    session = _session(stores)
    stores.sessions.put(session)
    assert stores.sessions.get(session.session_hash, stores.clock.now()) == session


def test_unknown_sessions_are_absent(stores: Stores) -> None:
    stores.sessions.put(_session(stores))
    assert stores.sessions.get("x" * 64, stores.clock.now()) is None


def test_a_session_is_absent_from_its_expiry(stores: Stores) -> None:
    session = _session(stores)
    stores.sessions.put(session)
    almost = stores.clock.now() + SESSION_TTL - timedelta(seconds=1)
    assert stores.sessions.get(session.session_hash, almost) == session
    assert stores.sessions.get(session.session_hash, session.expires_at) is None


def test_delete_ends_it_and_is_idempotent(stores: Stores) -> None:
    session = _session(stores)
    stores.sessions.put(session)
    stores.sessions.delete(session.session_hash)
    stores.sessions.delete(session.session_hash)
    assert stores.sessions.get(session.session_hash, stores.clock.now()) is None


def test_sessions_of_several_users_are_kept_apart(stores: Stores) -> None:
    first, second = _session(stores, "a" * 64, "u1"), _session(stores, "b" * 64, "u2")
    stores.sessions.put(first)
    stores.sessions.put(second)
    assert stores.sessions.get("a" * 64, stores.clock.now()) == first
    assert stores.sessions.get("b" * 64, stores.clock.now()) == second
