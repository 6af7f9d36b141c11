"""The existing web app's sign-in, session, refresh and write calls, as its code sends them
(`src/stores/authStore.ts`, `src/utils/apiUtils.ts`, `src/utils/csrfManager.ts` of
Rih0z/portfolio-manager `frontend/webapp`), answered in the shapes it reads:

- `POST /auth/google/login {credential}` (Google Sign-In's `GoogleLogin` gives an ID token)
  or `{code, redirectUri}` (no PKCE verifier): the app reads `response.success`,
  `data.accessToken`, `data.user`, `data.hasDriveAccess`; axios' interceptor keeps
  `data.accessToken` as its bearer token.
- `checkTokenLocally`: the JWT's payload (`sub`, `email`, `name`, `picture`, `exp`) is read
  without verification, and a token is used while `exp > now + 300`.
- `POST /auth/refresh` (plain axios, cookies, body `{}`, no CSRF header): `data.accessToken`.
- `GET /auth/session`: `success`, `isAuthenticated`, `user`, `hasDriveAccess`, `accessToken`.
- Every write carries the constant `X-CSRF-Token: dummy-csrf-token`."""

from __future__ import annotations

import base64
import copy
import json
from datetime import timedelta
from typing import Any

import pytest
from auth_harness import EVENTS, AuthApp, BuildApp, body_of, cookie_pair, cookies_of, set_cookie
from fake_google import REDIRECT_URI

from portfoliowise.application.auth import session_hash
from portfoliowise.domain.sessions import REFRESH_GRACE

APP_ORIGIN = "https://portfolio-wise.com"
DUMMY_CSRF = "dummy-csrf-token"  # csrfManager.refreshToken() answers this constant


def event(
    method: str,
    path: str,
    *,
    headers: dict[str, str | None] | None = None,
    body: Any = None,
) -> dict[str, Any]:
    """A proxy event as CloudFront + API Gateway deliver the app's request (the recorded
    sign-in event with another method, path, headers and body)."""
    base: dict[str, Any] = copy.deepcopy(json.loads((EVENTS / "auth_google.json").read_text()))
    base.update(resource=path, path=path, httpMethod=method)
    base["body"] = None if body is None else json.dumps(body)
    for key, value in (headers or {}).items():
        for existing in [k for k in base["headers"] if k.lower() == key.lower()]:
            del base["headers"][existing]
            del base["multiValueHeaders"][existing]
        if value is not None:
            base["headers"][key] = value
            base["multiValueHeaders"][key] = [value]
    return base


def jwt_payload(token: str) -> dict[str, Any]:
    """What the app's `checkTokenLocally` does: `JSON.parse(atob(parts[1]))`."""
    part = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))))


def app_sign_in(auth_app: AuthApp, **claims: Any) -> dict[str, Any]:
    credential = auth_app.google.id_token(
        name="山田 太郎", picture="https://lh3.googleusercontent.com/a/photo", **claims
    )
    response = auth_app.call(
        event(
            "POST",
            "/auth/google/login",
            headers={"X-CSRF-Token": DUMMY_CSRF},
            body={"credential": credential},
        )
    )
    assert response["statusCode"] == 200, response["body"]
    return response


@pytest.fixture
def app_with_whoami(auth_app: AuthApp) -> AuthApp:
    """The auth resolver plus one route that needs a signed-in caller (any route of ours that
    is not public goes through the same request guard)."""

    @auth_app.app.get("/whoami")
    def whoami() -> dict[str, str]:
        return {"user": str(auth_app.app.context["user_id"])}

    @auth_app.app.put("/whoami")
    def change() -> dict[str, str]:
        return {"user": str(auth_app.app.context["user_id"])}

    return auth_app


# --- sign-in --------------------------------------------------------------------------------


