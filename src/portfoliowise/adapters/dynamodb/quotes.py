"""The Cache table: ONE item per instrument holding its latest quote.

Key: `cacheKey` = `Instrument.cache_key` (`7203#JP`, `AAPL#US`, `USD-JPY#FX`) and
`timestamp` = the constant `"latest"`. BatchGetItem needs full keys, so the latest quote
must sit under a key known in advance; a time in the sort key would need a Query per
symbol. Other attributes: `symbol`, `market`, `price` (N), `currency`, `change` (N),
`changePercent` (N), `volume` (N), `name`, `source`, `status`, `asOf` (ISO-8601),
`expiresAt` (N: epoch seconds with microseconds; fresh until then) and `ttl` (N: epoch
seconds of `expiresAt + QUOTE_KEPT_FOR`, when DynamoDB may delete it). Absent values are
left out of the item."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from portfoliowise.adapters.dynamodb.batch import Backoff, batch_get, batch_write
from portfoliowise.adapters.dynamodb.codec import (
    Item,
    epoch_exact,
    from_epoch,
    from_item,
    to_item,
    ttl_seconds,
    value,
)
from portfoliowise.adapters.dynamodb.schema import CACHE_LATEST, CACHE_PK, CACHE_SK, TTL_ATTRIBUTE
from portfoliowise.adapters.dynamodb.tables import TableNames
from portfoliowise.domain.instruments import Instrument, parse_symbol
from portfoliowise.domain.money import Money
from portfoliowise.domain.ports import CachedQuote, Clock
from portfoliowise.domain.quotes import QUOTE_KEPT_FOR, Quote, QuoteStatus

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import WriteRequestTypeDef


def cache_key(instrument: Instrument) -> Item:
    return {CACHE_PK: value(instrument.cache_key), CACHE_SK: value(CACHE_LATEST)}


def quote_item(quote: Quote, expires_at: datetime) -> Item:
    if quote.price is None:
        raise ValueError(f"an unavailable quote for {quote.symbol} is never cached")
    instrument = parse_symbol(quote.symbol)
    return to_item(
        {
            CACHE_PK: instrument.cache_key,
            CACHE_SK: CACHE_LATEST,
            "symbol": quote.symbol,
            "market": instrument.market.value,
            "price": quote.price.amount,
            "currency": quote.price.currency.code,
            "change": quote.change,
            "changePercent": quote.change_percent,
            "volume": quote.volume,
            "name": quote.name,
            "source": quote.source,
            "status": quote.status.value,
            "asOf": None if quote.as_of is None else quote.as_of.isoformat(),
            "expiresAt": epoch_exact(expires_at),
            TTL_ATTRIBUTE: ttl_seconds(expires_at + QUOTE_KEPT_FOR),
        }
    )


def _decimal(raw: Any) -> Decimal | None:
    return None if raw is None else Decimal(raw)


def cached_quote_from_item(item: Mapping[str, Any]) -> CachedQuote:
    data = from_item(item)
    as_of = data.get("asOf")
    quote = Quote(
        symbol=str(data["symbol"]),
        price=Money.of(Decimal(data["price"]), str(data["currency"])),
        status=QuoteStatus(str(data["status"])),
        source=str(data["source"]),
        as_of=None if as_of is None else datetime.fromisoformat(str(as_of)),
        change=_decimal(data.get("change")),
        change_percent=_decimal(data.get("changePercent")),
        volume=_decimal(data.get("volume")),
        name=None if data.get("name") is None else str(data["name"]),
    )
    return CachedQuote(quote, from_epoch(data["expiresAt"]))


class DynamoQuoteCache:
    """`QuoteCache` over the Cache table."""

    def __init__(
        self,
        client: DynamoDBClient,
        names: TableNames,
        clock: Clock,
        *,
        backoff: Backoff | None = None,
    ) -> None:
        self._client = client
        self._table = names.cache
        self._clock = clock
        self._backoff = backoff or Backoff()

    def get_many(self, instruments: Sequence[Instrument]) -> dict[str, CachedQuote]:
        """BatchGetItem, 100 keys a request, the requests sent concurrently (eventually
        consistent reads: a cache): quotes and FX pairs alike, 251 keys are 3 requests in
        one round trip. Items past their `ttl` that DynamoDB has not deleted yet are
        treated as absent."""
        by_key: dict[str, list[Instrument]] = {}
        for instrument in instruments:
            by_key.setdefault(instrument.cache_key, []).append(instrument)
        if not by_key:
            return {}
        items = batch_get(
            self._client,
            self._table,
            [cache_key(group[0]) for group in by_key.values()],
            self._backoff,
        )
        now = self._clock.now()
        found: dict[str, CachedQuote] = {}
        for item in items:
            cached = cached_quote_from_item(item)
            if now >= cached.expires_at + QUOTE_KEPT_FOR:
                continue
            for instrument in by_key.get(item[CACHE_PK].get("S", ""), []):
                found[instrument.symbol] = cached
        return found

    def put_many(self, quotes: Sequence[Quote], expires_at: datetime) -> None:
        """BatchWriteItem, 25 items a request; quotes without a price are skipped (an
        unavailable quote is never cached as if it were a price)."""
        latest: dict[str, Item] = {}
        for quote in quotes:
            if quote.price is None:
                continue
            item = quote_item(quote, expires_at)
            latest[parse_symbol(quote.symbol).cache_key] = item  # one write per key
        requests: list[WriteRequestTypeDef] = [
            {"PutRequest": {"Item": item}} for item in latest.values()
        ]
        batch_write(self._client, self._table, requests, self._backoff)
