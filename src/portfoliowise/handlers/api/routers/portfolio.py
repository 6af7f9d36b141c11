"""Portfolio routes. Every route runs behind the `authentication` middleware and works on
the signed-in user's portfolios only: another user's portfolio is a 404, like a missing
one (the repository reads by user id and portfolio id)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from portfoliowise.adapters.portfolio_csv import csv_document, portfolio_to_csv
from portfoliowise.adapters.portfolio_files import (
    PORTFOLIO_FORMAT,
    FileFormatError,
    parse_portfolio_document,
)
from portfoliowise.application.market_service import MAX_SYMBOLS, MarketService, rates_from_quotes
from portfoliowise.application.portfolio_commands import (
    create_portfolio,
    delete_portfolio,
    replace_portfolio,
)
from portfoliowise.domain.allocation import Dimension, allocation, drift
from portfoliowise.domain.errors import ValidationError
from portfoliowise.domain.fx import RateTable
from portfoliowise.domain.money import Currency, Money
from portfoliowise.domain.portfolio import Holding, Portfolio
from portfoliowise.domain.ports import PortfolioRepository
from portfoliowise.domain.quotes import Quote
from portfoliowise.domain.simulation import SimulationMode, SimulationOptions, simulate
from portfoliowise.domain.valuation import Valuation, value_portfolio
from portfoliowise.handlers.api.current_user import authentication, request_context, user_id
from portfoliowise.handlers.api.models import HoldingIn, PortfolioIn, PortfolioReplace, SimulateIn
from portfoliowise.handlers.presenters import simulation_json, valuation_json

if TYPE_CHECKING:
    from portfoliowise.handlers.container import Container

TAG = "portfolios"
AUDIT_DEFAULT_DAYS = 30
AUDIT_MAX_DAYS = 90
_ETAG = re.compile(r'^\s*(?:W/)?"?(\d{1,18})"?\s*$')
CSV_TYPE = "text/csv; charset=utf-8"


# -- shaping -------------------------------------------------------------------------------


def portfolio_json(portfolio: Portfolio) -> dict[str, Any]:
    """The representation of a portfolio (what `PUT` accepts back)."""
    data = portfolio.to_json()
    data.pop("userId", None)
    return data


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response[str]:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps(body, ensure_ascii=False),
        headers=headers,
    )


def _with_etag(portfolio: Portfolio, status: int = 200) -> Response[str]:
    headers = {"ETag": f'"{portfolio.version}"'}
    if status == 201:
        headers["Location"] = f"/portfolios/{portfolio.portfolio_id}"
    return _json(portfolio_json(portfolio), status, headers)


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


def _currency(code: str | None, default: Currency) -> Currency:
    return default if code is None or not code.strip() else Currency.of(code.strip().upper())


def _parse_time(value: str | None, what: str) -> datetime | None:
    if value is None or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValidationError(f"{what} must be an ISO 8601 date or time") from None
    if parsed.tzinfo is None:
        raise ValidationError(f"{what} needs a time zone (e.g. 2026-01-31T00:00:00Z)")
    return parsed


# -- prices --------------------------------------------------------------------------------


def _chunks(items: Sequence[str], size: int = MAX_SYMBOLS) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _prices(
    market: MarketService, portfolio: Portfolio, currency: Currency
) -> tuple[dict[str, Quote], RateTable]:
    """Quotes of the holdings and targets, and the FX rates from every currency involved
    into `currency` (unpriced pairs are left out: the valuation reports them)."""
    symbols = sorted({h.symbol for h in portfolio.holdings} | set(portfolio.targets))
    quotes: dict[str, Quote] = {}
    for chunk in _chunks(symbols):
        quotes.update(market.get_quotes(chunk))
    currencies = {h.currency for h in portfolio.holdings} | {portfolio.base_currency}
    currencies |= {h.cost_basis.currency for h in portfolio.holdings if h.cost_basis}
    currencies |= {q.price.currency for q in quotes.values() if q.price is not None}
    pairs = sorted(f"{c.code}-{currency.code}" for c in currencies if c != currency)
    rate_quotes: list[Quote] = []
    for chunk in _chunks(pairs):
        rate_quotes.extend(market.get_rates(chunk).values())
    return quotes, rates_from_quotes(rate_quotes)


def _valuation(
    market: MarketService, portfolio: Portfolio, currency: Currency, at: datetime
) -> Valuation:
    quotes, rates = _prices(market, portfolio, currency)
    return value_portfolio(portfolio, quotes, rates, at=at, currency=currency)


# -- the router ----------------------------------------------------------------------------


def build_router(container: Container) -> Router:
    router = Router()  # type: ignore[no-untyped-call]
    # Per route, not `router.use`: a Router's own middlewares become the whole app's.
    signed_in = [authentication(container.authenticator)]

    def me() -> str:
        return user_id(router)

    def load(portfolio_id: str) -> Portfolio:
        repository: PortfolioRepository = container.portfolios()
        return repository.get(me(), portfolio_id)

    @router.get(
        "/portfolios", summary="The signed-in user's portfolios", tags=[TAG], middlewares=signed_in
    )
    def list_portfolios() -> Response[str]:
        portfolios = container.portfolios().list_for_user(me())
        return _json({"portfolios": [portfolio_json(p) for p in portfolios]})

    @router.post("/portfolios", summary="Create a portfolio", tags=[TAG], middlewares=signed_in)
    def create(body: PortfolioIn) -> Response[str]:
        portfolio = create_portfolio(
            container.portfolio_ports(),
            user_id=me(),
            name=body.name,
            base_currency=Currency.of(body.base_currency),
            context=request_context(router),
            holdings=[_holding(h) for h in body.holdings],
            targets=dict(body.targets) or None,
            allow_fractional=body.allow_fractional,
        )
        return _with_etag(portfolio, 201)

    @router.post(
        "/portfolios/import",
        summary="Import a portfolio: this project's JSON, the existing app's export, or CSV",
        description="The body is the file. CSV when the Content-Type says so or the body is "
        "not a JSON object; `name` and `currency` name and value a CSV portfolio.",
        tags=[TAG],
        middlewares=signed_in,
    )
    def import_portfolio(
        name: Annotated[str | None, Query(max_length=100)] = None,
        currency: Annotated[str | None, Query(max_length=3)] = None,
    ) -> Response[str]:
        event = router.current_event
        try:
            text = event.decoded_body or ""
        except (ValueError, UnicodeDecodeError):  # bad base64 or not UTF-8
            raise FileFormatError("the file must be UTF-8 text (JSON or CSV)") from None
        content_type = (event.headers.get("Content-Type") or "").lower()
        now = container.clock().now()
        if "csv" in content_type or not text.lstrip().startswith("{"):
            base = _currency(currency, Currency.of("JPY")).code
            data: Any = csv_document(text, name=name or "Imported portfolio", base_currency=base)
        else:
            try:
                data = json.loads(text, parse_float=Decimal)
            except json.JSONDecodeError as exc:
                raise FileFormatError(f"not valid JSON ({exc.msg})") from None
        loaded = parse_portfolio_document(data, at=now, default_name=name or "Imported portfolio")
        source = loaded.portfolio
        portfolio = create_portfolio(
            container.portfolio_ports(),
            user_id=me(),
            name=name or source.name,
            base_currency=source.base_currency,
            context=request_context(router),
            holdings=source.holdings,
            targets=source.targets or None,
            allow_fractional=source.allow_fractional,
        )
        return _with_etag(portfolio, 201)

    @router.get(
        "/portfolios/<portfolio_id>", summary="One portfolio", tags=[TAG], middlewares=signed_in
    )
    def get(portfolio_id: str) -> Response[str]:
        return _with_etag(load(portfolio_id))

    @router.put(
        "/portfolios/<portfolio_id>",
        summary="Replace a portfolio (the representation GET returns, with its version)",
        description="The version comes from `If-Match` or the body; a stale one is a 409 "
        "whose details carry `currentVersion`.",
        tags=[TAG],
        middlewares=signed_in,
    )
    def replace(portfolio_id: str, body: PortfolioReplace) -> Response[str]:
        header = router.current_event.headers.get("If-Match")
        expected = _version(header, body.version)
        if expected is None:
            raise ValidationError("give the version you read (If-Match or `version`)")
        user = me()
        now = container.clock().now()
        desired = Portfolio(
            user_id=user,
            portfolio_id=portfolio_id,
            name=body.name,
            base_currency=Currency.of(body.base_currency),
            created_at=now,
            holdings=[_holding(h) for h in body.holdings],
            targets=dict(body.targets) or None,
            allow_fractional=body.allow_fractional,
        )
        portfolio = replace_portfolio(
            container.portfolio_ports(),
            user_id=user,
            portfolio_id=portfolio_id,
            desired=desired,
            context=request_context(router),
            expected_version=expected,
        )
        return _with_etag(portfolio)

    @router.delete(
        "/portfolios/<portfolio_id>",
        summary="Delete a portfolio",
        tags=[TAG],
        middlewares=signed_in,
    )
    def delete(portfolio_id: str) -> Response[str]:
        header = router.current_event.headers.get("If-Match")
        delete_portfolio(
            container.portfolio_ports(),
            user_id=me(),
            portfolio_id=portfolio_id,
            context=request_context(router),
            expected_version=_version(header, None),
        )
        return Response(status_code=204, body="")

    @router.get(
        "/portfolios/<portfolio_id>/valuation",
        summary="Per-holding and total values, weights, P/L and unpriced holdings",
        tags=[TAG],
        middlewares=signed_in,
    )
    def valuation(
        portfolio_id: str, currency: Annotated[str | None, Query(max_length=3)] = None
    ) -> Response[str]:
        portfolio = load(portfolio_id)
        target = _currency(currency, portfolio.base_currency)
        result = _valuation(container.market(), portfolio, target, container.clock().now())
        breakdowns = {by.value: allocation(result, by) for by in Dimension}
        return _json(valuation_json(result, breakdowns, drift(result, portfolio.targets)))

    @router.get(
        "/portfolios/<portfolio_id>/allocation",
        summary="Allocation by holding, asset class, currency, market, sector or region; "
        "drift against the targets",
        tags=[TAG],
        middlewares=signed_in,
    )
    def allocation_of(
        portfolio_id: str,
        by: Annotated[str, Query(max_length=20)] = Dimension.HOLDING.value,
        currency: Annotated[str | None, Query(max_length=3)] = None,
    ) -> Response[str]:
        dimension = Dimension.parse(by)
        portfolio = load(portfolio_id)
        target = _currency(currency, portfolio.base_currency)
        result = _valuation(container.market(), portfolio, target, container.clock().now())
        shaped = valuation_json(
            result,
            {dimension.value: allocation(result, dimension)},
            drift(result, portfolio.targets),
        )
        return _json(
            {
                "portfolioId": portfolio.portfolio_id,
                "by": dimension.value,
                "currency": shaped["currency"],
                "asOf": shaped["asOf"],
                "total": shaped["total"],
                "slices": shaped["allocation"][dimension.value],
                "drift": shaped["drift"],
                "unpriced": shaped["unpriced"],
            }
        )

    @router.post(
        "/portfolios/<portfolio_id>/simulate",
        summary="Plan an additional investment toward the targets (buy-only or rebalance)",
        tags=[TAG],
        middlewares=signed_in,
    )
    def simulate_plan(portfolio_id: str, body: SimulateIn) -> Response[str]:
        portfolio = load(portfolio_id)
        budget = Money.of(body.budget.amount, body.budget.currency)
        quotes, rates = _prices(container.market(), portfolio, budget.currency)
        options = SimulationOptions(mode=SimulationMode(body.mode), tolerance=body.tolerance)
        return _json(simulation_json(simulate(portfolio, quotes, rates, budget, options)))

    @router.get(
        "/portfolios/<portfolio_id>/audit",
        summary="The owner's audit trail of this portfolio (oldest first)",
        description=f"`since`/`until` are ISO 8601 times; the default is the last "
        f"{AUDIT_DEFAULT_DAYS} days, the longest range {AUDIT_MAX_DAYS} days.",
        tags=[TAG],
        middlewares=signed_in,
    )
    def audit(
        portfolio_id: str,
        since: Annotated[str | None, Query(max_length=40)] = None,
        until: Annotated[str | None, Query(max_length=40)] = None,
    ) -> Response[str]:
        user = me()
        portfolio = load(portfolio_id)
        end = _parse_time(until, "until") or container.clock().now()
        start = _parse_time(since, "since") or end - timedelta(days=AUDIT_DEFAULT_DAYS)
        if start > end or end - start > timedelta(days=AUDIT_MAX_DAYS):
            raise ValidationError(f"since..until must be a range of at most {AUDIT_MAX_DAYS} days")
        resource = f"portfolio/{portfolio.portfolio_id}"
        entries = [
            e.to_json()
            for e in container.audit_log().for_user(user, start, end)
            if e.resource == resource
        ]
        return _json({"portfolioId": portfolio.portfolio_id, "entries": entries})

    @router.get(
        "/portfolios/<portfolio_id>/export",
        summary="Export a portfolio as this project's JSON or as CSV",
        tags=[TAG],
        middlewares=signed_in,
    )
    def export(
        portfolio_id: str, format: Annotated[str, Query(pattern="^(json|csv)$")] = "json"
    ) -> Response[str]:
        portfolio = load(portfolio_id)
        filename = f"portfolio-{portfolio.portfolio_id}.{format}"
        headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
        if format == "csv":
            return Response(
                status_code=200,
                content_type=CSV_TYPE,
                body=portfolio_to_csv(portfolio),
                headers=headers,
            )
        document = {"format": PORTFOLIO_FORMAT, **portfolio_json(portfolio)}
        return _json(document, headers=headers)

    return router
