"""Analysis jobs in the Cache table, one item per job, expired by the table's TTL.

Key: `cacheKey` = `{jobId}#ANALYSIS`, `timestamp` = `"job"` (the analysis function's write
grant is limited to these keys with `dynamodb:LeadingKeys`). Other attributes: `userId`,
`portfolioId`, `status`, `language`, `kind`, `createdAt`, `updatedAt` (ISO-8601),
`expiresAt` and `claimedUntil` (N: epoch seconds with microseconds, exact, compared in
conditions), `ttl` (N: whole epoch seconds of `expiresAt`, rounded up), `claimedBy`,
`report` (S: the report as JSON text, so no number becomes a `Decimal`) and `error`.
Absent values are left out; `market` is never set, which keeps jobs out of
`market-timestamp-index`.

One request per operation: `create` a conditional PutItem, `get` a strongly consistent
GetItem, `claim` a conditional UpdateItem returning the new item (and, when the condition
fails, the old one, which tells "claimed by another" from "absent"), `finish` a conditional
UpdateItem. Expired items that DynamoDB has not deleted yet read as absent."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from portfoliowise.adapters.dynamodb.codec import (
    Item,
    epoch_exact,
    from_epoch,
    from_item,
    to_item,
    ttl_seconds,
    value,
)
from portfoliowise.adapters.dynamodb.errors import (
    CONDITION_FAILED,
    cancellation_reasons,
    error_code,
    translated,
)
from portfoliowise.adapters.dynamodb.schema import (
    CACHE_JOB,
    CACHE_JOB_SUFFIX,
    CACHE_PK,
    CACHE_SK,
    TTL_ATTRIBUTE,
)
from portfoliowise.adapters.dynamodb.tables import TableNames
from portfoliowise.domain.analysis_jobs import (
    CLAIM_LEASE,
    AnalysisJob,
    JobStatus,
    finished_status,
)
from portfoliowise.domain.errors import ConflictError, NotFoundError, PayloadTooLarge
from portfoliowise.domain.ports import Clock

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

MAX_ITEM_BYTES = 400 * 1024
"""DynamoDB's item size limit."""
MAX_PAYLOAD_BYTES = MAX_ITEM_BYTES - 16 * 1024
"""The most a job's `report` (as UTF-8 JSON) and `error` may take together: the rest of
the item (ids, times, status) stays well under the 16 KB left."""

_CONDITION_FAILED_EXCEPTION = "ConditionalCheckFailedException"

_NAMES = {
    "#pk": CACHE_PK,
    "#status": "status",
    "#updatedAt": "updatedAt",
    "#expiresAt": "expiresAt",
    "#claimedBy": "claimedBy",
    "#claimedUntil": "claimedUntil",
    "#report": "report",
    "#error": "error",
}


def _names(*placeholders: str) -> dict[str, str]:
    return {placeholder: _NAMES[placeholder] for placeholder in placeholders}


def job_key(job_id: str) -> Item:
    return {CACHE_PK: value(f"{job_id}{CACHE_JOB_SUFFIX}"), CACHE_SK: value(CACHE_JOB)}


def _report_text(report: dict[str, Any] | None) -> str | None:
    return None if report is None else json.dumps(report, ensure_ascii=False)


def _refuse_oversized(job_id: str, report: str | None, error: str | None) -> None:
    size = len((report or "").encode()) + len((error or "").encode())
    if size > MAX_PAYLOAD_BYTES:
        raise PayloadTooLarge(
            f"the result of analysis job {job_id} is {size:,} bytes, over the "
            f"{MAX_PAYLOAD_BYTES:,} a job can hold (DynamoDB's 400 KB item limit): "
            "shorten the report or the error"
        )


def job_item(job: AnalysisJob) -> Item:
    report = _report_text(job.report)
    _refuse_oversized(job.job_id, report, job.error)
    return to_item(
        {
            CACHE_PK: f"{job.job_id}{CACHE_JOB_SUFFIX}",
            CACHE_SK: CACHE_JOB,
            "userId": job.user_id,
            "portfolioId": job.portfolio_id,
            "status": job.status.value,
            "language": job.language,
            "kind": job.kind,
            "createdAt": job.created_at.isoformat(),
            "updatedAt": job.updated_at.isoformat(),
            "expiresAt": epoch_exact(job.expires_at),
            TTL_ATTRIBUTE: ttl_seconds(job.expires_at),
            "report": report,
            "error": job.error,
            "claimedUntil": None if job.claimed_until is None else epoch_exact(job.claimed_until),
            "claimedBy": job.claimed_by,
        }
    )


def job_from_item(item: Mapping[str, AttributeValueTypeDef]) -> AnalysisJob:
    data = from_item(item)
    job_id = str(data[CACHE_PK]).removesuffix(CACHE_JOB_SUFFIX)
    report = data.get("report")
    error = data.get("error")
    claimed_until = data.get("claimedUntil")
    claimed_by = data.get("claimedBy")
    return AnalysisJob(
        job_id=job_id,
        user_id=str(data["userId"]),
        portfolio_id=str(data["portfolioId"]),
        language=str(data["language"]),
        kind=str(data["kind"]),
        status=JobStatus(str(data["status"])),
        created_at=datetime.fromisoformat(str(data["createdAt"])),
        updated_at=datetime.fromisoformat(str(data["updatedAt"])),
        expires_at=from_epoch(data["expiresAt"]),
        report=None if report is None else dict(json.loads(str(report))),
        error=None if error is None else str(error),
        claimed_until=None if claimed_until is None else from_epoch(claimed_until),
        claimed_by=None if claimed_by is None else str(claimed_by),
    )


