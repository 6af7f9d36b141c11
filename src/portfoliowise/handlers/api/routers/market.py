"""Market routes: quotes of up to 100 symbols, daily history and the existing web app's
`/api/market-data` (public: no session needed), and that app's `/api/price-history`
(signed in). A quote no source could price is answered as `unavailable` with no price: a
price is never made up.

`/api/market-data` in the app's shape (read in its marketDataService.ts and
portfolioStore.ts): `data` maps the key the app looks a symbol up with (the symbol as it
sent it; `USD-JPY` for rates) to the priced entry. A symbol no source could price is *not*
in `data` but in `errors` (and `unavailable`): the app then counts it as an error and keeps
its previous price, where `price: null` would be multiplied as 0. When nothing asked could
be priced the answer is still 200, with `success: false`, `error`, `message` and `data:
null`: the app then keeps its current exchange rate (or does not add the ticker), where any
non-2xx answer makes it substitute its own made-up values (150 JPY per USD, "Fallback"
prices). `refresh=true` is accepted and does not bypass the quote cache: a quote is at
most an hour old (the Cache table's TTL) and a public route must not let anyone force
calls to the rate-limited free sources."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.depends import Depends
from aws_lambda_powertools.event_handler.openapi.params import Query

from portfoliowise.application.market_limits import LEGACY_MAX_SYMBOLS
from portfoliowise.application.market_queries import EXCHANGE_RATE, MarketQueries, PriceChange
from portfoliowise.domain import instruments
from portfoliowise.domain.quotes import Quote, QuoteStatus
from portfoliowise.handlers.api import dependencies as deps
from portfoliowise.handlers.api.access import public
from portfoliowise.handlers.api.responses import json_response
from portfoliowise.handlers.api.schemas.common import errors, ok
from portfoliowise.handlers.api.schemas.market import (
    HistoryOut,
    LegacyMarketData,
    PriceHistoryOut,
    QuotesOut,
)
from portfoliowise.handlers.presenters import json_with_numbers, plain

TAG = "market"
SYMBOLS_MAX_LENGTH = 2000
LEGACY_SYMBOLS_MAX_LENGTH = LEGACY_MAX_SYMBOLS * 20
NO_PRICE = "no source could price this symbol and nothing is cached"
NO_RATE = "no source could give this rate and nothing is cached"
ENTRY_FIELDS = frozenset(
    {"ticker", "id", "symbol", "price", "change", "changePercent", "name", "currency"}
    | {"source", "lastUpdated", "status", "isStale", "isMutualFund"}
)

router = Router()  # type: ignore[no-untyped-call]  # Powertools leaves it unannotated

Market = Annotated[MarketQueries, Depends(deps.market_queries)]


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
    """One priced entry of the existing app's `data` map. Its numbers stay `Decimal` here
    and are written as JSON numbers with exactly their digits (`json_with_numbers`)."""
    assert quote.price is not None  # unpriced quotes are errors, never entries
    return {
        "ticker": requested,
        "id": requested,
        "symbol": quote.symbol,
        "price": quote.price.amount,
        "change": quote.change,
        "changePercent": quote.change_percent,
        "name": quote.name or requested,
        "currency": quote.price.currency.code,
        "source": quote.source,
        "lastUpdated": quote.as_of.isoformat() if quote.as_of else None,
        "status": quote.status.value,
        "isStale": quote.status is QuoteStatus.STALE,
        "isMutualFund": instruments.parse_symbol(quote.symbol).market is instruments.Market.FUND,
    }


def legacy_rate_json(requested: str, quote: Quote) -> dict[str, Any]:
    """One priced rate of the existing app's `data` map (1 base = rate target)."""
    assert quote.price is not None
    return {
        "pair": quote.symbol,
        "base": quote.symbol[:3],
        "target": quote.symbol[4:],
        "rate": quote.price.amount,
        "source": quote.source,
        "lastUpdated": quote.as_of.isoformat() if quote.as_of else None,
        "status": quote.status.value,
        "isDefault": False,  # a rate is never a default: an unknown one is an error
        "isStale": quote.status is QuoteStatus.STALE,
    }


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
    return json_response({"quotes": {symbol: quote_json(q) for symbol, q in found.items()}})


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
    return json_response(
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
    summary="The existing web app's market data contract",
    description="`type` is us-stock, jp-stock, mutual-fund or exchange-rate; rates are "
    "asked with `symbols` (USDJPY,EURJPY) or `base` and `target`, and keyed like "
    "`USD-JPY`. An unpriced symbol is not in `data` but in `errors`; when nothing could be "
    "priced, `success` is false and `data` null. `refresh` is accepted; the quote cache "
    "(at most an hour) is not bypassed.",
    tags=[TAG],
    responses={200: ok(LegacyMarketData), **errors(503)},
)
@public
def market_data(
    market: Market,
    type: Annotated[str, Query(pattern="^(us-stock|jp-stock|mutual-fund|exchange-rate)$")],
    symbols: Annotated[str | None, Query(max_length=LEGACY_SYMBOLS_MAX_LENGTH)] = None,
    base: Annotated[str | None, Query(pattern="^[A-Za-z]{3}$")] = None,
    target: Annotated[str | None, Query(pattern="^[A-Za-z]{3}$")] = None,
    refresh: Annotated[str | None, Query(pattern="^(true|false)$")] = None,
) -> Response[str]:
    found = market.legacy_market_data(type, symbols, base, target)
    rates = type == EXCHANGE_RATE
    entry = legacy_rate_json if rates else legacy_quote_json
    data = {key: entry(key, q) for key, q in found.quotes.items() if q.price is not None}
    unavailable = [key for key, q in found.quotes.items() if q.price is None]
    problems = [
        {"ticker": key, "reason": "unavailable", "message": NO_RATE if rates else NO_PRICE}
        for key in unavailable
    ] + [
        {"ticker": key, "reason": why.reason, "message": why.message}
        for key, why in found.refused.items()
    ]
    document: dict[str, Any] = {"success": bool(data)}
    if not data:
        message = NO_RATE if rates else "no symbol asked could be priced"
        document["error"] = {"code": "unavailable", "message": message}
        document["message"] = message
        document["data"] = None
    elif not rates and len(data) == 1 and not problems and not set(data) & ENTRY_FIELDS:
        ((key, only),) = data.items()
        document["data"] = {**only, key: only}  # addTicker reads `data` as the entry
    else:
        document["data"] = data
    document |= {"errors": problems, "unavailable": unavailable, "source": "portfoliowise"}
    return Response(
        status_code=200,
        content_type=content_types.APPLICATION_JSON,
        body=json_with_numbers(document),
    )


