"""`POST /auth/dev-login`: served only with `DEV_LOGIN` on and outside Lambda; inside Lambda it
does not exist, whatever the flag says."""

from __future__ import annotations

from pathlib import Path

import pytest
from auth_harness import BuildApp, body_of, cookie_pair, recorded_event, set_cookie

from portfoliowise.adapters.clock import SystemClock
from portfoliowise.adapters.memory import InMemorySessionStore
from portfoliowise.domain.errors import Forbidden

LAMBDA_ENV = {"AWS_LAMBDA_FUNCTION_NAME": "portfoliowise-auth"}


def test_dev_login_with_the_flag_sets_the_same_session_cookie(build_app: BuildApp) -> None:
    auth_app = build_app({"DEV_LOGIN": "1"})

    response = auth_app.call(recorded_event("auth_dev_login.json"))

    assert response["statusCode"] == 200, response["body"]
    body = body_of(response)
    assert body["userId"] == "dev:dev@example.com"
    assert body["email"] == "dev@example.com"
    assert "HttpOnly" in set_cookie(response)
    session = auth_app.call(
        recorded_event("auth_session.json", headers={"Cookie": cookie_pair(response)})
    )
    assert session["statusCode"] == 200
    assert body_of(session)["userId"] == "dev:dev@example.com"
    assert body_of(session)["csrfToken"] == body["csrfToken"]


def test_dev_login_normalizes_the_email_into_a_stable_user_id(build_app: BuildApp) -> None:
    auth_app = build_app({"DEV_LOGIN": "true"})

    first = auth_app.call(recorded_event("auth_dev_login.json", body={"email": "Dev@Example.com"}))
    again = auth_app.call(recorded_event("auth_dev_login.json", body={"email": "dev@example.com"}))

    assert body_of(first)["userId"] == body_of(again)["userId"] == "dev:dev@example.com"


@pytest.mark.parametrize("body", [{"email": "not-an-email"}, {}, {"email": "a@b.c", "x": 1}])
def test_dev_login_with_a_bad_body_is_400(build_app: BuildApp, body: dict[str, object]) -> None:
    auth_app = build_app({"DEV_LOGIN": "1"})

    response = auth_app.call(recorded_event("auth_dev_login.json", body=body))

    assert response["statusCode"] == 400


def test_without_the_flag_dev_login_does_not_exist(build_app: BuildApp) -> None:
    auth_app = build_app()

    response = auth_app.call(recorded_event("auth_dev_login.json"))

    assert response["statusCode"] == 404
    assert "Set-Cookie" not in response["multiValueHeaders"]


def test_inside_lambda_dev_login_is_impossible_even_with_the_flag(build_app: BuildApp) -> None:
    auth_app = build_app({"DEV_LOGIN": "1"}, environ=LAMBDA_ENV)

    response = auth_app.call(recorded_event("auth_dev_login.json"))

    assert response["statusCode"] == 404
    assert "Set-Cookie" not in response["multiValueHeaders"]
    assert auth_app.service.dev_login_enabled is False
    with pytest.raises(Forbidden):
        auth_app.service.dev_login("dev@example.com")


def test_inside_lambda_by_the_process_environment_dev_login_is_impossible(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The settings read the process's environment: the Lambda runtime always sets the name."""
    from portfoliowise.handlers.auth_wiring import build_auth_app, build_auth_service
    from portfoliowise.handlers.settings import Settings

    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "portfoliowise-auth")
    config = {
        "DEV_LOGIN": "1",
        "SESSION_SIGNING_KEY": "s" * 64,
        "SESSION_KMS_KEY_ID": "alias/portfoliowise-session-tokens",
        "PORTFOLIOWISE_DATA_DIR": str(tmp_path),
    }
    for key, value in config.items():
        monkeypatch.setenv(key, value)
    settings = Settings.from_env().auth
    assert settings.dev_login is False
    service = build_auth_service(settings, InMemorySessionStore(), SystemClock())
    app = build_auth_app(service, settings)

    response = app.resolve(recorded_event("auth_dev_login.json"), None)

    assert response["statusCode"] == 404
