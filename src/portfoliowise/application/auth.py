"""Sign-in and sessions: sign in with an identity provider (or the local dev login), answer
who is signed in, sign out, and authenticate the requests of the other APIs.

Decisions, so that the handlers and adapters need not make them:
- The session id is `secrets.token_bytes(32)` (256 bits), base64url without padding: that is
  the cookie value. The store keeps only `sha256(cookie value)` as hex (`session_hash`), so a
  leaked table cannot be replayed as cookies.
- The CSRF token is *derived*, not stored: `base64url(HMAC-SHA256(signing key, "csrf:" +
  session id))`. It lives exactly as long as its session, needs no column, and an attacker
  who knows the hash (or nothing) cannot compute it. Several signing keys may be given
  (current first, then previous ones): tokens are issued with the first and accepted with any,
  so rotating the key does not break signed-in pages; `SigningKeys` reloads them so that a
  long-lived instance follows a rotation too.
- User ids are stable: `google:<sub>` for Google (the `sub` claim never changes, an email
  can), `dev:<email, lower-cased>` for the local dev login.
- Failed sign-ins (the provider refused the code or token) count against the client IP; when
  the limiter says the IP is blocked, sign-in answers `RateLimited` before calling the
  provider. A provider outage (`SourceUnavailable`) is not the client's failure.
- Every successful sign-in (Google or dev login) tells the `UserRegistry` the user was
  seen; the first time ever is a sign-up: a `SignUps` signal for the operators (a hash of
  the user id and the provider, never the e-mail or the id) and `SignedIn.new_user`. A
  registry that cannot answer does not fail the sign-in: it is logged, and nobody is new.

Standard library only: the ports are in `portfoliowise.domain.ports`."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import math
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from portfoliowise.domain.errors import (
    Forbidden,
    RateLimited,
    SourceUnavailable,
    Unauthenticated,
    ValidationError,
)
from portfoliowise.domain.ports import (
    AttemptLimiter,
    Clock,
    IdentityProvider,
    SessionStore,
    TokenCipher,
)
from portfoliowise.domain.sessions import SESSION_TTL, Session
from portfoliowise.domain.signals import Signal, SignalKind, Signals, subject_of
from portfoliowise.domain.users import UserRegistry

log = logging.getLogger(__name__)

SESSION_COOKIE = "__Host-session"
CSRF_HEADER = "X-CSRF-Token"
SESSION_ID_BYTES = 32
_SESSION_ID_LENGTH = 43  # base64url of 32 bytes, without padding
_SESSION_ID_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
_MAX_EMAIL_LENGTH = 254
_MIN_SIGNING_KEY_BYTES = 32


def new_session_id() -> str:
    """A fresh 256-bit session id, base64url without padding (the cookie value)."""
    return _b64(secrets.token_bytes(SESSION_ID_BYTES))


def session_hash(session_id: str) -> str:
    """What the store keys a session by: the SHA-256 of the cookie value, as hex."""
    return hashlib.sha256(session_id.encode("ascii")).hexdigest()


def session_cookie_value(cookie_header: str | None) -> str | None:
    """The `__Host-session` value of a `Cookie` header, when it is a well-formed session id.

    Malformed values are treated as absent (no store lookup for junk)."""
    if not cookie_header:
        return None
    for part in cookie_header.split(";"):
        name, sep, value = part.strip().partition("=")
        if sep and name.strip() == SESSION_COOKIE:
            value = value.strip().strip('"')
            if len(value) == _SESSION_ID_LENGTH and set(value) <= _SESSION_ID_ALPHABET:
                return value
            return None
    return None


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A new session. `session_id` goes into the cookie and nowhere else."""

    session_id: str
    user_id: str
    email: str
    csrf_token: str
    expires_at: datetime
    new_user: bool = False  # the user's first sign-in ever (a sign-up)