def test_sign_in_with_a_google_credential_answers_what_the_app_reads(auth_app: AuthApp) -> None:
    response = app_sign_in(auth_app)
    body = body_of(response)
    assert body["success"] is True
    data = body["data"]
    assert data["isAuthenticated"] is True
    assert data["hasDriveAccess"] is False
    assert data["user"] == {
        "id": "google:110169484474386276334",
        "email": "taro@example.com",
        "name": "山田 太郎",
        "picture": "https://lh3.googleusercontent.com/a/photo",
    }
    payload = jwt_payload(data["accessToken"])
    assert payload["sub"] == data["user"]["id"]
    assert payload["email"] == "taro@example.com"
    assert payload["name"] == "山田 太郎"
    assert payload["picture"] == "https://lh3.googleusercontent.com/a/photo"
    now = int(auth_app.clock.now().timestamp())
    assert payload["exp"] == now + 15 * 60
    assert payload["exp"] > now + 300  # checkTokenLocally keeps it
    assert set_cookie(response).startswith("__Host-session=")
    refresh = set_cookie(response, "__Host-refresh")
    for attribute in ("HttpOnly", "Secure", "SameSite=Strict"):
        assert attribute in refresh
    assert response["multiValueHeaders"]["Cache-Control"] == ["no-store"]


def test_the_access_token_names_its_key_and_is_hs256(auth_app: AuthApp) -> None:
    token = body_of(app_sign_in(auth_app))["data"]["accessToken"]
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    assert header["alg"] == "HS256"
    assert len(header["kid"]) == 16


def test_a_refused_credential_is_401_in_the_apps_error_shape(auth_app: AuthApp) -> None:
    forged = auth_app.google.id_token(aud="someone-else.apps.googleusercontent.com")
    response = auth_app.call(event("POST", "/auth/google/login", body={"credential": forged}))
    assert response["statusCode"] == 401
    body = body_of(response)
    assert body["success"] is False
    assert body["error"]["code"] == "unauthenticated"
    assert "Set-Cookie" not in response["multiValueHeaders"]


def test_a_code_without_pkce_signs_in_for_a_configured_redirect_uri(
    build_app: BuildApp,
) -> None:
    redirect = f"{APP_ORIGIN}/auth/google/callback"  # what the app sends
    auth_app = build_app({"GOOGLE_REDIRECT_URIS": f"{REDIRECT_URI},{redirect}"})
    code = auth_app.google.will_answer("4/app-code", auth_app.google.id_token())
    response = auth_app.call(
        event("POST", "/auth/google/login", body={"code": code, "redirectUri": redirect})
    )
    assert response["statusCode"] == 200, response["body"]
    assert body_of(response)["data"]["user"]["id"] == "google:110169484474386276334"
    sent = auth_app.google.token_requests[-1]
    assert "code_verifier" not in sent
    assert sent["redirect_uri"] == redirect


def test_a_code_without_pkce_is_refused_for_any_other_redirect_uri(build_app: BuildApp) -> None:
    auth_app = build_app({"GOOGLE_REDIRECT_URIS": REDIRECT_URI})
    code = auth_app.google.will_answer("4/app-code", auth_app.google.id_token())
    response = auth_app.call(
        event(
            "POST",
            "/auth/google/login",
            body={"code": code, "redirectUri": "https://evil.example/auth/google/callback"},
        )
    )
    assert response["statusCode"] == 400
    assert auth_app.google.token_requests == []


def test_a_code_without_pkce_needs_the_redirect_uris_configured(auth_app: AuthApp) -> None:
    code = auth_app.google.will_answer("4/app-code", auth_app.google.id_token())
    response = auth_app.call(
        event("POST", "/auth/google/login", body={"code": code, "redirectUri": REDIRECT_URI})
    )
    assert response["statusCode"] == 400
    assert auth_app.google.token_requests == []


@pytest.mark.parametrize(
    "body",
    [{}, {"redirectUri": REDIRECT_URI}, {"code": "c"}, {"credential": "x", "code": "c"}],
)
def test_a_sign_in_body_without_one_way_in_is_400(auth_app: AuthApp, body: Any) -> None:
    response = auth_app.call(event("POST", "/auth/google/login", body=body))
    assert response["statusCode"] == 400


# --- session --------------------------------------------------------------------------------


def test_the_session_answers_in_the_apps_shape_with_a_fresh_token(auth_app: AuthApp) -> None:
    signed_in = app_sign_in(auth_app)
    response = auth_app.call(
        event("GET", "/auth/session", headers={"Cookie": cookies_of(signed_in)})
    )
    assert response["statusCode"] == 200
    body = body_of(response)
    assert body["success"] is True
    assert body["isAuthenticated"] is True
    assert body["hasDriveAccess"] is False
    assert body["user"]["email"] == "taro@example.com"
    assert body["user"]["name"] == "山田 太郎"
    assert jwt_payload(body["accessToken"])["sub"] == body["user"]["id"]
    assert body["userId"] == body["user"]["id"]  # and ours, as before
    assert body["csrfToken"] == body_of(signed_in)["csrfToken"]


