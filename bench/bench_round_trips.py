"""DynamoDB round trips of the portfolio function's GET /portfolios/{id}/valuation for a
250-holding portfolio (200 Tokyo stocks, 50 US stocks: one FX pair, USD-JPY) from a warm
Cache table, on moto in process (`mock_aws`): the portfolio function's own resolver
(`bootstrap.portfolio_function` over the AWS-mode container), signed in by a session in
the Session table.

Every request is recorded by a botocore `before-send` hook, which also waits a simulated
network round trip (`LATENCY`) so that requests sent concurrently overlap in time; the
sequence depth is the longest chain of requests each started after the one before it
ended (the dependency levels). HTTP calls outside AWS are counted at the socket: any
`socket.connect` during the request (moto answers botocore in process, so none is AWS).
Targets: 5 requests, at most 3 in sequence; 0 HTTP calls outside AWS.
Run with `make bench` (from run.py) or `python bench/bench_round_trips.py`."""

from __future__ import annotations

import json
import os
import socket
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from table import Row  # noqa: E402  (bench/table.py, beside this file)

GROUP = "round trips"
TOKYO = 200
US = 50
LATENCY = 0.02  # seconds per simulated round trip
TARGET_REQUESTS = 5
TARGET_DEPTH = 3
SESSION_ID = "bench-session-0123456789-abcdefghijklmnopqr"  # 43: a 256-bit token
USER = "bench-user"
ENV = {
    "PORTFOLIOWISE_MODE": "aws",
    "AWS_DEFAULT_REGION": "ap-northeast-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "SESSION_SIGNING_KEY": "s" * 64,
}


@dataclass
class Request:
    operation: str
    thread: str
    start: float
    end: float = 0.0


