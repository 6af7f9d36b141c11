"""Who is calling, and may they change state: the check every non-public route passes.

- `Authorization: Bearer <access token>` (ours, see `access_tokens`): the token must verify
  and its session must still exist for the same user. No CSRF check: a browser never adds
  that header by itself, so another site cannot make a request carry it.
- Else the `__Host-session` cookie. A request that changes state must prove it comes from
  our pages: our CSRF token (`X-CSRF-Token`, derived from the session), *or* an `Origin`
  among the configured origins, or, when the browser sent no `Origin`, a `Referer` whose
  origin is among them. The existing web app sends a constant CSRF header, so for it the
  origin is the proof; everything else is refused."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from portfoliowise.application.access_tokens import AccessTokens
from portfoliowise.application.signing_keys import KeyRing, SigningKeys
from portfoliowise.domain.errors import Forbidden, Unauthenticated
from portfoliowise.domain.ports import Clock, SessionStore
from portfoliowise.domain.sessions import Session

SESSION_COOKIE = "__Host-session"
REFRESH_COOKIE = "__Host-refresh"
_TOKEN_LENGTH = 43  # base64url of 32 bytes, without padding
_TOKEN_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def token_hash(token: str) -> str:
    """What the store keeps of a session id or refresh token: its SHA-256, as hex."""
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def cookie_value(cookie_header: str | None, name: str) -> str | None:
    """The value of cookie `name` when it is a well-formed 256-bit token (junk is absent:
    no store lookup for it)."""
    if not cookie_header:
        return None
    for part in cookie_header.split(";"):
        key, sep, value = part.strip().partition("=")
        if sep and key.strip() == name:
            value = value.strip().strip('"')
            if len(value) == _TOKEN_LENGTH and set(value) <= _TOKEN_ALPHABET:
                return value
            return None
    return None


@dataclass(frozen=True, slots=True)
class WriteProof:
    """What a state-changing request shows to prove it comes from our pages."""

    csrf_token: str | None = None
    origin: str | None = None
    referer: str | None = None


def origin_of(url: str) -> str | None:
    """`scheme://host[:port]` of a URL, lower-cased; None when it is not an http(s) URL."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    try:
        port = parts.port
    except ValueError:
        return None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme.lower()}://{host}" + (f":{port}" if port is not None else "")


class TrustedOrigins:
    def __init__(self, origins: tuple[str, ...] | list[str]) -> None:
        self._origins = frozenset(o for o in (origin_of(x) for x in origins) if o)

    def vouch(self, origin: str | None, referer: str | None) -> bool:
        """True when `Origin` (or, without one, `Referer`) is one of ours. `Origin: null`
        (sandboxed frames, some redirects) vouches for nothing."""
        if origin is not None and origin.strip():
            found = origin_of(origin) if origin.strip() != "null" else None
            return found is not None and found in self._origins
        if referer:
            found = origin_of(referer)
            return found is not None and found in self._origins
        return False


class SessionAuthenticator:
    """The seam the other APIs use: who is calling, and may they change state."""

    def __init__(
        self,
        sessions: SessionStore,
        clock: Clock,
        csrf: CsrfTokens,
        *,
        tokens: AccessTokens | None = None,
        origins: TrustedOrigins | None = None,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._csrf = csrf
        self._tokens = tokens
        self._origins = origins or TrustedOrigins(())

    def authenticate(
        self,
        cookie_header: str | None,
        csrf_header: str | None,
        *,
        state_changing: bool,
        authorization: str | None = None,
        origin: str | None = None,
        referer: str | None = None,
    ) -> str:
        """The caller's user id. `Unauthenticated` without a valid bearer token or session
        cookie; `Forbidden` for a cookie-authenticated write without its proof."""
        bearer = _bearer(authorization)
        if bearer is not None:
            return self.bearer_user(bearer)
        session_id, session = self.current(cookie_header)
        proof = WriteProof(csrf_header, origin, referer)
        if state_changing and not self.write_allowed(session_id, proof):
            raise Forbidden("missing or wrong CSRF token, and not sent from our pages")
        return session.user_id

    def bearer_user(self, token: str) -> str:
        if self._tokens is None:
            raise Unauthenticated("Invalid token: access tokens are not accepted here")
        now = self._clock.now()
        claims = self._tokens.verify(token, now)
        session = self._sessions.get(claims.session_hash, now)
        if session is None or session.user_id != claims.user_id:
            raise Unauthenticated("Invalid token: its session has ended")
        return session.user_id

    def write_allowed(self, session_id: str, proof: WriteProof) -> bool:
        return self._csrf.valid(session_id, proof.csrf_token) or self._origins.vouch(
            proof.origin, proof.referer
        )

    def current(self, cookie_header: str | None) -> tuple[str, Session]:
        """The session id and session of the cookie, or `Unauthenticated`."""
        session_id = cookie_value(cookie_header, SESSION_COOKIE)
        if session_id is None:
            raise Unauthenticated("not signed in")
        session = self._sessions.get(token_hash(session_id), self._clock.now())
        if session is None:
            raise Unauthenticated("the session is unknown or has expired")
        return session_id, session


class CsrfTokens:
    """CSRF tokens derived from the session id with HMAC-SHA256 (see the module docstring).

    `signing_keys`: fixed keys, current first, or a `SigningKeys` that follows rotations."""

    def __init__(self, signing_keys: Sequence[bytes] | SigningKeys | KeyRing) -> None:
        self.ring = signing_keys if isinstance(signing_keys, KeyRing) else KeyRing(signing_keys)

    def issue(self, session_id: str) -> str:
        return self._token(self.ring.current()[0], session_id)

    def valid(self, session_id: str, token: str | None) -> bool:
        if not token:
            return False
        if self._matches(self.ring.current(), session_id, token):
            return True
        return self.ring.reload_early() and self._matches(self.ring.current(), session_id, token)

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


def _bearer(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")
