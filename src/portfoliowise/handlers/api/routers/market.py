"""Market routes (public: no session needed): quotes of up to 100 symbols, daily history,
and the existing single-page app's `/api/market-data`. A quote no source could price is
answered as `unavailable` with no price: a price is never made up."""

from __future__ import annotations

import json
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.depends import Depends
from aws_lambda_powertools.event_handler.openapi.params import Query

from portfoliowise.application.market_queries import MarketQueries
from portfoliowise.domain.quotes import Quote, QuoteStatus
from portfoliowise.handlers.api import dependencies as deps
from portfoliowise.handlers.api.access import public
from portfoliowise.handlers.api.schemas import (
    HistoryOut,
    LegacyMarketData,
    QuotesOut,
    errors,
    ok,
)
from portfoliowise.handlers.presenters import json_with_numbers, plain

TAG = "market"
SYMBOLS_MAX_LENGTH = 2000

router = Router()  # type: ignore[no-untyped-call]  # Powertools leaves it unannotated

Market = Annotated[MarketQueries, Depends(deps.market_queries)]


def _json(body: Any, status: int = 200) -> Response[str]:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps(body, ensure_ascii=False),
    )


def _number(value: Any) -> str | None:
    return None if value is None else plain(value)


def quote_json(quote: Quote) -> dict[str, Any]:
    return {
        "symbol": quote.symbol,
        "price": None if quote.price is None else plain(quote.price.amount),
        "currency": None if quote.price is None else quote.price.currency.code,
        "change": _number(quote.change),
        "changePercent": _number(quote.change_percent),
        "volume": _number(quote.volume),
        "name": quote.name,
        "asOf": quote.as_of.isoformat() if quote.as_of else None,
        "source": quote.source,
        "status": quote.status.value,
    }


def legacy_quote_json(requested: str, quote: Quote) -> dict[str, Any]:
    """One entry of the existing app's `data` map. Its numbers stay `Decimal` here and are
    written as JSON numbers with exactly their digits (`json_with_numbers`), as that app
    expects numbers."""
    entry = {
        "ticker": requested,
        "symbol": quote.symbol,
        "price": None if quote.price is None else quote.price.amount,
        "change": quote.change,
        "changePercent": quote.change_percent,
        "name": quote.name or requested,
        "currency": None if quote.price is None else quote.price.currency.code,
        "source": quote.source,
        "lastUpdated": quote.as_of.isoformat() if quote.as_of else None,
        "status": quote.status.value,
        "isStale": quote.status is QuoteStatus.STALE,
    }
    if quote.price is None:
        entry["error"] = "no source could price this symbol"
    return entry


@router.get(
    "/market/quotes",
    summary="Quotes of up to 100 symbols (Tokyo, US, funds, FX pairs)",
    tags=[TAG],
    responses={200: ok(QuotesOut), **errors(503)},
)
@public
def quotes(
    market: Market,
    symbols: Annotated[str, Query(min_length=1, max_length=SYMBOLS_MAX_LENGTH)],
) -> Response[str]:
    found = market.quotes(symbols)
    return _json({"quotes": {symbol: quote_json(q) for symbol, q in found.items()}})


@router.get(
    "/market/history",
    summary="Daily closes of one symbol",
    tags=[TAG],
    responses={200: ok(HistoryOut), **errors(404, 503)},
)
@public
def history(
    market: Market,
    symbol: Annotated[str, Query(min_length=1, max_length=32)],
    range: Annotated[str, Query(pattern="^(1mo|3mo|6mo|1y|2y|5y|10y|ytd)$")] = "1y",
) -> Response[str]:
    result = market.history(symbol, range)
    return _json(
        {
            "symbol": result.symbol,
            "currency": result.currency,
            "source": result.source,
            "range": range,
            "closes": [
                {"date": c.day.isoformat(), "close": plain(c.close), "volume": _number(c.volume)}
                for c in result.closes
            ],
        }
    )


@router.get(
    "/api/market-data",
    summary="The existing single-page app's market data contract",
    description="`type` is us-stock, jp-stock, mutual-fund or exchange-rate; rates are "
    "keyed like `USD-JPY`. An unpriced symbol has `price: null` and `status: "
    "unavailable`.",
    tags=[TAG],
    responses={200: ok(LegacyMarketData), **errors(503)},
)
@public
def market_data(
    market: Market,
    type: Annotated[str, Query(pattern="^(us-stock|jp-stock|mutual-fund|exchange-rate)$")],
    symbols: Annotated[str, Query(min_length=1, max_length=SYMBOLS_MAX_LENGTH)],
) -> Response[str]:
    found = market.by_type(type, symbols)
    data = {key: legacy_quote_json(key, q) for key, q in found.items()}
    document = {
        "success": True,
        "data": data,
        "unavailable": [key for key, entry in data.items() if entry["price"] is None],
        "source": "portfoliowise",
    }
    return Response(
        status_code=200,
        content_type=content_types.APPLICATION_JSON,
        body=json_with_numbers(document),
    )