# --- bearer tokens --------------------------------------------------------------------------


def test_a_bearer_token_alone_authenticates_reads_and_writes(app_with_whoami: AuthApp) -> None:
    token = body_of(app_sign_in(app_with_whoami))["data"]["accessToken"]
    for method in ("GET", "PUT"):
        response = app_with_whoami.call(
            event(
                method,
                "/whoami",
                headers={"Authorization": f"Bearer {token}", "Origin": None, "Referer": None},
                body={} if method == "PUT" else None,
            )
        )
        assert response["statusCode"] == 200, response["body"]
        assert body_of(response) == {"user": "google:110169484474386276334"}


def test_an_expired_bearer_token_is_401_invalid_token(app_with_whoami: AuthApp) -> None:
    token = body_of(app_sign_in(app_with_whoami))["data"]["accessToken"]
    app_with_whoami.clock.advance(timedelta(minutes=16))
    response = app_with_whoami.call(
        event("GET", "/whoami", headers={"Authorization": f"Bearer {token}"})
    )
    assert response["statusCode"] == 401
    assert body_of(response)["message"].startswith("Invalid token")  # the app then forgets it


def test_a_tampered_bearer_token_is_401(app_with_whoami: AuthApp) -> None:
    token = body_of(app_sign_in(app_with_whoami))["data"]["accessToken"]
    header, _payload, signature = token.split(".")
    claims = jwt_payload(token)
    claims["sub"] = "google:someone-else"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    for bad in (f"{header}.{forged}.{signature}", token[:-2] + "AA", "not.a.jwt", ""):
        response = app_with_whoami.call(
            event("GET", "/whoami", headers={"Authorization": f"Bearer {bad}"})
        )
        assert response["statusCode"] == 401, bad


def test_a_bearer_token_ends_with_its_session(app_with_whoami: AuthApp) -> None:
    signed_in = app_sign_in(app_with_whoami)
    token = body_of(signed_in)["data"]["accessToken"]
    logout = app_with_whoami.call(
        event(
            "POST",
            "/auth/logout",
            headers={"Cookie": cookies_of(signed_in), "X-CSRF-Token": DUMMY_CSRF},
        )
    )
    assert logout["statusCode"] == 204
    response = app_with_whoami.call(
        event("GET", "/whoami", headers={"Authorization": f"Bearer {token}"})
    )
    assert response["statusCode"] == 401


# --- writes with the app's constant CSRF header ---------------------------------------------


@pytest.mark.parametrize(
    ("origin", "referer", "status"),
    [
        (APP_ORIGIN, None, 200),
        (None, f"{APP_ORIGIN}/settings", 200),
        ("https://evil.example", f"{APP_ORIGIN}/", 403),
        ("null", None, 403),
        (None, "https://evil.example/", 403),
        (None, None, 403),
        ("https://portfolio-wise.com.evil.example", None, 403),
    ],
)
def test_cookie_writes_need_our_csrf_token_or_one_of_our_origins(
    app_with_whoami: AuthApp, origin: str | None, referer: str | None, status: int
) -> None:
    signed_in = app_sign_in(app_with_whoami)
    response = app_with_whoami.call(
        event(
            "PUT",
            "/whoami",
            headers={
                "Cookie": cookie_pair(signed_in),
                "X-CSRF-Token": DUMMY_CSRF,
                "Origin": origin,
                "Referer": referer,
            },
            body={},
        )
    )
    assert response["statusCode"] == status, response["body"]


def test_our_csrf_token_still_works_without_an_origin(app_with_whoami: AuthApp) -> None:
    signed_in = app_sign_in(app_with_whoami)
    response = app_with_whoami.call(
        event(
            "PUT",
            "/whoami",
            headers={
                "Cookie": cookie_pair(signed_in),
                "X-CSRF-Token": body_of(signed_in)["csrfToken"],
                "Origin": None,
                "Referer": None,
            },
            body={},
        )
    )
    assert response["statusCode"] == 200


# --- refresh --------------------------------------------------------------------------------