@dataclass(frozen=True, slots=True)
class SessionInfo:
    """Who is signed in. The email is not stored with the session, so it is None here."""

    user_id: str
    expires_at: datetime
    csrf_token: str
    email: str | None = None


def _checked_keys(signing_keys: Sequence[bytes]) -> tuple[bytes, ...]:
    keys = tuple(bytes(k) for k in signing_keys if k)
    if not keys:
        raise ValueError("at least one session-signing key is needed")
    if any(len(k) < _MIN_SIGNING_KEY_BYTES for k in keys):
        raise ValueError(f"session-signing keys need {_MIN_SIGNING_KEY_BYTES} bytes or more")
    return keys


class SigningKeys:
    """Session-signing keys (current first) that follow a rotation: reloaded with `load`
    every `max_age` seconds, and early, at most every `min_interval` seconds, when a token
    does not verify (another instance may already sign with the new key). A failing reload
    keeps the keys it has."""

    def __init__(
        self,
        load: Callable[[], Sequence[bytes]],
        *,
        max_age: float = 300.0,
        min_interval: float = 60.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._load = load
        self._max_age = max_age
        self._min_interval = min_interval
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._keys = _checked_keys(load())
        self._loaded_at = monotonic()

    def current(self) -> tuple[bytes, ...]:
        if self._monotonic() - self._loaded_at >= self._max_age:
            self._reload()
        return self._keys

    def reload_early(self) -> bool:
        """Reload now unless done less than `min_interval` ago; True when the keys changed."""
        if self._monotonic() - self._loaded_at < self._min_interval:
            return False
        before = self._keys
        self._reload()
        return self._keys != before

    def _reload(self) -> None:
        with self._lock:
            self._loaded_at = self._monotonic()
            try:
                self._keys = _checked_keys(self._load())
            except Exception:  # a secret store outage must not sign everybody out
                log.warning("reloading the session-signing keys failed; keeping the old ones")


class CsrfTokens:
    """CSRF tokens derived from the session id with HMAC-SHA256 (see the module docstring).

    `signing_keys`: fixed keys, current first, or a `SigningKeys` that follows rotations."""

    def __init__(self, signing_keys: Sequence[bytes] | SigningKeys) -> None:
        if isinstance(signing_keys, SigningKeys):
            self._source: SigningKeys | None = signing_keys
            self._fixed: tuple[bytes, ...] = ()
        else:
            self._source = None
            self._fixed = _checked_keys(signing_keys)

    def issue(self, session_id: str) -> str:
        return self._token(self._keys()[0], session_id)

    def valid(self, session_id: str, token: str | None) -> bool:
        if not token:
            return False
        if self._matches(self._keys(), session_id, token):
            return True
        return (
            self._source is not None
            and self._source.reload_early()
            and self._matches(self._source.current(), session_id, token)
        )

    def _keys(self) -> tuple[bytes, ...]:
        return self._source.current() if self._source is not None else self._fixed

    def _matches(self, keys: tuple[bytes, ...], session_id: str, token: str) -> bool:
        presented = token.strip().encode("ascii", "replace")
        # Compare against every key (no early exit on the first match of a later key).
        matches = [
            hmac.compare_digest(presented, self._token(key, session_id).encode("ascii"))
            for key in keys
        ]
        return any(matches)

    @staticmethod
    def _token(key: bytes, session_id: str) -> str:
        digest = hmac.new(key, b"csrf:" + session_id.encode("ascii"), hashlib.sha256).digest()
        return _b64(digest)


class SessionAuthenticator:
    """The seam the other APIs use: who is calling, and may they change state."""

    def __init__(self, sessions: SessionStore, clock: Clock, csrf: CsrfTokens) -> None:
        self._sessions = sessions
        self._clock = clock
        self._csrf = csrf

    def authenticate(
        self, cookie_header: str | None, csrf_header: str | None, *, state_changing: bool
    ) -> str:
        """The signed-in user's id. `Unauthenticated` when there is no session cookie, or
        its session is unknown or expired; `Forbidden` when the request changes state and
        its `X-CSRF-Token` is missing or wrong."""
        session_id, session = self.current(cookie_header)
        if state_changing and not self._csrf.valid(session_id, csrf_header):
            raise Forbidden("missing or wrong CSRF token")
        return session.user_id

    def current(self, cookie_header: str | None) -> tuple[str, Session]:
        """The session id and session of the cookie, or `Unauthenticated`."""
        session_id = session_cookie_value(cookie_header)
        if session_id is None:
            raise Unauthenticated("not signed in")
        session = self._sessions.get(session_hash(session_id), self._clock.now())
        if session is None:
            raise Unauthenticated("the session is unknown or has expired")
        return session_id, session


class AuthService:
    """The sign-in use cases: `sign_in`, `dev_login`, `session_info`, `logout`."""

    def __init__(
        self,
        *,
        sessions: SessionStore,
        identity: IdentityProvider | None,
        cipher: TokenCipher,
        limiter: AttemptLimiter,
        clock: Clock,
        csrf: CsrfTokens,
        dev_login_enabled: bool = False,
        session_ttl: timedelta = SESSION_TTL,
        users: UserRegistry | None = None,
        signals: Signals | None = None,
    ) -> None:
        self._sessions = sessions
        self._identity = identity
        self._cipher = cipher
        self._limiter = limiter
        self._clock = clock
        self._csrf = csrf
        self._dev_login_enabled = dev_login_enabled
        self._ttl = session_ttl
        self._users = users
        self._signals = signals
        self.authenticator = SessionAuthenticator(sessions, clock, csrf)

    @property
    def dev_login_enabled(self) -> bool:
        return self._dev_login_enabled

    def sign_in(
        self, *, code: str, code_verifier: str, redirect_uri: str, client_ip: str
    ) -> SignedIn:
        """Exchange a provider authorization code for a new session.

        `RateLimited` when `client_ip` failed too often; `Unauthenticated` when the provider
        refuses (counted as a failure); `SourceUnavailable` when it is down (not counted)."""
        limiter_key = f"sign-in:{client_ip}"
        wait = self._limiter.blocked_for(limiter_key, self._clock.now())
        if wait > 0:
            log.warning("sign-in rate limited", extra={"client_ip": client_ip, "retry_after": wait})
            raise RateLimited("too many failed sign-ins; try again later", wait)
        if self._identity is None:
            raise Unauthenticated("sign-in with an identity provider is not configured")
        try:
            identity = self._identity.exchange(code, code_verifier, redirect_uri)
        except Unauthenticated as exc:
            self._limiter.record_failure(limiter_key, self._clock.now())
            log.warning("sign-in refused", extra={"client_ip": client_ip, "reason": str(exc)})
            raise
        user_id = f"{identity.provider}:{identity.subject}"
        log.info("signed in", extra={"user_id": user_id})
        context = f"user:{user_id}"
        access = self._cipher.encrypt(identity.access_token.encode("utf-8"), context=context)
        refresh = (
            self._cipher.encrypt(identity.refresh_token.encode("utf-8"), context=context)
            if identity.refresh_token
            else b""
        )
        return self._open(user_id, identity.email, access, refresh, identity.provider)

    def dev_login(self, email: str) -> SignedIn:
        """A session for `email` without any provider: local development only. `Forbidden`
        unless the service was built with dev login enabled."""
        if not self._dev_login_enabled:
            raise Forbidden("dev login is not enabled")
        normalized = email.strip().lower()
        local, at, domain = normalized.partition("@")
        if not (local and at and "." in domain) or len(normalized) > _MAX_EMAIL_LENGTH:
            raise ValidationError("an email address is needed")
        return self._open(f"dev:{normalized}", normalized, b"", b"", "dev")

    def session_info(self, cookie_header: str | None) -> SessionInfo:
        """Who is signed in, with the CSRF token to send back; `Unauthenticated` if nobody."""
        session_id, session = self.authenticator.current(cookie_header)
        return SessionInfo(
            user_id=session.user_id,
            expires_at=session.expires_at,
            csrf_token=self._csrf.issue(session_id),
        )

    def logout(self, cookie_header: str | None, csrf_header: str | None) -> None:
        """End the caller's session. Idempotent for an unknown or expired session (nothing
        to end); a live session needs its CSRF token (`Forbidden`), so that another site
        cannot sign the user out."""
        session_id = session_cookie_value(cookie_header)
        if session_id is None:
            return
        hashed = session_hash(session_id)
        if self._sessions.get(hashed, self._clock.now()) is None:
            return
        if not self._csrf.valid(session_id, csrf_header):
            raise Forbidden("missing or wrong CSRF token")
        self._sessions.delete(hashed)

    def _open(
        self, user_id: str, email: str, access: bytes, refresh: bytes, provider: str
    ) -> SignedIn:
        session_id = new_session_id()
        now = self._clock.now()
        expires_at = now + self._ttl
        self._sessions.put(
            Session(
                session_hash=session_hash(session_id),
                user_id=user_id,
                expires_at=expires_at,
                access_token=access,
                refresh_token=refresh,
            )
        )
        return SignedIn(
            session_id=session_id,
            user_id=user_id,
            email=email,
            csrf_token=self._csrf.issue(session_id),
            expires_at=expires_at,
            new_user=self._sign_up(user_id, provider, now),
        )

    def _sign_up(self, user_id: str, provider: str, now: datetime) -> bool:
        """Record that the user was seen; on the first time ever, emit a sign-up signal."""
        if self._users is None:
            return False
        try:
            new = self._users.first_seen(user_id, now)
        except SourceUnavailable as exc:
            log.warning(
                "recording the user failed; sign-up not detected",
                extra={"subject": subject_of(user_id), "reason": str(exc)},
            )
            return False
        if new and self._signals is not None:
            self._signals.emit(
                Signal(SignalKind.SIGN_UP, subject_of(user_id), now, {"provider": provider})
            )
        return new


class InMemoryAttemptLimiter:
    """`AttemptLimiter` in process memory: at most `max_failures` failures per key in a
    sliding `window`. Enough for the local server and one warm Lambda instance; several
    Lambda instances need a shared store (see `DynamoDB` notes in the report)."""

    def __init__(
        self,
        max_failures: int = 5,
        window: timedelta = timedelta(minutes=15),
        max_keys: int = 10_000,
    ) -> None:
        if max_failures < 1:
            raise ValueError("max_failures must be at least 1")
        self._max = max_failures
        self._window = window
        self._max_keys = max_keys
        self._failures: dict[str, deque[datetime]] = {}
        self._lock = threading.Lock()

    def blocked_for(self, key: str, now: datetime) -> int:
        with self._lock:
            failures = self._recent(key, now)
            if len(failures) < self._max:
                return 0
            # Free again when the oldest failure that keeps the count at the limit expires.
            until = failures[-self._max] + self._window
            return max(1, math.ceil((until - now).total_seconds()))

    def record_failure(self, key: str, now: datetime) -> None:
        with self._lock:
            failures = self._recent(key, now)
            failures.append(now)
            self._failures[key] = failures
            if len(self._failures) > self._max_keys:
                self._evict(now)

    def _recent(self, key: str, now: datetime) -> deque[datetime]:
        failures = self._failures.get(key, deque())
        while failures and failures[0] + self._window <= now:
            failures.popleft()
        if not failures:
            self._failures.pop(key, None)
        return failures

    def _evict(self, now: datetime) -> None:
        for key in list(self._failures):
            self._recent(key, now)
        while len(self._failures) > self._max_keys:
            oldest = min(self._failures, key=lambda k: self._failures[k][-1])
            del self._failures[oldest]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")
