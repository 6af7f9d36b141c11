"""API test harness: recorded API Gateway REST proxy events (tests/events/*.json) through the
resolver, with the container's providers overridden by in-memory fakes. No network."""

from __future__ import annotations

import base64
import copy
import gzip
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from dependency_injector import providers

from portfoliowise.adapters.client_logs.memory import MemoryClientLogSink
from portfoliowise.adapters.clock import FixedClock, SequentialIds
from portfoliowise.adapters.market.calendars import calendar_for
from portfoliowise.adapters.memory import (
    InMemoryAuditLog,
    InMemoryEventPublisher,
    InMemoryPortfolioRepository,
    InMemoryQuoteCache,
    StaticFxSource,
    StaticQuoteSource,
)
from portfoliowise.application.market_service import MarketService
from portfoliowise.domain.errors import Forbidden, Unauthenticated
from portfoliowise.domain.fx import FxRate
from portfoliowise.domain.market import DailyClose, DailyHistory
from portfoliowise.domain.money import JPY, USD, Money
from portfoliowise.domain.quotes import Quote, QuoteStatus
from portfoliowise.handlers.container import Container, Settings

EVENTS = Path(__file__).resolve().parents[2] / "events"
NOW = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)  # a Friday, Tokyo closed, New York not open


class FakeAuthenticator:
    """Cookie `session=<user>` is that user's session; its CSRF token is `csrf-<user>`."""

    def authenticate(
        self,
        cookie_header: str | None,
        csrf_header: str | None,
        *,
        state_changing: bool,
        **_: str | None,  # authorization, origin, referer: the real one's business
    ) -> str:
        cookies = dict(
            part.strip().split("=", 1) for part in (cookie_header or "").split(";") if "=" in part
        )
        user = cookies.get("session", "")
        if not user:
            raise Unauthenticated("sign in first")
        if state_changing and csrf_header != f"csrf-{user}":
            raise Forbidden("missing or wrong CSRF token")
        return user


class FakeHistorySource:
    name = "fake-history"

    def history(self, instrument: Any, start: Any, end: Any) -> DailyHistory:
        return DailyHistory(
            symbol=instrument.symbol,
            currency=instrument.currency.code,
            closes=(DailyClose(start, Decimal("100.5")), DailyClose(end, Decimal("101.25"))),
            source=self.name,
        )


def quotes_table() -> dict[str, Quote]:
    def quote(symbol: str, price: Money) -> Quote:
        return Quote(
            symbol=symbol,
            price=price,
            status=QuoteStatus.LIVE,
            source="fake",
            as_of=NOW,
            change=Decimal("1.5"),
            change_percent=Decimal("0.5"),
            name=f"{symbol} Inc.",
        )

    return {
        "7203": quote("7203", Money.of("2500", JPY)),
        "AAPL": quote("AAPL", Money.of("200", USD)),
        "MSFT": quote("MSFT", Money.of("400", USD)),
    }


def market_service(clock: FixedClock, *, failing: bool = False) -> MarketService:
    return MarketService(
        InMemoryQuoteCache(clock),
        [StaticQuoteSource("fake", quotes_table(), failing=failing)],
        [StaticFxSource("fake-fx", [FxRate(USD, JPY, Decimal("150"), NOW)], failing=failing)],
        [FakeHistorySource()],  # type: ignore[list-item]
        clock,
        calendar_for,
    )


class LambdaContext:
    function_name = "portfoliowise-test"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:ap-northeast-1:123456789012:function:test"
    memory_limit_in_mb = 256
    aws_request_id = "52fdfc07-2182-454f-963f-5f0f9a621d72"
    log_group_name = "/aws/lambda/test"
    log_stream_name = "2026/11/29/[$LATEST]abc"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 10_000


def load_event(name: str) -> dict[str, Any]:
    """A recorded event without its `Accept-Encoding` (the tests read plain JSON; gzip
    answers are tested with the header sent on purpose: test_large_answers)."""
    data: dict[str, Any] = json.loads((EVENTS / name).read_text(encoding="utf-8"))
    for field in ("headers", "multiValueHeaders"):
        for key in [k for k in data.get(field) or {} if k.lower() == "accept-encoding"]:
            del data[field][key]
    return data


