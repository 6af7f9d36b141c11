"""The DynamoDB adapters against moto: the tables as designed, request budgets counted on
the wire, resends of unprocessed batches, throttling, optimistic locking and concurrency.
The behaviour every store shares is in tests/contract."""

from __future__ import annotations

import io
import json
import logging
import random
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest
from botocore.awsrequest import AWSResponse
from botocore.stub import Stubber
from moto import mock_aws
from moto.dynamodb.responses import DynamoHandler
from moto.server import ThreadedMotoServer

from portfoliowise.adapters.clock import FixedClock, SystemClock, UuidGenerator
from portfoliowise.adapters.dynamodb import (
    TABLES,
    Backoff,
    DynamoAuditLog,
    DynamoPortfolioRepository,
    DynamoQuoteCache,
    DynamoSessionStore,
    TableNames,
    create_tables,
    dynamodb_client,
)
from portfoliowise.adapters.memory import InMemoryEventPublisher
from portfoliowise.application.portfolio_commands import (
    PortfolioPorts,
    create_portfolio,
    update_portfolio,
)
from portfoliowise.domain.audit import AuditEntry, RequestContext, audit_entries
from portfoliowise.domain.errors import (
    ConflictError,
    NotFoundError,
    SourceUnavailable,
)
from portfoliowise.domain.events import FieldChange, PortfolioRenamed
from portfoliowise.domain.instruments import parse_symbol
from portfoliowise.domain.money import JPY, Money
from portfoliowise.domain.portfolio import Holding, Portfolio
from portfoliowise.domain.quotes import QUOTE_FRESH_FOR, QUOTE_KEPT_FOR, Quote, QuoteStatus
from portfoliowise.domain.sessions import SESSION_TTL, Session

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

START = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
CONTEXT = RequestContext(ip="203.0.113.7", user_agent="integration-test")
NAMES = TableNames()


@dataclass
class Dynamo:
    client: DynamoDBClient
    names: TableNames
    clock: FixedClock
    sleeps: list[float]

    @property
    def backoff(self) -> Backoff:
        return Backoff(attempts=4, base=0.05, cap=0.2, sleep=self.sleeps.append)

    def portfolios(self, page_size: int | None = None) -> DynamoPortfolioRepository:
        return DynamoPortfolioRepository(
            self.client, self.names, self.clock, page_size, backoff=self.backoff
        )

    def audit(self) -> DynamoAuditLog:
        return DynamoAuditLog(self.client, self.names, self.clock, backoff=self.backoff)

    def quotes(self) -> DynamoQuoteCache:
        return DynamoQuoteCache(self.client, self.names, self.clock, backoff=self.backoff)

    def requests(self) -> list[str]:
        """Operation names of the requests sent from now on (counted before sending)."""
        sent: list[str] = []

        def count(model: Any, **_: Any) -> None:
            sent.append(model.name)

        self.client.meta.events.register("before-call.dynamodb.*", count)
        return sent


@pytest.fixture
def dynamo() -> Iterator[Dynamo]:
    with mock_aws():
        client = dynamodb_client()
        create_tables(client, NAMES)
        yield Dynamo(client, NAMES, FixedClock(START), [])


def _portfolio(clock: FixedClock, user_id: str = "u1", portfolio_id: str = "p1") -> Portfolio:
    return Portfolio.create(
        user_id=user_id,
        portfolio_id=portfolio_id,
        name="core",
        base_currency=JPY,
        at=clock.now(),
        holdings=[
            Holding.of("7203", "200", cost_basis=Money.of("512000.5", "JPY")),
            Holding.of("VTI", "12.50"),
        ],
        targets={"7203": "40", "VTI": "60.0"},
    )


def _add(repo: DynamoPortfolioRepository, portfolio: Portfolio) -> None:
    repo.add(portfolio, audit_entries(portfolio.pull_events(), CONTEXT))


def _save(repo: DynamoPortfolioRepository, portfolio: Portfolio) -> None:
    repo.save(portfolio, audit_entries(portfolio.pull_events(), CONTEXT))


def _trail(dynamo: Dynamo, user_id: str = "u1") -> list[AuditEntry]:
    now = dynamo.clock.now()
    return dynamo.audit().for_user(user_id, now - timedelta(days=1), now + timedelta(days=1))


