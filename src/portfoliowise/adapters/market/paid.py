"""An optional paid quote source, last in the chain: Twelve Data's batch quote endpoint.
Off unless an API key is configured in Secrets Manager.

`GET https://api.twelvedata.com/quote?symbol=AAPL,BRK.B` with the key in the
`Authorization: apikey <key>` header (never in the URL, so it stays out of logs) answers
one object per symbol, keyed by symbol - or, for a single symbol, the quote object itself:
`{"symbol":"AAPL","currency":"USD","datetime":"2026-11-27","close":"235.41",
"previous_close":"234.10","change":"1.31","percent_change":"0.56",
"last_quote_at":1764262800,...}` (numbers as strings, read as `Decimal`). A symbol it
does not know is `{"code":404,"message":"...","status":"error"}` in its slot (left out); the
same shape at the top level with code 401/403/429/5xx fails the source as a whole.

Only US stocks and ETFs are asked for (the plans with Tokyo data cost more); at most 120
symbols a request (Twelve Data's batch limit), each costing one API credit.

The key: `paid_quote_source(config, secrets, client)` reads the secret named by
`PAID_QUOTES_SECRET` (a plain key, or JSON with `apiKey`/`api_key`/`key`). No name
configured, a missing secret or an empty one: it returns None and the chain skips it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import httpx

from portfoliowise.adapters.market import http
from portfoliowise.domain.errors import SourceUnavailable
from portfoliowise.domain.instruments import Instrument, Market
from portfoliowise.domain.money import Money
from portfoliowise.domain.quotes import Quote, QuoteStatus

log = logging.getLogger(__name__)

TWELVE_DATA = "twelvedata"
QUOTE_URL = "https://api.twelvedata.com/quote"
SECRET_NAME_SETTING = "PAID_QUOTES_SECRET"
MAX_SYMBOLS_PER_REQUEST = 120
MARKETS = frozenset({Market.US})
NEW_YORK = ZoneInfo("America/New_York")
US_CLOSE = time(16, 0)
_UNKNOWN_SYMBOL_CODES = {400, 404}


class SecretsClient(Protocol):
    """The part of boto3's Secrets Manager client used here."""

    def get_secret_value(self, *, SecretId: str) -> Mapping[str, Any]: ...


def twelve_data_symbol(instrument: Instrument) -> str:
    """`BRK-B` -> `BRK.B` (Twelve Data's share-class notation)."""
    return instrument.code.replace("-", ".")


