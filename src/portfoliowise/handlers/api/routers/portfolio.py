"""Portfolio routes: parsing, one use case, a response. Every route needs a session (the
`RequestGuard` checks it first) and works on the signed-in user's portfolios only: another
user's portfolio is a 404, like a missing one."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.depends import Depends
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.request import Request

from portfoliowise.application import audit_trail as trail
from portfoliowise.application.audit_trail import AuditTrail
from portfoliowise.application.portfolio_commands import (
    PortfolioPorts,
    create_portfolio,
    delete_portfolio,
    replace_portfolio,
)
from portfoliowise.application.portfolio_io import (
    PortfolioFormats,
    export_portfolio,
)
from portfoliowise.application.portfolio_io import (
    import_portfolio as import_file,
)
from portfoliowise.application.portfolio_queries import PortfolioQueries
from portfoliowise.domain.audit import RequestContext
from portfoliowise.domain.errors import ValidationError
from portfoliowise.domain.money import Currency, Money
from portfoliowise.domain.portfolio import Holding, Portfolio
from portfoliowise.handlers.api import dependencies as deps
from portfoliowise.handlers.api.access import accepts, media_type
from portfoliowise.handlers.api.models import HoldingIn, PortfolioIn, PortfolioReplace, SimulateIn
from portfoliowise.handlers.api.responses import json_response
from portfoliowise.handlers.api.schemas.common import errors, json_or_csv, no_content, ok
from portfoliowise.handlers.api.schemas.portfolio import (
    AllocationOut,
    AuditPageOut,
    PortfolioFile,
    PortfolioList,
    PortfolioOut,
    SimulationOut,
    ValuationOut,
)
from portfoliowise.handlers.presenters import simulation_json, valuation_json

TAG = "portfolios"
CSV_TYPE = "text/csv"
_ETAG = re.compile(r'^\s*(?:W/)?"?(\d{1,18})"?\s*$')

router = Router()  # type: ignore[no-untyped-call]  # Powertools leaves it unannotated

User = Annotated[str, Depends(deps.current_user)]
Context = Annotated[RequestContext, Depends(deps.request_context)]
Ports = Annotated[PortfolioPorts, Depends(deps.portfolio_ports)]
Queries = Annotated[PortfolioQueries, Depends(deps.portfolio_queries)]
Formats = Annotated[PortfolioFormats, Depends(deps.portfolio_formats)]
Trail = Annotated[AuditTrail, Depends(deps.audit_trail)]
CurrencyParam = Annotated[str | None, Query(max_length=3, description="ISO 4217, e.g. USD")]


# -- shaping -------------------------------------------------------------------------------


def portfolio_json(portfolio: Portfolio) -> dict[str, Any]:
    """The representation of a portfolio (what `PUT` accepts back)."""
    data = portfolio.to_json()
    data.pop("userId", None)
    return data


def _with_etag(portfolio: Portfolio, status: int = 200) -> Response[str]:
    headers = {"ETag": f'"{portfolio.version}"'}
    if status == 201:
        headers["Location"] = f"/portfolios/{portfolio.portfolio_id}"
    return json_response(portfolio_json(portfolio), status, headers)


# -- parsing -------------------------------------------------------------------------------


def _holding(item: HoldingIn) -> Holding:
    cost = item.cost_basis
    return Holding.of(
        item.symbol,
        item.quantity,
        asset_class=item.asset_class,
        currency=item.currency,
        cost_basis=None if cost is None else Money.of(cost.amount, cost.currency),
        sector=item.sector,
        region=item.region,
        name=item.name,
    )


def _version(if_match: str | None, body_version: int | None) -> int | None:
    """The version the client read: `If-Match` (`"3"`, `W/"3"` or `3`), else the body's."""
    if if_match is None or not if_match.strip():
        return body_version
    found = _ETAG.match(if_match)
    if found is None:
        raise ValidationError('If-Match must be the version the portfolio was read at, e.g. "3"')
    version = int(found.group(1))
    if body_version is not None and body_version != version:
        raise ValidationError("If-Match and the body's version disagree")
    return version


def _required_version(if_match: str | None, body_version: int | None) -> int:
    """`_version`, which a replacing write must give."""
    expected = _version(if_match, body_version)
    if expected is None:
        raise ValidationError("give the version you read (If-Match or `version`)")
    return expected


def _instant(value: str | None, what: str) -> datetime | None:
    """An ISO 8601 time with a zone; the range rules are the use case's."""
    if value is None or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValidationError(f"{what} must be an ISO 8601 date or time") from None
    if parsed.tzinfo is None:
        raise ValidationError(f"{what} needs a time zone (e.g. 2026-01-31T00:00:00Z)")
    return parsed