def _quote(symbol: str, price: str, at: datetime) -> Quote:
    instrument = parse_symbol(symbol)
    return Quote(
        symbol=instrument.symbol,
        price=Money(Decimal(price), instrument.currency),
        status=QuoteStatus.LIVE,
        source="yahoo",
        as_of=at,
        change=Decimal("1.5"),
    )


# -- the tables as designed ---------------------------------------------------------
DESIGNED = {
    "portfoliowise-cache": (
        [("cacheKey", "HASH"), ("timestamp", "RANGE")],
        {
            "market-timestamp-index": [("market", "HASH"), ("timestamp", "RANGE")],
            "ttl-index": [("ttl", "HASH")],
        },
        "ttl",
    ),
    "portfoliowise-session": (
        [("sessionId", "HASH")],
        {"userId-index": [("userId", "HASH")], "expiresAt-index": [("expiresAt", "HASH")]},
        "ttl",
    ),
    "portfoliowise-portfolio": (
        [("userId", "HASH"), ("portfolioId", "RANGE")],
        {
            "portfolioId-index": [("portfolioId", "HASH")],
            "updatedAt-index": [("userId", "HASH"), ("updatedAt", "RANGE")],
        },
        None,
    ),
    "portfoliowise-audit": (
        [("date", "HASH"), ("timestampUserId", "RANGE")],
        {
            "userId-date-index": [("userId", "HASH"), ("date", "RANGE")],
            "action-date-index": [("action", "HASH"), ("date", "RANGE")],
        },
        "ttl",
    ),
}


def _keys(schema: Any) -> list[tuple[str, str]]:
    return [(element["AttributeName"], element["KeyType"]) for element in schema]


@pytest.mark.parametrize("table", sorted(DESIGNED))
def test_tables_are_created_as_designed(dynamo: Dynamo, table: str) -> None:
    keys, indexes, ttl = DESIGNED[table]
    described = dynamo.client.describe_table(TableName=table)["Table"]
    assert _keys(described["KeySchema"]) == keys
    assert described["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    found = {
        gsi["IndexName"]: _keys(gsi["KeySchema"]) for gsi in described["GlobalSecondaryIndexes"]
    }
    assert found == indexes
    status = dynamo.client.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
    if ttl is None:
        assert status.get("TimeToLiveStatus", "DISABLED") == "DISABLED"
    else:
        assert status == {"TimeToLiveStatus": "ENABLED", "AttributeName": ttl}


def test_creating_the_tables_again_changes_nothing(dynamo: Dynamo) -> None:
    create_tables(dynamo.client, dynamo.names)
    assert sorted(dynamo.client.list_tables()["TableNames"]) == sorted(DESIGNED)
    assert len(TABLES) == 4


def test_table_names_come_from_the_environment() -> None:
    names = TableNames.from_env({"PORTFOLIO_TABLE": "p-prod", "CACHE_TABLE": "c-prod"})
    assert names == TableNames("p-prod", "portfoliowise-audit", "portfoliowise-session", "c-prod")
    assert TableNames.from_env({}) == TableNames()


# -- stored items -------------------------------------------------------------------
def test_portfolio_item_keeps_decimals_as_strings(dynamo: Dynamo) -> None:
    _add(dynamo.portfolios(), _portfolio(dynamo.clock))
    item = dynamo.client.get_item(
        TableName=NAMES.portfolio, Key={"userId": {"S": "u1"}, "portfolioId": {"S": "p1"}}
    )["Item"]
    assert item["version"] == {"N": "1"}
    assert item["currency"] == {"S": "JPY"}
    assert item["allocations"] == {"M": {"7203": {"S": "40"}, "VTI": {"S": "60.0"}}}
    vti = item["holdings"]["L"][1]["M"]
    assert vti["quantity"] == {"S": "12.50"}
    assert vti["sector"] == {"NULL": True}
    assert item["holdings"]["L"][0]["M"]["costBasis"]["M"]["amount"] == {"S": "512000.5"}


