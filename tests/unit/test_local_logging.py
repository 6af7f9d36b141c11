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

# Outside `portfoliowise.*`: the Lambda modules other tests import hand those loggers
# Powertools' own handler (`copy_config_to_registered_loggers`), which `serve` never does.
LOGGER = "local_logging_test"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def restore_root() -> Iterator[None]:
    """A root logger without handlers during the test (pytest adds its capture handlers
    when the test starts: `_bare_root` takes them off), as it is when `serve` starts; put
    back afterwards."""
    root = logging.getLogger()
    level = root.level
    yield
    for handler in list(root.handlers):
        if getattr(handler, "_local_logging_test", False):
            root.removeHandler(handler)
    for handler in _taken:
        root.addHandler(handler)
    _taken.clear()
    root.setLevel(level)


_taken: list[logging.Handler] = []


def _bare_root() -> None:
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
        _taken.append(handler)


def _configure(stream: io.StringIO) -> bool:
    _bare_root()
    configured = local_logging.configure(stream)
    for handler in logging.getLogger().handlers:
        handler._local_logging_test = True  # type: ignore[attr-defined]
    return configured


def test_a_pipe_gets_json_lines_with_the_request_id(restore_root: None) -> None:
    stream = io.StringIO()
    assert _configure(stream)
    assert not local_logging.configure(io.StringIO())  # configured once, like basicConfig
    log = logging.getLogger(LOGGER)
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
    assert _configure(stream)
    with local_logging.correlated("req-2"):
        logging.getLogger(LOGGER).info("hello")
    (line,) = stream.getvalue().splitlines()
    assert line.endswith("INFO local_logging_test [req-2]: hello")
    assert not line.startswith("{")


def test_the_local_server_tags_lines_with_its_request_id(restore_root: None) -> None:
    stream = io.StringIO()
    assert _configure(stream)

    def resolve(event: dict[str, Any], context: Any) -> dict[str, Any]:
        logging.getLogger(LOGGER).info("answering")
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
