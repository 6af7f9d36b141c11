"""A user's first sign-in (a sign-up) is detected and signalled, without the e-mail or the
raw user id; a registry that cannot answer does not fail the sign-in."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from portfoliowise.adapters.clock import FixedClock
from portfoliowise.adapters.crypto.jwt_codec import JwtAccessTokenCodec
from portfoliowise.adapters.memory import (
    InMemorySessionStore,
    InMemoryUserRegistry,
    RecordedSignals,
)
from portfoliowise.application.access_tokens import AccessTokens
from portfoliowise.application.auth import AuthService, CsrfTokens, InMemoryAttemptLimiter
from portfoliowise.domain.errors import SourceUnavailable
from portfoliowise.domain.ports import VerifiedIdentity
from portfoliowise.domain.signals import SignalKind, subject_of
from portfoliowise.domain.users import UserRegistry

T0 = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)
EMAIL = "taro@example.com"
SUB = "109876543210"


def access_tokens_for(csrf: CsrfTokens) -> AccessTokens:
    return AccessTokens(JwtAccessTokenCodec(), csrf.ring)


class FakeIdentity:
    def exchange(self, code: str, code_verifier: str, redirect_uri: str) -> VerifiedIdentity:
        return VerifiedIdentity("google", SUB, EMAIL, "access", "refresh")


class PlainCipher:
    def encrypt(self, plaintext: bytes, *, context: str) -> bytes:
        return plaintext

    def decrypt(self, blob: bytes, *, context: str) -> bytes:
        return blob


class DownRegistry:
    def __init__(self) -> None:
        self.calls = 0

    def first_seen(self, user_id: str, at: datetime) -> bool:
        self.calls += 1
        raise SourceUnavailable("the store is throttled")


@dataclass
class Setup:
    service: AuthService
    users: UserRegistry | None
    signals: RecordedSignals
    clock: FixedClock
    sessions: InMemorySessionStore


def _setup(users: UserRegistry | None) -> Setup:
    clock = FixedClock(T0)
    sessions = InMemorySessionStore()
    signals = RecordedSignals()
    service = AuthService(
        sessions=sessions,
        identity=FakeIdentity(),
        cipher=PlainCipher(),
        limiter=InMemoryAttemptLimiter(),
        clock=clock,
        csrf=CsrfTokens([b"k" * 32]),
        tokens=access_tokens_for(CsrfTokens([b"k" * 32])),
        dev_login_enabled=True,
        users=users,
        signals=signals,
    )
    return Setup(service, users, signals, clock, sessions)


@pytest.fixture
def setup() -> Setup:
    return _setup(InMemoryUserRegistry())


def _google(setup: Setup) -> object:
    return setup.service.sign_in(code="c", code_verifier="v", redirect_uri="r", client_ip="ip")


def test_the_first_google_sign_in_is_a_sign_up_and_emits_one_signal(setup: Setup) -> None:
    first = setup.service.sign_in(code="c", code_verifier="v", redirect_uri="r", client_ip="ip")

    assert first.new_user is True
    [signal] = setup.signals.emitted
    assert signal.kind is SignalKind.SIGN_UP
    assert signal.subject == subject_of(f"google:{SUB}")
    assert signal.at == T0
    assert signal.details == {"provider": "google"}


def test_a_second_sign_in_is_no_sign_up(setup: Setup) -> None:
    _google(setup)
    setup.clock.advance(timedelta(days=3))
    again = setup.service.sign_in(code="c", code_verifier="v", redirect_uri="r", client_ip="ip")

    assert again.new_user is False
    assert len(setup.signals.emitted) == 1


def test_dev_login_signs_up_once_with_its_provider(setup: Setup) -> None:
    first = setup.service.dev_login("Hanako@Example.com")
    second = setup.service.dev_login("hanako@example.com")

    assert (first.new_user, second.new_user) == (True, False)
    [signal] = setup.signals.emitted
    assert signal.subject == subject_of("dev:hanako@example.com")
    assert signal.details == {"provider": "dev"}


def test_each_user_signs_up_once(setup: Setup) -> None:
    _google(setup)
    setup.service.dev_login("a@example.com")
    setup.service.dev_login("b@example.com")
    setup.service.dev_login("a@example.com")
    _google(setup)

    assert len(setup.signals.emitted) == 3
    assert len({s.subject for s in setup.signals.emitted}) == 3


def test_the_signal_carries_no_email_and_no_raw_user_id(setup: Setup) -> None:
    _google(setup)
    setup.service.dev_login(EMAIL)

    for signal in setup.signals.emitted:
        text = f"{signal!r} {signal.message()}"
        for secret in (EMAIL, "taro", SUB, f"google:{SUB}", f"dev:{EMAIL}"):
            assert secret not in text
        # not even the full hash, from which a known id could be confirmed at length
        full = hashlib.sha256(f"google:{SUB}".encode()).hexdigest()
        assert full not in text


def test_a_failing_registry_still_signs_in_and_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    registry = DownRegistry()
    setup = _setup(registry)

    with caplog.at_level(logging.WARNING, logger="portfoliowise.application.auth"):
        signed_in = setup.service.sign_in(
            code="c", code_verifier="v", redirect_uri="r", client_ip="ip"
        )
        dev = setup.service.dev_login(EMAIL)

    assert registry.calls == 2
    assert (signed_in.new_user, dev.new_user) == (False, False)
    assert setup.signals.emitted == []
    assert setup.service.session_info(f"__Host-session={signed_in.session_id}").user_id == (
        f"google:{SUB}"
    )
    warnings = [r for r in caplog.records if "recording the user failed" in r.getMessage()]
    assert len(warnings) == 2
    for record in warnings:
        assert EMAIL not in str(record.__dict__)
        assert SUB not in str(record.__dict__)


def test_without_a_registry_nobody_is_new_and_nothing_is_emitted() -> None:
    setup = _setup(None)
    assert setup.service.dev_login(EMAIL).new_user is False
    assert setup.signals.emitted == []


def test_a_registry_without_signals_still_tells_new_users() -> None:
    registry = InMemoryUserRegistry()
    service = AuthService(
        sessions=InMemorySessionStore(),
        identity=None,
        cipher=PlainCipher(),
        limiter=InMemoryAttemptLimiter(),
        clock=FixedClock(T0),
        csrf=CsrfTokens([b"k" * 32]),
        tokens=access_tokens_for(CsrfTokens([b"k" * 32])),
        dev_login_enabled=True,
        users=registry,
    )
    assert service.dev_login(EMAIL).new_user is True
    assert registry.first_seen_at == {f"dev:{EMAIL}": T0}