@dataclass
class Recorder:
    """DynamoDB requests (botocore hooks) and outbound connections (the socket)."""

    latency: float = LATENCY
    requests: list[Request] = field(default_factory=list)
    connects: list[Any] = field(default_factory=list)
    _open: dict[int, Request] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def before_send(self, request: Any, **_: Any) -> None:
        operation = request.headers.get("X-Amz-Target", b"")
        if isinstance(operation, bytes):
            operation = operation.decode()
        record = Request(operation.rsplit(".", 1)[-1], threading.current_thread().name, 0.0)
        with self._lock:
            self.requests.append(record)
            self._open[threading.get_ident()] = record
        record.start = time.perf_counter()
        time.sleep(self.latency)  # the way out and back, as if over the network

    def after_call(self, **_: Any) -> None:
        with self._lock:
            record = self._open.pop(threading.get_ident(), None)
        if record is not None:
            record.end = time.perf_counter()

    def clear(self) -> None:
        self.requests.clear()
        self.connects.clear()

    @property
    def operations(self) -> list[str]:
        return [r.operation for r in self.requests]

    @property
    def depth(self) -> int:
        """The longest chain of requests, each started after the previous one ended."""
        chain: dict[int, int] = {}
        ordered = sorted(self.requests, key=lambda r: r.start)
        for i, request in enumerate(ordered):
            before = [chain[j] for j in range(i) if ordered[j].end <= request.start]
            chain[i] = 1 + max(before, default=0)
        return max(chain.values(), default=0)


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _event(portfolio_id: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads(
        (ROOT / "tests" / "events" / "get_portfolio.json").read_text(encoding="utf-8")
    )
    path = f"/portfolios/{portfolio_id}/valuation"
    event.update(path=path, resource="/portfolios/{portfolioId}/valuation")
    event["requestContext"]["path"] = "/prod" + path
    event["pathParameters"] = {"portfolioId": portfolio_id}
    cookie = f"__Host-session={SESSION_ID}"
    event["headers"]["Cookie"] = cookie
    event["multiValueHeaders"]["Cookie"] = [cookie]
    for name in ("headers", "multiValueHeaders"):
        event[name].pop("Accept-Encoding", None)
    return event


@dataclass(frozen=True)
class Measurement:
    operations: list[str]
    depth: int
    connects: int
    seconds: float
    status: int
    priced: int
    batch_keys: list[int]


def measure(latency: float = LATENCY) -> Measurement:
    """One valuation after a warm-up one (a warm container: clients and pool made)."""
    from moto import mock_aws

    with _environment(ENV), mock_aws():
        from portfoliowise.adapters.dynamodb import create_tables
        from portfoliowise.application.request_auth import token_hash
        from portfoliowise.domain.audit import RequestContext, audit_entries
        from portfoliowise.domain.money import JPY, USD, Money
        from portfoliowise.domain.portfolio import Holding, Portfolio
        from portfoliowise.domain.quotes import Quote, QuoteStatus
        from portfoliowise.domain.sessions import Session
        from portfoliowise.handlers import bootstrap
        from portfoliowise.handlers.container import container_from_env
        from portfoliowise.handlers.local_server import LocalContext

        container = container_from_env(ENV)
        client = container.dynamodb()
        create_tables(client, container.table_names())
        now = datetime.now(UTC)
        tokyo = [str(1301 + n) for n in range(TOKYO)]
        us = [f"Q{chr(65 + n // 26)}{chr(65 + n % 26)}" for n in range(US)]
        portfolio = Portfolio.create(
            user_id=USER,
            portfolio_id="p-bench",
            name="250 holdings",
            base_currency=JPY,
            at=now,
            holdings=[Holding.of(s, 100) for s in tokyo] + [Holding.of(s, 10) for s in us],
        )
        container.portfolios().add(
            portfolio, audit_entries(portfolio.pull_events(), RequestContext())
        )
        quotes = [Quote(s, Money.of("1234", JPY), QuoteStatus.LIVE, "bench", now) for s in tokyo]
        quotes += [Quote(s, Money.of("56.78", USD), QuoteStatus.LIVE, "bench", now) for s in us]
        quotes.append(
            Quote("USD-JPY", Money(Decimal("150.25"), JPY), QuoteStatus.LIVE, "bench", now)
        )
        container.quote_cache().put_many(quotes, now + timedelta(hours=1))
        container.sessions().put(Session(token_hash(SESSION_ID), USER, now + timedelta(days=1)))
        app = bootstrap.portfolio_function(container)

        recorder = Recorder(latency)
        keys: list[int] = []
        client.meta.events.register("before-send.dynamodb", recorder.before_send)
        client.meta.events.register("after-call.dynamodb", recorder.after_call)
        client.meta.events.register(
            "provide-client-params.dynamodb.BatchGetItem",
            lambda params, **_: keys.append(
                sum(len(v["Keys"]) for v in params["RequestItems"].values())
            ),
        )
        real_connect = socket.socket.connect

        def connect(sock: socket.socket, address: Any) -> Any:
            recorder.connects.append(address)
            return real_connect(sock, address)

        event = _event(portfolio.portfolio_id)
        with mock.patch.object(socket.socket, "connect", connect):
            app.resolve(event, LocalContext(aws_request_id="warm-up"))
            recorder.clear()
            keys.clear()
            start = time.perf_counter()
            answer = app.resolve(event, LocalContext(aws_request_id="measured"))
            seconds = time.perf_counter() - start
        body = json.loads(answer["body"])
        priced = len(body.get("holdings", [])) - len(body.get("unpriced", []))
        return Measurement(
            recorder.operations,
            recorder.depth,
            len(recorder.connects),
            seconds,
            int(answer["statusCode"]),
            priced,
            keys,
        )


def rows() -> list[Row]:
    m = measure()
    count = len(m.operations)
    name = "DynamoDB requests, valuation of 250 holdings, warm cache"
    ok = count <= TARGET_REQUESTS and m.depth <= TARGET_DEPTH and m.status == 200
    ops = ", ".join(f"{n}x {op}" for op, n in _counted(m.operations))
    note = (
        f"{ops}; BatchGetItem keys {'+'.join(map(str, m.batch_keys))}; "
        f"{m.seconds * 1000:.0f} ms at {LATENCY * 1000:.0f} ms a round trip; "
        f"HTTP {m.status}, {m.priced} priced"
    )
    return [
        Row(
            GROUP,
            name,
            f"{count} ({m.depth} in sequence)",
            f"<= {TARGET_REQUESTS} (<= {TARGET_DEPTH} in sequence)",
            ok,
            note,
        ),
        Row(GROUP, "HTTP calls outside AWS, same valuation", str(m.connects), "0", m.connects == 0),
    ]


def _counted(operations: list[str]) -> list[tuple[str, int]]:
    counts: dict[str, int] = {}
    for op in operations:
        counts[op] = counts.get(op, 0) + 1
    return list(counts.items())


if __name__ == "__main__":
    from table import failed, render

    result = rows()
    print(render(result))
    sys.exit(1 if failed(result) else 0)
