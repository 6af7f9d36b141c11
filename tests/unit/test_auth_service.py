"""The sign-in use cases over fakes: sessions, CSRF tokens, the authenticator, rate limiting."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from portfoliowise.adapters.clock import FixedClock
from portfoliowise.adapters.crypto.jwt_codec import JwtAccessTokenCodec
from portfoliowise.adapters.memory import InMemorySessionStore
from portfoliowise.application.access_tokens import AccessTokens
from portfoliowise.application.auth import (
    AuthService,
    CsrfTokens,
    InMemoryAttemptLimiter,
    SessionAuthenticator,
    SigningKeys,
    new_session_id,
    session_cookie_value,
    session_hash,
)
from portfoliowise.domain.errors import (
    Forbidden,
    RateLimited,
    SourceUnavailable,
    Unauthenticated,
    ValidationError,
)
from portfoliowise.domain.ports import VerifiedIdentity
from portfoliowise.domain.sessions import SESSION_TTL

T0 = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)
KEY = b"k" * 32
IP = "203.0.113.9"


def access_tokens_for(csrf: CsrfTokens) -> AccessTokens:
    return AccessTokens(JwtAccessTokenCodec(), csrf.ring)


@dataclass
class FakeIdentity:
    """Accepts the code "good"; anything else is refused; "down" is an outage."""

    calls: list[str] = field(default_factory=list)

    def exchange(self, code: str, code_verifier: str, redirect_uri: str) -> VerifiedIdentity:
        self.calls.append(code)
        if code == "down":
            raise SourceUnavailable("google is down")
        if code != "good":
            raise Unauthenticated("refused")
        return VerifiedIdentity("google", "sub-1", "taro@example.com", "access", "refresh")


class ReversingCipher:
    """Not encryption; enough to see the use case encrypts with the user's context."""

    def __init__(self) -> None:
        self.contexts: list[str] = []

    def encrypt(self, plaintext: bytes, *, context: str) -> bytes:
        self.contexts.append(context)
        return b"enc:" + plaintext[::-1]

    def decrypt(self, blob: bytes, *, context: str) -> bytes:
        return blob[4:][::-1]


@dataclass
class Setup:
    service: AuthService
    sessions: InMemorySessionStore
    clock: FixedClock
    identity: FakeIdentity
    cipher: ReversingCipher


@pytest.fixture
def setup() -> Setup:
    clock = FixedClock(T0)
    sessions = InMemorySessionStore()
    identity = FakeIdentity()
    cipher = ReversingCipher()
    service = AuthService(
        sessions=sessions,
        identity=identity,
        cipher=cipher,
        limiter=InMemoryAttemptLimiter(max_failures=3, window=timedelta(minutes=15)),
        clock=clock,
        csrf=CsrfTokens([KEY]),
        tokens=access_tokens_for(CsrfTokens([KEY])),
        dev_login_enabled=True,
    )
    return Setup(service, sessions, clock, identity, cipher)


def sign_in(setup: Setup, code: str = "good", ip: str = IP) -> object:
    return setup.service.sign_in(code=code, code_verifier="v", redirect_uri="r", client_ip=ip)


def test_sign_in_opens_a_24_hour_session_keyed_by_the_hash_of_its_id(setup: Setup) -> None:
    signed_in = setup.service.sign_in(
        code="good", code_verifier="v", redirect_uri="r", client_ip=IP
    )

    assert signed_in.user_id == "google:sub-1"
    assert signed_in.email == "taro@example.com"
    assert signed_in.expires_at == T0 + SESSION_TTL
    expected_hash = hashlib.sha256(signed_in.session_id.encode()).hexdigest()
    stored = setup.sessions.get(expected_hash, T0)
    assert stored is not None
    assert stored.user_id == "google:sub-1"
    assert stored.access_token == b"enc:ssecca"
    assert stored.refresh_token == b"enc:hserfer"
    assert setup.cipher.contexts == ["user:google:sub-1"] * 3  # tokens and profile


def test_session_ids_are_256_random_bits_in_base64url() -> None:
    ids = {new_session_id() for _ in range(100)}

    assert len(ids) == 100
    for value in ids:
        assert len(value) == 43
        assert len(base64.urlsafe_b64decode(value + "=")) == 32


