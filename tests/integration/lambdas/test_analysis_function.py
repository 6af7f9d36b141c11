"""The analysis function on AWS adapters faked by moto: the API asks (a job in the Cache
table, `AnalysisRequested` on the `portfoliowise` bus), EventBridge delivers the real event
JSON (read back from an SQS queue the rule targets) twice, and one analysis runs: one
result, one audit entry in the Audit table, one `AnalysisCompleted` on the bus."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import boto3
import pytest
from dependency_injector import providers
from moto import mock_aws

from portfoliowise.adapters.clock import FixedClock, SequentialIds
from portfoliowise.adapters.dynamodb import (
    DynamoAnalysisJobs,
    DynamoAuditLog,
    DynamoPortfolioRepository,
    DynamoQuoteCache,
    TableNames,
    create_tables,
    dynamodb_client,
)
from portfoliowise.adapters.events import EventBridgePublisher
from portfoliowise.domain.money import JPY, USD, Money
from portfoliowise.domain.quotes import Quote, QuoteStatus
from portfoliowise.handlers.local_server import LocalContext

NOW = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
REGION = "ap-northeast-1"
BUS = "portfoliowise"


class FakeAuthenticator:
    def authenticate(
        self, cookie: str | None, csrf: str | None, *, state_changing: bool, **_: str | None
    ) -> str:
        return "user-1"


def _api_event(method: str, path: str, body: Any = None) -> dict[str, Any]:
    return {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": {"Content-Type": "application/json", "Cookie": "s=1", "X-CSRF-Token": "t"},
        "multiValueHeaders": {},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": path,
            "httpMethod": method,
            "path": "/prod" + path,
            "stage": "prod",
            "requestId": "req-1",
            "identity": {"sourceIp": "203.0.113.10", "userAgent": "test"},
        },
        "body": None if body is None else json.dumps(body),
        "isBase64Encoded": False,
    }


@pytest.fixture
def aws() -> Iterator[dict[str, Any]]:
    with mock_aws():
        names = TableNames()
        client = dynamodb_client(region=REGION)
        create_tables(client, names, poll_seconds=0)
        events = boto3.client("events", region_name=REGION)
        events.create_event_bus(Name=BUS)
        sqs = boto3.client("sqs", region_name=REGION)
        queue = sqs.create_queue(QueueName="seen")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        events.put_rule(
            Name="everything",
            EventBusName=BUS,
            EventPattern=json.dumps({"source": ["portfoliowise.analysis"]}),
        )
        events.put_targets(Rule="everything", EventBusName=BUS, Targets=[{"Id": "q", "Arn": arn}])
        yield {"client": client, "names": names, "events": events, "sqs": sqs, "queue": queue}


def _delivered(aws: dict[str, Any]) -> list[dict[str, Any]]:
    """What EventBridge delivered to the queue. moto leaves out the envelope's `account`,
    which EventBridge always sets: it is put back (moto's default account)."""
    messages = aws["sqs"].receive_message(QueueUrl=aws["queue"], MaxNumberOfMessages=10)
    events = [json.loads(m["Body"]) for m in messages.get("Messages", [])]
    for event in events:
        event.setdefault("account", "123456789012")
    return events


@pytest.fixture
def function(aws: dict[str, Any]) -> Iterator[Any]:
    from portfoliowise.handlers.lambdas import analysis

    clock = FixedClock(NOW)
    client, names = aws["client"], aws["names"]
    audit = DynamoAuditLog(client, names, clock)
    cache = DynamoQuoteCache(client, names, clock)
    cache.put_many(
        [
            Quote("7203", Money.of("2500", JPY), QuoteStatus.CACHED, "yahoo", NOW),
            Quote("AAPL", Money.of("200", USD), QuoteStatus.CACHED, "yahoo", NOW),
            Quote("USD-JPY", Money.of("150", JPY), QuoteStatus.CACHED, "yahoo", NOW),
        ],
        NOW + timedelta(hours=1),
    )
    overrides = {
        "clock": clock,
        "ids": SequentialIds("job"),
        "portfolios": DynamoPortfolioRepository(client, names, clock),
        "audit_log": audit,
        "quote_cache": cache,
        "analysis_jobs": DynamoAnalysisJobs(client, names, clock),
        "events": EventBridgePublisher(boto3.client("events", region_name=REGION), BUS),
        "authenticator": FakeAuthenticator(),
        "analyst": None,
    }
    with ExitStack() as stack:
        for name, value in overrides.items():
            provider = getattr(analysis.container, name)
            stack.enter_context(provider.override(providers.Object(value)))
        analysis.container.cached_market.reset()
        yield analysis
    analysis.container.cached_market.reset()


def _portfolio(function: Any) -> str:
    from portfoliowise.application.portfolio_commands import create_portfolio
    from portfoliowise.domain.audit import RequestContext
    from portfoliowise.domain.portfolio import Holding

    portfolio = create_portfolio(
        function.container.portfolio_ports(),
        user_id="user-1",
        name="NISA",
        base_currency=JPY,
        context=RequestContext(),
        holdings=[Holding.of("7203", 100), Holding.of("AAPL", Decimal(10))],
        targets={"7203": "50", "AAPL": "50"},
    )
    return portfolio.portfolio_id


def test_a_request_delivered_twice_runs_one_analysis(function: Any, aws: dict[str, Any]) -> None:
    pid = _portfolio(function)
    context = LocalContext(aws_request_id="r-1")
    asked = function.handler(
        _api_event("POST", f"/portfolios/{pid}/analysis", {"language": "ja"}), context
    )
    assert asked["statusCode"] == 202, asked
    job = json.loads(asked["body"])
    (requested,) = [e for e in _delivered(aws) if e["detail-type"] == "AnalysisRequested"]
    assert requested["source"] == "portfoliowise.analysis"
    assert requested["detail"]["jobId"] == job["jobId"]

    first = function.handler(requested, LocalContext(aws_request_id="r-2"))
    second = function.handler(requested, LocalContext(aws_request_id="r-3"))  # redelivered
    assert first["status"] == "analysis.completed"
    assert first["analyst"] == "rules"
    assert second["skipped"]

    read = function.handler(_api_event("GET", f"/analysis/{job['jobId']}"), context)
    done = json.loads(read["body"])
    assert done["status"] == "done"
    assert done["result"]["fallbackReason"] == "no_key"
    assert done["result"]["language"] == "ja"
    completed = [e for e in _delivered(aws) if e["detail-type"] == "AnalysisCompleted"]
    assert len(completed) == 1
    entries = function.container.audit_log().for_user(
        "user-1", NOW - timedelta(days=1), NOW + timedelta(days=1)
    )
    assert [e.action for e in entries].count("analysis.completed") == 1
    item = aws["client"].get_item(
        TableName=aws["names"].cache,
        Key={"cacheKey": {"S": f"{job['jobId']}#ANALYSIS"}, "timestamp": {"S": "job"}},
    )["Item"]
    assert int(item["ttl"]["N"]) >= int((NOW + timedelta(days=30)).timestamp())
