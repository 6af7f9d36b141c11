"""Frankfurter (api.frankfurter.app): the ECB's euro reference rates, the FX source after
Yahoo.

One request per base currency: `GET /latest?from=USD&to=JPY,EUR` answers
`{"amount":1.0,"base":"USD","date":"2026-11-27","rates":{"EUR":0.9479,"JPY":155.23}}`,
read with every number a `Decimal`. The ECB publishes once a business day at about 16:00
CET, so `as_of` is that date at 16:00 Frankfurt time. Only currencies the ECB quotes are
asked for; a pair outside them, or missing from `rates`, is left out of the answer (the
service then reports it as having no rate, never converts without one). A 404 (a currency
Frankfurter does not know) leaves that base's pairs out; other failures fail the source
when no base could be answered.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

import httpx

from portfoliowise.adapters.market import http
from portfoliowise.domain.errors import NotFoundError, SourceUnavailable
from portfoliowise.domain.fx import FxRate
from portfoliowise.domain.money import Currency

log = logging.getLogger(__name__)

FRANKFURTER = "frankfurter"
BASE_URL = "https://api.frankfurter.app"
ECB_TZ = ZoneInfo("Europe/Berlin")
ECB_PUBLISHED_AT = time(16, 0)
ECB_CURRENCIES = frozenset(
    {
        "EUR",
        "USD",
        "JPY",
        "GBP",
        "AUD",
        "CAD",
        "CHF",
        "CNY",
        "HKD",
        "SGD",
        "NZD",
        "KRW",
        "INR",
        "BGN",
        "BRL",
        "CZK",
        "DKK",
        "HUF",
        "IDR",
        "ILS",
        "ISK",
        "MXN",
        "MYR",
        "NOK",
        "PHP",
        "PLN",
        "RON",
        "SEK",
        "THB",
        "TRY",
        "ZAR",
    }
)
"""Currencies in the ECB's daily reference rates (TWD, for one, is not among them)."""


class FrankfurterFxSource:
    """ECB reference rates through Frankfurter, one request per base currency."""

    def __init__(
        self, client: httpx.Client, *, base_url: str = BASE_URL, name: str = FRANKFURTER
    ) -> None:
        self._client = client
        self._url = base_url.rstrip("/") + "/latest"
        self.name = name

    def fetch_rates(self, pairs: Sequence[tuple[Currency, Currency]]) -> list[FxRate]:
        by_base: dict[Currency, list[Currency]] = {}
        for base, quote in pairs:
            if base != quote and base.code in ECB_CURRENCIES and quote.code in ECB_CURRENCIES:
                quotes = by_base.setdefault(base, [])
                if quote not in quotes:
                    quotes.append(quote)
        rates: list[FxRate] = []
        failures: list[SourceUnavailable] = []
        for base, quotes in by_base.items():
            try:
                rates.extend(self._latest(base, quotes))
            except NotFoundError as exc:
                log.info("%s: %s", self.name, exc)
            except http.Throttled as exc:
                failures.append(exc)
                break
            except SourceUnavailable as exc:
                failures.append(exc)
        if failures and not rates:
            raise SourceUnavailable(f"{self.name}: {failures[0]}")
        return rates

    def _latest(self, base: Currency, quotes: list[Currency]) -> list[FxRate]:
        params = {"from": base.code, "to": ",".join(q.code for q in quotes)}
        response = http.get(
            self._client, self._url, source=self.name, params=params, not_found_on_404=True
        )
        body = http.json_of(response, source=self.name)
        if not isinstance(body, dict):
            raise SourceUnavailable(f"{self.name}: expected a JSON object")
        if body.get("base") != base.code:
            raise SourceUnavailable(f"{self.name}: asked for {base.code}, got {body.get('base')}")
        day = _date(body.get("date"))
        table = body.get("rates")
        if day is None or not isinstance(table, dict):
            raise SourceUnavailable(f"{self.name}: no date or rates in {str(body)[:80]}")
        as_of = datetime.combine(day, ECB_PUBLISHED_AT, tzinfo=ECB_TZ).astimezone(UTC)
        rates: list[FxRate] = []
        for quote in quotes:
            value = table.get(quote.code)
            rate = _rate(value)
            if rate is None:
                if value is not None:
                    log.warning("%s: bad %s-%s rate %r", self.name, base, quote, value)
                continue
            rates.append(FxRate(base, quote, rate, as_of, self.name))
        return rates


def _date(value: object) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _rate(value: object) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        return None
    rate = Decimal(value)
    return rate if rate.is_finite() and rate > 0 else None