def refresh(auth_app: AuthApp, cookies: str, **headers: str | None) -> dict[str, Any]:
    return auth_app.call(
        event("POST", "/auth/refresh", headers={"Cookie": cookies, **headers}, body={})
    )


def test_refresh_answers_a_new_token_and_rotates_the_cookie(auth_app: AuthApp) -> None:
    signed_in = app_sign_in(auth_app)
    auth_app.clock.advance(timedelta(minutes=14))
    response = refresh(auth_app, cookies_of(signed_in))
    assert response["statusCode"] == 200, response["body"]
    body = body_of(response)
    assert body["success"] is True
    payload = jwt_payload(body["data"]["accessToken"])
    assert payload["exp"] == int(auth_app.clock.now().timestamp()) + 15 * 60
    assert payload["email"] == "taro@example.com"
    new_cookie = cookie_pair(response, "__Host-refresh")
    assert new_cookie != cookie_pair(signed_in, "__Host-refresh")
    # the rotated token works once more
    again = refresh(auth_app, f"{cookie_pair(signed_in)}; {new_cookie}")
    assert again["statusCode"] == 200


def test_a_reused_refresh_token_ends_the_whole_session(auth_app: AuthApp) -> None:
    signed_in = app_sign_in(auth_app)
    first = refresh(auth_app, cookies_of(signed_in))
    assert first["statusCode"] == 200
    auth_app.clock.advance(REFRESH_GRACE + timedelta(seconds=1))
    stolen = refresh(auth_app, cookies_of(signed_in))  # the old refresh token, again
    assert stolen["statusCode"] == 401
    assert body_of(stolen)["error"]["code"] == "refresh_token_reused"
    assert set_cookie(stolen).startswith("__Host-session=;")
    session_id = cookie_pair(signed_in).split("=", 1)[1]
    assert auth_app.sessions.get(session_hash(session_id), auth_app.clock.now()) is None
    # and the legitimate holder of the rotated token is signed out too
    rotated = f"{cookie_pair(signed_in)}; {cookie_pair(first, '__Host-refresh')}"
    assert refresh(auth_app, rotated)["statusCode"] == 401


def test_two_tabs_refreshing_at_once_both_get_a_token(auth_app: AuthApp) -> None:
    signed_in = app_sign_in(auth_app)
    first = refresh(auth_app, cookies_of(signed_in))
    second = refresh(auth_app, cookies_of(signed_in))  # same old cookie, a moment later
    assert first["statusCode"] == 200
    assert second["statusCode"] == 200
    assert "Set-Cookie" not in second["multiValueHeaders"]  # the first tab's cookie stays


def test_refresh_signed_out_is_401(auth_app: AuthApp) -> None:
    response = refresh(auth_app, "")
    assert response["statusCode"] == 401
    assert body_of(response)["success"] is False


def test_refresh_from_another_site_is_403(auth_app: AuthApp) -> None:
    signed_in = app_sign_in(auth_app)
    response = refresh(auth_app, cookies_of(signed_in), Origin="https://evil.example", Referer=None)
    assert response["statusCode"] == 403


def test_refresh_without_the_refresh_cookie_is_401(auth_app: AuthApp) -> None:
    signed_in = app_sign_in(auth_app)
    assert refresh(auth_app, cookie_pair(signed_in))["statusCode"] == 401


def test_tokens_signed_before_a_key_rotation_stay_valid_until_they_expire(
    build_app: BuildApp,
) -> None:
    old_key, new_key = "o" * 40, "n" * 40
    before = build_app({"SESSION_SIGNING_KEY": old_key})
    token = body_of(app_sign_in(before))["data"]["accessToken"]
    # the same sessions, now verified by a service whose current key is the new one
    from portfoliowise.adapters.crypto.jwt_codec import JwtAccessTokenCodec
    from portfoliowise.application.access_tokens import AccessTokens
    from portfoliowise.application.signing_keys import KeyRing

    rotated = AccessTokens(JwtAccessTokenCodec(), KeyRing([new_key.encode(), old_key.encode()]))
    claims = rotated.verify(token, before.clock.now())
    assert claims.user_id == "google:110169484474386276334"
    only_new = AccessTokens(JwtAccessTokenCodec(), KeyRing([new_key.encode()]))
    with pytest.raises(Exception, match="Invalid token"):
        only_new.verify(token, before.clock.now())
