"""Failed sign-ins counted in the Session table (moto), shared by every Lambda instance."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from moto import mock_aws

from portfoliowise.adapters.dynamodb import DynamoAttemptLimiter, TableNames, create_tables

WINDOW = timedelta(minutes=15)
T0 = datetime(2026, 11, 29, 4, 0, tzinfo=UTC)  # the start of a fixed 15-minute window


@pytest.fixture
def client() -> Iterator[object]:
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="ap-northeast-1")
        create_tables(dynamodb, TableNames(), poll_seconds=0)
        yield dynamodb


def _limiter(client: object) -> DynamoAttemptLimiter:
    return DynamoAttemptLimiter(client, TableNames(), max_failures=5, window=WINDOW)  # type: ignore[arg-type]


def test_five_failures_across_instances_block_that_ip_only(client: object) -> None:
    first, second = _limiter(client), _limiter(client)  # two warm Lambda instances
    for n in range(5):
        assert first.blocked_for("203.0.113.7", T0 + timedelta(seconds=n)) == 0
        (first if n % 2 else second).record_failure("203.0.113.7", T0 + timedelta(seconds=n))
    now = T0 + timedelta(minutes=1)
    assert second.blocked_for("203.0.113.7", now) == 14 * 60  # until the window ends
    assert first.blocked_for("198.51.100.9", now) == 0


def test_the_previous_window_counts_while_it_overlaps(client: object) -> None:
    limiter = _limiter(client)
    for n in range(5):
        limiter.record_failure("203.0.113.7", T0 + timedelta(minutes=14, seconds=n))
    # 3 minutes into the next window, 80 % of the previous one still overlaps:
    # 5 x 0.8 = 4 failures, under the limit of 5.
    assert limiter.blocked_for("203.0.113.7", T0 + timedelta(minutes=18)) == 0
    # One more failure 1 minute into the window: 1 + 5 x 14/15 = 5.67, blocked until
    # 1 + 5 x overlap < 5, i.e. overlap < 0.8, 180 s into the window: 120 s from now.
    limiter.record_failure("203.0.113.7", T0 + timedelta(minutes=16))
    assert limiter.blocked_for("203.0.113.7", T0 + timedelta(minutes=16)) == 120


def test_the_stored_item_names_no_ip_and_expires(client: object) -> None:
    _limiter(client).record_failure("203.0.113.7", T0)
    items = client.scan(TableName=TableNames().session)["Items"]  # type: ignore[attr-defined]
    [item] = items
    assert "203.0.113.7" not in str(item)
    assert item["sessionId"]["S"].startswith("attempts#")
    assert int(item["ttl"]["N"]) == int((T0 + 2 * WINDOW).timestamp())
