"""Sign-in and sessions: sign in with an identity provider (or the local dev login), answer
who is signed in, hand out access tokens, rotate refresh tokens, sign out.

Decisions, so that the handlers and adapters need not make them:
- The session id is `secrets.token_bytes(32)` (256 bits), base64url without padding: that is
  the cookie value. The store keeps only `sha256(cookie value)` as hex (`session_hash`), so a
  leaked table cannot be replayed as cookies.
- The CSRF token is *derived*, not stored: `base64url(HMAC-SHA256(signing key, "csrf:" +
  session id))` (see `request_auth`). Several signing keys may be given (current first, then
  previous ones): tokens are issued with the first and accepted with any, so rotating the
  key does not break signed-in pages; `SigningKeys` reloads them so that a long-lived
  instance follows a rotation too.
- Access tokens (`access_tokens`): 15-minute JWTs for `Authorization: Bearer`, bound to
  the session. Refresh tokens: a 256-bit token in its own `__Host-refresh` cookie, stored
  as a hash on the session; `refresh` rotates it on every use, and a token that is not the
  current one (or the one just replaced, within a few seconds: two tabs) ends the session.
- User ids are stable: `google:<sub>` for Google (the `sub` claim never changes, an email
  can), `dev:<email, lower-cased>` for the local dev login. The profile the web app shows
  (email, name, picture) is kept with the session, encrypted like the provider tokens.
- Failed sign-ins (the provider refused the code or token) count against the client IP; when
  the limiter says the IP is blocked, sign-in answers `RateLimited` before calling the
  provider. A provider outage (`SourceUnavailable`) is not the client's failure.
- Every successful sign-in (Google or dev login) tells the `UserRegistry` the user was
  seen; the first time ever is a sign-up: a `SignUps` signal for the operators (a hash of
  the user id and the provider, never the e-mail or the id) and `SignedIn.new_user`. A
  registry that cannot answer does not fail the sign-in: it is logged, and nobody is new.

Standard library only: the ports are in `portfoliowise.domain.ports`."""

from __future__ import annotations

import logging
import math
import secrets
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from portfoliowise.application.access_tokens import AccessTokens, IssuedToken, Profile
from portfoliowise.application.request_auth import (
    REFRESH_COOKIE,
    SESSION_COOKIE,
    CsrfTokens,
    SessionAuthenticator,
    TrustedOrigins,
    WriteProof,
    cookie_value,
    token_hash,
)
from portfoliowise.application.signing_keys import KeyRing, SigningKeys
from portfoliowise.domain.errors import (
    Forbidden,
    RateLimited,
    SourceUnavailable,
    Unauthenticated,
    ValidationError,
)
from portfoliowise.domain.measurements import Measurements, NoMeasurements
from portfoliowise.domain.ports import (
    AttemptLimiter,
    Clock,
    IdentityProvider,
    SessionStore,
    TokenCipher,
    VerifiedIdentity,
)
from portfoliowise.domain.sessions import SESSION_TTL, RefreshState, Session
from portfoliowise.domain.signals import Signal, SignalKind, Signals, subject_of
from portfoliowise.domain.users import UserRegistry

__all__ = [
    "CSRF_HEADER",
    "REFRESH_COOKIE",
    "SESSION_COOKIE",
    "AuthService",
    "CsrfTokens",
    "InMemoryAttemptLimiter",
    "KeyRing",
    "RefreshTokenReused",
    "Refreshed",
    "SessionAuthenticator",
    "SessionInfo",
    "SignedIn",
    "SigningKeys",
    "TrustedOrigins",
    "WriteProof",
    "new_session_id",
    "session_cookie_value",
    "session_hash",
]

log = logging.getLogger(__name__)

CSRF_HEADER = "X-CSRF-Token"
SESSION_ID_BYTES = 32
_MAX_EMAIL_LENGTH = 254


def new_session_id() -> str:
    """A fresh 256-bit token, base64url without padding (a session id or refresh token)."""
    return secrets.token_urlsafe(SESSION_ID_BYTES)


def session_hash(session_id: str) -> str:
    """What the store keys a session by: the SHA-256 of the cookie value, as hex."""
    return token_hash(session_id)


def session_cookie_value(cookie_header: str | None) -> str | None:
    """The `__Host-session` value of a `Cookie` header, when it is a well-formed session id
    (malformed values are treated as absent: no store lookup for junk)."""
    return cookie_value(cookie_header, SESSION_COOKIE)


