"""The existing web app's portfolio sync, in its own shapes (its portfolioSyncService.ts and
portfolioStore.ts `syncToServer`, `syncFromServer`, `resolveConflict`): the signed-in
user's default portfolio (`application.web_app_portfolio`), served by the portfolio
function (tag `portfolios`).

- `GET /api/portfolio` → `{success: true, data: {currentAssets, targetPortfolio,
  baseCurrency, exchangeRate, additionalBudget, aiPromptTemplate, version, updatedAt}}`,
  `data: null` when the user has no portfolio yet.
- `PUT /api/portfolio` with that document and the `version` last read (null: "keep mine",
  overwrite) → `{success: true, data: {version, updatedAt}}`. A stale version is a 409
  `{success: false, error: {code: "VERSION_CONFLICT", message, userFriendly: true,
  details: {serverVersion}}, message}`: the app's response interceptor passes an error on
  as it is only when `error.userFriendly` is true (its `handleApiError`), and its
  `syncToServer` looks for that `code` on what is thrown.
- Numbers are JSON numbers read as `Decimal` and written with exactly their digits. A
  document that breaks a rule is a 400 in the standard error shape, which the app's
  `authFetch` hands back to `saveServerPortfolio` (it shows `error.message`)."""

from __future__ import annotations

import json
from typing import Annotated, Any, Final

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.depends import Depends
from aws_lambda_powertools.event_handler.request import Request
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from portfoliowise.application.portfolio_commands import PortfolioPorts
from portfoliowise.application.web_app_portfolio import (
    WebAppDocuments,
    load_web_app_portfolio,
    save_web_app_portfolio,
)
from portfoliowise.domain.audit import RequestContext
from portfoliowise.domain.errors import ConflictError, ValidationError
from portfoliowise.domain.limits import (
    MAX_HOLDINGS,
    MAX_PROMPT_TEMPLATE_LENGTH,
    MAX_TARGETS,
)
from portfoliowise.handlers.api import dependencies as deps
from portfoliowise.handlers.api.schemas.common import errors, ok
from portfoliowise.handlers.api.schemas.web_app_portfolio import (
    WebAppConflictOut,
    WebAppPortfolioOut,
    WebAppSavedOut,
)
from portfoliowise.handlers.presenters import json_with_numbers

TAG = "portfolios"  # the portfolio function's routes
PATH: Final = "/api/portfolio"
VERSION_CONFLICT: Final = "VERSION_CONFLICT"
CONFLICT_MESSAGE: Final = (
    "ポートフォリオが別の端末またはセッションで更新されています（サーバーのバージョン {version}）。"
    "最新のデータを読み込むか、この端末のデータで上書きしてください。"
)

router = Router()  # type: ignore[no-untyped-call]  # Powertools leaves it unannotated

User = Annotated[str, Depends(deps.current_user)]
Context = Annotated[RequestContext, Depends(deps.request_context)]
Ports = Annotated[PortfolioPorts, Depends(deps.portfolio_ports)]
Documents = Annotated[WebAppDocuments, Depends(deps.web_app_documents)]


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class WebAppAssetIn(_Open):
    """One holding of the app (its `CurrentAsset`): `ticker` (7203 or 7203.T, VOO,
    0331418A), `holdings` (shares; lots of 10,000 units for a fund), `currency`, `name`,
    `region`, `fundType` (gives the asset class), `purchasePrice` (x `holdings` gives the
    cost basis) and every other field of the app, kept as sent."""

    ticker: Annotated[str, Field(min_length=1, max_length=32)]


class WebAppTargetIn(_Open):
    """One target of the app (`{id, ticker, name, targetPercentage}`): they are the
    portfolio's targets when they make an allocation (each 0 to 100, summing to 100)."""

    ticker: Annotated[str, Field(min_length=1, max_length=32)]


