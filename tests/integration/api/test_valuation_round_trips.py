"""The portfolio function's round trips for GET /portfolios/{id}/valuation of 250 holdings
from a warm Cache table, counted on the wire (moto in process, botocore hooks on the
container's DynamoDB client): GetItem of the session, GetItem of the portfolio, then the
250 quotes and the USD-JPY rate in 3 BatchGetItem requests (100 + 100 + 51 keys) sent
concurrently: 5 requests, 3 in sequence; and no connection outside AWS.

Concurrency is proven, not timed: each BatchGetItem waits at a barrier of 3 before it is
sent, which only passes when all three are in flight at once (sent one after another, the
first would wait alone until the barrier's timeout)."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from api_harness import LambdaContext, make_event
from moto import mock_aws

from portfoliowise.adapters.dynamodb import DynamoQuoteCache, create_tables
from portfoliowise.adapters.dynamodb.batch import Backoff
from portfoliowise.application.request_auth import token_hash
from portfoliowise.domain.audit import RequestContext, audit_entries
from portfoliowise.domain.instruments import parse_symbol
from portfoliowise.domain.money import JPY, USD, Money
from portfoliowise.domain.portfolio import Holding, Portfolio
from portfoliowise.domain.quotes import Quote, QuoteStatus
from portfoliowise.domain.sessions import Session
from portfoliowise.handlers import bootstrap
from portfoliowise.handlers.container import Container, container_from_env

ENV = {
    "PORTFOLIOWISE_MODE": "aws",
    "AWS_DEFAULT_REGION": "ap-northeast-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "SESSION_SIGNING_KEY": "k" * 64,
}
SESSION_ID = "round-trips-0123456789-abcdefghijklmnopqrst"  # a 43-character token
USER = "user-round-trips"
TOKYO = [str(1301 + n) for n in range(200)]
US = [f"Q{chr(65 + n // 26)}{chr(65 + n % 26)}" for n in range(50)]
BARRIER_SECONDS = 10.0


@dataclass
class Wire:
    """Requests as sent (operation, thread, keys of a BatchGetItem) and connections."""

    sent: list[tuple[str, str]] = field(default_factory=list)
    batch_keys: list[int] = field(default_factory=list)
    connects: list[Any] = field(default_factory=list)
    barrier: threading.Barrier | None = None
    broken: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def before_send(self, request: Any, **_: Any) -> None:
        target = request.headers.get("X-Amz-Target", b"")
        operation = (target.decode() if isinstance(target, bytes) else target).rsplit(".")[-1]
        with self.lock:
            self.sent.append((operation, threading.current_thread().name))
        if operation == "BatchGetItem" and self.barrier is not None:
            try:
                self.barrier.wait(BARRIER_SECONDS)
            except threading.BrokenBarrierError:
                self.broken = True

    def params(self, params: dict[str, Any], **_: Any) -> None:
        with self.lock:
            self.batch_keys.append(sum(len(v["Keys"]) for v in params["RequestItems"].values()))

    @property
    def operations(self) -> list[str]:
        return [operation for operation, _ in self.sent]


@dataclass
class World:
    container: Container
    app: Any
    wire: Wire
    portfolio_id: str


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    for key, value in ENV.items():
        monkeypatch.setenv(key, value)
    with mock_aws():
        container = container_from_env(ENV)
        client = container.dynamodb()
        create_tables(client, container.table_names())
        now = datetime.now(UTC)
        portfolio = Portfolio.create(
            user_id=USER,
            portfolio_id="p-250",
            name="250 holdings",
            base_currency=JPY,
            at=now,
            holdings=[Holding.of(s, 100) for s in TOKYO] + [Holding.of(s, 10) for s in US],
        )
        container.portfolios().add(
            portfolio, audit_entries(portfolio.pull_events(), RequestContext())
        )
        quotes = [Quote(s, Money.of("1234", JPY), QuoteStatus.LIVE, "test", now) for s in TOKYO]
        quotes += [Quote(s, Money.of("56.78", USD), QuoteStatus.LIVE, "test", now) for s in US]
        rate = Quote("USD-JPY", Money(Decimal("150.25"), JPY), QuoteStatus.LIVE, "test", now)
        container.quote_cache().put_many([*quotes, rate], now + timedelta(hours=1))
        container.sessions().put(Session(token_hash(SESSION_ID), USER, now + timedelta(days=1)))
        app = bootstrap.portfolio_function(container)
        wire = Wire()
        client.meta.events.register("before-send.dynamodb", wire.before_send)
        client.meta.events.register("provide-client-params.dynamodb.BatchGetItem", wire.params)
        real_connect = socket.socket.connect

        def connect(sock: socket.socket, address: Any) -> Any:
            wire.connects.append(address)
            return real_connect(sock, address)

        monkeypatch.setattr(socket.socket, "connect", connect)
        yield World(container, app, wire, portfolio.portfolio_id)


def _valuation(world: World) -> tuple[int, dict[str, Any]]:
    event = make_event(
        "get_portfolio.json",
        path=f"/portfolios/{world.portfolio_id}/valuation",
        headers={"Cookie": f"__Host-session={SESSION_ID}"},
    )
    answer = world.app.resolve(event, LambdaContext())
    return int(answer["statusCode"]), json.loads(answer["body"])


def test_a_warm_valuation_of_250_holdings_is_5_requests_3_in_sequence(world: World) -> None:
    status, _ = _valuation(world)  # a warm container: clients made, the total kept
    assert status == 200
    world.wire.sent.clear()
    world.wire.batch_keys.clear()
    world.wire.barrier = threading.Barrier(3)

    status, body = _valuation(world)

    assert status == 200, body
    assert not world.wire.broken, "the 3 BatchGetItem requests were not in flight together"
    assert world.wire.operations == ["GetItem", "GetItem", *["BatchGetItem"] * 3]
    assert sorted(world.wire.batch_keys) == [51, 100, 100]  # 250 quotes + USD-JPY
    batch_threads = {thread for op, thread in world.wire.sent if op == "BatchGetItem"}
    assert len(batch_threads) == 3
    assert all(name.startswith("dynamodb-get") for name in batch_threads)
    assert world.wire.connects == []  # no HTTP call outside AWS
    assert len(body["holdings"]) == 250
    assert body["unpriced"] == []
    assert {h["quote"]["status"] for h in body["holdings"]} == {"cached"}
    # 200 x 100 x 1,234 + 50 x 10 x 56.78 x 150.25 = 28,945,597.5
    assert body["total"] == {"amount": "28945598", "currency": "JPY"}


def test_a_total_that_moved_is_kept_with_one_more_request_after_the_others(
    world: World,
) -> None:
    """The kept total is read with the portfolio (the same GetItem): the write happens only
    when the valuation moved, after the reads it depends on."""
    assert _valuation(world)[0] == 200
    now = datetime.now(UTC)
    moved = Quote("1301", Money.of("2000", JPY), QuoteStatus.LIVE, "test", now)
    world.container.quote_cache().put_many([moved], now + timedelta(hours=1))
    world.wire.sent.clear()

    status, body = _valuation(world)

    assert status == 200
    assert body["total"]["amount"] == "29022198"  # + 100 x 766
    assert world.wire.operations == ["GetItem", "GetItem", *["BatchGetItem"] * 3, "UpdateItem"]
    world.wire.sent.clear()
    assert _valuation(world)[0] == 200
    assert "UpdateItem" not in world.wire.operations  # kept: nothing to write again


def test_keys_left_unprocessed_are_resent_by_each_concurrent_request(world: World) -> None:
    client = world.container.dynamodb()
    table = world.container.table_names().cache
    left: list[int] = []
    resent: set[str] = set()
    lock = threading.Lock()

    def after_call(parsed: dict[str, Any], **_: Any) -> None:
        """The first answer of each request keeps 40 items, the rest unprocessed."""
        with lock:
            items = parsed["Responses"][table]
            if any(i["cacheKey"]["S"] in resent for i in items):
                return  # a resend: answered in full
            parsed["Responses"][table] = items[:40]
            keys = [{"cacheKey": i["cacheKey"], "timestamp": i["timestamp"]} for i in items[40:]]
            parsed["UnprocessedKeys"] = {table: {"Keys": keys}}
            resent.update(k["cacheKey"]["S"] for k in keys)
            left.append(len(keys))

    client.meta.events.register("after-call.dynamodb.BatchGetItem", after_call)
    cache = DynamoQuoteCache(
        client,
        world.container.table_names(),
        world.container.clock(),
        backoff=Backoff(sleep=lambda s: None),
    )
    instruments = [parse_symbol(s) for s in [*TOKYO, *US, "USD-JPY"]]

    found = cache.get_many(instruments)

    assert len(found) == 251
    assert sorted(left) == [11, 60, 60]  # each chunk kept 40 and resent the rest
    assert world.wire.operations.count("BatchGetItem") == 6
