"""Activities on DynamoDB (moto) at the domain's limit: 100,000 activities in one import
go past the 100-item transaction by staging their chunks and committing once; a process
that dies between the two leaves nothing visible, and a rerun completes the import; the
portfolio item never holds an activity; listing and backing up portfolios never read one."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest
from moto import mock_aws

from portfoliowise.adapters.clock import FixedClock
from portfoliowise.adapters.dynamodb import (
    DynamoPortfolioRepository,
    TableNames,
    create_tables,
    dynamodb_client,
)
from portfoliowise.domain.activities import (
    MAX_ACTIVITIES,
    Activity,
    ActivityChange,
    ActivityType,
)
from portfoliowise.domain.audit import RequestContext, audit_entries
from portfoliowise.domain.errors import ConflictError
from portfoliowise.domain.money import USD
from portfoliowise.domain.portfolio import Holding, Portfolio

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

START = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
NAMES = TableNames()
CONTEXT = RequestContext()


class Crash(Exception):
    """The process dies here."""


@pytest.fixture
def client() -> Iterator[DynamoDBClient]:
    with mock_aws():
        client = dynamodb_client()
        create_tables(client, NAMES)
        yield client


def _activities(count: int) -> tuple[Activity, ...]:
    symbols = [f"A{chr(65 + n // 26)}{chr(65 + n % 26)}" for n in range(250)]
    return tuple(
        Activity(
            activity_id=f"a{n:06d}",
            type=ActivityType.BUY,
            day=date(2015, 1, 1) + timedelta(days=n % 3650),
            currency=USD,
            symbol=symbols[n % 250],
            quantity=Decimal("3"),
            unit_price=Decimal("101.25"),
            fees=Decimal("0.5"),
        )
        for n in range(count)
    )


def _setup(client: DynamoDBClient) -> tuple[DynamoPortfolioRepository, Portfolio]:
    repository = DynamoPortfolioRepository(client, NAMES, FixedClock(START))
    portfolio = Portfolio.create(
        user_id="u1",
        portfolio_id="p1",
        name="ledger",
        base_currency=USD,
        at=START,
        holdings=[Holding.of("VTI", "1")],
    )
    repository.add(portfolio, audit_entries(portfolio.pull_events(), CONTEXT))
    return repository, portfolio


def _commit(
    repository: DynamoPortfolioRepository, portfolio: Portfolio, change: ActivityChange
) -> None:
    portfolio.rename("ledger (imported)", at=START + timedelta(minutes=1))
    repository.commit(portfolio, audit_entries(portfolio.pull_events(), CONTEXT), change)


def _count_calls(client: DynamoDBClient) -> list[str]:
    calls: list[str] = []
    client.meta.events.register(
        "provide-client-params.dynamodb.*", lambda model, **_: calls.append(model.name)
    )
    return calls


def test_100000_activities_import_in_one_all_or_nothing_commit(client: DynamoDBClient) -> None:
    repository, portfolio = _setup(client)
    many = _activities(MAX_ACTIVITIES)
    calls = _count_calls(client)

    _commit(repository, portfolio, ActivityChange(added=many, batch_id="import-1"))

    assert calls.count("TransactWriteItems") == 1  # the one commit
    # the staged chunks (about 1,000 activities in each 180 KB chunk), 25 a request
    assert calls.count("BatchWriteItem") == 4
    found = repository.activities("u1", "p1")
    assert len(found) == MAX_ACTIVITIES
    assert found[0] == min(many, key=Activity.sort_key)
    head = client.get_item(
        TableName=NAMES.portfolio, Key={"userId": {"S": "u1"}, "portfolioId": {"S": "p1"}}
    )["Item"]
    assert "activities" not in head
    assert len(str(head)) < 10_000  # the portfolio item holds no activity
    assert [p.portfolio_id for p in repository.list_for_user("u1")] == ["p1"]
    assert [p.portfolio_id for p in repository.all_portfolios()] == ["p1"]


def test_a_crash_before_the_commit_leaves_nothing_and_a_rerun_completes(
    client: DynamoDBClient,
) -> None:
    repository, portfolio = _setup(client)
    many = _activities(5_000)
    stale_version = portfolio.version

    def die(model: Any, **_: Any) -> None:
        if model.name == "TransactWriteItems":
            raise Crash

    client.meta.events.register("provide-client-params.dynamodb.*", die)
    change = ActivityChange(added=many, batch_id="import-2")
    with pytest.raises(Crash):
        _commit(repository, portfolio, change)
    client.meta.events.unregister("provide-client-params.dynamodb.*", die)

    assert repository.activities("u1", "p1") == []  # staged chunks count for nobody
    assert repository.get("u1", "p1").version == stale_version

    rerun = repository.get("u1", "p1")
    _commit(repository, rerun, change)
    assert len(repository.activities("u1", "p1")) == 5_000
    with pytest.raises(ConflictError):  # and never twice
        _commit(repository, repository.get("u1", "p1"), change)
    assert len(repository.activities("u1", "p1")) == 5_000


def test_a_stale_staged_import_is_a_conflict_and_adds_nothing(client: DynamoDBClient) -> None:
    repository, portfolio = _setup(client)
    stale = repository.get("u1", "p1")
    _commit(repository, portfolio, ActivityChange(added=_activities(10)))
    with pytest.raises(ConflictError):
        _commit(repository, stale, ActivityChange(added=_activities(3_000), batch_id="late"))
    assert len(repository.activities("u1", "p1")) == 10


def test_removing_one_activity_rewrites_its_chunk_only(client: DynamoDBClient) -> None:
    repository, portfolio = _setup(client)
    _commit(repository, portfolio, ActivityChange(added=_activities(2_000)))
    calls = _count_calls(client)
    current = repository.get("u1", "p1")
    calls.clear()
    _commit(repository, current, ActivityChange(removed=("a000007",)))
    assert calls == ["Query", "TransactWriteItems"]
    ids = {a.activity_id for a in repository.activities("u1", "p1")}
    assert len(ids) == 1_999
    assert "a000007" not in ids
