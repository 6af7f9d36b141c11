"""The functions' logs (issue 15): JSON lines from the Powertools Logger, each with the
correlation id (the API Gateway request id for a request, the EventBridge event id for an
event or a cron run), the cold-start flag and the function's version. Each handler is
invoked in-process with a recorded event; its log lines are read from the stream its
logger writes to (stdout on Lambda)."""

from __future__ import annotations

import copy
import io
import json
import logging
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dependency_injector import providers

from portfoliowise.adapters.clock import FixedClock
from portfoliowise.adapters.memory import (
    InMemoryAnalysisJobs,
    InMemoryAuditLog,
    InMemoryBlobStore,
    InMemoryEventPublisher,
    InMemoryPortfolioRepository,
)
from portfoliowise.handlers.local_server import LocalContext

EVENTS = Path(__file__).resolve().parents[2] / "events"
NOW = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)
VERSION = "42"

# What EventBridge delivers for an `AnalysisRequested` (the shape test_analysis_function
# reads back from the bus).
ANALYSIS_REQUESTED: dict[str, Any] = {
    "version": "0",
    "id": "0d4f3a52-6c1e-4b7e-9a35-2f8e1c7d9b10",
    "detail-type": "AnalysisRequested",
    "source": "portfoliowise.analysis",
    "account": "123456789012",
    "time": "2026-11-29T01:59:00Z",
    "region": "ap-northeast-1",
    "resources": [],
    "detail": {
        "eventId": "evt-analysis-1",
        "occurredAt": "2026-11-29T01:59:00+00:00",
        "jobId": "job-gone",
        "userId": "user-1",
        "portfolioId": "p1",
    },
}
# A cron rule's input: the job's name and the schedule event's id (`<aws.events.event.id>`).
BACKUP_RUN: dict[str, Any] = {"job": "backup", "id": "7b3c9e21-58a4-4f0d-b6e2-91c4d0a8f337"}


def _lines(text: str) -> list[dict[str, Any]]:
    """The log records printed (every line is JSON; EMF metric documents left out)."""
    records = [json.loads(line) for line in text.splitlines() if line.strip()]
    return [r for r in records if "_aws" not in r]


@contextmanager
def _captured(function: Any) -> Iterator[io.StringIO]:
    """The function's log lines, formatted by its logger's formatter, written to a buffer
    instead of stdout for the block. On Lambda a process loads one function's module, whose
    configuration is copied to every logger then registered
    (`copy_config_to_registered_loggers`); here several are loaded, each copying its own over
    the others': for the block, the function's logger and the package's loggers get one
    handler with this function's formatter."""
    handler = logging.StreamHandler(io.StringIO())
    handler.setFormatter(function.logger.registered_formatter)
    names = [function.logger.name] + [
        name for name in logging.root.manager.loggerDict if name.startswith("portfoliowise.")
    ]
    loggers = [logging.getLogger(name) for name in names]
    saved = [(logger, logger.handlers[:]) for logger in loggers]
    try:
        for logger in loggers:
            logger.handlers = [handler]
        yield handler.stream
    finally:
        for logger, handlers in saved:
            logger.handlers = handlers


def _assert_correlated(records: list[dict[str, Any]], correlation_id: str) -> None:
    assert records, "the invocation logged nothing"
    for record in records:
        assert record["correlation_id"] == correlation_id, record
        assert isinstance(record["cold_start"], bool), record
        assert record["function_version"] == VERSION, record
        assert record["function_request_id"] == "lambda-request", record


class BrokenAuthenticator:
    def authenticate(self, *_: Any, **__: Any) -> str:
        raise RuntimeError("the session store is down")


def test_an_api_request_logs_with_the_api_gateway_request_id() -> None:
    from portfoliowise.handlers.lambdas import portfolio as function

    event = copy.deepcopy(json.loads((EVENTS / "list_portfolios.json").read_text("utf-8")))
    request_id = event["requestContext"]["requestId"]
    context = LocalContext(aws_request_id="lambda-request", function_version=VERSION)
    with (
        function.container.authenticator.override(providers.Object(BrokenAuthenticator())),
        _captured(function) as out,
    ):
        answer = function.handler(event, context)
    assert answer["statusCode"] == 500
    records = _lines(out.getvalue())
    _assert_correlated(records, request_id)
    assert any(r["message"] == "unexpected error answering a request" for r in records)


def test_an_analysis_requested_event_logs_with_the_eventbridge_event_id() -> None:
    from portfoliowise.handlers.lambdas import analysis as function

    clock = FixedClock(NOW)
    context = LocalContext(aws_request_id="lambda-request", function_version=VERSION)
    with (
        function.container.clock.override(providers.Object(clock)),
        function.container.analysis_jobs.override(providers.Object(InMemoryAnalysisJobs(clock))),
        _captured(function) as out,
    ):
        outcome = function.handler(copy.deepcopy(ANALYSIS_REQUESTED), context)
    assert outcome["skipped"]  # no such job: nothing else is called
    records = _lines(out.getvalue())
    _assert_correlated(records, ANALYSIS_REQUESTED["id"])
    assert any(r["message"] == "analysis event handled" for r in records)


def test_a_cron_run_logs_with_the_schedule_event_id() -> None:
    from portfoliowise.handlers.lambdas import scheduled as function

    overrides = (
        ("portfolios", InMemoryPortfolioRepository(InMemoryAuditLog())),
        ("backups", InMemoryBlobStore()),
        ("clock", FixedClock(NOW)),
        ("events", InMemoryEventPublisher()),
    )
    context = LocalContext(aws_request_id="lambda-request", function_version=VERSION)
    with ExitStack() as stack:
        for name, value in overrides:
            provider = getattr(function.container, name)
            stack.enter_context(provider.override(providers.Object(value)))
        function._jobs.clear()
        out = stack.enter_context(_captured(function))
        function.handler(dict(BACKUP_RUN), context)
    function._jobs.clear()
    records = _lines(out.getvalue())
    _assert_correlated(records, BACKUP_RUN["id"])
    assert any(r["message"] == "job done" for r in records)


def test_an_analysis_request_after_an_event_logs_none_of_the_events_keys() -> None:
    from portfoliowise.handlers.lambdas import analysis as function

    clock = FixedClock(NOW)
    event = copy.deepcopy(json.loads((EVENTS / "list_portfolios.json").read_text("utf-8")))
    event["httpMethod"] = event["requestContext"]["httpMethod"] = "GET"
    event["path"] = event["resource"] = "/analysis/job-1"
    event["requestContext"]["path"] = "/prod/analysis/job-1"
    context = LocalContext(aws_request_id="lambda-request", function_version=VERSION)
    with (
        function.container.clock.override(providers.Object(clock)),
        function.container.analysis_jobs.override(providers.Object(InMemoryAnalysisJobs(clock))),
        function.container.authenticator.override(providers.Object(BrokenAuthenticator())),
        _captured(function) as out,
    ):
        function.handler(copy.deepcopy(ANALYSIS_REQUESTED), context)
        out.truncate(0)
        out.seek(0)
        answer = function.handler(event, context)
    assert answer["statusCode"] == 500
    records = _lines(out.getvalue())
    _assert_correlated(records, event["requestContext"]["requestId"])
    assert not [r for r in records if "event_id" in r or "job_id" in r]
