"""Google sign-in: the authorization-code exchange (with PKCE) and the ID-token checks.

The code is exchanged at Google's token endpoint over an injected `httpx.Client`; the ID
token in the answer is verified with PyJWT against Google's published keys (JWKS), which
are fetched through the same client and cached (for the `max-age` Google announces, kept
between one minute and one day, one hour when it announces none; refetched early, at most
once a minute, when a token names a key id we have not seen: that is how rotation shows).
Checks: RS256 signature, issuer `https://accounts.google.com` or `accounts.google.com`,
audience = our client id, expiry (with a small clock-skew leeway), and `email_verified`.

Errors: a refused code or a token failing any check → `Unauthenticated`; a redirect URI
outside the allowed list → `ValidationError`; Google answering 5xx / 429, a timeout or a
network error → `SourceUnavailable`."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Collection
from typing import Any

import httpx
import jwt

from portfoliowise.domain.errors import SourceUnavailable, Unauthenticated, ValidationError
from portfoliowise.domain.ports import VerifiedIdentity

GOOGLE_TOKEN_URL = "https://oauth2.googleapis.com/token"
GOOGLE_JWKS_URL = "https://www.googleapis.com/oauth2/v3/certs"
GOOGLE_ISSUERS = ("https://accounts.google.com", "accounts.google.com")
PROVIDER = "google"
ALGORITHMS = ["RS256"]
DEFAULT_TIMEOUT = httpx.Timeout(5.0)  # the auth Lambda has 10 s in all
CLOCK_SKEW_SECONDS = 30
JWKS_DEFAULT_MAX_AGE = 3600.0
JWKS_MIN_REFRESH_INTERVAL = 60.0
_MAX_AGE = re.compile(r"max-age=(\d+)")


class GoogleKeys:
    """Google's signing keys (JWKS), fetched over `http` and cached."""

    def __init__(
        self,
        http: httpx.Client,
        url: str = GOOGLE_JWKS_URL,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
    ) -> None:
        self._http = http
        self._url = url
        self._monotonic = monotonic
        self._timeout = timeout
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fresh_until = float("-inf")
        self._fetched_at = float("-inf")
        self._lock = threading.Lock()

    def key(self, kid: str) -> jwt.PyJWK:
        """The key with id `kid`; `Unauthenticated` when Google publishes no such key."""
        with self._lock:
            now = self._monotonic()
            stale = now >= self._fresh_until
            unknown = kid not in self._keys
            if stale or (unknown and now - self._fetched_at >= JWKS_MIN_REFRESH_INTERVAL):
                self._refresh(now)
            found = self._keys.get(kid)
        if found is None:
            raise Unauthenticated("the ID token is signed with a key Google does not publish")
        return found

    def _refresh(self, now: float) -> None:
        try:
            response = self._http.get(self._url, timeout=self._timeout)
        except httpx.HTTPError as exc:
            raise SourceUnavailable(f"Google's keys: {type(exc).__name__}") from exc
        if response.status_code != httpx.codes.OK:
            raise SourceUnavailable(f"Google's keys: HTTP {response.status_code}")
        try:
            key_set = jwt.PyJWKSet.from_dict(response.json())
        except (ValueError, jwt.PyJWKSetError, jwt.InvalidKeyError) as exc:
            raise SourceUnavailable("Google's keys: unreadable JWKS") from exc
        self._keys = {k.key_id: k for k in key_set.keys if k.key_id}
        self._fetched_at = now
        self._fresh_until = now + _max_age(response.headers.get("cache-control", ""))