def test_session_info_and_the_csrf_token(setup: Setup) -> None:
    signed_in = setup.service.sign_in(
        code="good", code_verifier="v", redirect_uri="r", client_ip=IP
    )
    cookie = f"theme=dark; __Host-session={signed_in.session_id}"

    info = setup.service.session_info(cookie)

    assert info.user_id == "google:sub-1"
    assert info.expires_at == signed_in.expires_at
    assert info.csrf_token == signed_in.csrf_token
    assert info.email == "taro@example.com"


def test_the_csrf_token_is_an_hmac_of_the_session_id_not_the_id_itself() -> None:
    csrf = CsrfTokens([KEY])

    token = csrf.issue("abc")

    assert token != "abc"
    assert csrf.valid("abc", token)
    assert not csrf.valid("abd", token)
    assert not CsrfTokens([b"x" * 32]).valid("abc", token)
    assert not csrf.valid("abc", None)
    assert not csrf.valid("abc", "")
    assert not csrf.valid("abc", "トークン")


def test_csrf_keys_must_be_long_enough() -> None:
    with pytest.raises(ValueError, match="32"):
        CsrfTokens([b"short"])
    with pytest.raises(ValueError, match="at least one"):
        CsrfTokens([])


def test_authenticate(setup: Setup) -> None:
    signed_in = setup.service.sign_in(
        code="good", code_verifier="v", redirect_uri="r", client_ip=IP
    )
    cookie = f"__Host-session={signed_in.session_id}"
    authenticator = SessionAuthenticator(setup.sessions, setup.clock, CsrfTokens([KEY]))

    assert authenticator.authenticate(cookie, None, state_changing=False) == "google:sub-1"
    assert (
        authenticator.authenticate(cookie, signed_in.csrf_token, state_changing=True)
        == "google:sub-1"
    )
    with pytest.raises(Forbidden):
        authenticator.authenticate(cookie, None, state_changing=True)
    with pytest.raises(Forbidden):
        authenticator.authenticate(cookie, signed_in.csrf_token + "x", state_changing=True)
    # No session beats a missing CSRF token: 401 before 403.
    with pytest.raises(Unauthenticated):
        authenticator.authenticate(None, None, state_changing=True)
    with pytest.raises(Unauthenticated):
        authenticator.authenticate(f"__Host-session={new_session_id()}", None, state_changing=False)

    setup.clock.advance(SESSION_TTL)
    with pytest.raises(Unauthenticated):
        authenticator.authenticate(cookie, None, state_changing=False)


def test_a_csrf_token_of_one_session_does_not_work_for_another(setup: Setup) -> None:
    first = setup.service.dev_login("a@example.com")
    second = setup.service.dev_login("b@example.com")

    with pytest.raises(Forbidden):
        setup.service.authenticator.authenticate(
            f"__Host-session={second.session_id}", first.csrf_token, state_changing=True
        )


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("", None),
        ("theme=dark", None),
        ("__Host-session=" + "A" * 43, "A" * 43),
        ("a=1;  __Host-session=" + "b-_" * 14 + "c ; z=2", "b-_" * 14 + "c"),
        ('__Host-session="' + "A" * 43 + '"', "A" * 43),
        ("__Host-session=" + "A" * 42, None),
        ("__Host-session=" + "A" * 42 + "=", None),
        ("session=" + "A" * 43, None),
        ("__host-session=" + "A" * 43, None),
    ],
)
def test_the_session_cookie_is_read_strictly(header: str | None, expected: str | None) -> None:
    assert session_cookie_value(header) == expected


def test_session_hash_is_sha256_hex() -> None:
    assert session_hash("abc") == hashlib.sha256(b"abc").hexdigest()


def test_logout_deletes_the_session_with_its_csrf_token(setup: Setup) -> None:
    signed_in = setup.service.dev_login("a@example.com")
    cookie = f"__Host-session={signed_in.session_id}"

    with pytest.raises(Forbidden):
        setup.service.logout(cookie, None)
    setup.service.logout(cookie, signed_in.csrf_token)

    with pytest.raises(Unauthenticated):
        setup.service.session_info(cookie)
    setup.service.logout(cookie, None)  # already gone: nothing to do
    setup.service.logout(None, None)


