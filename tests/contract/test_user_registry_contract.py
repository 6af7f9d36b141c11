"""UserRegistry: a user is new exactly once, whoever asks and however concurrently."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from contract_stores import Stores

from portfoliowise.domain.sessions import SESSION_TTL, Session


def test_a_user_is_new_the_first_time_only(stores: Stores) -> None:
    now = stores.clock.now()
    assert stores.users.first_seen("google:sub-1", now) is True
    assert stores.users.first_seen("google:sub-1", now) is False
    assert stores.users.first_seen("google:sub-1", now + timedelta(days=400)) is False


def test_users_are_kept_apart(stores: Stores) -> None:
    now = stores.clock.now()
    assert stores.users.first_seen("google:sub-1", now) is True
    assert stores.users.first_seen("google:sub-2", now) is True
    assert stores.users.first_seen("dev:taro@example.com", now) is True
    assert stores.users.first_seen("google:sub-2", now) is False


def test_ids_differing_only_in_case_are_different_users(stores: Stores) -> None:
    now = stores.clock.now()
    assert stores.users.first_seen("google:abc", now) is True
    assert stores.users.first_seen("google:ABC", now) is True


def test_of_concurrent_first_sign_ins_exactly_one_is_new(serialised_dynamodb: Stores) -> None:
    users, now = serialised_dynamodb.users, serialised_dynamodb.clock.now()
    start = threading.Barrier(8)

    def sign_in(_: int) -> bool:
        start.wait()
        return users.first_seen("google:race", now)

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(sign_in, range(8)))
    assert answers.count(True) == 1


def test_users_and_sessions_do_not_disturb_each_other(stores: Stores) -> None:
    now = stores.clock.now()
    session = Session("h" * 64, "google:sub-1", now + SESSION_TTL, b"a", b"")
    stores.sessions.put(session)
    assert stores.users.first_seen("google:sub-1", now) is True
    assert stores.sessions.get(session.session_hash, now) == session
    stores.sessions.delete(session.session_hash)
    assert stores.users.first_seen("google:sub-1", now) is False
