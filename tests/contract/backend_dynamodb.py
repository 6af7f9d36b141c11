"""The DynamoDB backend of the contract suites: moto in-process (`mock_aws`), the four
tables created fresh for each test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from contract_stores import Stores
from moto import mock_aws

from portfoliowise.adapters.clock import FixedClock
from portfoliowise.adapters.dynamodb import (
    DynamoAnalysisJobs,
    DynamoAuditLog,
    DynamoPortfolioRepository,
    DynamoQuoteCache,
    DynamoSessionStore,
    DynamoUserRegistry,
    TableNames,
    create_tables,
    dynamodb_client,
)


def dynamodb_stores(clock: FixedClock, tmp_path: Path) -> Iterator[Stores]:
    with mock_aws():
        client = dynamodb_client()
        names = TableNames()
        create_tables(client, names)
        yield Stores(
            "dynamodb",
            clock,
            DynamoPortfolioRepository(client, names, clock, page_size=2),
            DynamoAuditLog(client, names, clock),
            DynamoSessionStore(client, names),
            DynamoQuoteCache(client, names, clock),
            DynamoAnalysisJobs(client, names, clock),
            users=DynamoUserRegistry(client, names, clock),
        )
