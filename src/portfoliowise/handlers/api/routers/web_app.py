"""The existing web app's configuration, subscription and Google Drive routes, in its own
shapes (read in its configService.ts, envUtils.ts, subscriptionService.ts,
googleDriveService.ts and authStore.ts). Served by the auth function (tag `auth`): it has
the Google client id and the session table, and none of these needs the market sources.

- `GET /config/client` (public): `marketDataApiUrl: ""`, `apiStage: "api-proxy"` and
  `features.useProxy: true` make every branch of the app's `getApiEndpoint` call
  `/api-proxy/<path>`: production builds always do; on localhost with `useProxy` it calls
  `/${apiStage}/<path>`; elsewhere, with no `marketDataApiUrl`, it falls back to
  `/${apiStage}/<path>` too. (Any `/prod` or `/dev` stage would miss the dev server's
  `/api-proxy` proxy.)
- `GET /v1/subscription/status`: the free plan with the enforced limits, no subscription.
  `POST /v1/subscription/checkout` and `/portal`: there is no billing, 404
  `billing_not_available` (the app's pricing page shows no error of a failed checkout;
  a 5xx would count against the API's 5xx alarm at every click).
- Google Drive is not integrated: `GET /drive/files`, `GET /drive/load`, `POST
  /drive/save` and `GET /auth/google/drive/initiate` answer 200 with `success: false`,
  `message` and `errorCode: DRIVE_NOT_AVAILABLE`. The app's response interceptor replaces
  every non-2xx answer by a generic error before its services see the body, so this is
  the only answer whose message the app shows (its Drive panel's error line); there is no
  `authUrl`, so it redirects nowhere. Signed out, each is 401 (the request guard)."""

from __future__ import annotations

from typing import Annotated, Final

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.depends import Depends

from portfoliowise.application.web_app import (
    ClientConfig,
    UsageLimits,
    subscription_status,
)
from portfoliowise.handlers.api import dependencies as deps
from portfoliowise.handlers.api.access import public
from portfoliowise.handlers.api.errors import error_response
from portfoliowise.handlers.api.responses import json_response
from portfoliowise.handlers.api.schemas.common import errors, ok
from portfoliowise.handlers.api.schemas.web_app import (
    ClientConfigOut,
    NotAvailableOut,
    SubscriptionStatusOut,
)

TAG = "auth"
# How the app builds its API URLs (see the module docstring): always `/api-proxy/<path>`.
API_PROXY_STAGE: Final = "api-proxy"
DRIVE_NOT_AVAILABLE: Final = "DRIVE_NOT_AVAILABLE"
DRIVE_MESSAGE: Final = "Google Drive 連携はご利用いただけません（このサービスでは提供していません）"
BILLING_MESSAGE: Final = (
    "有料プランの購入・管理はご利用いただけません（このサービスでは提供していません）"
)

router = Router()  # type: ignore[no-untyped-call]  # Powertools leaves it unannotated

Config = Annotated[ClientConfig, Depends(deps.client_config)]
User = Annotated[str, Depends(deps.current_user)]


def limits_json(limits: UsageLimits) -> dict[str, int]:
    return {
        "maxHoldings": limits.max_holdings,
        "maxTargets": limits.max_targets,
        "maxPortfolioNameLength": limits.max_portfolio_name_length,
        "maxTextLength": limits.max_text_length,
        "maxDecimalPlaces": limits.max_decimal_places,
        "maxQuoteSymbols": limits.max_quote_symbols,
        "maxMarketDataSymbols": limits.max_market_data_symbols,
        "maxHistoryDays": limits.max_history_days,
        "maxRequestBodyBytes": limits.max_request_body_bytes,
    }


@router.get(
    "/config/client",
    summary="The existing web app's client configuration",
    tags=[TAG],
    responses={200: ok(ClientConfigOut), **errors()},
)
@public
def client_config(config: Config) -> Response[str]:
    return json_response(
        {
            "success": True,
            "data": {
                "apiVersion": config.api_version,
                "marketDataApiUrl": "",
                "apiStage": API_PROXY_STAGE,
                "googleClientId": config.google_client_id,
                "features": {
                    "useProxy": True,
                    "useMockApi": False,
                    "useDirectApi": False,
                    "googleDrive": config.google_drive,
                    "billing": config.billing,
                },
                "limits": limits_json(config.limits),
                "supportedMarkets": list(config.supported_markets),
                "cacheTime": {"marketData": config.market_data_fresh_seconds},
            },
        }
    )


@router.get(
    "/v1/subscription/status",
    summary="The signed-in user's plan: always free (there is no billing)",
    tags=[TAG],
    responses={200: ok(SubscriptionStatusOut), **errors(401)},
)
def subscription(config: Config, user: User) -> Response[str]:
    status = subscription_status(config, user)
    return json_response(
        {
            "success": True,
            "data": {
                "planType": status.plan_type,
                "limits": limits_json(status.limits),
                "subscription": None,
                "hasStripeCustomer": status.has_payment_customer,
            },
        }
    )


def _no_billing() -> Response[str]:
    return error_response(404, "billing_not_available", BILLING_MESSAGE)


@router.post(
    "/v1/subscription/checkout",
    summary="Not offered: there is no billing (404 billing_not_available)",
    tags=[TAG],
    responses=errors(401, 403, 404, 413, 415),
)
def checkout(_user: User) -> Response[str]:
    return _no_billing()


@router.post(
    "/v1/subscription/portal",
    summary="Not offered: there is no billing (404 billing_not_available)",
    tags=[TAG],
    responses=errors(401, 403, 404, 413, 415),
)
def portal(_user: User) -> Response[str]:
    return _no_billing()


def _no_drive() -> Response[str]:
    return json_response(
        {
            "success": False,
            "error": {"code": "drive_not_available", "message": DRIVE_MESSAGE},
            "message": DRIVE_MESSAGE,
            "errorCode": DRIVE_NOT_AVAILABLE,
        }
    )


NOT_AVAILABLE = ok(NotAvailableOut, "Not available: Google Drive is not integrated")


@router.get(
    "/drive/files",
    summary="Google Drive is not integrated (success: false, DRIVE_NOT_AVAILABLE)",
    tags=[TAG],
    responses={200: NOT_AVAILABLE, **errors(401)},
)
def drive_files(_user: User) -> Response[str]:
    return _no_drive()


@router.get(
    "/drive/load",
    summary="Google Drive is not integrated (success: false, DRIVE_NOT_AVAILABLE)",
    tags=[TAG],
    responses={200: NOT_AVAILABLE, **errors(401)},
)
def drive_load(_user: User) -> Response[str]:
    return _no_drive()


@router.post(
    "/drive/save",
    summary="Google Drive is not integrated (success: false, DRIVE_NOT_AVAILABLE)",
    tags=[TAG],
    responses={200: NOT_AVAILABLE, **errors(401, 403, 413, 415)},
)
def drive_save(_user: User) -> Response[str]:
    return _no_drive()


@router.get(
    "/auth/google/drive/initiate",
    summary="Google Drive is not integrated: no authorization URL",
    tags=[TAG],
    responses={200: NOT_AVAILABLE, **errors(401)},
)
def drive_initiate(_user: User) -> Response[str]:
    return _no_drive()
