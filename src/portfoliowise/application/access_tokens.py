"""Our access tokens: short-lived (15 minutes) JWTs that the web app sends as
`Authorization: Bearer` and decodes itself (`sub`, `email`, `name`, `picture`, `exp`).

- Signed with a key *derived* from the session-signing key (HMAC-SHA256 of a fixed label),
  so the CSRF tokens and the access tokens never share a key. The header's `kid` names the
  key: after a rotation, tokens signed with the previous key verify until they expire.
- `sid` is the hash of the session the token was issued for: a token is good only while
  that session lives (signing out, or a reused refresh token, ends its tokens too).
- Times are checked here with the injected clock, not by the JWT library.

Standard library only (the JWT encoding is behind the `AccessTokenCodec` port)."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from portfoliowise.application.signing_keys import KeyRing
from portfoliowise.domain.errors import Unauthenticated
from portfoliowise.domain.ports import AccessTokenCodec
from portfoliowise.domain.sessions import ACCESS_TOKEN_TTL

ISSUER = "portfoliowise"
_LABEL = b"portfoliowise access token v1"
_CLOCK_SKEW = timedelta(seconds=30)
_MAX_TOKEN_LENGTH = 8192


@dataclass(frozen=True, slots=True)
class Profile:
    """What the web app shows of the signed-in user."""

    email: str = ""
    name: str = ""
    picture: str = ""

    def to_bytes(self) -> bytes:
        return json.dumps(
            {"email": self.email, "name": self.name, "picture": self.picture},
            ensure_ascii=False,
            sort_keys=True,
        ).encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes) -> Profile:
        try:
            parsed = json.loads(data.decode("utf-8")) if data else {}
        except (UnicodeDecodeError, json.JSONDecodeError):
            parsed = {}
        if not isinstance(parsed, dict):
            parsed = {}
        return cls(
            email=str(parsed.get("email") or ""),
            name=str(parsed.get("name") or ""),
            picture=str(parsed.get("picture") or ""),
        )


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class TokenClaims:
    user_id: str
    session_hash: str


def _derived(key: bytes) -> bytes:
    return hmac.new(key, _LABEL, hashlib.sha256).digest()


def key_id(key: bytes) -> str:
    """A public name for a signing key (reveals nothing of it)."""
    return hashlib.sha256(b"kid:" + _derived(key)).hexdigest()[:16]


class AccessTokens:
    def __init__(
        self, codec: AccessTokenCodec, ring: KeyRing, ttl: timedelta = ACCESS_TOKEN_TTL
    ) -> None:
        self._codec = codec
        self._ring = ring
        self._ttl = ttl

    def issue(
        self, *, user_id: str, session_hash: str, profile: Profile, now: datetime
    ) -> IssuedToken:
        key = self._ring.current()[0]
        issued = int(now.timestamp())
        expires = issued + int(self._ttl.total_seconds())
        claims: dict[str, object] = {
            "iss": ISSUER,
            "sub": user_id,
            "sid": session_hash,
            "email": profile.email,
            "name": profile.name,
            "picture": profile.picture,
            "hasDriveAccess": False,
            "planType": "free",
            "iat": issued,
            "exp": expires,
        }
        token = self._codec.encode(claims, _derived(key), key_id(key))
        return IssuedToken(token, datetime.fromtimestamp(expires, UTC))

    def verify(self, token: str, now: datetime) -> TokenClaims:
        """The user and session of a token that verifies and has not expired, else
        `Unauthenticated` (its message starts with "Invalid token", which the web app reads
        as "forget this token")."""
        if not token or len(token) > _MAX_TOKEN_LENGTH:
            raise Unauthenticated("Invalid token: empty or too long")
        try:
            claims = self._codec.decode(token, self._key_for)
        except Unauthenticated:
            if not self._ring.reload_early():
                raise
            claims = self._codec.decode(token, self._key_for)
        user, session, expires = claims.get("sub"), claims.get("sid"), claims.get("exp")
        if claims.get("iss") != ISSUER or not isinstance(user, str) or not isinstance(session, str):
            raise Unauthenticated("Invalid token: missing claims")
        if not isinstance(expires, int) or isinstance(expires, bool):
            raise Unauthenticated("Invalid token: no expiry")
        if now.timestamp() >= expires + _CLOCK_SKEW.total_seconds():
            raise Unauthenticated("Invalid token: expired")
        return TokenClaims(user_id=user, session_hash=session)

    def _key_for(self, kid: str) -> bytes | None:
        for key in self._ring.current():
            if hmac.compare_digest(key_id(key), kid):
                return _derived(key)
        return None
