"""Sign-in through the auth routes against a fake Google, driven by recorded API Gateway
proxy events: good and bad ID tokens, the session cookie, session info, logout, CSRF and
the per-IP rate limit."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx
import pytest
from auth_harness import AuthApp, BuildApp, body_of, cookie_pair, recorded_event, set_cookie
from fake_google import CLIENT_ID, CODE_VERIFIER, REDIRECT_URI, new_rsa_key

from portfoliowise.application.auth import session_hash
from portfoliowise.domain.sessions import SESSION_TTL

GOOD_SUB = "110169484474386276334"


def sign_in_event(code: str, ip: str = "203.0.113.24") -> dict[str, object]:
    return recorded_event(
        "auth_google.json",
        body={"code": code, "codeVerifier": CODE_VERIFIER, "redirectUri": REDIRECT_URI},
        headers={"CloudFront-Viewer-Address": f"{ip}:50123"},
    )


def sign_in(auth_app: AuthApp, code: str = "good-code") -> dict[str, object]:
    auth_app.google.will_answer(code, auth_app.google.id_token())
    response = auth_app.call(sign_in_event(code))
    assert response["statusCode"] == 200, response["body"]
    return response


def session_event(cookie: str | None) -> dict[str, object]:
    return recorded_event("auth_session.json", headers={"Cookie": cookie})


def logout_event(cookie: str | None, csrf: str | None) -> dict[str, object]:
    return recorded_event("auth_logout.json", headers={"Cookie": cookie, "X-CSRF-Token": csrf})


def test_a_good_google_sign_in_sets_the_session_cookie_and_answers_the_csrf_token(
    auth_app: AuthApp,
) -> None:
    response = sign_in(auth_app)

    cookie = set_cookie(response)
    assert cookie.startswith("__Host-session=")
    attributes = {part.strip() for part in cookie.split(";")[1:]}
    assert attributes == {"Path=/", "HttpOnly", "Secure", "SameSite=Lax", "Max-Age=86400"}
    body = body_of(response)
    assert body["userId"] == f"google:{GOOD_SUB}"
    assert body["email"] == "taro@example.com"
    assert body["csrfToken"]
    assert body["expiresAt"].startswith((auth_app.clock.now() + SESSION_TTL).date().isoformat())
    assert response["multiValueHeaders"]["Cache-Control"] == ["no-store"]


def test_the_code_is_exchanged_with_the_pkce_verifier_and_our_client_credentials(
    auth_app: AuthApp,
) -> None:
    sign_in(auth_app, "the-code")

    (form,) = auth_app.google.token_requests
    assert form == {
        "grant_type": "authorization_code",
        "code": "the-code",
        "code_verifier": CODE_VERIFIER,
        "redirect_uri": REDIRECT_URI,
        "client_id": CLIENT_ID,
        "client_secret": "test-client-secret",
    }


def test_the_store_keeps_only_the_hash_of_the_session_id_and_encrypted_tokens(
    auth_app: AuthApp,
) -> None:
    response = sign_in(auth_app, "c1")
    session_id = cookie_pair(response).split("=", 1)[1]

    assert len(session_id) == 43  # 256 bits, base64url
    stored = auth_app.sessions.get(session_hash(session_id), auth_app.clock.now())
    assert stored is not None
    assert stored.session_hash != session_id
    assert stored.user_id == f"google:{GOOD_SUB}"
    assert b"ya29" not in stored.access_token
    assert b"refresh" not in stored.refresh_token
    assert stored.expires_at == auth_app.clock.now() + SESSION_TTL


@pytest.mark.parametrize(
    ("case", "token_kwargs"),
    [
        ("wrong signature", {"key": new_rsa_key()}),
        ("wrong audience", {"aud": "someone-else.apps.googleusercontent.com"}),
        ("wrong issuer", {"iss": "https://evil.example.com"}),
        ("expired", {"exp": -1}),
        ("unverified email", {"email_verified": False}),
        ("unknown key id", {"kid": "not-published"}),
    ],
)
def test_an_id_token_failing_a_check_is_401_and_sets_no_cookie(
    auth_app: AuthApp, case: str, token_kwargs: dict[str, object]
) -> None:
    google = auth_app.google
    if token_kwargs.get("exp") == -1:
        now = int(auth_app.clock.now().timestamp())
        token_kwargs = {"iat": now - 7200, "exp": now - 3600}
    google.will_answer("code", google.id_token(**token_kwargs))  # type: ignore[arg-type]

    response = auth_app.call(sign_in_event("code"))

    assert response["statusCode"] == 401, case
    assert body_of(response)["error"]["code"] == "unauthenticated"
    assert "Set-Cookie" not in response["multiValueHeaders"]


def test_a_code_google_refuses_is_401(auth_app: AuthApp) -> None:
    response = auth_app.call(sign_in_event("never-issued"))

    assert response["statusCode"] == 401
    assert "invalid_grant" in body_of(response)["error"]["message"]


@pytest.mark.parametrize(
    "failure",
    [httpx.Response(503, text="down"), httpx.ReadTimeout("slow")],
    ids=["5xx", "timeout"],
)
def test_google_failing_is_503_and_not_counted_against_the_client(
    auth_app: AuthApp, failure: httpx.Response | Exception
) -> None:
    auth_app.google.will_fail("code", failure)

    for _ in range(8):
        response = auth_app.call(sign_in_event("code"))
        assert response["statusCode"] == 503


def test_a_malformed_sign_in_body_is_400(auth_app: AuthApp) -> None:
    response = auth_app.call(
        recorded_event("auth_google.json", body={"code": "x", "codeVerifier": "short"})
    )

    assert response["statusCode"] == 400
    assert body_of(response)["error"]["code"] == "validation_error"
    assert auth_app.google.token_requests == []


def test_session_info_answers_who_is_signed_in_with_the_same_csrf_token(
    auth_app: AuthApp,
) -> None:
    signed_in = sign_in(auth_app)

    response = auth_app.call(session_event(cookie_pair(signed_in) + "; theme=dark"))

    assert response["statusCode"] == 200
    body = body_of(response)
    assert body["userId"] == f"google:{GOOD_SUB}"
    assert body["csrfToken"] == body_of(signed_in)["csrfToken"]
    assert body["expiresAt"] == body_of(signed_in)["expiresAt"]


@pytest.mark.parametrize(
    "cookie",
    [
        None,
        "theme=dark",
        "__Host-session=Yk3mZ0rXq8vB2nL5tW9cH1dF6gJ4sA7eP0uR3iO8kQ2",  # well-formed, unknown
        "__Host-session=not-a-session",
    ],
)
def test_session_info_without_a_live_session_is_401(auth_app: AuthApp, cookie: str | None) -> None:
    response = auth_app.call(session_event(cookie))

    assert response["statusCode"] == 401
    assert body_of(response)["error"]["code"] == "unauthenticated"


def test_the_recorded_session_event_unchanged_is_401(auth_app: AuthApp) -> None:
    response = auth_app.call(recorded_event("auth_session.json"))

    assert response["statusCode"] == 401


def test_a_session_expires_after_24_hours(auth_app: AuthApp) -> None:
    cookie = cookie_pair(sign_in(auth_app))

    auth_app.clock.advance(SESSION_TTL - timedelta(seconds=1))
    assert auth_app.call(session_event(cookie))["statusCode"] == 200
    auth_app.clock.advance(timedelta(seconds=1))
    assert auth_app.call(session_event(cookie))["statusCode"] == 401


def test_logout_deletes_the_session_and_clears_the_cookie(auth_app: AuthApp) -> None:
    signed_in = sign_in(auth_app)
    cookie, csrf = cookie_pair(signed_in), body_of(signed_in)["csrfToken"]

    response = auth_app.call(logout_event(cookie, csrf))

    assert response["statusCode"] == 204
    cleared = set_cookie(response)
    assert cleared.startswith("__Host-session=;")
    assert "Max-Age=0" in cleared
    assert auth_app.call(session_event(cookie))["statusCode"] == 401
    session_id = cookie.split("=", 1)[1]
    assert auth_app.sessions.get(session_hash(session_id), auth_app.clock.now()) is None


@pytest.mark.parametrize("csrf", [None, "", "wrong-token"])
def test_logout_without_the_right_csrf_token_is_403_and_keeps_the_session(
    auth_app: AuthApp, csrf: str | None
) -> None:
    """Sent from another site (one of our origins would vouch for it instead)."""
    cookie = cookie_pair(sign_in(auth_app))
    event = logout_event(cookie, csrf)
    for name in ("Origin", "Referer"):
        event["headers"][name] = event["multiValueHeaders"][name][0] = "https://evil.example"

    response = auth_app.call(event)

    assert response["statusCode"] == 403
    assert body_of(response)["error"]["code"] == "forbidden"
    assert auth_app.call(session_event(cookie))["statusCode"] == 200


def test_logout_without_a_session_still_clears_the_cookie(auth_app: AuthApp) -> None:
    response = auth_app.call(recorded_event("auth_logout.json"))

    assert response["statusCode"] == 204
    assert "Max-Age=0" in set_cookie(response)


def test_the_authenticator_accepts_the_session_and_checks_csrf_on_state_changes(
    auth_app: AuthApp,
) -> None:
    signed_in = sign_in(auth_app)
    cookie, csrf = cookie_pair(signed_in), body_of(signed_in)["csrfToken"]
    authenticator = auth_app.service.authenticator

    user = f"google:{GOOD_SUB}"
    assert authenticator.authenticate(cookie, None, state_changing=False) == user
    assert authenticator.authenticate(cookie, csrf, state_changing=True) == user
    from portfoliowise.domain.errors import Forbidden

    with pytest.raises(Forbidden):
        authenticator.authenticate(cookie, None, state_changing=True)


def test_failed_sign_ins_from_one_ip_are_rate_limited_but_not_another_ips(
    auth_app: AuthApp,
) -> None:
    for _ in range(5):
        assert auth_app.call(sign_in_event("bad", ip="198.51.100.7"))["statusCode"] == 401

    limited = auth_app.call(sign_in_event("bad", ip="198.51.100.7"))
    assert limited["statusCode"] == 429
    retry_after = int(limited["multiValueHeaders"]["Retry-After"][0])
    assert 0 < retry_after <= 15 * 60
    assert body_of(limited)["error"]["code"] == "rate_limited"
    # Even a good code is refused while blocked, and Google is not asked.
    asked = len(auth_app.google.token_requests)
    auth_app.google.will_answer("good", auth_app.google.id_token())
    assert auth_app.call(sign_in_event("good", ip="198.51.100.7"))["statusCode"] == 429
    assert len(auth_app.google.token_requests) == asked

    assert auth_app.call(sign_in_event("good", ip="198.51.100.8"))["statusCode"] == 200

    auth_app.clock.advance(timedelta(seconds=retry_after))
    assert auth_app.call(sign_in_event("good", ip="198.51.100.7"))["statusCode"] == 200


def test_a_forged_first_x_forwarded_for_entry_does_not_escape_the_limit(
    build_app: BuildApp,
) -> None:
    auth_app = build_app({"TRUSTED_IP_HEADER": "X-Forwarded-For"})

    def attempt(forged: str) -> int:
        event = recorded_event(
            "auth_google.json",
            body={"code": "bad", "codeVerifier": CODE_VERIFIER, "redirectUri": REDIRECT_URI},
            headers={"X-Forwarded-For": f"{forged}, 198.51.100.7"},
        )
        return int(auth_app.call(event)["statusCode"])

    assert [attempt(f"10.0.0.{i}") for i in range(5)] == [401] * 5
    assert attempt("10.0.0.99") == 429


def test_without_a_trusted_header_the_limit_is_per_api_gateway_source_ip(
    build_app: BuildApp,
) -> None:
    auth_app = build_app({"TRUSTED_IP_HEADER": ""})

    def attempt(source_ip: str, viewer: str) -> int:
        event = recorded_event(
            "auth_google.json",
            body={"code": "bad", "codeVerifier": CODE_VERIFIER, "redirectUri": REDIRECT_URI},
            headers={"CloudFront-Viewer-Address": f"{viewer}:1234"},
            source_ip=source_ip,
        )
        return int(auth_app.call(event)["statusCode"])

    assert [attempt("192.0.2.1", f"203.0.113.{i}") for i in range(5)] == [401] * 5
    assert attempt("192.0.2.1", "203.0.113.200") == 429
    assert attempt("192.0.2.2", "203.0.113.1") == 401


def test_the_recorded_google_event_signs_in_when_google_accepts_its_code(
    auth_app: AuthApp,
) -> None:
    auth_app.google.will_answer("4/0AeanS0Zrecorded-code", auth_app.google.id_token())

    response = auth_app.call(recorded_event("auth_google.json"))

    assert response["statusCode"] == 200
    assert cookie_pair(response).startswith("__Host-session=")


def test_a_redirect_uri_outside_the_configured_list_is_400(build_app: BuildApp) -> None:
    auth_app = build_app({"GOOGLE_REDIRECT_URIS": REDIRECT_URI})

    response = auth_app.call(
        recorded_event(
            "auth_google.json",
            body={
                "code": "c",
                "codeVerifier": CODE_VERIFIER,
                "redirectUri": "https://evil.example.com/cb",
            },
        )
    )

    assert response["statusCode"] == 400
    assert auth_app.google.token_requests == []


def test_without_a_google_client_id_google_sign_in_is_401(build_app: BuildApp) -> None:
    auth_app = build_app({"GOOGLE_CLIENT_ID": ""})

    response = auth_app.call(sign_in_event("good"))

    assert response["statusCode"] == 401


def test_sign_in_logs_carry_no_secrets(auth_app: AuthApp, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO")  # production level (Powertools' DEBUG lines echo request bodies)
    id_token = auth_app.google.id_token()
    auth_app.google.will_answer("secret-code", id_token)
    response = auth_app.call(sign_in_event("secret-code"))
    auth_app.call(sign_in_event("other-secret-code"))

    session_id = cookie_pair(response).split("=", 1)[1]
    logged = "\n".join(f"{record.getMessage()} {record.__dict__}" for record in caplog.records)
    for secret in ("secret-code", id_token, "ya29.", "1//refresh", session_id):
        assert secret not in logged
    assert "sign-in refused" in logged


def test_the_openapi_document_describes_the_auth_routes(auth_app: AuthApp) -> None:
    schema = json.loads(auth_app.app.get_openapi_json_schema())

    assert {"/auth/google", "/auth/session", "/auth/logout"} <= set(schema["paths"])
    assert "/auth/dev-login" not in schema["paths"]
    request = schema["components"]["schemas"]["GoogleSignInRequest"]
    assert set(request["required"]) == {"code", "codeVerifier", "redirectUri"}
