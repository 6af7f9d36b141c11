"""A fake Google for sign-in tests: a locally generated RSA key, its JWKS, and a token endpoint,
all served through `httpx.MockTransport` (no network).

The token endpoint answers each authorization code with whatever the test registered for it
(an ID token, an error status, an exception); an unknown code gets Google's `invalid_grant`."""

from __future__ import annotations

import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from portfoliowise.adapters.google import GOOGLE_JWKS_URL, GOOGLE_TOKEN_URL

CLIENT_ID = "1234567890-test.apps.googleusercontent.com"
CLIENT_SECRET = "test-client-secret"
REDIRECT_URI = "https://portfolio-wise.com/auth/callback"
CODE_VERIFIER = "v" * 43
KID = "test-key-1"


def new_rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_jwk(key: rsa.RSAPrivateKey, kid: str) -> dict[str, Any]:
    jwk: dict[str, Any] = jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    return jwk | {"kid": kid, "alg": "RS256", "use": "sig"}


@dataclass
class FakeGoogle:
    key: rsa.RSAPrivateKey = field(default_factory=new_rsa_key)
    kid: str = KID
    answers: dict[str, Any] = field(default_factory=dict)
    token_requests: list[dict[str, str]] = field(default_factory=list)
    jwks_requests: int = 0
    jwks_status: int = 200
    jwks_cache_control: str = "public, max-age=19000, must-revalidate"

    # --- tokens -----------------------------------------------------------------------------

    def claims(self, **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": "https://accounts.google.com",
            "azp": CLIENT_ID,
            "aud": CLIENT_ID,
            "sub": "110169484474386276334",
            "email": "taro@example.com",
            "email_verified": True,
            "iat": now,
            "exp": now + 3600,
        }
        claims.update(overrides)
        return {k: v for k, v in claims.items() if v is not None}

    def id_token(
        self,
        *,
        key: rsa.RSAPrivateKey | None = None,
        kid: str | None = None,
        **claims: Any,
    ) -> str:
        return jwt.encode(
            self.claims(**claims),
            key or self.key,
            algorithm="RS256",
            headers={"kid": kid or self.kid},
        )

    def will_answer(
        self, code: str, id_token: str, refresh_token: str | None = "1//refresh"
    ) -> str:
        body: dict[str, Any] = {
            "access_token": f"ya29.access-for-{code}",
            "expires_in": 3599,
            "scope": "openid email",
            "token_type": "Bearer",
            "id_token": id_token,
        }
        if refresh_token:
            body["refresh_token"] = refresh_token
        self.answers[code] = httpx.Response(200, json=body)
        return code

    def will_fail(self, code: str, response_or_error: httpx.Response | Exception) -> str:
        self.answers[code] = response_or_error
        return code

    # --- transport ----------------------------------------------------------------------------

    def handle(self, request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        if url == GOOGLE_JWKS_URL and request.method == "GET":
            self.jwks_requests += 1
            if self.jwks_status != 200:
                return httpx.Response(self.jwks_status, text="unavailable")
            return httpx.Response(
                200,
                json={"keys": [public_jwk(self.key, self.kid)]},
                headers={"Cache-Control": self.jwks_cache_control},
            )
        if url == GOOGLE_TOKEN_URL and request.method == "POST":
            form = dict(urllib.parse.parse_qsl(request.content.decode()))
            self.token_requests.append(form)
            answer = self.answers.get(form.get("code", ""))
            if answer is None:
                return httpx.Response(
                    400, json={"error": "invalid_grant", "error_description": "Bad Request"}
                )
            if isinstance(answer, Exception):
                raise answer
            assert isinstance(answer, httpx.Response)
            return answer
        return httpx.Response(404, text=f"the fake Google does not serve {url}")

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self.handle))
