"""The Google adapter on its own, against the fake Google: the identity it returns, the JWKS
cache and its refresh on an unknown key id, and how Google's failures are translated."""

from __future__ import annotations

import httpx
import pytest
from fake_google import CLIENT_ID, CLIENT_SECRET, CODE_VERIFIER, REDIRECT_URI, FakeGoogle

from portfoliowise.adapters.google import GoogleIdentityProvider, GoogleKeys
from portfoliowise.domain.errors import SourceUnavailable, Unauthenticated, ValidationError


class Ticker:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def ticker() -> Ticker:
    return Ticker()


@pytest.fixture
def provider(google: FakeGoogle, ticker: Ticker) -> GoogleIdentityProvider:
    http = google.client()
    return GoogleIdentityProvider(
        http,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        keys=GoogleKeys(http, monotonic=ticker),
    )


def exchange(provider: GoogleIdentityProvider, code: str = "code") -> object:
    return provider.exchange(code, CODE_VERIFIER, REDIRECT_URI)


def test_a_verified_identity_carries_the_subject_email_and_tokens(
    provider: GoogleIdentityProvider, google: FakeGoogle
) -> None:
    google.will_answer("code", google.id_token())

    identity = provider.exchange("code", CODE_VERIFIER, REDIRECT_URI)

    assert identity.provider == "google"
    assert identity.subject == "110169484474386276334"
    assert identity.email == "taro@example.com"
    assert identity.access_token == "ya29.access-for-code"
    assert identity.refresh_token == "1//refresh"


def test_no_refresh_token_is_none(provider: GoogleIdentityProvider, google: FakeGoogle) -> None:
    google.will_answer("code", google.id_token(), refresh_token=None)

    assert provider.exchange("code", CODE_VERIFIER, REDIRECT_URI).refresh_token is None


@pytest.mark.parametrize("issuer", ["https://accounts.google.com", "accounts.google.com"])
def test_both_google_issuers_are_accepted(
    provider: GoogleIdentityProvider, google: FakeGoogle, issuer: str
) -> None:
    assert provider.verify_id_token(google.id_token(iss=issuer))["iss"] == issuer


def test_email_verified_as_the_string_true_is_accepted(
    provider: GoogleIdentityProvider, google: FakeGoogle
) -> None:
    assert provider.verify_id_token(google.id_token(email_verified="true"))


@pytest.mark.parametrize(
    "claims",
    [
        {"email_verified": None},
        {"email_verified": "false"},
        {"email": None},
        {"sub": None},
        {"aud": [CLIENT_ID.replace("1234", "9999")]},
        {"iss": "https://accounts.google.com.evil.example"},
    ],
)
def test_tokens_missing_or_breaking_a_claim_are_refused(
    provider: GoogleIdentityProvider, google: FakeGoogle, claims: dict[str, object]
) -> None:
    with pytest.raises(Unauthenticated):
        provider.verify_id_token(google.id_token(**claims))


def test_an_hs256_token_is_refused(provider: GoogleIdentityProvider, google: FakeGoogle) -> None:
    import jwt

    forged = jwt.encode(google.claims(), "secret" * 8, algorithm="HS256", headers={"kid": "k"})

    with pytest.raises(Unauthenticated):
        provider.verify_id_token(forged)


@pytest.mark.parametrize("token", ["", "not.a.jwt", "a.b"])
def test_garbage_tokens_are_refused(provider: GoogleIdentityProvider, token: str) -> None:
    with pytest.raises(Unauthenticated):
        provider.verify_id_token(token)


def test_the_keys_are_fetched_once_and_cached(
    provider: GoogleIdentityProvider, google: FakeGoogle, ticker: Ticker
) -> None:
    for _ in range(3):
        provider.verify_id_token(google.id_token())
    ticker.now += 18_000  # within the announced max-age=19000
    provider.verify_id_token(google.id_token())

    assert google.jwks_requests == 1

    ticker.now += 2_000
    provider.verify_id_token(google.id_token())
    assert google.jwks_requests == 2


def test_a_new_key_id_refetches_the_keys_but_at_most_once_a_minute(
    provider: GoogleIdentityProvider, google: FakeGoogle, ticker: Ticker
) -> None:
    provider.verify_id_token(google.id_token())
    old_token_unknown_kid = google.id_token(kid="retired")
    with pytest.raises(Unauthenticated):
        provider.verify_id_token(old_token_unknown_kid)
    assert google.jwks_requests == 1  # fetched under a minute ago: not again

    # Google rotates: a new key with a new id.
    ticker.now += 61
    google.kid = "test-key-2"
    assert provider.verify_id_token(google.id_token())
    assert google.jwks_requests == 2


def test_jwks_unavailable_is_source_unavailable(
    provider: GoogleIdentityProvider, google: FakeGoogle
) -> None:
    google.jwks_status = 502

    with pytest.raises(SourceUnavailable):
        provider.verify_id_token(google.id_token())


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (httpx.Response(400, json={"error": "invalid_grant"}), Unauthenticated),
        (httpx.Response(401, json={"error": "invalid_client"}), Unauthenticated),
        (httpx.Response(200, json={"access_token": "a"}), Unauthenticated),  # no ID token
        (httpx.Response(500, text="oops"), SourceUnavailable),
        (httpx.Response(503, text="busy"), SourceUnavailable),
        (httpx.Response(429, text="slow down"), SourceUnavailable),
        (httpx.Response(200, text="<html>"), SourceUnavailable),
        (httpx.ConnectTimeout("timeout"), SourceUnavailable),
        (httpx.ConnectError("refused"), SourceUnavailable),
    ],
)
def test_token_endpoint_failures_are_translated(
    provider: GoogleIdentityProvider,
    google: FakeGoogle,
    answer: httpx.Response | Exception,
    error: type[Exception],
) -> None:
    google.will_fail("code", answer)

    with pytest.raises(error):
        provider.exchange("code", CODE_VERIFIER, REDIRECT_URI)


def test_the_error_message_never_echoes_googles_body(
    provider: GoogleIdentityProvider, google: FakeGoogle
) -> None:
    google.will_fail("code", httpx.Response(400, json={"error": "<script>alert(1)</script>"}))

    with pytest.raises(Unauthenticated) as raised:
        provider.exchange("code", CODE_VERIFIER, REDIRECT_URI)
    assert "script" not in str(raised.value)


def test_allowed_redirect_uris_are_enforced_before_calling_google(google: FakeGoogle) -> None:
    provider = GoogleIdentityProvider(
        google.client(),
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        allowed_redirect_uris=[REDIRECT_URI],
    )

    with pytest.raises(ValidationError):
        provider.exchange("code", CODE_VERIFIER, "https://evil.example.com/cb")
    assert google.token_requests == []
