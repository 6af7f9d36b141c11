"""Activities and performance routes: parsing, one use case (`application.ledger_commands`,
`application.performance_queries`), a response. Like every portfolio route they need a
session and work on the signed-in user's portfolios only (another user's is a 404).

Writes carry the version the client read, in `If-Match` or the body's `version` (optional
except for `PUT .../ledger`, as for `PUT /portfolios/{id}`): a stale one is a 409 whose
details carry `currentVersion`. Each answers the portfolio's new version in `ETag`."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.depends import Depends
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.request import Request
from pydantic import Field

from portfoliowise.application import ledger_commands as lc
from portfoliowise.application.ledger_commands import (
    ActivityDraft,
    ImportRejected,
    LedgerPorts,
    add_activities,
    change_ledger_settings,
    delete_activity,
    import_activities,
    list_activities,
)
from portfoliowise.domain.activities import Activity
from portfoliowise.domain.audit import RequestContext
from portfoliowise.domain.errors import ValidationError
from portfoliowise.domain.events import JsonValue
from portfoliowise.domain.portfolio import Portfolio
from portfoliowise.handlers.api import dependencies as deps
from portfoliowise.handlers.api.access import accepts, body_bytes
from portfoliowise.handlers.api.errors import error_response
from portfoliowise.handlers.api.models import (
    Amount,
    CamelModel,
    CurrencyCode,
    Quantity,
    Symbol,
    Text,
)
from portfoliowise.handlers.api.responses import json_response
from portfoliowise.handlers.api.routers.portfolio import (
    _required_version,
    _version,
    _with_etag,
)
from portfoliowise.handlers.api.schemas.common import errors, no_content, ok
from portfoliowise.handlers.api.schemas.ledger import (
    ActivitiesChangedOut,
    ActivitiesImportOut,
    ActivityPageOut,
)
from portfoliowise.handlers.api.schemas.portfolio import PortfolioOut

TAG = "portfolios"
JSON_TYPE = "application/json"
CSV_TYPE = "text/csv"
BYTES_TYPE = "application/octet-stream"
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:~-]{0,99}$"
REJECTED_IN_ERROR = 100  # refused rows listed in the details of an all_or_nothing 400

router = Router()  # type: ignore[no-untyped-call]  # Powertools leaves it unannotated

User = Annotated[str, Depends(deps.current_user)]
Context = Annotated[RequestContext, Depends(deps.request_context)]
Ports = Annotated[LedgerPorts, Depends(deps.ledger_ports)]

_VERSION_DOC = "The version comes from `If-Match` or the body; a stale one is a 409."


# -- request bodies ------------------------------------------------------------------------


class ActivityIn(CamelModel):
    """One activity (see `domain/activities.py` for what each type needs)."""

    id: Annotated[str, Field(pattern=ID_PATTERN)] | None = Field(
        default=None,
        description="1-100 letters, digits or `._:~-`; given by the server when absent",
    )
    type: Literal[
        "buy", "sell", "dividend", "interest", "fee", "tax", "split", "deposit", "withdrawal"
    ]
    day: date = Field(alias="date", description="YYYY-MM-DD")
    currency: CurrencyCode | None = Field(
        default=None, description="Default: the symbol's; required without a symbol"
    )
    symbol: Symbol | None = None
    quantity: Quantity = Field(
        default=Decimal(0), description="A trade's shares (fund units); a split's ratio"
    )
    unit_price: Amount = Field(
        default=Decimal(0), description="A trade's price per share (per 10,000 fund units)"
    )
    amount: Amount = Field(
        default=Decimal(0), description="Income, charge, deposit or withdrawal amount"
    )
    fees: Amount = Decimal(0)
    taxes: Amount = Decimal(0)
    fx_rate: Annotated[Decimal, Field(allow_inf_nan=False)] | None = Field(
        default=None, description="1 unit of `currency` in the portfolio's base currency"
    )
    note: Text | None = None


class ActivitiesIn(CamelModel):
    """`POST /portfolios/{id}/activities`: up to 1,000 activities, added all or none."""

    activities: Annotated[
        list[ActivityIn],
        Field(min_length=1, max_length=lc.MAX_ACTIVITIES_PER_REQUEST),
    ]
    version: Annotated[int, Field(ge=0)] | None = None


class LedgerSettingsIn(CamelModel):
    """`PUT /portfolios/{id}/ledger`: where the holdings come from, the cost basis method
    (either left out: unchanged)."""

    holdings_source: Literal["holdings", "activities"] | None = None
    cost_basis: Literal["average", "fifo"] | None = None
    version: Annotated[int, Field(ge=0)] | None = None


# -- shaping -------------------------------------------------------------------------------


def _plain(value: Decimal) -> str:
    return format(value, "f")


def activity_json(activity: Activity) -> dict[str, JsonValue]:
    return {
        "id": activity.activity_id,
        "type": activity.type.value,
        "date": activity.day.isoformat(),
        "currency": activity.currency.code,
        "symbol": activity.symbol,
        "quantity": _plain(activity.quantity),
        "unitPrice": _plain(activity.unit_price),
        "amount": _plain(activity.amount),
        "fees": _plain(activity.fees),
        "taxes": _plain(activity.taxes),
        "fxRate": None if activity.fx_rate is None else _plain(activity.fx_rate),
        "note": activity.note,
    }


def _etag(portfolio: Portfolio) -> dict[str, str]:
    return {"ETag": f'"{portfolio.version}"'}


def _draft(item: ActivityIn) -> ActivityDraft:
    return ActivityDraft(
        type=item.type,
        day=item.day,
        currency=item.currency,
        symbol=item.symbol,
        quantity=item.quantity,
        unit_price=item.unit_price,
        amount=item.amount,
        fees=item.fees,
        taxes=item.taxes,
        fx_rate=item.fx_rate,
        note=item.note,
        activity_id=item.id,
    )


# -- routes --------------------------------------------------------------------------------


@router.get(
    "/portfolios/<portfolio_id>/activities",
    summary="The portfolio's activities, a page at a time",
    description=f"Sorted by date, then within a day cash in, splits, buys, sells, income, "
    f"charges, cash out, then id. At most `limit` a page (1-{lc.MAX_LIMIT}, default "
    f"{lc.DEFAULT_LIMIT}); `nextCursor` continues.",
    tags=[TAG],
    responses={200: ok(ActivityPageOut), **errors(401, 404)},
    compress=True,  # gzip when accepted (1,000 activities are about 300 KB)
)
def activities(
    portfolio_id: str,
    user: User,
    ports: Ports,
    limit: Annotated[int, Query(ge=1, le=lc.MAX_LIMIT)] = lc.DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=1000)] = None,
) -> Response[str]:
    page = list_activities(
        ports, user_id=user, portfolio_id=portfolio_id, limit=limit, cursor=cursor
    )
    body = {
        "portfolioId": page.portfolio.portfolio_id,
        "version": page.portfolio.version,
        "holdingsSource": page.portfolio.holdings_source.value,
        "costBasis": page.portfolio.cost_basis.value,
        "total": page.total,
        "activities": [activity_json(a) for a in page.activities],
        "nextCursor": page.cursor,
    }
    return json_response(body, headers=_etag(page.portfolio))


@router.post(
    "/portfolios/<portfolio_id>/activities",
    summary="Add activities (up to 1,000, all or none)",
    description="A ledger-based portfolio's holdings follow in the same change. " + _VERSION_DOC,
    tags=[TAG],
    responses={
        201: ok(ActivitiesChangedOut, "Added"),
        **errors(401, 403, 404, 409, 413, 415),
    },
)
def add(
    portfolio_id: str,
    body: ActivitiesIn,
    request: Request,
    user: User,
    ports: Ports,
    context: Context,
) -> Response[str]:
    change = add_activities(
        ports,
        user_id=user,
        portfolio_id=portfolio_id,
        drafts=[_draft(item) for item in body.activities],
        context=context,
        expected_version=_version(request.headers.get("If-Match"), body.version),
    )
    portfolio = change.portfolio
    answer = {
        "portfolioId": portfolio.portfolio_id,
        "version": portfolio.version,
        "holdingsSource": portfolio.holdings_source.value,
        "activities": [activity_json(a) for a in change.added],
    }
    return json_response(answer, 201, _etag(portfolio))


@router.post(
    "/portfolios/<portfolio_id>/activities/import",
    summary="Import activities from a file (any supported format)",
    description="The body is the file: `application/json`, `text/csv` (UTF-8), or "
    "`application/octet-stream` for any encoding (a broker's Shift-JIS CSV). `mode` "
    "`all_or_nothing` (default: one refused row refuses the file, 400 `rows_rejected` "
    "with the rows and their lines in `details`) or `partial` (the good rows are imported, "
    "the refused ones answered). `format` forces a format; `openingDate` dates the opening "
    "buys of a holdings file; `filename` names the file in messages. The same file again "
    "adds nothing (`alreadyImported`): 200 instead of 201. " + _VERSION_DOC,
    tags=[TAG],
    responses={
        201: ok(ActivitiesImportOut, "Imported"),
        200: ok(ActivitiesImportOut, "Nothing new to import"),
        **errors(401, 403, 404, 409, 413, 415),
    },
)
@accepts(JSON_TYPE, CSV_TYPE, BYTES_TYPE, raw=True)
def import_file(
    portfolio_id: str,
    request: Request,
    user: User,
    ports: Ports,
    context: Context,
    mode: Annotated[str, Query(pattern="^(all_or_nothing|partial)$")] = lc.ALL_OR_NOTHING,
    format: Annotated[str | None, Query(max_length=40)] = None,
    opening_date: Annotated[date | None, Query(alias="openingDate")] = None,
    filename: Annotated[str | None, Query(max_length=200)] = None,
) -> Response[str]:
    data = body_bytes(request.resolved_event)
    if not data:
        raise ValidationError("send the file as the request body")
    try:
        result = import_activities(
            ports,
            user_id=user,
            portfolio_id=portfolio_id,
            data=data,
            context=context,
            mode=mode,
            filename=filename,
            opening_date=opening_date,
            format=format or None,
            expected_version=_version(request.headers.get("If-Match"), None),
        )
    except ImportRejected as exc:
        return error_response(
            400,
            exc.code,
            str(exc),
            {
                "rows": exc.rows,
                "rejectedCount": len(exc.rejected),
                "rejected": [
                    {"line": r.line, "reason": r.reason, "code": r.code}
                    for r in exc.rejected[:REJECTED_IN_ERROR]
                ],
            },
        )
    portfolio = result.portfolio
    answer = {
        "portfolioId": portfolio.portfolio_id,
        "version": portfolio.version,
        "holdingsSource": portfolio.holdings_source.value,
        "batchId": result.batch_id,
        "sha256": result.sha256,
        "format": result.format,
        "encoding": result.encoding,
        "rows": result.rows,
        "imported": result.imported,
        "duplicates": result.duplicates,
        "alreadyImported": result.already_imported,
        "rejectedCount": len(result.rejected),
        "rejected": [
            {"line": r.line, "reason": r.reason, "code": r.code}
            for r in result.rejected[: lc.MAX_REJECTED_LISTED]
        ],
    }
    return json_response(answer, 201 if result.imported else 200, _etag(portfolio))


@router.delete(
    "/portfolios/<portfolio_id>/activities/<activity_id>",
    summary="Delete one activity",
    description="A ledger-based portfolio's holdings follow in the same change. The "
    "version comes from `If-Match` (optional); a stale one is a 409. The new version is "
    "in `ETag`.",
    tags=[TAG],
    responses={204: no_content("Deleted"), **errors(401, 403, 404, 409)},
)
def delete(
    portfolio_id: str,
    activity_id: str,
    request: Request,
    user: User,
    ports: Ports,
    context: Context,
) -> Response[str]:
    change = delete_activity(
        ports,
        user_id=user,
        portfolio_id=portfolio_id,
        activity_id=activity_id,
        context=context,
        expected_version=_version(request.headers.get("If-Match"), None),
    )
    return Response(status_code=204, body="", headers=_etag(change.portfolio))


@router.put(
    "/portfolios/<portfolio_id>/ledger",
    summary="Where the holdings come from (entered, or the activities) and the cost basis",
    description="`holdingsSource: activities` makes the portfolio ledger-based: its "
    "holdings become its activities' open positions now and after every activity change "
    "(refused for a portfolio with holdings and no activity); `holdings` leaves them as "
    "they are, edited as entered. `costBasis` `average` or `fifo`. The version is required "
    "(`If-Match` or the body); a stale one is a 409.",
    tags=[TAG],
    responses={200: ok(PortfolioOut), **errors(401, 403, 404, 409, 413, 415)},
)
def ledger_settings(
    portfolio_id: str,
    body: LedgerSettingsIn,
    request: Request,
    user: User,
    ports: Ports,
    context: Context,
) -> Response[str]:
    expected = _required_version(request.headers.get("If-Match"), body.version)
    portfolio = change_ledger_settings(
        ports,
        user_id=user,
        portfolio_id=portfolio_id,
        context=context,
        holdings_source=body.holdings_source,
        cost_basis=body.cost_basis,
        expected_version=expected,
    )
    return _with_etag(portfolio)
