"""HTTP requests become API Gateway REST proxy events, proxy responses become HTTP."""

from __future__ import annotations

import base64
import http.client
import io
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from portfoliowise.handlers.local_server import LocalServer, proxy_event


def test_a_request_becomes_a_rest_proxy_event() -> None:
    event = proxy_event(
        "GET",
        "/market/quotes?symbols=7203,AAPL&x=1&x=2",
        {"Cookie": "__Host-session=abc", "User-Agent": "ua"},
        b"",
        "127.0.0.1",
        "req-1",
    )
    assert event["httpMethod"] == "GET"
    assert event["path"] == "/market/quotes"
    assert event["queryStringParameters"] == {"symbols": "7203,AAPL", "x": "2"}
    assert event["multiValueQueryStringParameters"]["x"] == ["1", "2"]
    assert event["headers"]["Cookie"] == "__Host-session=abc"
    assert event["requestContext"]["identity"] == {"sourceIp": "127.0.0.1", "userAgent": "ua"}
    assert event["requestContext"]["requestId"] == "req-1"
    assert event["body"] == ""
    assert event["isBase64Encoded"] is False


def test_a_binary_body_is_base64_encoded() -> None:
    event = proxy_event(
        "POST", "/x", {"Content-Type": "application/octet-stream"}, b"\xff\x00", "1.2.3.4", "r"
    )
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == b"\xff\x00"


def test_the_path_is_the_target_before_its_query_even_with_a_double_slash() -> None:
    event = proxy_event("GET", "//portfolios/p1?x=1#top", {}, b"", "127.0.0.1", "r")
    assert event["path"] == "//portfolios/p1"
    assert event["queryStringParameters"] == {"x": "1"}
    assert event["requestContext"]["path"] == "/local//portfolios/p1"


@pytest.fixture
def server() -> Iterator[tuple[LocalServer, list[dict[str, Any]], io.StringIO]]:
    seen: list[dict[str, Any]] = []

    def resolve(event: dict[str, Any], context: Any) -> dict[str, Any]:
        seen.append(event)
        return {
            "statusCode": 201,
            "headers": {"Content-Type": "application/json"},
            "multiValueHeaders": {"Set-Cookie": ["a=1; HttpOnly", "b=2"]},
            "body": json.dumps({"echo": event["body"], "id": context.aws_request_id}),
            "isBase64Encoded": False,
        }

    out = io.StringIO()
    local = LocalServer(resolve, 0, out=out)
    thread = threading.Thread(target=local.serve_forever, daemon=True)
    thread.start()
    yield local, seen, out
    local.shutdown()
    local.close()


def test_the_server_answers_with_the_proxy_response_and_logs_one_line(
    server: tuple[LocalServer, list[dict[str, Any]], io.StringIO],
) -> None:
    local, seen, out = server
    host, port = local.url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=5)
    conn.request(
        "POST",
        "/portfolios?x=1",
        body=b'{"name":"NISA"}',
        headers={"Content-Type": "application/json"},
    )
    response = conn.getresponse()
    body = json.loads(response.read())
    assert response.status == 201
    assert response.headers.get_all("Set-Cookie") == ["a=1; HttpOnly", "b=2"]
    assert body["echo"] == '{"name":"NISA"}'
    assert body["id"] == seen[0]["requestContext"]["requestId"]
    assert seen[0]["path"] == "/portfolios"
    deadline = time.monotonic() + 5  # the line is written after the response is sent
    while not out.getvalue() and time.monotonic() < deadline:
        time.sleep(0.01)
    [line] = out.getvalue().splitlines()
    assert line.startswith('127.0.0.1 "POST /portfolios" 201 ')
    assert line.endswith(" ms")


def test_requests_do_not_wait_for_the_schedulers_lock(
    server: tuple[LocalServer, list[dict[str, Any]], io.StringIO],
) -> None:
    local, seen, _out = server
    host, port = local.url.removeprefix("http://").split(":")
    with local.lock:  # a scheduled job running
        conn = http.client.HTTPConnection(host, int(port), timeout=5)
        conn.request("GET", "/health")
        response = conn.getresponse()
        response.read()
    assert response.status == 201
    assert len(seen) == 1