def _live(item: Mapping[str, AttributeValueTypeDef] | None, now: datetime) -> bool:
    """Whether a (wire-format) job item exists and has not expired at `now`."""
    expires_at = item.get("expiresAt", {}).get("N") if item else None
    return expires_at is not None and from_epoch(Decimal(expires_at)) > now


class DynamoAnalysisJobs:
    """`AnalysisJobs` over the Cache table."""

    def __init__(self, client: DynamoDBClient, names: TableNames, clock: Clock) -> None:
        self._client = client
        self._table = names.cache
        self._clock = clock

    def create(self, job: AnalysisJob) -> None:
        """PutItem unless a live job has the id (`ConflictError`); an expired one that
        DynamoDB has not deleted yet is replaced."""
        item = job_item(job)
        try:
            with translated(f"storing analysis job {job.job_id}"):
                self._client.put_item(
                    TableName=self._table,
                    Item=item,
                    ConditionExpression="attribute_not_exists(#pk) OR #expiresAt <= :now",
                    ExpressionAttributeNames=_names("#pk", "#expiresAt"),
                    ExpressionAttributeValues={":now": value(epoch_exact(self._clock.now()))},
                )
        except ClientError as exc:
            if error_code(exc) != _CONDITION_FAILED_EXCEPTION:
                raise
            raise ConflictError(f"analysis job {job.job_id} already exists") from exc

    def get(self, job_id: str) -> AnalysisJob:
        with translated(f"reading analysis job {job_id}"):
            response = self._client.get_item(
                TableName=self._table, Key=job_key(job_id), ConsistentRead=True
            )
        item = response.get("Item")
        if item is None or not _live(item, self._clock.now()):
            raise NotFoundError(f"analysis job {job_id} not found")
        return job_from_item(item)

    def claim(self, job_id: str, claimed_by: str, now: datetime) -> AnalysisJob | None:
        """UpdateItem conditional on the job being live and pending, or running with its
        lease passed (`claimedUntil < now`). When the condition fails, the old item sent
        back says whether the job is absent (`NotFoundError`) or not claimable (None)."""
        try:
            with translated(f"claiming analysis job {job_id}"):
                response = self._client.update_item(
                    TableName=self._table,
                    Key=job_key(job_id),
                    UpdateExpression=(
                        "SET #status = :running, #claimedBy = :by, #claimedUntil = :until, "
                        "#updatedAt = :updated"
                    ),
                    ConditionExpression=(
                        "attribute_exists(#pk) AND #expiresAt > :now AND (#status = :pending "
                        "OR (#status = :running AND #claimedUntil < :now))"
                    ),
                    ExpressionAttributeNames=_names(
                        "#pk", "#status", "#claimedBy", "#claimedUntil", "#updatedAt", "#expiresAt"
                    ),
                    ExpressionAttributeValues={
                        ":running": value(JobStatus.RUNNING.value),
                        ":pending": value(JobStatus.PENDING.value),
                        ":by": value(claimed_by),
                        ":until": value(epoch_exact(now + CLAIM_LEASE)),
                        ":updated": value(now.isoformat()),
                        ":now": value(epoch_exact(now)),
                    },
                    ReturnValues="ALL_NEW",
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
        except ClientError as exc:
            if error_code(exc) != _CONDITION_FAILED_EXCEPTION:
                raise
            reasons = cancellation_reasons(exc)
            old = reasons[0][1] if reasons and reasons[0][0] == CONDITION_FAILED else None
            if not _live(old, now):
                raise NotFoundError(f"analysis job {job_id} not found") from exc
            return None
        return job_from_item(response["Attributes"])

    def finish(
        self,
        job_id: str,
        claimed_by: str,
        now: datetime,
        *,
        report: dict[str, Any] | None = None,
        error: str | None = None,
    ) -> bool:
        """UpdateItem conditional on the job being live, running and claimed by
        `claimed_by`; `PayloadTooLarge` (nothing written) for a result over the item
        limit."""
        status = finished_status(report, error)
        text = _report_text(report)
        _refuse_oversized(job_id, text, error)
        if status is JobStatus.DONE:
            written, removed, result = "#report", "#error", value(text)
        else:
            written, removed, result = "#error", "#report", value(error)
        try:
            with translated(f"finishing analysis job {job_id}"):
                self._client.update_item(
                    TableName=self._table,
                    Key=job_key(job_id),
                    UpdateExpression=(
                        f"SET #status = :status, #updatedAt = :updated, {written} = :result "
                        f"REMOVE {removed}"
                    ),
                    ConditionExpression=(
                        "#status = :running AND #claimedBy = :by AND #expiresAt > :now"
                    ),
                    ExpressionAttributeNames=_names(
                        "#status", "#updatedAt", "#claimedBy", "#expiresAt", written, removed
                    ),
                    ExpressionAttributeValues={
                        ":status": value(status.value),
                        ":updated": value(now.isoformat()),
                        ":result": result,
                        ":running": value(JobStatus.RUNNING.value),
                        ":by": value(claimed_by),
                        ":now": value(epoch_exact(now)),
                    },
                )
        except ClientError as exc:
            if error_code(exc) != _CONDITION_FAILED_EXCEPTION:
                raise
            return False
        return True
