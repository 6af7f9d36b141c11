"""Infra and code agree on what the analysis function may change: every DynamoDB request the
analysis consumer makes through the adapters it runs with in AWS (the job store and the audit
log, against moto) is allowed by the analysis role as synthesized, the `dynamodb:LeadingKeys`
condition included. A request the role refuses would fail in AWS only: moto checks no IAM.

The consumer is run on a job whose portfolio is gone: the shortest path that still makes
every write of a run (create, claim, finish, the audit entry); reads need no check (the role
reads every table and index)."""

from __future__ import annotations

import fnmatch
from datetime import UTC, datetime
from typing import Any

import pytest
from compute_harness import function_logical_ids, synth
from infra.cdk import constants as C
from moto import mock_aws

from portfoliowise.adapters.clock import FixedClock, SequentialIds
from portfoliowise.adapters.dynamodb import (
    DynamoAnalysisJobs,
    DynamoAuditLog,
    TableNames,
    create_tables,
    dynamodb_client,
)
from portfoliowise.adapters.memory import InMemoryEventPublisher, InMemoryPortfolioRepository
from portfoliowise.application.analysis import AnalysisPorts, run_analysis
from portfoliowise.domain.analysis_jobs import JOB_TTL, AnalysisJob, JobStatus

NOW = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
READS = frozenset({"GetItem", "BatchGetItem", "Query", "DescribeTable"})
# the harness's tables (compute_harness.foundation) by kind
HARNESS_TABLES = {
    C.TABLE_CACHE: "CacheTable",
    C.TABLE_SESSION: "SessionTable",
    C.TABLE_PORTFOLIO: "PortfolioTable",
    C.TABLE_AUDIT: "AuditTable",
}


def _kinds() -> dict[str, str]:
    """table name (the adapters' defaults, as in the test) -> constants.TABLE_*"""
    names = TableNames()
    return {
        names.cache: C.TABLE_CACHE,
        names.session: C.TABLE_SESSION,
        names.portfolio: C.TABLE_PORTFOLIO,
        names.audit: C.TABLE_AUDIT,
    }


def _written(operation: str, params: dict[str, Any]) -> list[tuple[str, str]]:
    """(table name, partition key value) of every item a write request touches."""
    kinds = _kinds()

    def key(table: str, item: dict[str, Any]) -> tuple[str, str]:
        attribute = C.TABLE_KEYS[kinds[table]][0]
        return table, next(iter(item[attribute].values()))

    if operation in ("PutItem",):
        return [key(params["TableName"], params["Item"])]
    if operation in ("UpdateItem", "DeleteItem"):
        return [key(params["TableName"], params["Key"])]
    if operation == "BatchWriteItem":
        return [
            key(table, request.get("PutRequest", {}).get("Item") or request["DeleteRequest"]["Key"])
            for table, requests in params["RequestItems"].items()
            for request in requests
        ]
    if operation == "TransactWriteItems":
        found = []
        for item in params["TransactItems"]:
            ((_, body),) = item.items()
            found.append(key(body["TableName"], body.get("Item") or body["Key"]))
        return found
    raise AssertionError(f"unexpected DynamoDB request {operation}")


@pytest.fixture(scope="module")
def requests() -> list[tuple[str, dict[str, Any]]]:
    """The DynamoDB requests of one analysis run, in order: (operation, parameters)."""
    made: list[tuple[str, dict[str, Any]]] = []
    clock = FixedClock(NOW)
    with mock_aws():
        client = dynamodb_client(region="ap-northeast-1")
        names = TableNames()
        create_tables(client, names)

        def record(params: dict[str, Any], model: Any, **_: Any) -> None:
            made.append((model.name, params))

        client.meta.events.register("before-parameter-build.dynamodb", record)
        jobs = DynamoAnalysisJobs(client, names, clock)
        ports = AnalysisPorts(
            jobs=jobs,
            portfolios=InMemoryPortfolioRepository(),  # the portfolio is gone
            events=InMemoryEventPublisher(),
            audit=DynamoAuditLog(client, names, clock),
            market=None,  # type: ignore[arg-type]  # not reached: no portfolio
            clock=clock,
            ids=SequentialIds("job"),
        )
        # what `POST /portfolios/{id}/analysis` stores (request_analysis), then the consumer
        jobs.create(
            AnalysisJob(
                job_id="job-1",
                user_id="user-1",
                portfolio_id="p-gone",
                language="en",
                kind="portfolio",
                status=JobStatus.PENDING,
                created_at=NOW,
                updated_at=NOW,
                expires_at=NOW + JOB_TTL,
            )
        )
        outcome = run_analysis(ports, job_id="job-1", event_id="event-1")
    assert outcome["status"] == "analysis.failed", outcome
    return made