def make_event(
    name: str,
    *,
    method: str | None = None,
    path: str | None = None,
    body: Any = ...,
    raw_body: str | None = None,
    query: Mapping[str, str] | None = None,
    user: str | None = "userA",
    headers: Mapping[str, str | None] | None = None,
    base64: bool = False,
) -> dict[str, Any]:
    """A recorded event adjusted: path, method, body, query and the signed-in user (its
    cookie and CSRF token; `user=None` sends neither)."""
    event = copy.deepcopy(load_event(name))
    if method is not None:
        event["httpMethod"] = method
        event["requestContext"]["httpMethod"] = method
    if path is not None:
        event["path"] = path
        event["resource"] = path
        event["requestContext"]["path"] = "/prod" + path
    event["isBase64Encoded"] = base64
    if raw_body is not None:
        event["body"] = raw_body
    elif body is not ...:
        event["body"] = None if body is None else json.dumps(body, ensure_ascii=False)
    if query is not None:
        event["queryStringParameters"] = dict(query) or None
        event["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()} or None
    wanted: dict[str, str | None] = {}
    if user is None:
        wanted["Cookie"] = None
        wanted["X-CSRF-Token"] = None
    else:
        wanted["Cookie"] = f"session={user}"
        if "X-CSRF-Token" in event["headers"]:
            wanted["X-CSRF-Token"] = f"csrf-{user}"
    wanted.update(headers or {})
    for key, value in wanted.items():
        if value is None:
            event["headers"].pop(key, None)
            event["multiValueHeaders"].pop(key, None)
        else:
            event["headers"][key] = value
            event["multiValueHeaders"][key] = [value]
    return event


def decoded_body(response: Mapping[str, Any], headers: Mapping[str, str]) -> str:
    """The body as a client reads it: base64 decoded, gunzipped when `Content-Encoding:
    gzip` (the recorded events accept gzip, as browsers do)."""
    raw = response.get("body") or ""
    if not response.get("isBase64Encoded"):
        return str(raw)
    data = base64.b64decode(raw)
    if any(k.lower() == "content-encoding" and v == "gzip" for k, v in headers.items()):
        data = gzip.decompress(data)
    return data.decode("utf-8")


def call(app: Any, name: str, **changes: Any) -> tuple[int, dict[str, Any], Any]:
    """Resolve an adjusted recorded event: (status, headers, parsed JSON body or text)."""
    response: dict[str, Any] = app.resolve(make_event(name, **changes), LambdaContext())
    headers = dict(response.get("headers") or {})
    for key, values in (response.get("multiValueHeaders") or {}).items():
        headers.setdefault(key, values[-1])
    text = decoded_body(response, headers)
    try:
        body: Any = json.loads(text) if text else None
    except json.JSONDecodeError:
        body = text
    return response["statusCode"], headers, body


def assert_error_shape(status: int, body: Any) -> None:
    assert 400 <= status < 600
    assert isinstance(body, dict), body
    assert set(body) == {"success", "error", "message"}, body
    assert body["success"] is False, body
    error = body["error"]
    assert isinstance(error.get("code"), str), body
    assert error["code"], body
    assert isinstance(error.get("message"), str), body
    assert error["message"], body
    assert body["message"] == error["message"], body  # what the existing web app reads
    assert set(error) <= {"code", "message", "details", "userFriendly"}


def fake_container(clock: FixedClock) -> Container:
    """A container over in-memory fakes (and the fake authenticator)."""
    container = Container()
    audit = InMemoryAuditLog(clock)
    container.settings.override(providers.Object(Settings()))
    container.clock.override(providers.Object(clock))
    container.ids.override(providers.Object(SequentialIds("p")))
    container.audit_log.override(providers.Object(audit))
    container.portfolios.override(providers.Object(InMemoryPortfolioRepository(audit)))
    container.events.override(providers.Object(InMemoryEventPublisher()))
    container.market.override(providers.Object(market_service(clock)))
    container.authenticator.override(providers.Object(FakeAuthenticator()))
    container.client_log_sink.override(providers.Object(MemoryClientLogSink()))
    return container