class TwelveDataQuoteSource:
    """US quotes from Twelve Data, one request per 120 symbols."""

    markets = MARKETS

    def __init__(
        self, client: httpx.Client, api_key: str, *, url: str = QUOTE_URL, name: str = TWELVE_DATA
    ) -> None:
        if not api_key.strip():
            raise ValueError("Twelve Data needs an API key")
        self._client = client
        self._headers = {"Authorization": f"apikey {api_key.strip()}"}
        self._url = url
        self.name = name

    def fetch(self, instruments: Sequence[Instrument]) -> dict[str, Quote]:
        wanted = {twelve_data_symbol(i): i for i in instruments if i.market in MARKETS}
        symbols = list(wanted)
        found: dict[str, Quote] = {}
        for start in range(0, len(symbols), MAX_SYMBOLS_PER_REQUEST):
            chunk = symbols[start : start + MAX_SYMBOLS_PER_REQUEST]
            found.update(self._fetch_chunk(chunk, wanted))
        return found

    def _fetch_chunk(self, symbols: list[str], wanted: dict[str, Instrument]) -> dict[str, Quote]:
        response = http.get(
            self._client,
            self._url,
            source=self.name,
            params={"symbol": ",".join(symbols)},
            headers=self._headers,
        )
        body = http.json_of(response, source=self.name)
        if not isinstance(body, dict):
            raise SourceUnavailable(f"{self.name}: expected a JSON object")
        if body.get("status") == "error":
            self._raise_for_error(body, single=len(symbols) == 1)
            return {}  # the only symbol asked for is unknown
        entries: dict[str, Any] = {symbols[0]: body} if "close" in body else body
        found: dict[str, Quote] = {}
        for symbol, entry in entries.items():
            instrument = wanted.get(symbol)
            if instrument is None or not isinstance(entry, dict):
                continue
            if entry.get("status") == "error":
                log.info("%s: %s: %s", self.name, symbol, entry.get("message"))
                continue
            quote = self._quote(instrument, entry)
            if quote is not None:
                found[instrument.symbol] = quote
        return found

    def _raise_for_error(self, body: dict[str, Any], *, single: bool) -> None:
        """A top-level error: an unknown symbol when one was asked for (400/404), else
        the source failing."""
        code = body.get("code")
        message = f"{self.name}: error {code}: {str(body.get('message'))[:120]}"
        if code == 429:
            raise http.Throttled(message)
        if not (single and code in _UNKNOWN_SYMBOL_CODES):
            raise SourceUnavailable(message)

    def _quote(self, instrument: Instrument, entry: dict[str, Any]) -> Quote | None:
        close = _decimal(entry.get("close"))
        currency = entry.get("currency")
        as_of = _as_of(entry)
        if close is None or close <= 0 or as_of is None:
            log.warning("%s: malformed quote for %s ignored", self.name, instrument)
            return None
        if currency is not None and currency != instrument.currency.code:
            log.warning("%s: %s quoted in %s", self.name, instrument, currency)
            return None
        volume = _decimal(entry.get("volume"))
        name = entry.get("name")
        return Quote(
            symbol=instrument.symbol,
            price=Money(close, instrument.currency),
            status=QuoteStatus.LIVE,
            source=self.name,
            as_of=as_of,
            change=_decimal(entry.get("change")),
            change_percent=_decimal(entry.get("percent_change")),
            volume=volume if volume is not None and volume >= 0 else None,
            name=name if isinstance(name, str) and name else None,
        )


def _decimal(value: object) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        return None
    try:
        number = Decimal(value)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _as_of(entry: dict[str, Any]) -> datetime | None:
    """The last quote's time (`last_quote_at`, Unix seconds), else the bar's date at the
    New York close."""
    stamp = entry.get("last_quote_at")
    if isinstance(stamp, int) and not isinstance(stamp, bool) and stamp > 0:
        return datetime.fromtimestamp(stamp, UTC)
    day = entry.get("datetime")
    if isinstance(day, str):
        try:
            return datetime.combine(date.fromisoformat(day[:10]), US_CLOSE, NEW_YORK).astimezone(
                UTC
            )
        except ValueError:
            return None
    return None


def read_api_key(secrets: SecretsClient, secret_name: str) -> str | None:
    """The key stored in the secret, or None when the secret is missing or empty. Other
    Secrets Manager errors are raised as `SourceUnavailable`."""
    from botocore.exceptions import BotoCoreError, ClientError  # boto loads only if enabled

    try:
        answer = secrets.get_secret_value(SecretId=secret_name)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            log.warning("paid quote source: secret %s does not exist; source off", secret_name)
            return None
        raise SourceUnavailable(f"secret {secret_name}: {exc}") from exc
    except BotoCoreError as exc:
        raise SourceUnavailable(f"secret {secret_name}: {exc}") from exc
    raw = answer.get("SecretString")
    if not isinstance(raw, str) or not raw.strip():
        return None
    text = raw.strip()
    if text.startswith("{"):
        try:
            document = json.loads(text)
        except json.JSONDecodeError:
            return None
        for field in ("apiKey", "api_key", "key"):
            value = document.get(field) if isinstance(document, dict) else None
            if isinstance(value, str) and value.strip():
                return value.strip()
        return None
    return text


def paid_quote_source(
    config: Mapping[str, str], secrets: SecretsClient, client: httpx.Client
) -> TwelveDataQuoteSource | None:
    """The paid source when `PAID_QUOTES_SECRET` names a secret holding a key; else None."""
    secret_name = config.get(SECRET_NAME_SETTING, "").strip()
    if not secret_name:
        return None
    key = read_api_key(secrets, secret_name)
    if key is None:
        log.info("paid quote source: secret %s is empty; source off", secret_name)
        return None
    return TwelveDataQuoteSource(client, key)