def _statements() -> list[dict[str, Any]]:
    result = synth()
    function = result.raw["Resources"][function_logical_ids(result)["analysis"]]
    role = function["Properties"]["Role"]["Fn::GetAtt"][0]
    return [
        statement
        for policy in result.resources("AWS::IAM::Policy").values()
        if {"Ref": role} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def _table_of(resource: Any) -> str | None:
    """The harness table a statement resource is (the table itself, not an index)."""
    if isinstance(resource, dict) and "Fn::GetAtt" in resource:
        logical = resource["Fn::GetAtt"][0]
        for kind, prefix in HARNESS_TABLES.items():
            if logical.startswith(prefix):
                return kind
    return None


def allowed(operation: str, kind: str, partition_key: str) -> bool:
    """Whether the analysis role allows `operation` on an item of table `kind` whose partition
    key is `partition_key` (Allow statements only: the role has no Deny)."""
    for statement in _statements():
        actions = statement["Action"]
        if f"dynamodb:{operation}" not in ([actions] if isinstance(actions, str) else actions):
            continue
        resources = statement["Resource"]
        tables = {_table_of(r) for r in (resources if isinstance(resources, list) else [resources])}
        if kind not in tables:
            continue
        condition = statement.get("Condition")
        if condition is None:
            return True
        assert set(condition) == {"ForAllValues:StringLike"}, condition
        (patterns,) = condition["ForAllValues:StringLike"].values()
        if any(fnmatch.fnmatchcase(partition_key, p) for p in patterns):
            return True
    return False


def test_the_run_reads_and_writes_dynamodb(requests: list[tuple[str, dict[str, Any]]]) -> None:
    operations = [operation for operation, _ in requests]
    assert "UpdateItem" in operations  # claim, finish
    assert set(operations) - READS  # and writes something


def test_every_write_of_a_run_is_allowed_by_the_analysis_role(
    requests: list[tuple[str, dict[str, Any]]],
) -> None:
    kinds = _kinds()
    refused = [
        f"{operation} on {table} ({partition_key})"
        for operation, params in requests
        if operation not in READS
        for table, partition_key in _written(operation, params)
        if not allowed(operation, kinds[table], partition_key)
    ]
    assert refused == [], (
        "the analysis code makes DynamoDB writes its role refuses (infra/cdk/components/"
        "compute.py grants PutItem/UpdateItem on `*#ANALYSIS` Cache items and PutItem on the "
        "Audit table only)"
    )


def test_the_job_items_are_the_ones_the_condition_names(
    requests: list[tuple[str, dict[str, Any]]],
) -> None:
    cache = TableNames().cache
    keys = {
        partition_key
        for operation, params in requests
        if operation not in READS
        for table, partition_key in _written(operation, params)
        if table == cache
    }
    assert keys == {f"job-1{C.ANALYSIS_JOB_KEY_SUFFIX}"}


def test_the_evaluator_refuses_what_the_role_does_not_grant() -> None:
    assert allowed("PutItem", C.TABLE_CACHE, "job-1#ANALYSIS")
    assert allowed("UpdateItem", C.TABLE_CACHE, "job-1#ANALYSIS")
    assert not allowed("PutItem", C.TABLE_CACHE, "7203#JP")  # a quote
    assert not allowed("DeleteItem", C.TABLE_CACHE, "job-1#ANALYSIS")
    assert allowed("PutItem", C.TABLE_AUDIT, "2026-12-04")
    assert not allowed("BatchWriteItem", C.TABLE_AUDIT, "2026-12-04")
    assert not allowed("UpdateItem", C.TABLE_AUDIT, "2026-12-04")
    for kind in (C.TABLE_PORTFOLIO, C.TABLE_SESSION):
        for operation in ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem"):
            assert not allowed(operation, kind, "user-1"), (operation, kind)
