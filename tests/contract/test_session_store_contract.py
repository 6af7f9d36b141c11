"""SessionStore: sessions by the hash of their cookie, absent once expired or deleted."""

from __future__ import annotations

from dataclasses import replace
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


def test_the_profile_and_refresh_state_read_back_whole(stores: Stores) -> None:
    session = replace(
        _session(stores),
        profile=b"\x02encrypted profile\x00",
        refresh_hash="r" * 64,
        previous_refresh_hash="p" * 64,
        rotated_at=stores.clock.now() - timedelta(seconds=3, microseconds=250),
    )
    stores.sessions.put(session)
    assert stores.sessions.get(session.session_hash, stores.clock.now()) == session


def test_rotating_the_refresh_token_is_conditional_on_the_current_one(stores: Stores) -> None:
    session = replace(_session(stores), refresh_hash="1" * 64)
    stores.sessions.put(session)
    at = stores.clock.now() + timedelta(minutes=5)

    assert stores.sessions.rotate_refresh(session.session_hash, "1" * 64, "2" * 64, at)
    # a second rotation from the same token loses: it is no longer the current one
    assert not stores.sessions.rotate_refresh(session.session_hash, "1" * 64, "3" * 64, at)

    stored = stores.sessions.get(session.session_hash, stores.clock.now())
    assert stored is not None
    assert (stored.refresh_hash, stored.previous_refresh_hash) == ("2" * 64, "1" * 64)
    assert stored.rotated_at == at
    assert stored.user_id == session.user_id
    assert stored.access_token == session.access_token


def test_a_session_without_a_refresh_token_gets_its_first(stores: Stores) -> None:
    session = _session(stores)  # from before refresh tokens
    stores.sessions.put(session)
    assert stores.sessions.rotate_refresh(session.session_hash, "", "9" * 64, stores.clock.now())
    stored = stores.sessions.get(session.session_hash, stores.clock.now())
    assert stored is not None
    assert stored.refresh_hash == "9" * 64


def test_rotating_an_absent_session_changes_nothing(stores: Stores) -> None:
    assert not stores.sessions.rotate_refresh("z" * 64, "", "9" * 64, stores.clock.now())
    assert stores.sessions.get("z" * 64, stores.clock.now()) is None