class RefreshTokenReused(Unauthenticated):
    """A refresh token was presented again after it had been replaced: the session ended."""

    code = "refresh_token_reused"


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A new session. `session_id` and `refresh_token` go into cookies and nowhere else."""

    session_id: str
    user_id: str
    email: str
    csrf_token: str
    expires_at: datetime
    refresh_token: str
    access: IssuedToken
    profile: Profile
    new_user: bool = False  # the user's first sign-in ever (a sign-up)


@dataclass(frozen=True, slots=True)
class SessionInfo:
    """Who is signed in, with a fresh access token."""

    user_id: str
    expires_at: datetime
    csrf_token: str
    profile: Profile
    access: IssuedToken

    @property
    def email(self) -> str | None:
        return self.profile.email or None


@dataclass(frozen=True, slots=True)
class Refreshed:
    """A new access token; `refresh_token` is the rotated one (None when another tab
    rotated it a moment ago: that tab's cookie is already the browser's)."""

    user_id: str
    profile: Profile
    access: IssuedToken
    refresh_token: str | None


class AuthService:
    """The sign-in use cases: `sign_in`, `sign_in_with_id_token`, `dev_login`,
    `session_info`, `refresh`, `logout`."""

    def __init__(
        self,
        *,
        sessions: SessionStore,
        identity: IdentityProvider | None,
        cipher: TokenCipher,
        limiter: AttemptLimiter,
        clock: Clock,
        csrf: CsrfTokens,
        tokens: AccessTokens,
        origins: TrustedOrigins | None = None,
        dev_login_enabled: bool = False,
        session_ttl: timedelta = SESSION_TTL,
        users: UserRegistry | None = None,
        signals: Signals | None = None,
        measurements: Measurements | None = None,
    ) -> None:
        self._sessions = sessions
        self._identity = identity
        self._cipher = cipher
        self._limiter = limiter
        self._clock = clock
        self._csrf = csrf
        self._tokens = tokens
        self._dev_login_enabled = dev_login_enabled
        self._ttl = session_ttl
        self._users = users
        self._signals = signals
        self._measurements = measurements or NoMeasurements()
        self.authenticator = SessionAuthenticator(
            sessions, clock, csrf, tokens=tokens, origins=origins
        )

    @property
    def dev_login_enabled(self) -> bool:
        return self._dev_login_enabled

    def sign_in(
        self, *, code: str, code_verifier: str | None, redirect_uri: str, client_ip: str
    ) -> SignedIn:
        """Exchange a provider authorization code for a new session (`code_verifier` None:
        a client without PKCE; the provider then accepts only configured redirect URIs).

        `RateLimited` when `client_ip` failed too often; `Unauthenticated` when the provider
        refuses (counted as a failure); `SourceUnavailable` when it is down (not counted)."""
        identity = self._verified(
            client_ip, lambda provider: provider.exchange(code, code_verifier, redirect_uri)
        )
        return self._provider_session(identity)

    def sign_in_with_id_token(self, *, id_token: str, client_ip: str) -> SignedIn:
        """A new session from an ID token the client got from the provider (Google Sign-In's
        `credential`). Same limits and errors as `sign_in`."""
        identity = self._verified(client_ip, lambda provider: provider.identify(id_token))
        return self._provider_session(identity)

    def dev_login(self, email: str) -> SignedIn:
        """A session for `email` without any provider: local development only. `Forbidden`
        unless the service was built with dev login enabled."""
        if not self._dev_login_enabled:
            raise Forbidden("dev login is not enabled")
        normalized = email.strip().lower()
        local, at, domain = normalized.partition("@")
        if not (local and at and "." in domain) or len(normalized) > _MAX_EMAIL_LENGTH:
            raise ValidationError("an email address is needed")
        profile = Profile(email=normalized, name=local)
        return self._open(f"dev:{normalized}", profile, b"", b"", "dev")

    def session_info(self, cookie_header: str | None) -> SessionInfo:
        """Who is signed in, with the CSRF token to send back and a fresh access token;
        `Unauthenticated` if nobody."""
        session_id, session = self.authenticator.current(cookie_header)
        profile = self._profile(session)
        now = self._clock.now()
        return SessionInfo(
            user_id=session.user_id,
            expires_at=session.expires_at,
            csrf_token=self._csrf.issue(session_id),
            profile=profile,
            access=self._tokens.issue(
                user_id=session.user_id,
                session_hash=session.session_hash,
                profile=profile,
                now=now,
            ),
        )

    def refresh(self, cookie_header: str | None, proof: WriteProof) -> Refreshed:
        """A new access token for the session's refresh token, which is rotated.

        `Unauthenticated` without a live session and a refresh token; `Forbidden` when the
        request does not come from our pages (it changes state); `RefreshTokenReused` (and
        the session is ended) when the token was already used."""
        session_id, session = self.authenticator.current(cookie_header)
        if not self.authenticator.write_allowed(session_id, proof):
            raise Forbidden("missing or wrong CSRF token, and not sent from our pages")
        presented = cookie_value(cookie_header, REFRESH_COOKIE)
        now = self._clock.now()
        if presented is None:
            if session.refresh_hash:
                raise Unauthenticated("no refresh token")
            state = RefreshState.CURRENT  # a session from before refresh tokens: start one
        else:
            state = session.refresh_state(token_hash(presented), now)
        if state == RefreshState.REUSED:
            self._sessions.delete(session.session_hash)
            log.warning("a refresh token was reused; the session is ended")
            raise RefreshTokenReused("the refresh token was already used; sign in again")
        new_token: str | None = None
        if state == RefreshState.CURRENT:
            new_token = new_session_id()
            rotated = self._sessions.rotate_refresh(
                session.session_hash, session.refresh_hash, token_hash(new_token), now
            )
            if not rotated:  # another request rotated it first: look again
                return self._after_race(cookie_header, presented, now)
        profile = self._profile(session)
        return Refreshed(
            user_id=session.user_id,
            profile=profile,
            access=self._tokens.issue(
                user_id=session.user_id,
                session_hash=session.session_hash,
                profile=profile,
                now=now,
            ),
            refresh_token=new_token,
        )

    def _after_race(
        self, cookie_header: str | None, presented: str | None, now: datetime
    ) -> Refreshed:
        _, session = self.authenticator.current(cookie_header)
        if presented is None or (
            session.refresh_state(token_hash(presented), now) != RefreshState.JUST_ROTATED
        ):
            self._sessions.delete(session.session_hash)
            raise RefreshTokenReused("the refresh token was already used; sign in again")
        profile = self._profile(session)
        access = self._tokens.issue(
            user_id=session.user_id, session_hash=session.session_hash, profile=profile, now=now
        )
        return Refreshed(session.user_id, profile, access, None)

    def logout(self, cookie_header: str | None, proof: WriteProof | str | None) -> None:
        """End the caller's session. Idempotent for an unknown or expired session (nothing
        to end); a live session needs its write proof (`Forbidden`), so that another site
        cannot sign the user out."""
        if not isinstance(proof, WriteProof):
            proof = WriteProof(csrf_token=proof)
        session_id = session_cookie_value(cookie_header)
        if session_id is None:
            return
        hashed = session_hash(session_id)
        if self._sessions.get(hashed, self._clock.now()) is None:
            return
        if not self.authenticator.write_allowed(session_id, proof):
            raise Forbidden("missing or wrong CSRF token, and not sent from our pages")
        self._sessions.delete(hashed)

    def _verified(
        self, client_ip: str, verify: Callable[[IdentityProvider], VerifiedIdentity]
    ) -> VerifiedIdentity:
        limiter_key = f"sign-in:{client_ip}"
        wait = self._limiter.blocked_for(limiter_key, self._clock.now())
        if wait > 0:
            log.warning("sign-in rate limited", extra={"client_ip": client_ip, "retry_after": wait})
            raise RateLimited("too many failed sign-ins; try again later", wait)
        if self._identity is None:
            raise Unauthenticated("sign-in with an identity provider is not configured")
        try:
            return verify(self._identity)
        except Unauthenticated as exc:
            self._limiter.record_failure(limiter_key, self._clock.now())
            log.warning("sign-in refused", extra={"client_ip": client_ip, "reason": str(exc)})
            raise

    def _provider_session(self, identity: VerifiedIdentity) -> SignedIn:
        user_id = f"{identity.provider}:{identity.subject}"
        log.info("signed in", extra={"subject": subject_of(user_id)})
        context = f"user:{user_id}"
        access = (
            self._cipher.encrypt(identity.access_token.encode("utf-8"), context=context)
            if identity.access_token
            else b""
        )
        refresh = (
            self._cipher.encrypt(identity.refresh_token.encode("utf-8"), context=context)
            if identity.refresh_token
            else b""
        )
        profile = Profile(email=identity.email, name=identity.name, picture=identity.picture)
        return self._open(user_id, profile, access, refresh, identity.provider)

    def _profile(self, session: Session) -> Profile:
        if not session.profile:
            return Profile()
        try:
            data = self._cipher.decrypt(session.profile, context=f"user:{session.user_id}")
        except Exception:  # an unreadable profile must not sign the user out
            log.warning("the session's profile could not be decrypted")
            return Profile()
        return Profile.from_bytes(data)

    def _open(
        self, user_id: str, profile: Profile, access: bytes, refresh: bytes, provider: str
    ) -> SignedIn:
        session_id = new_session_id()
        refresh_token = new_session_id()
        now = self._clock.now()
        expires_at = now + self._ttl
        hashed = session_hash(session_id)
        self._sessions.put(
            Session(
                session_hash=hashed,
                user_id=user_id,
                expires_at=expires_at,
                access_token=access,
                refresh_token=refresh,
                profile=self._cipher.encrypt(profile.to_bytes(), context=f"user:{user_id}"),
                refresh_hash=token_hash(refresh_token),
            )
        )
        self._measurements.session_opened(provider)
        return SignedIn(
            session_id=session_id,
            user_id=user_id,
            email=profile.email,
            csrf_token=self._csrf.issue(session_id),
            expires_at=expires_at,
            refresh_token=refresh_token,
            access=self._tokens.issue(
                user_id=user_id, session_hash=hashed, profile=profile, now=now
            ),
            profile=profile,
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
