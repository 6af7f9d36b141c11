"""`GET /metrics` of the local server: counters per route and status, latency percentiles,
routes labelled by the resolver's rules (never raw ids); the Lambda functions have none."""

from __future__ import annotations

import http.client
import io
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from portfoliowise.handlers import bootstrap
from portfoliowise.handlers.api.app import build_app
from portfoliowise.handlers.container import Container
from portfoliowise.handlers.local_metrics import (
    RequestMetrics,
    percentile,
    resolver_routes,
    route_matcher,
)
from portfoliowise.handlers.local_server import LocalServer


def test_percentiles_are_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert [percentile(values, p) for p in (50, 90, 99)] == [50.0, 90.0, 99.0]
    assert percentile([7.0], 99) == 7.0


def test_the_snapshot_counts_per_route_and_status() -> None:
    metrics = RequestMetrics()
    for millis in range(1, 11):
        metrics.record("GET /health", 200, float(millis))
    metrics.record("GET /health", 500, 100.0)
    metrics.record("POST /client-logs", 202, 3.0)
    snapshot = metrics.snapshot()
    assert snapshot["requests"] == 12
    health = snapshot["routes"]["GET /health"]
    assert health["count"] == 11
    assert health["statuses"] == {"200": 10, "500": 1}
    assert health["latencyMs"] == {"p50": 6.0, "p90": 10.0, "p99": 100.0, "max": 100.0}
    assert snapshot["routes"]["POST /client-logs"]["statuses"] == {"202": 1}


def test_routes_are_the_resolvers_rules() -> None:
    route_of = resolver_routes(build_app(Container()))
    assert route_of("GET", "/portfolios/p-123/valuation") == (
        "GET /portfolios/<portfolio_id>/valuation"
    )
    assert route_of("GET", "/health") == "GET /health"
    assert route_of("POST", "/client-logs") == "POST /client-logs"
    assert route_of("GET", "/no/such/path") == "GET (unmatched)"
    assert route_of("OPTIONS", "/health") == "OPTIONS /health"


def test_route_matcher_skips_routes_without_a_rule() -> None:
    assert route_matcher([object()])("GET", "/x") == "GET (unmatched)"


def test_no_lambda_function_routes_metrics() -> None:
    for build in (
        bootstrap.auth_function,
        bootstrap.portfolio_function,
        bootstrap.market_function,
        bootstrap.analysis_function,
    ):
        route_of = resolver_routes(build(Container()))
        assert route_of("GET", "/metrics") == "GET (unmatched)"


@pytest.fixture
def server() -> Iterator[LocalServer]:
    def resolve(event: dict[str, Any], context: Any) -> dict[str, Any]:
        status = 404 if event["path"].startswith("/missing") else 200
        return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": "{}"}

    def route_of(method: str, path: str) -> str:
        return f"{method} /items/<id>" if path.startswith("/items/") else f"{method} {path}"

    local = LocalServer(resolve, 0, out=io.StringIO(), metrics=RequestMetrics(), route_of=route_of)
    thread = threading.Thread(target=local.serve_forever, daemon=True)
    thread.start()
    yield local
    local.shutdown()
    local.close()


def _get(local: LocalServer, path: str) -> tuple[int, bytes]:
    host, port = local.url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=5)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def test_the_server_serves_its_metrics(server: LocalServer) -> None:
    for path in ("/items/1", "/items/2?x=1", "/items/3", "/missing"):
        _get(server, path)
    deadline = time.monotonic() + 5  # recorded after each response is sent
    while time.monotonic() < deadline:
        status, body = _get(server, "/metrics")
        metrics = json.loads(body)
        if metrics["requests"] >= 4:
            break
        time.sleep(0.01)
    assert status == 200
    items = metrics["routes"]["GET /items/<id>"]
    assert items["count"] == 3
    assert items["statuses"] == {"200": 3}
    assert set(items["latencyMs"]) == {"p50", "p90", "p99", "max"}
    assert items["latencyMs"]["p50"] <= items["latencyMs"]["p99"]
    assert metrics["routes"]["GET /missing"]["statuses"] == {"404": 1}
    assert set(metrics["routes"]) <= {"GET /items/<id>", "GET /missing", "GET /metrics"}


def test_without_metrics_the_path_goes_to_the_resolver() -> None:
    seen: list[str] = []

    def resolve(event: dict[str, Any], context: Any) -> dict[str, Any]:
        seen.append(event["path"])
        return {"statusCode": 404, "body": ""}

    local = LocalServer(resolve, 0, out=io.StringIO())
    thread = threading.Thread(target=local.serve_forever, daemon=True)
    thread.start()
    try:
        assert _get(local, "/metrics")[0] == 404
        assert seen == ["/metrics"]
    finally:
        local.shutdown()
        local.close()
