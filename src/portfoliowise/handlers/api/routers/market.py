"""Market routes: quotes (at most 100 symbols a request), daily history, and the existing
single-page app's `/api/market-data`. A quote no source could price is answered as
`unavailable` with no price: a price is never made up."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import TYPE_CHECKING, Annotated, Any, Final

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from portfoliowise.application.market_service import MAX_SYMBOLS, MarketService
from portfoliowise.domain.errors import ValidationError
from portfoliowise.domain.instruments import Market, parse_symbol
from portfoliowise.domain.quotes import Quote, QuoteStatus
from portfoliowise.handlers.presenters import json_with_numbers, plain

if TYPE_CHECKING:
    from portfoliowise.handlers.container import Container

TAG = "market"
SYMBOLS_MAX_LENGTH = 2000
RANGES: Final = {
    "1mo": 31,
    "3mo": 92,
    "6mo": 183,
    "1y": 366,
    "2y": 731,
    "5y": 1827,
    "10y": 3653,
}
LEGACY_TYPES: Final = {
    "us-stock": Market.US,
    "jp-stock": Market.JP,
    "mutual-fund": Market.FUND,
    "exchange-rate": Market.FX,
}


def _json(body: Any, status: int = 200) -> Response[str]:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps(body, ensure_ascii=False),
    )


def split_symbols(text: str) -> list[str]:
    """`A,B , C` -> [A, B, C]: no duplicates, at least one and at most 100."""
    symbols = list(dict.fromkeys(s.strip() for s in text.split(",") if s.strip()))
    if not symbols:
        raise ValidationError("give at least one symbol")
    if len(symbols) > MAX_SYMBOLS:
        raise ValidationError(f"at most {MAX_SYMBOLS} symbols a request, got {len(symbols)}")
    return symbols


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


def build_router(container: Container) -> Router:
    router = Router()  # type: ignore[no-untyped-call]

    def market() -> MarketService:
        service: MarketService = container.market()
        return service

    @router.get(
        "/market/quotes",
        summary="Quotes of up to 100 symbols (Tokyo, US, funds, FX pairs)",
        tags=[TAG],
    )
    def quotes(
        symbols: Annotated[str, Query(min_length=1, max_length=SYMBOLS_MAX_LENGTH)],
    ) -> Response[str]:
        found = market().get_quotes(split_symbols(symbols))
        return _json({"quotes": {symbol: quote_json(q) for symbol, q in found.items()}})

    @router.get("/market/history", summary="Daily closes of one symbol", tags=[TAG])
    def history(
        symbol: Annotated[str, Query(min_length=1, max_length=32)],
        range: Annotated[str, Query(pattern="^(1mo|3mo|6mo|1y|2y|5y|10y|ytd)$")] = "1y",
    ) -> Response[str]:
        instrument = parse_symbol(symbol)
        end: date = container.clock().now().date()
        start = date(end.year, 1, 1) if range == "ytd" else end - timedelta(days=RANGES[range])
        result = market().history(instrument.symbol, start, end)
        return _json(
            {
                "symbol": result.symbol,
                "currency": result.currency,
                "source": result.source,
                "range": range,
                "closes": [
                    {
                        "date": c.day.isoformat(),
                        "close": plain(c.close),
                        "volume": _number(c.volume),
                    }
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
    )
    def market_data(
        type: Annotated[str, Query(pattern="^(us-stock|jp-stock|mutual-fund|exchange-rate)$")],
        symbols: Annotated[str, Query(min_length=1, max_length=SYMBOLS_MAX_LENGTH)],
    ) -> Response[str]:
        wanted = LEGACY_TYPES[type]
        requested: dict[str, str] = {}
        for raw in split_symbols(symbols):
            instrument = parse_symbol(raw)
            if instrument.market is not wanted:
                raise ValidationError(f"{raw!r} is not a {type} symbol")
            key = instrument.symbol if wanted is Market.FX else raw.strip().upper()
            requested.setdefault(instrument.symbol, key)
        service = market()
        if wanted is Market.FX:
            found = service.get_rates(list(requested))
        else:
            found = service.get_quotes(list(requested))
        data = {requested[s]: legacy_quote_json(requested[s], q) for s, q in found.items()}
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

    return router
