"""DynamoDB throttling and server errors injected on the wire (a botocore `before-send` hook
that answers in DynamoDB's place, so the request never leaves the process) in front of a
moto server on 127.0.0.1, driven through the API:

- a few throttles or 500s are retried by botocore (standard mode, 3 attempts) and the
  request succeeds, with the change and its audit entry stored once;
- when every attempt fails the API answers 503 `source_unavailable` in the standard error
  shape, and the tables hold exactly what they held before (no change without its audit
  entry, no audit entry without its change);
- every retry of a transaction resends the same `ClientRequestToken`, so DynamoDB applies a
  transaction whose first answer was lost at most once.

A moto server rather than `mock_aws`: in process, moto answers from a `before-send`
handler too, and botocore calls every such handler (moto would apply the write the fault
answers for)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from api_harness import NOW, assert_error_shape, call, fake_container
from botocore.awsrequest import AWSResponse
from dependency_injector import providers
from moto.server import ThreadedMotoServer

from portfoliowise.adapters.clock import FixedClock
from portfoliowise.adapters.dynamodb import (
    DynamoAuditLog,
    DynamoPortfolioRepository,
    TableNames,
    create_tables,
    dynamodb_client,
)
from portfoliowise.adapters.dynamodb.client import MAX_ATTEMPTS
from portfoliowise.handlers.api.app import build_app

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

NAMES = TableNames()
PID = "p-0001"
THROTTLED = (400, "ProvisionedThroughputExceededException")
THROTTLING = (400, "ThrottlingException")
SERVER_ERROR = (500, "InternalServerError")


class _Body(io.BytesIO):
    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.getvalue()


@dataclass
class WireFaults:
    """Answers the next `failures[operation]` attempts of an operation in DynamoDB's
    place (status and error type); every other attempt goes on to moto."""

    failures: dict[str, list[tuple[int, str]]] = field(default_factory=dict)
    attempts: dict[str, int] = field(default_factory=dict)
    injected: dict[str, int] = field(default_factory=dict)
    tokens: list[str] = field(default_factory=list)

    def fail(self, operation: str, answer: tuple[int, str], times: int) -> None:
        self.failures[operation] = [answer] * times

    def __call__(self, request: Any, event_name: str, **_: Any) -> AWSResponse | None:
        operation = event_name.rsplit(".", 1)[-1]
        self.attempts[operation] = self.attempts.get(operation, 0) + 1
        if operation == "TransactWriteItems":
            self.tokens.append(json.loads(request.body)["ClientRequestToken"])
        queue = self.failures.get(operation)
        if not queue:
            return None
        status, code = queue.pop(0)
        self.injected[operation] = self.injected.get(operation, 0) + 1
        body = {"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": "injected"}
        headers: Any = {"x-amzn-RequestId": "fault", "Content-Type": "application/x-amz-json-1.0"}
        return AWSResponse(request.url, status, headers, _Body(json.dumps(body).encode()))


@dataclass
class World:
    app: Any
    client: DynamoDBClient
    faults: WireFaults

    def scan(self, table: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = self.client.scan(TableName=table)["Items"]  # type: ignore[assignment]
        return sorted(items, key=lambda item: json.dumps(item, sort_keys=True))

    def stored(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Both tables, read around the faults (nothing is armed while reading)."""
        saved, self.faults.failures = self.faults.failures, {}
        try:
            return self.scan(NAMES.portfolio), self.scan(NAMES.audit)
        finally:
            self.faults.failures = saved


@pytest.fixture(scope="module")
def moto_server() -> Iterator[str]:
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