# -- routes --------------------------------------------------------------------------------


@router.get(
    "/portfolios",
    summary="The signed-in user's portfolios",
    tags=[TAG],
    responses={200: ok(PortfolioList), **errors(401)},
)
def list_portfolios(user: User, queries: Queries) -> Response[str]:
    return json_response({"portfolios": [portfolio_json(p) for p in queries.list(user)]})


@router.post(
    "/portfolios",
    summary="Create a portfolio",
    tags=[TAG],
    responses={201: ok(PortfolioOut, "Created"), **errors(401, 403, 413, 415)},
)
def create(body: PortfolioIn, user: User, ports: Ports, context: Context) -> Response[str]:
    portfolio = create_portfolio(
        ports,
        user_id=user,
        name=body.name,
        base_currency=Currency.of(body.base_currency),
        context=context,
        holdings=[_holding(h) for h in body.holdings],
        targets=dict(body.targets) or None,
        allow_fractional=body.allow_fractional,
    )
    return _with_etag(portfolio, 201)


@router.post(
    "/portfolios/import",
    summary="Import a portfolio: this project's JSON, the existing app's export, or CSV",
    description="The body is the file: `application/json` (either JSON format) or "
    "`text/csv`; `name` names the portfolio, `currency` values a CSV portfolio.",
    tags=[TAG],
    responses={201: ok(PortfolioOut, "Created"), **errors(401, 403, 413, 415)},
)
@accepts("application/json", CSV_TYPE)
def import_portfolio(
    request: Request,
    user: User,
    ports: Ports,
    formats: Formats,
    context: Context,
    name: Annotated[str | None, Query(max_length=100)] = None,
    currency: CurrencyParam = None,
) -> Response[str]:
    event = request.resolved_event
    kind = "csv" if media_type(event.headers.get("Content-Type")) == CSV_TYPE else "json"
    portfolio = import_file(
        ports,
        formats,
        user_id=user,
        text=event.decoded_body or "",
        format=kind,
        context=context,
        name=name,
        currency=currency,
    )
    return _with_etag(portfolio, 201)


@router.get(
    "/portfolios/<portfolio_id>",
    compress=True,  # gzip when accepted (a 10,000-holding answer is about 8 MB)
    summary="One portfolio",
    tags=[TAG],
    responses={200: ok(PortfolioOut), **errors(401, 404)},
)
def get(portfolio_id: str, user: User, queries: Queries) -> Response[str]:
    return _with_etag(queries.get(user, portfolio_id))


@router.put(
    "/portfolios/<portfolio_id>",
    summary="Replace a portfolio (the representation GET returns, with its version)",
    description="The version comes from `If-Match` or the body; a stale one is a 409 "
    "whose details carry `currentVersion`.",
    tags=[TAG],
    responses={200: ok(PortfolioOut), **errors(401, 403, 404, 409, 413, 415)},
)
def replace(
    portfolio_id: str,
    body: PortfolioReplace,
    request: Request,
    user: User,
    ports: Ports,
    context: Context,
) -> Response[str]:
    expected = _required_version(request.headers.get("If-Match"), body.version)
    desired = Portfolio(
        user_id=user,
        portfolio_id=portfolio_id,
        name=body.name,
        base_currency=Currency.of(body.base_currency),
        created_at=ports.clock.now(),
        holdings=[_holding(h) for h in body.holdings],
        targets=dict(body.targets) or None,
        allow_fractional=body.allow_fractional,
    )
    portfolio = replace_portfolio(
        ports,
        user_id=user,
        portfolio_id=portfolio_id,
        desired=desired,
        context=context,
        expected_version=expected,
    )
    return _with_etag(portfolio)


@router.delete(
    "/portfolios/<portfolio_id>",
    summary="Delete a portfolio",
    tags=[TAG],
    responses={204: no_content("Deleted"), **errors(401, 403, 404, 409)},
)
def delete(
    portfolio_id: str, request: Request, user: User, ports: Ports, context: Context
) -> Response[str]:
    delete_portfolio(
        ports,
        user_id=user,
        portfolio_id=portfolio_id,
        context=context,
        expected_version=_version(request.headers.get("If-Match"), None),
    )
    return Response(status_code=204, body="")


@router.get(
    "/portfolios/<portfolio_id>/valuation",
    compress=True,  # gzip when accepted (a 10,000-holding answer is about 8 MB)
    summary="Per-holding and total values, weights, P/L and unpriced holdings",
    tags=[TAG],
    responses={200: ok(ValuationOut), **errors(401, 404, 503)},
)
def valuation(
    portfolio_id: str, user: User, queries: Queries, currency: CurrencyParam = None
) -> Response[str]:
    result = queries.valuation(user, portfolio_id, currency)
    return json_response(valuation_json(result.valuation, result.allocations, result.drift))


