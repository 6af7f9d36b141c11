"""Contract of the existing web app's configuration, subscription and Google Drive calls
(snapshot of its code: src/services/configService.ts, src/utils/envUtils.ts,
subscriptionService.ts, googleDriveService.ts, src/stores/authStore.ts): requests as the
app sends them, answers checked against what its code reads. The `app_*` helpers follow
the app's code, so that each test says what the app then does."""

from __future__ import annotations

import json
from typing import Any

import pytest
from api_harness import NOW, LambdaContext, fake_container, make_event
from dependency_injector import providers

from portfoliowise.adapters.clock import FixedClock
from portfoliowise.application.market_limits import MAX_HISTORY_DAYS, MAX_SYMBOLS
from portfoliowise.domain import limits
from portfoliowise.handlers import bootstrap
from portfoliowise.handlers.api.app import build_app
from portfoliowise.handlers.api.schemas.common import ErrorBody
from portfoliowise.handlers.api.schemas.web_app import (
    ClientConfigOut,
    NotAvailableOut,
    SubscriptionStatusOut,
)
from portfoliowise.handlers.container import Container
from portfoliowise.handlers.settings import AuthSettings, Settings

CLIENT_ID = "1234-abc.apps.googleusercontent.com"

# -- what the app does with an answer (its code, transcribed) ------------------------------


def app_api_endpoint(
    config: dict[str, Any], path: str, *, production: bool, localhost: bool
) -> str:
    """envUtils.ts getApiEndpoint (lines 72-102)."""
    base = config.get("marketDataApiUrl") or ""
    stage = config.get("apiStage") or "dev"
    clean = path.removeprefix("/")
    if production:
        return f"/api-proxy/{clean}"
    if localhost and (config.get("features") or {}).get("useProxy"):
        return f"/{stage}/{clean}"
    if base:
        if "/prod" in base or "/dev" in base:
            return f"{base}/{clean}"
        return f"{base}/{stage}/{clean}"
    return f"/{stage}/{clean}"


def app_fetch_drive_files(status: int, body: Any) -> dict[str, Any]:
    """googleDriveService.ts fetchDriveFiles: a non-2xx answer reaches it as the
    interceptor's generic error (errorHandler.ts handleApiError), never as the body."""
    if status >= 300:
        return {"success": False, "error": "generic error of the status", "files": []}
    if body.get("success"):
        return {"success": True, "files": body.get("files") or []}
    return {
        "success": False,
        "error": body.get("message") or "ファイル一覧の取得に失敗しました",
        "files": [],
        "errorCode": body.get("errorCode"),
    }


def app_initiate_drive_auth(status: int, body: Any) -> tuple[bool, str | None]:
    """authStore.ts initiateDriveAuth: (returned, the redirect it makes)."""
    if status < 300 and body.get("authUrl"):
        return True, body["authUrl"]
    return False, None


# -- fixtures ---------------------------------------------------------------------------


@pytest.fixture
def container(clock: FixedClock) -> Container:
    container = fake_container(clock)
    settings = Settings(auth=AuthSettings(google_client_id=CLIENT_ID))
    container.settings.override(providers.Object(settings))
    return container


def send(
    app: Any,
    method: str,
    path: str,
    *,
    user: str | None = "userA",
    query: dict[str, str] | None = None,
    body: Any = ...,
) -> tuple[int, Any]:
    event = "create_portfolio.json" if method == "POST" else "health.json"
    response = app.resolve(
        make_event(event, method=method, path=path, user=user, query=query, body=body),
        LambdaContext(),
    )
    return response["statusCode"], json.loads(response["body"] or "null")


def assert_error_body(status: int, body: Any, code: str) -> None:
    assert 400 <= status < 500
    ErrorBody.model_validate(body)
    assert body["success"] is False
    assert body["error"]["code"] == code
    assert body["message"] == body["error"]["message"]


# -- /config/client ---------------------------------------------------------------------


def test_client_config_in_the_apps_shape(app: Any) -> None:
    status, body = send(app, "GET", "/config/client", user=None)  # public
    assert status == 200, body
    ClientConfigOut.model_validate(body)
    assert body["success"] is True  # configService: `response.data.success`, then `.data`
    config = body["data"]
    assert config["googleClientId"] == CLIENT_ID  # authStore.initializeAuth reads it
    assert config["apiVersion"] == "1.0.0"
    assert config["features"] == {
        "useProxy": True,
        "useMockApi": False,
        "useDirectApi": False,
        "googleDrive": False,
        "billing": False,
    }
    assert config["supportedMarkets"] == ["us-stock", "jp-stock", "mutual-fund", "exchange-rate"]
    assert config["cacheTime"] == {"marketData": 3600}


@pytest.mark.parametrize(
    ("production", "localhost"), [(True, False), (False, True), (False, False)]
)
def test_every_branch_of_the_app_calls_the_api_proxy(
    app: Any, production: bool, localhost: bool
) -> None:
    config = send(app, "GET", "/config/client", user=None)[1]["data"]
    for path in ("api/market-data", "api/price-history", "v1/subscription/status"):
        endpoint = app_api_endpoint(config, path, production=production, localhost=localhost)
        assert endpoint == f"/api-proxy/{path}"


def test_the_limits_are_the_enforced_ones(app: Any) -> None:
    config = send(app, "GET", "/config/client", user=None)[1]["data"]
    assert config["limits"] == {
        "maxHoldings": limits.MAX_HOLDINGS,
        "maxTargets": limits.MAX_TARGETS,
        "maxPortfolioNameLength": limits.MAX_NAME_LENGTH,
        "maxTextLength": limits.MAX_TEXT_LENGTH,
        "maxDecimalPlaces": limits.MAX_DECIMAL_PLACES,
        "maxQuoteSymbols": MAX_SYMBOLS,
        "maxMarketDataSymbols": 400,
        "maxHistoryDays": MAX_HISTORY_DAYS,
        "maxRequestBodyBytes": Settings().max_body_bytes,
    }


