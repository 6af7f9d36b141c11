"""The `Cache` table: ONE row per instrument (`cacheKey` = `Instrument.cache_key`, e.g.
`7203#JP`) holding its latest quote, with `timestamp` (when it was written), `symbol`,
`market`, `price` / `change` / `changePercent` / `volume` as TEXT (decimals, exact),
`currency`, `name`, `source`, `status`, `asOf` (ISO-8601), `expiresAt` (epoch
microseconds: fresh until then) and `ttl` (whole epoch seconds of
`expiresAt + QUOTE_KEPT_FOR`, when the row is no longer served and may be purged)."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from portfoliowise.adapters.sqlite.codec import (
    decimal_text,
    epoch_micros,
    from_epoch_micros,
    now_seconds,
    text_decimal,
    ttl_seconds,
    utc_text,
)
from portfoliowise.adapters.sqlite.database import SqliteDatabase
from portfoliowise.domain.instruments import Instrument, parse_symbol
from portfoliowise.domain.money import Money
from portfoliowise.domain.ports import CachedQuote, Clock
from portfoliowise.domain.quotes import QUOTE_KEPT_FOR, Quote, QuoteStatus

MAX_KEYS_PER_QUERY = 500
"""Keys in one `IN (...)` (well under SQLite's bound-parameter limit)."""

_COLUMNS = (
    "cacheKey, timestamp, symbol, market, price, currency, change, changePercent, volume, "
    "name, source, status, asOf, expiresAt, ttl"
)
_PUT = f"INSERT OR REPLACE INTO Cache ({_COLUMNS}) VALUES ({', '.join('?' * 15)})"


def quote_row(quote: Quote, expires_at: datetime, written_at: datetime) -> tuple[Any, ...]:
    if quote.price is None:
        raise ValueError(f"an unavailable quote for {quote.symbol} is never cached")
    instrument = parse_symbol(quote.symbol)
    return (
        instrument.cache_key,
        utc_text(written_at),
        quote.symbol,
        instrument.market.value,
        str(quote.price.amount),
        quote.price.currency.code,
        decimal_text(quote.change),
        decimal_text(quote.change_percent),
        decimal_text(quote.volume),
        quote.name,
        quote.source,
        quote.status.value,
        None if quote.as_of is None else quote.as_of.isoformat(),
        epoch_micros(expires_at),
        ttl_seconds(expires_at + QUOTE_KEPT_FOR),
    )


def cached_quote_from_row(row: sqlite3.Row) -> CachedQuote:
    as_of = row["asOf"]
    quote = Quote(
        symbol=str(row["symbol"]),
        price=Money.of(Decimal(row["price"]), str(row["currency"])),
        status=QuoteStatus(str(row["status"])),
        source=str(row["source"]),
        as_of=None if as_of is None else datetime.fromisoformat(str(as_of)),
        change=text_decimal(row["change"]),
        change_percent=text_decimal(row["changePercent"]),
        volume=text_decimal(row["volume"]),
        name=None if row["name"] is None else str(row["name"]),
    )
    return CachedQuote(quote, from_epoch_micros(int(row["expiresAt"])))


class SqliteQuoteCache:
    """`QuoteCache` over the `Cache` table."""

    def __init__(self, db: SqliteDatabase, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    def get_many(self, instruments: Sequence[Instrument]) -> dict[str, CachedQuote]:
        """One query (`cacheKey IN (...)`, 500 keys at a time, in one read transaction);
        rows past their kept time are treated as absent."""
        by_key: dict[str, list[Instrument]] = {}
        for instrument in instruments:
            by_key.setdefault(instrument.cache_key, []).append(instrument)
        if not by_key:
            return {}
        now = self._clock.now()
        keys = list(by_key)
        rows: list[sqlite3.Row] = []
        with self._db.reading() as conn:
            for start in range(0, len(keys), MAX_KEYS_PER_QUERY):
                chunk = keys[start : start + MAX_KEYS_PER_QUERY]
                marks = ", ".join("?" * len(chunk))
                rows.extend(
                    conn.execute(
                        f"SELECT {_COLUMNS} FROM Cache WHERE cacheKey IN ({marks}) AND ttl > ?",
                        (*chunk, now_seconds(now)),
                    ).fetchall()
                )
        found: dict[str, CachedQuote] = {}
        for row in rows:
            cached = cached_quote_from_row(row)
            if now >= cached.expires_at + QUOTE_KEPT_FOR:
                continue
            for instrument in by_key[str(row["cacheKey"])]:
                found[instrument.symbol] = cached
        return found

    def put_many(self, quotes: Sequence[Quote], expires_at: datetime) -> None:
        """One transaction; quotes without a price are skipped (an unavailable quote is
        never cached as if it were a price)."""
        now = self._clock.now()
        rows = [quote_row(quote, expires_at, now) for quote in quotes if quote.price is not None]
        if not rows:
            return
        with self._db.writing() as conn:
            conn.executemany(_PUT, rows)

    def purge_expired(self) -> int:
        """Delete the rows past their kept time (the cleanup job); how many went."""
        with self._db.writing() as conn:
            cursor = conn.execute(
                "DELETE FROM Cache WHERE ttl <= ?", (now_seconds(self._clock.now()),)
            )
            return cursor.rowcount
