"""AnalysisJobs: jobs created once, read until they expire, claimed by one consumer at a
time (an event delivered twice runs one analysis; a lease that has passed may be claimed
again) and finished only by the claimant that holds them."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from contract_stores import START, Stores

from portfoliowise.adapters.clock import FixedClock
from portfoliowise.domain.analysis_jobs import CLAIM_LEASE, JOB_TTL, AnalysisJob, JobStatus
from portfoliowise.domain.errors import ConflictError, NotFoundError, PayloadTooLarge

SECOND = timedelta(seconds=1)

REPORT: dict[str, Any] = {
    "analyst": "rules",
    "model": None,
    "language": "ja",
    "summary": "分散は十分です — diversified enough",
    "rules": [
        {
            "rule": "concentration",
            "outcome": "warning",
            "value": "41.5",
            "threshold": "40",
            "figures": {"holdings": 3, "largestWeight": 0.415, "exact": "0.1"},
            "reason": None,
        }
    ],
    "risks": ["単一銘柄への集中"],
    "suggestions": [{"text": "VTI を買い増す", "rule": "concentration"}],
    "fallbackReason": None,
    "flags": {"sample": True, "stale": False},
}


def _pending(
    job_id: str = "job-1", now: datetime = START, expires_at: datetime | None = None
) -> AnalysisJob:
    return AnalysisJob(
        job_id=job_id,
        user_id="u1",
        portfolio_id="p1",
        language="ja",
        kind="portfolio",
        status=JobStatus.PENDING,
        created_at=now,
        updated_at=now,
        expires_at=now + JOB_TTL if expires_at is None else expires_at,
    )


def _job(stores: Stores, job_id: str = "job-1", **changes: Any) -> AnalysisJob:
    return replace(_pending(job_id, stores.clock.now()), **changes)


def _created(stores: Stores, job_id: str = "job-1") -> AnalysisJob:
    job = _job(stores, job_id)
    stores.analysis_jobs.create(job)
    return job


def _no_decimals(value: object) -> bool:
    if isinstance(value, Decimal):
        return False
    if isinstance(value, dict):
        return all(_no_decimals(item) for item in value.values())
    if isinstance(value, list):
        return all(_no_decimals(item) for item in value)
    return True


# -- create and get -------------------------------------------------------------------
def test_a_job_reads_back_whole(stores: Stores) -> None:
    job = _created(stores)
    assert stores.analysis_jobs.get("job-1") == job


def test_a_report_reads_back_intact_and_decimal_free(stores: Stores) -> None:
    _created(stores)
    stores.analysis_jobs.claim("job-1", "event-1", stores.clock.now())
    assert stores.analysis_jobs.finish("job-1", "event-1", stores.clock.now(), report=REPORT)
    report = stores.analysis_jobs.get("job-1").report
    assert report == REPORT
    assert _no_decimals(report)
    assert isinstance(report["rules"][0]["figures"]["largestWeight"], float)  # type: ignore[index]
    assert isinstance(report["rules"][0]["figures"]["holdings"], int)  # type: ignore[index]


def test_a_duplicate_id_is_a_conflict(stores: Stores) -> None:
    job = _created(stores)
    with pytest.raises(ConflictError):
        stores.analysis_jobs.create(_job(stores, user_id="u2"))
    assert stores.analysis_jobs.get("job-1") == job


def test_an_unknown_job_is_not_found(stores: Stores) -> None:
    _created(stores)
    with pytest.raises(NotFoundError):
        stores.analysis_jobs.get("job-2")


def test_a_job_is_not_found_from_its_expiry(stores: Stores) -> None:
    job = _created(stores)
    stores.clock.set(job.expires_at - SECOND)
    assert stores.analysis_jobs.get("job-1") == job
    stores.clock.set(job.expires_at)
    with pytest.raises(NotFoundError):
        stores.analysis_jobs.get("job-1")


def test_an_expired_jobs_id_may_be_used_again(stores: Stores) -> None:
    job = _created(stores)
    stores.clock.set(job.expires_at)
    again = _job(stores, kind="again")
    stores.analysis_jobs.create(again)
    assert stores.analysis_jobs.get("job-1") == again


def test_jobs_are_kept_apart(stores: Stores) -> None:
    _created(stores, "job-1")
    second = _created(stores, "job-2")
    claimed = stores.analysis_jobs.claim("job-1", "event-1", stores.clock.now())
    assert stores.analysis_jobs.get("job-2") == second
    assert stores.analysis_jobs.get("job-1") == claimed


# -- claim ------------------------------------------------------------------------------
def test_claiming_a_pending_job_runs_it(stores: Stores) -> None:
    job = _created(stores)
    stores.clock.advance(SECOND)
    now = stores.clock.now()
    claimed = stores.analysis_jobs.claim("job-1", "event-1", now)
    assert claimed is not None
    assert claimed.status is JobStatus.RUNNING
    assert claimed.claimed_by == "event-1"
    assert claimed.claimed_until == now + CLAIM_LEASE
    assert claimed.updated_at == now
    assert claimed.created_at == job.created_at
    assert claimed.expires_at == job.expires_at
    assert stores.analysis_jobs.get("job-1") == claimed


def test_a_second_claim_finds_it_claimed(stores: Stores) -> None:
    """The same event delivered twice, or two events for one job: one analysis runs."""
    _created(stores)
    first = stores.analysis_jobs.claim("job-1", "event-1", stores.clock.now())
    assert stores.analysis_jobs.claim("job-1", "event-1", stores.clock.now() + SECOND) is None
    assert stores.analysis_jobs.claim("job-1", "event-2", stores.clock.now() + SECOND) is None
    assert stores.analysis_jobs.get("job-1") == first


def test_the_lease_holds_until_its_end(stores: Stores) -> None:
    _created(stores)
    first = stores.analysis_jobs.claim("job-1", "event-1", stores.clock.now())
    assert first is not None
    assert first.claimed_until is not None
    assert stores.analysis_jobs.claim("job-1", "event-2", first.claimed_until) is None


def test_a_passed_lease_is_claimed_again_and_the_old_claimant_loses(stores: Stores) -> None:
    """A consumer that died mid-run: a redelivery takes the job over after the lease."""
    _created(stores)
    first = stores.analysis_jobs.claim("job-1", "event-1", stores.clock.now())
    assert first is not None
    assert first.claimed_until is not None
    later = first.claimed_until + SECOND
    second = stores.analysis_jobs.claim("job-1", "event-2", later)
    assert second is not None
    assert second.claimed_by == "event-2"
    assert second.claimed_until == later + CLAIM_LEASE
    assert stores.analysis_jobs.finish("job-1", "event-1", later, report=REPORT) is False
    assert stores.analysis_jobs.get("job-1") == second
    assert stores.analysis_jobs.finish("job-1", "event-2", later + SECOND, report=REPORT)
    assert stores.analysis_jobs.get("job-1").status is JobStatus.DONE


def test_claiming_an_unknown_or_expired_job_is_not_found(stores: Stores) -> None:
    job = _created(stores)
    with pytest.raises(NotFoundError):
        stores.analysis_jobs.claim("job-2", "event-1", stores.clock.now())
    with pytest.raises(NotFoundError):
        stores.analysis_jobs.claim("job-1", "event-1", job.expires_at)


@pytest.mark.parametrize("outcome", ["done", "failed"])
def test_a_finished_job_is_never_claimed_again(stores: Stores, outcome: str) -> None:
    _created(stores)
    now = stores.clock.now()
    stores.analysis_jobs.claim("job-1", "event-1", now)
    if outcome == "done":
        stores.analysis_jobs.finish("job-1", "event-1", now, report=REPORT)
    else:
        stores.analysis_jobs.finish("job-1", "event-1", now, error="no prices")
    finished = stores.analysis_jobs.get("job-1")
    assert stores.analysis_jobs.claim("job-1", "event-2", now + SECOND) is None
    assert stores.analysis_jobs.claim("job-1", "event-1", now + 2 * CLAIM_LEASE) is None
    assert stores.analysis_jobs.get("job-1") == finished


# -- finish -----------------------------------------------------------------------------
def test_finishing_with_a_report_is_done(stores: Stores) -> None:
    job = _created(stores)
    now = stores.clock.now()
    claimed = stores.analysis_jobs.claim("job-1", "event-1", now)
    assert claimed is not None
    assert stores.analysis_jobs.finish("job-1", "event-1", now + SECOND, report=REPORT) is True
    done = stores.analysis_jobs.get("job-1")
    assert done.status is JobStatus.DONE
    assert done.report == REPORT
    assert done.error is None
    assert done.updated_at == now + SECOND
    assert done.created_at == job.created_at
    assert done.claimed_by == "event-1"
    assert done.to_json()["result"] == REPORT


def test_finishing_with_an_error_is_failed(stores: Stores) -> None:
    _created(stores)
    now = stores.clock.now()
    stores.analysis_jobs.claim("job-1", "event-1", now)
    assert stores.analysis_jobs.finish("job-1", "event-1", now, error="価格がありません") is True
    failed = stores.analysis_jobs.get("job-1")
    assert failed.status is JobStatus.FAILED
    assert failed.error == "価格がありません"
    assert failed.report is None


def test_finishing_again_writes_nothing(stores: Stores) -> None:
    _created(stores)
    now = stores.clock.now()
    stores.analysis_jobs.claim("job-1", "event-1", now)
    assert stores.analysis_jobs.finish("job-1", "event-1", now, report=REPORT) is True
    done = stores.analysis_jobs.get("job-1")
    assert stores.analysis_jobs.finish("job-1", "event-1", now + SECOND, error="late") is False
    assert stores.analysis_jobs.finish("job-1", "event-1", now + SECOND, report={}) is False
    assert stores.analysis_jobs.get("job-1") == done


def test_only_the_claimant_finishes(stores: Stores) -> None:
    job = _created(stores)
    now = stores.clock.now()
    assert stores.analysis_jobs.finish("job-1", "event-1", now, report=REPORT) is False  # pending
    assert stores.analysis_jobs.get("job-1") == job
    claimed = stores.analysis_jobs.claim("job-1", "event-1", now)
    assert stores.analysis_jobs.finish("job-1", "event-2", now, report=REPORT) is False
    assert stores.analysis_jobs.get("job-1") == claimed


def test_finishing_an_unknown_job_writes_nothing(stores: Stores) -> None:
    assert stores.analysis_jobs.finish("job-9", "event-1", stores.clock.now(), error="x") is False
    with pytest.raises(NotFoundError):
        stores.analysis_jobs.get("job-9")


def test_finish_takes_a_report_or_an_error(stores: Stores) -> None:
    _created(stores)
    now = stores.clock.now()
    claimed = stores.analysis_jobs.claim("job-1", "event-1", now)
    with pytest.raises(ValueError, match="either a report"):
        stores.analysis_jobs.finish("job-1", "event-1", now)
    with pytest.raises(ValueError, match="either a report"):
        stores.analysis_jobs.finish("job-1", "event-1", now, report=REPORT, error="both")
    assert stores.analysis_jobs.get("job-1") == claimed


# -- concurrency ----------------------------------------------------------------------------


def test_of_eight_concurrent_claims_exactly_one_wins(serialised_dynamodb: Stores) -> None:
    stores = serialised_dynamodb
    _created(stores)
    now = stores.clock.now()
    start = threading.Barrier(8)
    results: dict[str, AnalysisJob | None] = {}
    failures: list[BaseException] = []

    def claimant(name: str) -> None:
        try:
            start.wait()
            results[name] = stores.analysis_jobs.claim("job-1", name, now)
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)

    threads = [threading.Thread(target=claimant, args=(f"event-{i}",)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert len(results) == 8
    winners = [name for name, job in results.items() if job is not None]
    assert len(winners) == 1
    assert stores.analysis_jobs.get("job-1").claimed_by == winners[0]


# -- adapter-specific checks (what the other backends have no equivalent of) ----------------
@pytest.fixture
def dynamo() -> Iterator[Any]:
    from moto import mock_aws

    from portfoliowise.adapters.dynamodb import TableNames, create_tables, dynamodb_client

    with mock_aws():
        client = dynamodb_client()
        create_tables(client, TableNames())
        yield client


def _dynamo_jobs(client: Any, clock: FixedClock) -> Any:
    from portfoliowise.adapters.dynamodb import DynamoAnalysisJobs, TableNames

    return DynamoAnalysisJobs(client, TableNames(), clock)


def test_dynamodb_keeps_a_job_as_one_cache_item_outside_the_market_index(dynamo: Any) -> None:
    clock = FixedClock(START)
    jobs = _dynamo_jobs(dynamo, clock)
    jobs.create(_pending(expires_at=START + JOB_TTL + timedelta(microseconds=1)))
    jobs.claim("job-1", "event-1", START)
    jobs.finish("job-1", "event-1", START, report=REPORT)
    items = dynamo.scan(TableName="portfoliowise-cache")["Items"]
    assert len(items) == 1
    item = items[0]
    assert item["cacheKey"] == {"S": "job-1#ANALYSIS"}
    assert item["timestamp"] == {"S": "job"}
    assert "market" not in item
    assert "error" not in item
    assert item["status"] == {"S": "done"}
    assert item["claimedBy"] == {"S": "event-1"}
    assert item["report"]["S"].startswith("{")  # JSON text, not a map of numbers
    expires = START + JOB_TTL
    assert item["ttl"] == {"N": str(int(expires.timestamp()) + 1)}  # rounded up
    market_index = dynamo.query(
        TableName="portfoliowise-cache",
        IndexName="market-timestamp-index",
        KeyConditionExpression="market = :m",
        ExpressionAttributeValues={":m": {"S": "ANALYSIS"}},
    )
    assert market_index["Items"] == []


def test_dynamodb_sends_one_request_per_operation(dynamo: Any) -> None:
    clock = FixedClock(START)
    jobs = _dynamo_jobs(dynamo, clock)
    sent: list[str] = []

    def count(model: Any, **_: Any) -> None:
        sent.append(model.name)

    dynamo.meta.events.register("before-call.dynamodb.*", count)
    job = _pending()
    expected: list[tuple[Any, str]] = [
        (lambda: jobs.create(job), "PutItem"),
        (lambda: jobs.get("job-1"), "GetItem"),
        (lambda: jobs.claim("job-1", "event-1", START), "UpdateItem"),
        (lambda: jobs.claim("job-1", "event-2", START), "UpdateItem"),  # refused: None
        (lambda: jobs.finish("job-1", "event-2", START, error="x"), "UpdateItem"),  # False
        (lambda: jobs.finish("job-1", "event-1", START, report=REPORT), "UpdateItem"),
    ]
    for operation, request in expected:
        sent.clear()
        operation()
        assert sent == [request]
    sent.clear()
    with pytest.raises(NotFoundError):
        jobs.claim("job-2", "event-1", START)
    assert sent == ["UpdateItem"]


def test_dynamodb_refuses_a_report_over_the_item_limit(dynamo: Any) -> None:
    from portfoliowise.adapters.dynamodb.analysis_jobs import MAX_PAYLOAD_BYTES

    clock = FixedClock(START)
    jobs = _dynamo_jobs(dynamo, clock)
    jobs.create(_pending())
    claimed = jobs.claim("job-1", "event-1", START)
    huge = {"summary": "あ" * (MAX_PAYLOAD_BYTES // 3 + 1)}  # 3 bytes a character in UTF-8
    with pytest.raises(PayloadTooLarge, match="400 KB item limit"):
        jobs.finish("job-1", "event-1", START, report=huge)
    assert jobs.get("job-1") == claimed  # nothing written: the consumer can still fail it
    assert jobs.finish("job-1", "event-1", START, error="the report was too large") is True


def test_sqlite_purges_expired_jobs(tmp_path: Path) -> None:
    from portfoliowise.adapters.sqlite import open_sqlite_stores

    clock = FixedClock(START)
    stores = open_sqlite_stores(tmp_path / "data", clock)
    try:
        for job_id, expires_at in (("old", START + SECOND), ("new", START + JOB_TTL)):
            stores.analysis_jobs.create(_pending(job_id, expires_at=expires_at))
        assert stores.analysis_jobs.purge_expired() == 0
        clock.set(START + 2 * SECOND)
        assert stores.analysis_jobs.purge_expired() == 1
        assert stores.analysis_jobs.purge_expired() == 0
        assert stores.analysis_jobs.get("new").job_id == "new"
        with pytest.raises(NotFoundError):
            stores.analysis_jobs.get("old")
    finally:
        stores.close()