def test_without_a_google_client_id_the_config_says_so(clock: FixedClock) -> None:
    app = build_app(fake_container(clock))
    status, body = send(app, "GET", "/config/client", user=None)
    assert status == 200
    assert body["data"]["googleClientId"] == ""  # the app then uses its own placeholder


# -- /v1/subscription -------------------------------------------------------------------


def test_the_plan_is_free_with_the_enforced_limits(app: Any) -> None:
    status, body = send(app, "GET", "/v1/subscription/status")
    assert status == 200, body
    SubscriptionStatusOut.model_validate(body)
    assert body["success"] is True  # subscriptionService: `response.success && response.data`
    data = body["data"]
    assert data["planType"] == "free"  # useIsPremium: planType === 'standard'
    assert data["subscription"] is None
    assert data["hasStripeCustomer"] is False
    config = send(app, "GET", "/config/client", user=None)[1]["data"]
    assert data["limits"] == config["limits"]


def test_the_plan_needs_a_session(app: Any) -> None:
    status, body = send(app, "GET", "/v1/subscription/status", user=None)
    assert status == 401
    assert_error_body(status, body, "unauthenticated")


@pytest.mark.parametrize("path", ["/v1/subscription/checkout", "/v1/subscription/portal"])
def test_there_is_no_billing(app: Any, path: str) -> None:
    # the app posts {plan} (checkout) or nothing (portal); it throws on a non-2xx answer and
    # its pricing page shows nothing of it (no onError); 4xx, not 5xx, as nothing failed
    status, body = send(app, "POST", path, body={"plan": "monthly"})
    assert status == 404
    assert_error_body(status, body, "billing_not_available")
    status, body = send(app, "POST", path, body=None)
    assert status == 404
    status, body = send(app, "POST", path, user=None, body={"plan": "annual"})
    assert status == 401


def test_billing_posts_need_the_csrf_token(app: Any) -> None:
    response = app.resolve(
        make_event(
            "create_portfolio.json",
            path="/v1/subscription/checkout",
            body={"plan": "monthly"},
            headers={"X-CSRF-Token": "wrong"},
        ),
        LambdaContext(),
    )
    assert response["statusCode"] == 403


# -- Google Drive -----------------------------------------------------------------------

DRIVE_CALLS = [
    ("GET", "/drive/files", None, ...),
    ("GET", "/drive/load", {"fileId": "latest"}, ...),
    ("POST", "/drive/save", None, {"portfolioData": {"baseCurrency": "JPY"}}),
    ("GET", "/auth/google/drive/initiate", None, ...),
]


@pytest.mark.parametrize(("method", "path", "query", "body"), DRIVE_CALLS)
def test_drive_is_not_available_in_the_apps_failure_shape(
    app: Any, method: str, path: str, query: dict[str, str] | None, body: Any
) -> None:
    status, answer = send(app, method, path, query=query, body=body)
    assert status == 200, answer
    NotAvailableOut.model_validate(answer)
    assert answer["success"] is False
    assert answer["errorCode"] == "DRIVE_NOT_AVAILABLE"
    assert answer["error"]["code"] == "drive_not_available"
    assert answer["message"] == answer["error"]["message"]
    assert "authUrl" not in answer  # nothing to redirect to
    assert "needsDriveAuth" not in answer


def test_the_app_shows_our_message_in_its_drive_panel(app: Any) -> None:
    status, body = send(app, "GET", "/drive/files")
    shown = app_fetch_drive_files(status, body)
    assert shown == {
        "success": False,
        "error": body["message"],
        "files": [],
        "errorCode": "DRIVE_NOT_AVAILABLE",
    }
    assert "Google Drive" in shown["error"]


def test_drive_authorization_redirects_nowhere(app: Any) -> None:
    status, body = send(app, "GET", "/auth/google/drive/initiate")
    assert app_initiate_drive_auth(status, body) == (False, None)


@pytest.mark.parametrize(("method", "path", "query", "body"), DRIVE_CALLS)
def test_drive_needs_a_session(
    app: Any, method: str, path: str, query: dict[str, str] | None, body: Any
) -> None:
    status, answer = send(app, method, path, user=None, query=query, body=body)
    assert status == 401
    assert_error_body(status, answer, "unauthenticated")


# -- which function serves them ----------------------------------------------------------


def test_the_auth_function_serves_them_and_the_market_function_does_not(
    container: Container,
) -> None:
    auth = bootstrap.auth_function(container)
    assert send(auth, "GET", "/config/client", user=None)[0] == 200
    assert send(auth, "GET", "/v1/subscription/status")[0] == 200
    assert send(auth, "GET", "/drive/files")[0] == 200
    market = bootstrap.market_function(fake_container(FixedClock(NOW)))
    assert send(market, "GET", "/config/client", user=None)[0] == 404
    assert send(market, "GET", "/v1/subscription/status")[0] == 404


def test_the_document_tags_them_with_their_functions() -> None:
    from portfoliowise.handlers.api.app import document_of_every_route

    paths = json.loads(document_of_every_route())["paths"]
    for path in (
        "/config/client",
        "/v1/subscription/status",
        "/v1/subscription/checkout",
        "/v1/subscription/portal",
        "/drive/files",
        "/drive/load",
        "/drive/save",
        "/auth/google/drive/initiate",
    ):
        for operation in paths[path].values():
            assert operation["tags"] == ["auth"], path
    assert paths["/api/price-history"]["get"]["tags"] == ["market"]