@pytest.fixture
def world(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> World:
    monkeypatch.setattr("botocore.endpoint.time.sleep", lambda seconds: None)  # no backoff wait
    httpx.post(f"{moto_server}/moto-api/reset", timeout=10).raise_for_status()
    client = dynamodb_client(endpoint_url=moto_server, region="ap-northeast-1", read_timeout=10)
    create_tables(client, NAMES, poll_seconds=0)
    faults = WireFaults()
    client.meta.events.register_first("before-send.dynamodb", faults)
    clock = FixedClock(NOW)
    container = fake_container(clock)
    audit = DynamoAuditLog(client, NAMES, clock)
    container.audit_log.override(providers.Object(audit))
    container.portfolios.override(providers.Object(DynamoPortfolioRepository(client, NAMES, clock)))
    return World(build_app(container), client, faults)


def _create(world: World) -> dict[str, Any]:
    status, _, body = call(world.app, "create_portfolio.json")
    assert status == 201, body
    return dict(body)


def _rename(world: World, name: str, version: int) -> tuple[int, Any]:
    """PUT the stored representation with another name (the version it was read at)."""
    saved, world.faults.failures = world.faults.failures, {}
    try:
        current = call(world.app, "get_portfolio.json", path=f"/portfolios/{PID}")[2]
    finally:
        world.faults.failures = saved
    status, _, body = call(
        world.app,
        "put_portfolio.json",
        path=f"/portfolios/{PID}",
        body={**current, "name": name, "version": version},
        headers={"If-Match": f'"{version}"'},
    )
    return status, body


def _actions(audit: list[dict[str, Any]]) -> list[str]:
    return sorted(item["action"]["S"] for item in audit)


@pytest.mark.parametrize("answer", [THROTTLED, THROTTLING, SERVER_ERROR], ids=lambda a: a[1])
def test_a_throttled_or_failing_write_succeeds_on_botocores_retries(
    world: World, answer: tuple[int, str]
) -> None:
    created = _create(world)
    world.faults.attempts.clear()
    world.faults.tokens.clear()
    world.faults.fail("TransactWriteItems", answer, MAX_ATTEMPTS - 1)

    status, body = _rename(world, "renamed under throttling", created["version"])

    assert status == 200, body
    assert body["version"] == created["version"] + 1
    assert world.faults.injected == {"TransactWriteItems": MAX_ATTEMPTS - 1}
    assert world.faults.attempts["TransactWriteItems"] == MAX_ATTEMPTS
    assert len(set(world.faults.tokens)) == 1  # the retries are the same transaction
    portfolios, audit = world.stored()
    assert [item["name"]["S"] for item in portfolios] == ["renamed under throttling"]
    assert _actions(audit) == ["portfolio.created", "portfolio.renamed"]  # each once


@pytest.mark.parametrize("answer", [THROTTLED, SERVER_ERROR], ids=lambda a: a[1])
def test_a_write_failing_every_attempt_is_503_and_nothing_is_written(
    world: World, answer: tuple[int, str]
) -> None:
    created = _create(world)
    before = world.stored()
    world.faults.attempts.clear()
    world.faults.fail("TransactWriteItems", answer, 100)

    status, body = _rename(world, "never stored", created["version"])

    assert status == 503, body
    assert_error_shape(status, body)
    assert body["error"]["code"] == "source_unavailable"
    assert "injected" not in json.dumps(body)  # nothing of DynamoDB's answer leaks
    assert world.faults.attempts["TransactWriteItems"] == MAX_ATTEMPTS
    assert world.stored() == before

    # Once DynamoDB answers again, the same request (same version) goes through.
    world.faults.failures.clear()
    status, body = _rename(world, "stored at last", created["version"])
    assert status == 200, body
    portfolios, audit = world.stored()
    assert [item["name"]["S"] for item in portfolios] == ["stored at last"]
    assert _actions(audit) == ["portfolio.created", "portfolio.renamed"]


def test_a_create_failing_every_attempt_is_503_and_leaves_no_trace(world: World) -> None:
    world.faults.fail("TransactWriteItems", THROTTLED, 100)
    status, _, body = call(world.app, "create_portfolio.json")
    assert status == 503, body
    assert_error_shape(status, body)
    assert world.stored() == ([], [])


@pytest.mark.parametrize("operation", ["GetItem", "Query"])
def test_reads_failing_every_attempt_are_503_and_succeed_after_a_few(
    world: World, operation: str
) -> None:
    _create(world)
    route = (
        ("get_portfolio.json", f"/portfolios/{PID}")
        if operation == "GetItem"
        else ("list_portfolios.json", "/portfolios")
    )
    world.faults.fail(operation, THROTTLED, 100)
    status, _, body = call(world.app, route[0], path=route[1])
    assert status == 503, body
    assert_error_shape(status, body)

    world.faults.fail(operation, SERVER_ERROR, MAX_ATTEMPTS - 1)
    status, _, body = call(world.app, route[0], path=route[1])
    assert status == 200, body
    assert world.faults.failures[operation] == []


def test_a_transaction_cancelled_for_throttling_is_503_and_writes_nothing(world: World) -> None:
    """DynamoDB's other way of saying it: the transaction is cancelled with a
    `ThrottlingError` reason (botocore does not retry a cancellation)."""
    created = _create(world)
    before = world.stored()

    def cancelled(request: Any, event_name: str, **_: Any) -> AWSResponse | None:
        if not event_name.endswith("TransactWriteItems"):
            return None
        items = json.loads(request.body)["TransactItems"]
        reasons = [{"Code": "ThrottlingError", "Message": "Throughput exceeds the limit"}] + [
            {"Code": "None"} for _ in items[1:]
        ]
        body = {
            "__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
            "message": "Transaction cancelled, please refer cancellation reasons for specific "
            "reasons [ThrottlingError, None]",
            "CancellationReasons": reasons,
        }
        headers: Any = {"x-amzn-RequestId": "fault", "Content-Type": "application/x-amz-json-1.0"}
        return AWSResponse(request.url, 400, headers, _Body(json.dumps(body).encode()))

    world.client.meta.events.register_first("before-send.dynamodb", cancelled)
    try:
        status, body = _rename(world, "cancelled", created["version"])
    finally:
        world.client.meta.events.unregister("before-send.dynamodb", cancelled)
    assert status == 503, body
    assert_error_shape(status, body)
    assert world.stored() == before