@router.get(
    "/api/price-history",
    summary="The existing web app's price history of one symbol",
    description="Daily closes over `period` (1w, 1m, 3m, 6m, 1y, ytd), oldest first, and "
    "the latest close's change against the close before it and against the previous "
    "year's last close. Signed in.",
    tags=[TAG],
    responses={200: ok(PriceHistoryOut), **errors(401, 404, 503)},
)
def price_history(
    market: Market,
    ticker: Annotated[str, Query(min_length=1, max_length=32)],
    period: Annotated[str, Query(pattern="^(1w|1m|3m|6m|1y|ytd)$")] = "1m",
) -> Response[str]:
    found = market.price_history(ticker, period)
    document = {
        "success": True,
        "data": {
            "ticker": found.ticker,
            "currency": found.currency,
            "period": found.period,
            "prices": [
                {"date": c.day.isoformat(), "close": c.close, "source": found.source}
                for c in found.closes
            ],
            "change": {
                "dayOverDay": _change_json(found.day_over_day),
                "yearToDate": _change_json(found.year_to_date),
            },
        },
    }
    return Response(
        status_code=200,
        content_type=content_types.APPLICATION_JSON,
        body=json_with_numbers(document),
    )


def _change_json(change: PriceChange | None) -> dict[str, Any] | None:
    return None if change is None else {"amount": change.amount, "percent": change.percent}