def test_failed_sign_ins_are_limited_per_ip(setup: Setup) -> None:
    for _ in range(3):
        with pytest.raises(Unauthenticated):
            sign_in(setup, "bad")

    with pytest.raises(RateLimited) as limited:
        sign_in(setup, "good")
    assert limited.value.retry_after_seconds == 15 * 60
    assert setup.identity.calls == ["bad"] * 3  # not asked while blocked
    sign_in(setup, "good", ip="203.0.113.10")  # another IP is fine

    setup.clock.advance(timedelta(minutes=15))
    sign_in(setup, "good")


def test_provider_outages_do_not_count_as_failures(setup: Setup) -> None:
    for _ in range(5):
        with pytest.raises(SourceUnavailable):
            sign_in(setup, "down")

    sign_in(setup, "good")


def test_without_a_provider_sign_in_is_unauthenticated(setup: Setup) -> None:
    service = AuthService(
        sessions=setup.sessions,
        identity=None,
        cipher=setup.cipher,
        limiter=InMemoryAttemptLimiter(),
        clock=setup.clock,
        csrf=CsrfTokens([KEY]),
        tokens=access_tokens_for(CsrfTokens([KEY])),
    )

    with pytest.raises(Unauthenticated):
        service.sign_in(code="good", code_verifier="v", redirect_uri="r", client_ip=IP)


def test_dev_login(setup: Setup) -> None:
    signed_in = setup.service.dev_login("  Hanako@Example.COM ")

    assert signed_in.user_id == "dev:hanako@example.com"
    assert signed_in.email == "hanako@example.com"
    stored = setup.sessions.get(session_hash(signed_in.session_id), T0)
    assert stored is not None
    assert stored.access_token == b""


@pytest.mark.parametrize("email", ["", "no-at-sign", "@example.com", "a@nodot", "a@" + "x" * 260])
def test_dev_login_needs_an_email(setup: Setup, email: str) -> None:
    with pytest.raises(ValidationError):
        setup.service.dev_login(email)


def test_dev_login_disabled_is_forbidden(setup: Setup) -> None:
    service = AuthService(
        sessions=setup.sessions,
        identity=setup.identity,
        cipher=setup.cipher,
        limiter=InMemoryAttemptLimiter(),
        clock=setup.clock,
        csrf=CsrfTokens([KEY]),
        tokens=access_tokens_for(CsrfTokens([KEY])),
    )

    assert service.dev_login_enabled is False
    with pytest.raises(Forbidden):
        service.dev_login("a@example.com")


class Ticker:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_signing_keys_follow_a_rotation_on_schedule_and_early_on_a_miss() -> None:
    stored = [[b"a" * 32]]
    loads: list[int] = []

    def load() -> list[bytes]:
        loads.append(1)
        return stored[0]

    ticker = Ticker()
    old_instance = CsrfTokens(SigningKeys(load, max_age=300, min_interval=60, monotonic=ticker))
    token_before = old_instance.issue("sid")

    stored[0] = [b"b" * 32, b"a" * 32]  # rotated; a new instance signs with b
    new_instance = CsrfTokens(stored[0])
    token_after = new_instance.issue("sid")

    assert old_instance.valid("sid", token_before)
    assert not old_instance.valid("sid", token_after)  # loaded under a minute ago
    ticker.now = 61
    assert old_instance.valid("sid", token_after)  # early reload on the miss
    assert old_instance.issue("sid") == token_after
    assert new_instance.valid("sid", token_before)  # the previous key is still accepted
    assert len(loads) == 2


def test_signing_keys_reload_on_schedule_and_keep_the_old_keys_when_loading_fails() -> None:
    answers: list[object] = [[b"a" * 32], RuntimeError("secrets manager down"), [b"c" * 32]]

    def load() -> list[bytes]:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        assert isinstance(answer, list)
        return answer

    ticker = Ticker()
    keys = SigningKeys(load, max_age=300, monotonic=ticker)

    ticker.now = 300
    assert keys.current() == (b"a" * 32,)
    ticker.now = 600
    assert keys.current() == (b"c" * 32,)