class WebAppBudgetIn(_Open):
    amount: Annotated[Any, Field(description="A JSON number, 0 or more")]
    currency: Annotated[str, Field(min_length=3, max_length=3)]


class WebAppPortfolioIn(_Open):
    """`PUT /api/portfolio`: the app's whole portfolio and the version it last read. The
    limits are the domain's (`domain.limits`), checked as for every other door and
    answered `out_of_range`: they are quoted here, not repeated."""

    currentAssets: Annotated[
        list[WebAppAssetIn], Field(description=f"The holdings: at most {MAX_HOLDINGS:,}")
    ]
    targetPortfolio: Annotated[
        list[WebAppTargetIn], Field(description=f"The targets: at most {MAX_TARGETS:,}")
    ]
    baseCurrency: Annotated[str, Field(min_length=3, max_length=3)]
    exchangeRate: Annotated[
        dict[str, Any] | None,
        Field(description="The app's own rate: kept as sent, never converted with"),
    ] = None
    additionalBudget: WebAppBudgetIn | None = None
    aiPromptTemplate: Annotated[
        str | None,
        Field(description=f"At most {MAX_PROMPT_TEMPLATE_LENGTH:,} characters"),
    ] = None
    version: Annotated[
        StrictInt | None,
        Field(ge=0, description="The version last read; null overwrites whatever is stored"),
    ]


def _json(body: Any, status: int = 200) -> Response[str]:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=json_with_numbers(body),
    )


def _conflict(exc: ConflictError) -> Response[str]:
    message = CONFLICT_MESSAGE.format(version=exc.current_version)
    body = {
        "success": False,
        "error": {
            "code": VERSION_CONFLICT,
            "message": message,
            "userFriendly": True,
            "details": {"serverVersion": exc.current_version},
        },
        "message": message,
    }
    return Response(
        status_code=409,
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps(body, ensure_ascii=False),
    )


def _version(document: Any) -> int | None:
    version = document.get("version") if isinstance(document, dict) else None
    if version is not None and (
        isinstance(version, bool) or not isinstance(version, int) or version < 0
    ):
        raise ValidationError("version must be the version last read (an integer) or null")
    return version


@router.get(
    PATH,
    summary="The existing web app's portfolio: the user's default portfolio",
    description="The user's oldest portfolio in the app's document; `data` is null when "
    "the user has none yet.",
    tags=[TAG],
    responses={200: ok(WebAppPortfolioOut), **errors(401)},
)
def get_portfolio(user: User, ports: Ports, documents: Documents) -> Response[str]:
    found = load_web_app_portfolio(ports.repository, documents, user_id=user)
    data = None
    if found is not None:
        data = {
            **found.document,
            "version": found.version,
            "updatedAt": found.updated_at.isoformat(),
        }
    return _json({"success": True, "data": data})


@router.put(
    PATH,
    summary="Save the existing web app's portfolio (the user's default portfolio)",
    description="The app's whole document with the `version` it last read: a stale one is "
    "a 409 `VERSION_CONFLICT` with `details.serverVersion`; null overwrites. The first "
    "save of a user with no portfolio creates it.",
    tags=[TAG],
    responses={
        200: ok(WebAppSavedOut),
        409: ok(WebAppConflictOut, "Stale version: error.details.serverVersion"),
        **errors(401, 403, 413, 415),
    },
)
def put_portfolio(
    body: WebAppPortfolioIn,
    request: Request,
    user: User,
    ports: Ports,
    documents: Documents,
    context: Context,
) -> Response[str]:
    document = request.resolved_event.json_body  # numbers as Decimal, as sent
    try:
        saved = save_web_app_portfolio(
            ports,
            documents,
            user_id=user,
            document=document,
            version=_version(document),
            context=context,
        )
    except ConflictError as exc:
        return _conflict(exc)
    return _json(
        {
            "success": True,
            "data": {"version": saved.version, "updatedAt": saved.updated_at.isoformat()},
        }
    )
