"""The local server's logs: the Lambda functions' JSON lines (Powertools' formatter: level,
location, message, timestamp, service, and the request's `correlation_id`) when they go to
a file or a pipe, a readable line when they go to a terminal. The correlation id is the id
of the request being answered on the logging thread (the local server's request id, which
it also passes as the request context's `requestId`, as API Gateway's)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final, TextIO

SERVICE: Final = "portfoliowise-serve"
READABLE: Final = "%(asctime)s %(levelname)s %(name)s%(request)s: %(message)s"

_state = threading.local()


@contextmanager
def correlated(request_id: str) -> Iterator[None]:
    """Lines logged on this thread meanwhile carry `request_id`."""
    previous = getattr(_state, "request_id", None)
    _state.request_id = request_id
    try:
        yield
    finally:
        _state.request_id = previous


class _Correlation(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        request_id = getattr(_state, "request_id", None)
        if request_id is not None:
            record.correlation_id = request_id
        record.request = "" if request_id is None else f" [{request_id}]"
        return True


class _Json(logging.Formatter):
    """Powertools' JSON formatter without the readable form's own `request` field."""

    def __init__(self) -> None:
        super().__init__()
        from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

        self._inner = LambdaPowertoolsFormatter(service=SERVICE)

    def format(self, record: logging.LogRecord) -> str:
        record.__dict__.pop("request", None)
        return self._inner.format(record)


def configure(stream: TextIO, *, level: int = logging.INFO, json_lines: bool | None = None) -> bool:
    """Send every log line to `stream`: JSON lines unless `stream` is a terminal (or as
    `json_lines` says). Like `logging.basicConfig`, nothing changes when the root logger
    already has a handler (an embedding process decides where its logs go); whether it
    configured."""
    root = logging.getLogger()
    if root.handlers:
        return False
    as_json = not stream.isatty() if json_lines is None else json_lines
    handler = logging.StreamHandler(stream)
    handler.addFilter(_Correlation())
    handler.setFormatter(_Json() if as_json else logging.Formatter(READABLE))
    root.addHandler(handler)
    root.setLevel(level)
    return True
