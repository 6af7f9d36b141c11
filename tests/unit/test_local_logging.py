"""`portfoliowise serve` logs the Lambda functions' JSON lines (with the request's
correlation id) to a file or a pipe, and a readable line to a terminal; the local server
tags every line logged while it answers a request with that request's id."""

from __future__ import annotations

import io
import json
import logging
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from portfoliowise.handlers import local_logging
from portfoliowise.handlers.local_server import LocalServer


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def restore_root() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)


def test_a_pipe_gets_json_lines_with_the_request_id(restore_root: None) -> None:
    stream = io.StringIO()
    local_logging.configure(stream)
    log = logging.getLogger("portfoliowise.test")
    log.info("outside a request")
    with local_logging.correlated("req-1"):
        log.warning("inside %s", "a request", extra={"portfolioId": "p1"})
    outside, inside = (json.loads(line) for line in stream.getvalue().splitlines())
    assert outside["message"] == "outside a request"
    assert outside["service"] == local_logging.SERVICE
    assert "correlation_id" not in outside
    assert inside["level"] == "WARNING"
    assert inside["message"] == "inside a request"
    assert inside["correlation_id"] == "req-1"
    assert inside["portfolioId"] == "p1"
    assert "request" not in inside  # the readable form's field stays out of the JSON


def test_a_terminal_gets_readable_lines(restore_root: None) -> None:
    stream = Terminal()
    local_logging.configure(stream)
    with local_logging.correlated("req-2"):
        logging.getLogger("portfoliowise.test").info("hello")
    (line,) = stream.getvalue().splitlines()
    assert line.endswith("INFO portfoliowise.test [req-2]: hello")
    assert not line.startswith("{")


def test_the_local_server_tags_lines_with_its_request_id(restore_root: None) -> None:
    stream = io.StringIO()
    local_logging.configure(stream)

    def resolve(event: dict[str, Any], context: Any) -> dict[str, Any]:
        logging.getLogger("portfoliowise.test").info("answering")
        return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": "{}"}

    server = LocalServer(resolve, 0, out=io.StringIO())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        answer = httpx.get(f"{server.url}/health", timeout=10)
    finally:
        server.shutdown()
        server.close()
    assert answer.status_code == 200
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    (answering,) = [line for line in lines if line["message"] == "answering"]
    assert len(answering["correlation_id"]) == 36  # the request's uuid