def test_audit_item_is_keyed_by_date_and_timestamp_user(dynamo: Dynamo) -> None:
    _add(dynamo.portfolios(), _portfolio(dynamo.clock))
    [entry] = _trail(dynamo)
    item = dynamo.client.get_item(
        TableName=NAMES.audit,
        Key={"date": {"S": "2026-11-27"}, "timestampUserId": {"S": entry.sort_key}},
    )["Item"]
    assert entry.sort_key == "2026-11-27T09:00:00.000000+00:00#u1"
    assert item["userId"] == {"S": "u1"}
    assert item["action"] == {"S": "portfolio.created"}
    assert item["ttl"] == {"N": str(int((START + timedelta(days=90)).timestamp()))}
    assert item["ip"] == {"S": "203.0.113.7"}


def test_session_item_stores_tokens_as_binary_with_ttl(dynamo: Dynamo) -> None:
    store = DynamoSessionStore(dynamo.client, dynamo.names)
    expires = START + SESSION_TTL + timedelta(microseconds=250)
    session = Session("h" * 64, "u1", expires, b"\x00cipher", b"")
    store.put(session)
    item = dynamo.client.get_item(TableName=NAMES.session, Key={"sessionId": {"S": "h" * 64}})[
        "Item"
    ]
    assert item["accessToken"] == {"B": b"\x00cipher"}
    assert Decimal(item["expiresAt"]["N"]) == Decimal(int(expires.timestamp())) + Decimal(
        "0.000250"
    )
    assert item["ttl"] == {"N": str(int(expires.timestamp()) + 1)}  # rounded up
    assert store.get("h" * 64, START) == session


def test_one_cache_item_per_instrument_under_latest(dynamo: Dynamo) -> None:
    cache = dynamo.quotes()
    expires = START + QUOTE_FRESH_FOR
    cache.put_many([_quote("7203.T", "2891.5", START), Quote.unavailable("AAPL")], expires)
    cache.put_many([_quote("7203", "2900", START)], expires)
    items = dynamo.client.scan(TableName=NAMES.cache)["Items"]
    assert len(items) == 1
    [item] = items
    assert item["cacheKey"] == {"S": "7203#JP"}
    assert item["timestamp"] == {"S": "latest"}
    assert item["market"] == {"S": "JP"}
    assert item["price"] == {"N": "2900"}
    assert item["ttl"] == {"N": str(int((expires + QUOTE_KEPT_FOR).timestamp()))}


# -- request budgets ----------------------------------------------------------------
def test_listing_a_users_portfolios_is_one_query_per_page(dynamo: Dynamo) -> None:
    repo = dynamo.portfolios(page_size=2)
    for user_id, portfolio_id in [("u1", f"p{i}") for i in range(5)] + [("u2", "p9")]:
        _add(repo, _portfolio(dynamo.clock, user_id, portfolio_id))
        dynamo.clock.advance(timedelta(seconds=1))
    sent = dynamo.requests()
    found = repo.list_for_user("u1")
    assert [p.portfolio_id for p in found] == ["p0", "p1", "p2", "p3", "p4"]
    assert sent == ["Query"] * 3  # pages of 2, 2 and 1; never a Scan


def test_loading_250_known_cache_keys_is_three_batch_gets(dynamo: Dynamo) -> None:
    cache = dynamo.quotes()
    codes = [str(1300 + i) for i in range(250)]
    sent = dynamo.requests()
    cache.put_many([_quote(code, "1000", START) for code in codes], START + QUOTE_FRESH_FOR)
    assert sent == ["BatchWriteItem"] * 10
    sent.clear()
    found = cache.get_many([parse_symbol(code) for code in codes])
    assert len(found) == 250
    assert sent == ["BatchGetItem"] * 3
    assert dynamo.sleeps == []


def test_get_many_portfolios_is_one_batch_get_per_100_keys(dynamo: Dynamo) -> None:
    repo = dynamo.portfolios()
    for i in range(3):
        _add(repo, _portfolio(dynamo.clock, f"u{i}", "p1"))
    sent = dynamo.requests()
    found = repo.get_many([("u0", "p1"), ("u2", "p1"), ("u9", "p1"), ("u0", "p1")])
    assert set(found) == {("u0", "p1"), ("u2", "p1")}
    assert sent == ["BatchGetItem"]