@router.get(
    "/portfolios/<portfolio_id>/allocation",
    compress=True,  # gzip when accepted (a 10,000-holding answer is about 8 MB)
    summary="Allocation by holding, asset class, currency, market, sector or region; "
    "drift against the targets",
    tags=[TAG],
    responses={200: ok(AllocationOut), **errors(401, 404, 503)},
)
def allocation_of(
    portfolio_id: str,
    user: User,
    queries: Queries,
    by: Annotated[str, Query(max_length=20)] = "holding",
    currency: CurrencyParam = None,
) -> Response[str]:
    result = queries.allocation(user, portfolio_id, by, currency)
    (dimension,) = result.allocations
    shaped = valuation_json(result.valuation, result.allocations, result.drift)
    return json_response(
        {
            "portfolioId": result.portfolio.portfolio_id,
            "by": dimension,
            "currency": shaped["currency"],
            "asOf": shaped["asOf"],
            "total": shaped["total"],
            "slices": shaped["allocation"][dimension],
            "drift": shaped["drift"],
            "unpriced": shaped["unpriced"],
        }
    )


@router.post(
    "/portfolios/<portfolio_id>/simulate",
    summary="Plan an additional investment toward the targets (buy-only or rebalance)",
    tags=[TAG],
    responses={200: ok(SimulationOut), **errors(401, 403, 404, 413, 415, 503)},
)
def simulate_plan(
    portfolio_id: str, body: SimulateIn, user: User, queries: Queries
) -> Response[str]:
    plan = queries.simulate(
        user,
        portfolio_id,
        budget=Money.of(body.budget.amount, body.budget.currency),
        mode=body.mode,
        tolerance=body.tolerance,
    )
    return json_response(simulation_json(plan))


@router.get(
    "/portfolios/<portfolio_id>/audit",
    compress=True,  # gzip when accepted (a 10,000-holding answer is about 8 MB)
    summary="The owner's audit trail of this portfolio",
    description=f"Every entry about the portfolio (holdings, targets, settings, restore, "
    f"delete). `since`/`until` are ISO 8601 times with a zone; the default is the last "
    f"{trail.DEFAULT_DAYS} days, the longest range {trail.MAX_DAYS} days. `order` asc "
    f"(oldest first, default) or desc; at most `limit` entries a page (1-{trail.MAX_LIMIT}, "
    f"default {trail.DEFAULT_LIMIT}); `nextCursor` continues.",
    tags=[TAG],
    responses={200: ok(AuditPageOut), **errors(401, 404)},
)
def audit(
    portfolio_id: str,
    user: User,
    audit_trail: Trail,
    since: Annotated[str | None, Query(max_length=40)] = None,
    until: Annotated[str | None, Query(max_length=40)] = None,
    order: Annotated[str, Query(pattern="^(asc|desc)$")] = trail.OLDEST_FIRST,
    limit: Annotated[int, Query(ge=1, le=trail.MAX_LIMIT)] = trail.DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=1000)] = None,
) -> Response[str]:
    page = audit_trail.page(
        user,
        portfolio_id,
        since=_instant(since, "since"),
        until=_instant(until, "until"),
        order=order,
        limit=limit,
        cursor=cursor,
    )
    return json_response(
        {
            "portfolioId": page.portfolio_id,
            "since": page.since.isoformat(),
            "until": page.until.isoformat(),
            "order": page.order,
            "entries": [e.to_json() for e in page.entries],
            "nextCursor": page.cursor,
        }
    )


@router.get(
    "/portfolios/<portfolio_id>/export",
    compress=True,  # gzip when accepted (a 10,000-holding answer is about 8 MB)
    summary="Export a portfolio as this project's JSON or as CSV",
    tags=[TAG],
    responses={
        200: json_or_csv(PortfolioFile, "The file (Content-Disposition: attachment)"),
        **errors(401, 404),
    },
)
def export(
    portfolio_id: str,
    user: User,
    queries: Queries,
    formats: Formats,
    format: Annotated[str, Query(pattern="^(json|csv)$")] = "json",
) -> Response[str]:
    exported = export_portfolio(
        queries.repository, formats, user_id=user, portfolio_id=portfolio_id, format=format
    )
    return Response(
        status_code=200,
        content_type=exported.media_type,
        body=exported.text,
        headers={"Content-Disposition": f'attachment; filename="{exported.filename}"'},
    )
