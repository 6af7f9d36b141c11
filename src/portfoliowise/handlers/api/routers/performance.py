"""`GET /portfolios/{id}/performance`: returns, gain, income, fees, taxes and P/L over a
range, from the portfolio's activities (or holdings) and the market's daily closes and FX
rates (`application.performance_queries`).

It is served by the market function, not the portfolio function: the closes of years come
from the history sources (Yahoo, Stooq, the fund library), which only the market function
may call; the portfolio function prices from the Cache table alone. The market function
reads the Portfolio table for it (its activities included), nothing more."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.depends import Depends
from aws_lambda_powertools.event_handler.openapi.params import Query

from portfoliowise.application.performance_queries import PerformanceQueries
from portfoliowise.handlers.api import dependencies as deps
from portfoliowise.handlers.api.responses import json_response
from portfoliowise.handlers.api.schemas.common import errors, ok
from portfoliowise.handlers.api.schemas.performance import PerformanceOut

TAG = "market"

router = Router()  # type: ignore[no-untyped-call]  # Powertools leaves it unannotated


User = Annotated[str, Depends(deps.current_user)]
Performance = Annotated[PerformanceQueries, Depends(deps.performance_queries)]


@router.get(
    "/portfolios/<portfolio_id>/performance",
    summary="Returns (TWR, XIRR), gain, income, fees, taxes and P/L over a range",
    description="`range` 1D, WTD, MTD, YTD, 1Y, 5Y or MAX (default), or `from`/`to` "
    "(YYYY-MM-DD, either may be left out) for a custom range. `currency` JPY or USD "
    "(default the portfolio's). `series=true` adds the daily values. Closes and rates "
    "come from the market's daily history; a day without one is `unknown`, a history "
    "that could not be read is listed in `unavailable`: nothing is invented.",
    tags=[TAG],  # served by the market function, which has the daily history
    responses={200: ok(PerformanceOut), **errors(401, 404, 503)},
    compress=True,  # gzip when accepted (MAX of a long ledger with its series: a few MB)
)
def performance(
    portfolio_id: str,
    user: User,
    queries: Performance,
    range: Annotated[str | None, Query(max_length=40)] = None,
    start: Annotated[date | None, Query(alias="from")] = None,
    end: Annotated[date | None, Query(alias="to")] = None,
    currency: Annotated[str | None, Query(pattern="^(JPY|USD|jpy|usd)$")] = None,
    series: bool = False,
) -> Response[str]:
    result = queries.report(
        user, portfolio_id, period=range, start=start, end=end, currency=currency
    )
    body: dict[str, Any] = result.to_json(series=series)
    return json_response(body)