# -- unprocessed batches ------------------------------------------------------------
def _leave_unprocessed(client: DynamoDBClient, table: str, times: int, keep: int) -> list[int]:
    """Make the next `times` BatchGetItem responses return only `keep` items and report
    the others as UnprocessedKeys, as DynamoDB does under throttling."""
    left: list[int] = []

    def after_call(parsed: dict[str, Any], **_: Any) -> None:
        if len(left) >= times:
            return
        items = parsed["Responses"][table]
        parsed["Responses"][table] = items[:keep]
        keys = [{"cacheKey": i["cacheKey"], "timestamp": i["timestamp"]} for i in items[keep:]]
        parsed["UnprocessedKeys"] = {table: {"Keys": keys}}
        left.append(len(keys))

    client.meta.events.register("after-call.dynamodb.BatchGetItem", after_call)
    return left


def test_unprocessed_keys_are_resent_with_backoff(dynamo: Dynamo) -> None:
    cache = dynamo.quotes()
    codes = [str(1300 + i) for i in range(30)]
    cache.put_many([_quote(code, "1000", START) for code in codes], START + QUOTE_FRESH_FOR)
    left = _leave_unprocessed(dynamo.client, NAMES.cache, times=2, keep=10)
    sent = dynamo.requests()
    found = cache.get_many([parse_symbol(code) for code in codes])
    assert len(found) == 30
    assert left == [20, 10]
    assert sent == ["BatchGetItem"] * 3
    assert len(dynamo.sleeps) == 2
    assert 0 <= dynamo.sleeps[0] <= 0.1  # base * 2**1
    assert 0 <= dynamo.sleeps[1] <= 0.2  # base * 2**2, capped at 0.2


def test_keys_left_unprocessed_too_long_make_the_source_unavailable(dynamo: Dynamo) -> None:
    cache = dynamo.quotes()
    cache.put_many([_quote("7203", "1000", START)], START + QUOTE_FRESH_FOR)
    _leave_unprocessed(dynamo.client, NAMES.cache, times=100, keep=0)
    sent = dynamo.requests()
    with pytest.raises(SourceUnavailable):
        cache.get_many([parse_symbol("7203")])
    assert sent == ["BatchGetItem"] * 4  # Backoff(attempts=4)
    assert len(dynamo.sleeps) == 3
    assert all(0 <= delay <= 0.2 for delay in dynamo.sleeps)


def test_unprocessed_writes_are_resent(dynamo: Dynamo) -> None:
    audit = dynamo.audit()
    entries = []
    for i in range(30):
        event = PortfolioRenamed(
            user_id="u1",
            portfolio_id="p1",
            occurred_at=START + timedelta(seconds=i),
            changes={"name": FieldChange(str(i), str(i + 1))},
        )
        entries.extend(audit_entries([event], CONTEXT))
    requested: list[Any] = []
    resent: list[int] = []

    def remember(params: dict[str, Any], **_: Any) -> None:
        requested.append(params["RequestItems"][NAMES.audit])

    def after_call(parsed: dict[str, Any], **_: Any) -> None:
        if not resent:
            parsed["UnprocessedItems"] = {NAMES.audit: requested[-1][:5]}
            resent.append(5)

    dynamo.client.meta.events.register("provide-client-params.dynamodb.BatchWriteItem", remember)
    dynamo.client.meta.events.register("after-call.dynamodb.BatchWriteItem", after_call)
    audit.record(entries)
    assert [len(batch) for batch in requested] == [25, 5, 5]
    assert len(dynamo.sleeps) == 1
    assert _trail(dynamo) == entries


# -- throttling ---------------------------------------------------------------------
class _Body(io.BytesIO):
    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.getvalue()


