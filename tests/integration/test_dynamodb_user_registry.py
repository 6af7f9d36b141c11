"""The users seen, in the Session table (moto): the item's layout and its failures."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from portfoliowise.adapters.clock import FixedClock
from portfoliowise.adapters.dynamodb import DynamoUserRegistry, TableNames, create_tables
from portfoliowise.domain.errors import SourceUnavailable

T0 = datetime(2026, 11, 29, 4, 0, tzinfo=UTC)
USER = "google:1234567890"


@pytest.fixture
def client() -> Iterator[Any]:
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="ap-northeast-1")
        create_tables(dynamodb, TableNames(), poll_seconds=0)
        yield dynamodb


def _registry(client: Any) -> DynamoUserRegistry:
    return DynamoUserRegistry(client, TableNames(), FixedClock(T0))


def test_the_item_is_keyed_by_a_hash_of_the_user_and_is_kept(client: Any) -> None:
    jst = datetime(2026, 11, 29, 22, 0, tzinfo=ZoneInfo("Asia/Tokyo"))  # 13:00 UTC
    assert _registry(client).first_seen(USER, jst) is True
    [item] = client.scan(TableName=TableNames().session)["Items"]
    digest = hashlib.sha256(USER.encode()).hexdigest()
    assert item == {
        "sessionId": {"S": f"user#{digest}"},
        "firstSeenAt": {"S": "2026-11-29T13:00:00.000000+00:00"},
    }
    assert "1234567890" not in str(item)  # no raw id; no ttl, userId or expiresAt


def test_a_second_instance_sees_the_user_too(client: Any) -> None:
    assert _registry(client).first_seen(USER, T0) is True
    assert _registry(client).first_seen(USER, T0 + timedelta(days=1)) is False
    [item] = client.scan(TableName=TableNames().session)["Items"]
    assert item["firstSeenAt"]["S"] == T0.isoformat(timespec="microseconds")


class _Failing:
    def __init__(self, code: str) -> None:
        self.code = code

    def put_item(self, **_: Any) -> None:
        raise ClientError({"Error": {"Code": self.code, "Message": "no"}}, "PutItem")


def test_throttling_is_source_unavailable() -> None:
    registry = DynamoUserRegistry(
        _Failing("ProvisionedThroughputExceededException"),  # type: ignore[arg-type]
        TableNames(),
        FixedClock(T0),
    )
    with pytest.raises(SourceUnavailable):
        registry.first_seen(USER, T0)


def test_other_errors_are_not_disguised() -> None:
    registry = DynamoUserRegistry(
        _Failing("ResourceNotFoundException"),  # type: ignore[arg-type]
        TableNames(),
        FixedClock(T0),
    )
    with pytest.raises(ClientError):
        registry.first_seen(USER, T0)
