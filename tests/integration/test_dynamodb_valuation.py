"""`DynamoPortfolioRepository.record_valuation` against moto, on the wire: one UpdateItem of
the portfolio item (`totalValue`, `valuedAt`), conditional on the item, asking back the old
values; `version` and `updatedAt` untouched; throttling is `SourceUnavailable`."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest
from botocore.stub import Stubber
from moto import mock_aws

from portfoliowise.adapters.clock import FixedClock
from portfoliowise.adapters.dynamodb import (
    DynamoPortfolioRepository,
    TableNames,
    create_tables,
    dynamodb_client,
)
from portfoliowise.adapters.dynamodb.codec import from_item
from portfoliowise.domain.audit import RequestContext, audit_entries
from portfoliowise.domain.errors import SourceUnavailable
from portfoliowise.domain.money import JPY, Money
from portfoliowise.domain.portfolio import Holding, Portfolio

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

START = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
NAMES = TableNames()


@pytest.fixture
def client() -> Iterator[DynamoDBClient]:
    with mock_aws():
        client = dynamodb_client()
        create_tables(client, NAMES)
        yield client


def _stored(client: DynamoDBClient) -> DynamoPortfolioRepository:
    repository = DynamoPortfolioRepository(client, NAMES, FixedClock(START))
    portfolio = Portfolio.create(
        user_id="u1",
        portfolio_id="p1",
        name="core",
        base_currency=JPY,
        at=START,
        holdings=[Holding.of("7203", "100")],
    )
    repository.add(portfolio, audit_entries(portfolio.pull_events(), RequestContext()))
    return repository


def _item(client: DynamoDBClient) -> dict[str, Any]:
    item = client.get_item(
        TableName=NAMES.portfolio, Key={"userId": {"S": "u1"}, "portfolioId": {"S": "p1"}}
    )["Item"]
    return from_item(item)


def test_one_update_item_keeps_the_total_beside_the_portfolio(client: DynamoDBClient) -> None:
    repository = _stored(client)
    before = _item(client)
    calls: list[tuple[str, dict[str, Any]]] = []
    client.meta.events.register(
        "provide-client-params.dynamodb.*",
        lambda params, model, **_: calls.append((model.name, params)),
    )
    at = START + timedelta(hours=1)
    assert repository.record_valuation("u1", "p1", Money.of("250000", JPY), at) is None
    assert [name for name, _ in calls] == ["UpdateItem"]
    params = calls[0][1]
    assert params["UpdateExpression"] == "SET #total = :total, #valuedAt = :at"
    assert params["ConditionExpression"] == "attribute_exists(userId) AND #currency = :cur"
    assert params["ReturnValues"] == "UPDATED_OLD"
    after = _item(client)
    assert after["totalValue"] == Decimal(250000)
    assert after["valuedAt"] == "2026-11-27T10:00:00.000000+00:00"
    assert after["version"] == before["version"] == 1
    assert after["updatedAt"] == before["updatedAt"]
    calls.clear()
    assert repository.record_valuation("u1", "p1", Money.of("260000", JPY), at) == Money.of(
        "250000", JPY
    )
    assert [name for name, _ in calls] == ["UpdateItem"]


def test_a_throttled_update_is_source_unavailable(client: DynamoDBClient) -> None:
    repository = _stored(client)
    with Stubber(client) as stub:
        stub.add_client_error("update_item", "ProvisionedThroughputExceededException")
        with pytest.raises(SourceUnavailable):
            repository.record_valuation("u1", "p1", Money.of("1", JPY), START)