def test_throttling_is_retried_by_botocore_then_source_unavailable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No server at all: every attempt is answered 400 ThrottlingException before it is
    sent, so botocore's standard retry mode runs (its waits are skipped)."""
    client = dynamodb_client(endpoint_url="http://127.0.0.1:9", max_attempts=3)
    attempts: list[str] = []

    def throttled(request: Any, **_: Any) -> Any:  # a response short-circuits sending
        attempts.append(request.url)
        body = {
            "__type": "com.amazonaws.dynamodb.v20120810#ThrottlingException",
            "message": "Rate of requests exceeds the allowed throughput.",
        }
        headers: Any = {"x-amzn-RequestId": "r", "Content-Type": "application/x-amz-json-1.0"}
        return AWSResponse(request.url, 400, headers, _Body(json.dumps(body).encode()))

    client.meta.events.register("before-send.dynamodb.GetItem", throttled)
    monkeypatch.setattr("botocore.endpoint.time.sleep", lambda seconds: None)
    repo = DynamoPortfolioRepository(client, NAMES, FixedClock(START))
    with pytest.raises(SourceUnavailable, match="ThrottlingException"):
        repo.get("u1", "p1")
    assert len(attempts) == 3


@pytest.mark.parametrize(
    "code",
    [
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
    ],
)
def test_throughput_and_server_errors_become_source_unavailable(code: str) -> None:
    client = dynamodb_client(endpoint_url="http://127.0.0.1:9")
    with Stubber(client) as stub:
        stub.add_client_error("query", service_error_code=code, http_status_code=400)
        stub.add_client_error("transact_write_items", service_error_code=code)
        stub.add_client_error("batch_get_item", service_error_code=code)
        stub.add_client_error("put_item", service_error_code=code)
        clock = FixedClock(START)
        with pytest.raises(SourceUnavailable):
            DynamoPortfolioRepository(client, NAMES, clock).list_for_user("u1")
        with pytest.raises(SourceUnavailable):
            DynamoPortfolioRepository(client, NAMES, clock).add(_portfolio(clock), [])
        with pytest.raises(SourceUnavailable):
            DynamoQuoteCache(client, NAMES, clock).get_many([parse_symbol("7203")])
        with pytest.raises(SourceUnavailable):
            DynamoSessionStore(client, NAMES).put(Session("h", "u1", START))


def test_other_client_errors_are_not_disguised() -> None:
    client = dynamodb_client(endpoint_url="http://127.0.0.1:9")
    with Stubber(client) as stub:
        stub.add_client_error("get_item", service_error_code="ResourceNotFoundException")
        with pytest.raises(Exception, match="ResourceNotFoundException") as caught:
            DynamoPortfolioRepository(client, NAMES, FixedClock(START)).get("u1", "p1")
    assert not isinstance(caught.value, NotFoundError | SourceUnavailable)


def test_an_unreachable_endpoint_is_source_unavailable() -> None:
    client = dynamodb_client(endpoint_url="http://127.0.0.1:9", max_attempts=1)
    with pytest.raises(SourceUnavailable):
        DynamoSessionStore(client, NAMES).get("h", START)


# -- optimistic locking and atomicity -----------------------------------------------
def test_a_stale_write_is_a_conflict_with_the_current_version_and_no_audit(
    dynamo: Dynamo,
) -> None:
    repo = dynamo.portfolios()
    _add(repo, _portfolio(dynamo.clock))
    first, second = repo.get("u1", "p1"), repo.get("u1", "p1")
    dynamo.clock.advance(timedelta(minutes=1))
    first.rename("first", at=dynamo.clock.now())
    _save(repo, first)
    first.rename("again", at=dynamo.clock.now())
    _save(repo, first)
    second.rename("second", at=dynamo.clock.now())
    sent = dynamo.requests()
    with pytest.raises(ConflictError) as caught:
        _save(repo, second)
    assert caught.value.current_version == 3
    assert sent == ["TransactWriteItems"]  # the version came back with the failure
    assert [e.action for e in _trail(dynamo)] == [
        "portfolio.created",
        "portfolio.renamed",
        "portfolio.renamed",
    ]
    assert repo.get("u1", "p1").name == "again"


def test_a_stale_delete_is_a_conflict_and_a_gone_portfolio_not_found(dynamo: Dynamo) -> None:
    repo = dynamo.portfolios()
    _add(repo, _portfolio(dynamo.clock))
    stale, current = repo.get("u1", "p1"), repo.get("u1", "p1")
    current.rename("x", at=dynamo.clock.now())
    _save(repo, current)
    stale.delete(at=dynamo.clock.now())
    with pytest.raises(ConflictError) as caught:
        _save(repo, stale)
    assert caught.value.current_version == 2
    current.delete(at=dynamo.clock.now())
    _save(repo, current)
    again = _portfolio(dynamo.clock)
    again.version = 3
    again.rename("y", at=dynamo.clock.now())
    with pytest.raises(NotFoundError):
        _save(repo, again)
    assert [e.action for e in _trail(dynamo)] == [
        "portfolio.created",
        "portfolio.renamed",
        "portfolio.deleted",
    ]