class GoogleIdentityProvider:
    """`IdentityProvider` for Google (OAuth 2.0 authorization code with PKCE, OpenID Connect)."""

    def __init__(
        self,
        http: httpx.Client,
        *,
        client_id: str,
        client_secret: str,
        keys: GoogleKeys | None = None,
        allowed_redirect_uris: Collection[str] | None = None,
        token_url: str = GOOGLE_TOKEN_URL,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
    ) -> None:
        if not client_id:
            raise ValueError("a Google OAuth client id is needed")
        self._http = http
        self._client_id = client_id
        self._client_secret = client_secret
        self._keys = keys if keys is not None else GoogleKeys(http)
        self._allowed_redirects = (
            frozenset(allowed_redirect_uris) if allowed_redirect_uris else None
        )
        self._token_url = token_url
        self._timeout = timeout

    def exchange(self, code: str, code_verifier: str | None, redirect_uri: str) -> VerifiedIdentity:
        """Without a PKCE verifier (the existing web app sends none) only a configured
        redirect URI is accepted, even when the list is otherwise open."""
        if self._allowed_redirects is not None and redirect_uri not in self._allowed_redirects:
            raise ValidationError("redirectUri is not one this application uses")
        if code_verifier is None and self._allowed_redirects is None:
            raise ValidationError(
                "a sign-in without a PKCE verifier needs the redirect URIs configured"
            )
        tokens = self._token_request(code, code_verifier, redirect_uri)
        id_token = tokens.get("id_token")
        access_token = tokens.get("access_token")
        if not isinstance(id_token, str) or not isinstance(access_token, str):
            raise Unauthenticated("Google returned no ID token (is the openid scope requested?)")
        refresh_token = tokens.get("refresh_token")
        return _identity(
            self.verify_id_token(id_token),
            access_token=access_token,
            refresh_token=refresh_token if isinstance(refresh_token, str) else None,
        )

    def identify(self, id_token: str) -> VerifiedIdentity:
        """The identity in an ID token from Google Sign-In (its `credential`)."""
        return _identity(self.verify_id_token(id_token))

    def verify_id_token(self, id_token: str) -> dict[str, Any]:
        """The claims of a Google ID token that passes every check, else `Unauthenticated`."""
        try:
            header = jwt.get_unverified_header(id_token)
        except jwt.InvalidTokenError as exc:
            raise Unauthenticated("the ID token is malformed") from exc
        kid = header.get("kid")
        if header.get("alg") not in ALGORITHMS or not isinstance(kid, str):
            raise Unauthenticated("the ID token is not an RS256 token with a key id")
        key = self._keys.key(kid)
        try:
            claims: dict[str, Any] = jwt.decode(
                id_token,
                key,
                algorithms=ALGORITHMS,
                audience=self._client_id,
                issuer=GOOGLE_ISSUERS,
                leeway=CLOCK_SKEW_SECONDS,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthenticated("the ID token has expired") from exc
        except jwt.InvalidAudienceError as exc:
            raise Unauthenticated("the ID token is for another application") from exc
        except jwt.InvalidIssuerError as exc:
            raise Unauthenticated("the ID token is not issued by Google") from exc
        except jwt.InvalidTokenError as exc:
            raise Unauthenticated("the ID token does not verify") from exc
        if claims.get("email_verified") not in (True, "true"):
            raise Unauthenticated("the Google account's email is not verified")
        if not isinstance(claims.get("email"), str) or not str(claims["sub"]):
            raise Unauthenticated("the ID token carries no email or subject")
        return claims

    def _token_request(
        self, code: str, code_verifier: str | None, redirect_uri: str
    ) -> dict[str, Any]:
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "client_id": self._client_id,
            "client_secret": self._client_secret,
        }
        if code_verifier is not None:
            form["code_verifier"] = code_verifier
        try:
            response = self._http.post(
                self._token_url,
                data=form,
                headers={"Accept": "application/json"},
                timeout=self._timeout,
            )
        except httpx.HTTPError as exc:
            raise SourceUnavailable(f"Google's token endpoint: {type(exc).__name__}") from exc
        status = response.status_code
        if status >= 500 or status == httpx.codes.TOO_MANY_REQUESTS:
            raise SourceUnavailable(f"Google's token endpoint: HTTP {status}")
        if status != httpx.codes.OK:
            raise Unauthenticated(f"Google refused the authorization code ({_error_of(response)})")
        try:
            body = response.json()
        except ValueError as exc:
            raise SourceUnavailable("Google's token endpoint: unreadable answer") from exc
        if not isinstance(body, dict):
            raise SourceUnavailable("Google's token endpoint: unexpected answer")
        return body


def _identity(
    claims: dict[str, Any], *, access_token: str = "", refresh_token: str | None = None
) -> VerifiedIdentity:
    name, picture = claims.get("name"), claims.get("picture")
    return VerifiedIdentity(
        provider=PROVIDER,
        subject=str(claims["sub"]),
        email=str(claims["email"]),
        access_token=access_token,
        refresh_token=refresh_token,
        name=name[:200] if isinstance(name, str) else "",
        picture=picture[:2048]
        if isinstance(picture, str) and picture.startswith("https://")
        else "",
    )


def _max_age(cache_control: str) -> float:
    match = _MAX_AGE.search(cache_control)
    if match is None:
        return JWKS_DEFAULT_MAX_AGE
    return max(JWKS_MIN_REFRESH_INTERVAL, min(float(match.group(1)), 24 * 3600.0))


def _error_of(response: httpx.Response) -> str:
    """Google's OAuth error code (e.g. `invalid_grant`), never the response body itself."""
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}"
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, str) and re.fullmatch(r"[a-z_]{1,64}", error):
        return error
    return f"HTTP {response.status_code}"