def test_an_audit_key_collision_fails_the_whole_write(dynamo: Dynamo) -> None:
    """Two writes of one user in the same microsecond would share `timestamp#userId`: the
    second is refused as a conflict (to be retried) instead of overwriting an entry."""
    repo = dynamo.portfolios()
    _add(repo, _portfolio(dynamo.clock, "u1", "p1"))
    with pytest.raises(ConflictError):
        _add(repo, _portfolio(dynamo.clock, "u1", "p2"))
    with pytest.raises(NotFoundError):
        repo.get("u1", "p2")
    assert len(_trail(dynamo)) == 1


def test_a_change_with_more_audit_entries_than_a_transaction_holds_groups_them(
    dynamo: Dynamo,
) -> None:
    """150 holdings added in one change: 150 entries, one transaction (grouped items)."""
    repo = dynamo.portfolios()
    _add(repo, _portfolio(dynamo.clock))
    portfolio = repo.get("u1", "p1")
    dynamo.clock.advance(timedelta(minutes=1))
    for i in range(150):
        portfolio.add_holding(Holding.of(f"{2000 + i}", "100"), at=dynamo.clock.now())
    _save(repo, portfolio)
    assert repo.get("u1", "p1").version == 2
    trail = _trail(dynamo)
    assert len(trail) == 151
    assert {e.resource for e in trail[1:]} == {
        f"portfolio/p1/holding/{2000 + i}" for i in range(150)
    }


def test_the_domains_limit_of_10000_holdings_is_stored_and_read_back(dynamo: Dynamo) -> None:
    """About 1.4 MB of holdings: over DynamoDB's 400 KB item, so kept in chunk items of the
    portfolio's partition, named by the item, written before it and swapped in its
    version-checked transaction."""
    repo = dynamo.portfolios()
    big = Portfolio.create(
        user_id="u1",
        portfolio_id="big",
        name="everything",
        base_currency=JPY,
        at=dynamo.clock.now(),
        holdings=[
            Holding.of(f"{1300 + i}", "100", cost_basis=Money.of("123456.789", "JPY"))
            for i in range(8_000)
        ]
        + [
            Holding.of(f"A{chr(65 + i // 676)}{chr(65 + i // 26 % 26)}{chr(65 + i % 26)}", "1.5")
            for i in range(2_000)
        ],
    )
    _add(repo, big)
    stored = repo.get("u1", "big")
    assert len(stored) == 10_000
    assert stored.to_json()["holdings"] == big.to_json()["holdings"]
    # a change swaps the generation; the old chunks are gone, the new one read
    dynamo.clock.advance(timedelta(minutes=1))
    stored.set_quantity("1300", Decimal("200"), at=dynamo.clock.now())
    _save(repo, stored)
    again = repo.get("u1", "big")
    holding = again.holding("1300")
    assert holding is not None
    assert holding.quantity == Decimal("200")
    assert len(again) == 10_000
    assert [p.portfolio_id for p in repo.list_for_user("u1")] == ["big"]


def test_restore_is_conditional_on_the_version_it_read(
    dynamo: Dynamo, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = dynamo.portfolios()
    _add(repo, _portfolio(dynamo.clock))
    snapshot = Portfolio.from_json({**_portfolio(dynamo.clock).to_json(), "version": 1})
    monkeypatch.setattr(repo, "_stored_version", lambda user_id, portfolio_id: 0)
    with pytest.raises(ConflictError):
        repo.restore(snapshot, [])
    monkeypatch.setattr(repo, "_stored_version", lambda user_id, portfolio_id: None)
    with pytest.raises(ConflictError):
        repo.restore(snapshot, [])
    assert repo.get("u1", "p1").version == 1


def test_all_portfolios_pages_through_a_scan(dynamo: Dynamo) -> None:
    repo = dynamo.portfolios(page_size=2)
    for i in range(5):
        _add(repo, _portfolio(dynamo.clock, f"u{i}", "p1"))
    sent = dynamo.requests()
    assert sorted(p.user_id for p in repo.all_portfolios()) == [f"u{i}" for i in range(5)]
    assert set(sent) == {"Scan"}
    assert len(sent) >= 3


# -- concurrency --------------------------------------------------------------------
@pytest.fixture
def moto_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A moto server on a free port. moto's TransactWriteItems is not atomic under
    concurrent requests (a cancelled transaction restores a copy of the whole table taken
    before it ran, erasing writes made meanwhile), so its DynamoDB requests are run one
    at a time here, as DynamoDB serialises conflicting writes to one item."""
    lock = threading.Lock()
    call_action = DynamoHandler.call_action

    def serialised(self: DynamoHandler) -> Any:
        with lock:
            return call_action(self)

    monkeypatch.setattr(DynamoHandler, "call_action", serialised)
    werkzeug = logging.getLogger("werkzeug")
    level = werkzeug.level
    werkzeug.setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()
        werkzeug.setLevel(level)


def test_concurrent_read_modify_writes_lose_nothing(moto_server: str) -> None:
    client = dynamodb_client(endpoint_url=moto_server, read_timeout=30)
    names = TableNames(
        portfolio="conc-portfolio", audit="conc-audit", session="conc-session", cache="conc-cache"
    )
    create_tables(client, names)
    clock = SystemClock()
    repo = DynamoPortfolioRepository(client, names, clock)
    ports = PortfolioPorts(repo, InMemoryEventPublisher(), clock, UuidGenerator())
    created = create_portfolio(
        ports,
        user_id="u1",
        name="shared",
        base_currency=JPY,
        context=CONTEXT,
        holdings=[Holding.of("VTI", "0")],
    )
    conflicts: Counter[str] = Counter()
    failures: list[BaseException] = []

    def one_more(portfolio: Portfolio, at: datetime) -> None:
        held = portfolio.holding("VTI")
        assert held is not None
        portfolio.set_quantity("VTI", held.quantity + 1, at=at)

    def writer(name: str) -> None:
        try:
            for _ in range(25):
                tries = 0
                while True:
                    try:
                        update_portfolio(
                            ports,
                            user_id="u1",
                            portfolio_id=created.portfolio_id,
                            change=one_more,
                            context=CONTEXT,
                        )
                        break
                    except ConflictError:
                        conflicts[name] += 1
                        tries += 1
                        time.sleep(random.uniform(0, min(2.0, 0.05 * 2**tries)))
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)

    threads = [threading.Thread(target=writer, args=(f"w{i}",)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []

    final = repo.get("u1", created.portfolio_id)
    assert final.holding("VTI").quantity == 200  # type: ignore[union-attr]
    assert final.version == 201
    now = clock.now()
    trail = DynamoAuditLog(client, names, clock).for_user(
        "u1", now - timedelta(hours=1), now + timedelta(hours=1)
    )
    changed = [e for e in trail if e.action == "holding.changed"]
    assert len(changed) == 200
    assert len({e.sort_key for e in changed}) == 200
    assert [e.changes["quantity"] for e in changed] == [
        {"before": str(i), "after": str(i + 1)} for i in range(200)
    ]
    assert sum(conflicts.values()) > 0  # the writers did race


def test_a_portfolio_over_the_item_size_limit_is_stored_in_chunks(dynamo: Dynamo) -> None:
    repo = dynamo.portfolios()
    portfolio = Portfolio.create(
        user_id="u1",
        portfolio_id="p1",
        name="huge",
        base_currency=JPY,
        at=dynamo.clock.now(),
        holdings=[
            Holding.of(f"{1300 + i}", "100", sector="x" * 100, name="y" * 100) for i in range(2000)
        ],
    )
    _add(repo, portfolio)  # over 400 KB as one item: its holdings go to chunk items
    assert repo.get("u1", "p1").to_json()["holdings"] == portfolio.to_json()["holdings"]
    assert len(_trail(dynamo)) == 1  # the creation, grouped (too large for one item)
