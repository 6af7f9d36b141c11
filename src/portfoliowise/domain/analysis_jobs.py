"""An analysis job: asked for by its owner (`POST /portfolios/{id}/analysis`), run once by
the analysis consumer, kept (with its report) until it expires (30 days by default).

State: `pending` → `running` (claimed by one consumer, for a lease) → `done` | `failed`.
A claim is a conditional write: an event delivered twice finds the job claimed (or done)
and runs nothing; a consumer that died mid-run leaves a lease that expires, after which
a redelivery may claim the job again."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, ClassVar, Protocol

from portfoliowise.domain.events import DomainEvent, JsonValue

JOB_TTL = timedelta(days=30)
"""How long a job and its report are kept (the store expires them after that)."""

CLAIM_LEASE = timedelta(minutes=2)
"""How long a claim holds: longer than the analysis function's 60 s timeout."""


class JobStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class AnalysisJob:
    job_id: str
    user_id: str
    portfolio_id: str
    language: str  # "ja" | "en"
    kind: str
    status: JobStatus
    created_at: datetime
    updated_at: datetime
    expires_at: datetime
    report: dict[str, Any] | None = None  # `AnalysisReport.to_json()` once done
    error: str | None = None  # why it failed (never a stack trace)
    claimed_until: datetime | None = None
    claimed_by: str | None = None  # the event id that claimed it

    def to_json(self) -> dict[str, JsonValue]:
        """What its owner sees (`GET /analysis/{jobId}`)."""
        return {
            "jobId": self.job_id,
            "portfolioId": self.portfolio_id,
            "language": self.language,
            "kind": self.kind,
            "status": self.status.value,
            "createdAt": self.created_at.isoformat(),
            "updatedAt": self.updated_at.isoformat(),
            "expiresAt": self.expires_at.isoformat(),
            "result": self.report,
            "error": self.error,
        }


def finished_status(report: dict[str, Any] | None, error: str | None) -> JobStatus:
    """What `finish` writes: `done` with a report, `failed` with an error; exactly one of
    the two must be given (a `ValueError` otherwise: a caller's bug)."""
    if (report is None) == (error is None):
        raise ValueError("finish takes either a report (done) or an error (failed)")
    return JobStatus.DONE if report is not None else JobStatus.FAILED


class AnalysisJobs(Protocol):
    """Where jobs live (DynamoDB: Cache-table items `{jobId}#ANALYSIS` with the table's
    TTL; SQLite locally; memory in tests)."""

    def create(self, job: AnalysisJob) -> None:
        """Store a new pending job (its id is new: a duplicate id is a ConflictError)."""
        ...

    def get(self, job_id: str) -> AnalysisJob:
        """The job, or `NotFoundError` (also once it has expired)."""
        ...

    def claim(self, job_id: str, claimed_by: str, now: datetime) -> AnalysisJob | None:
        """Atomically move a `pending` job (or a `running` one whose lease has passed) to
        `running`, claimed by `claimed_by` until `now + CLAIM_LEASE`; None when it is
        claimed by another, done or failed (nothing to run). `NotFoundError` if absent."""
        ...

    def finish(
        self,
        job_id: str,
        claimed_by: str,
        now: datetime,
        *,
        report: dict[str, Any] | None = None,
        error: str | None = None,
    ) -> bool:
        """`done` with `report` (or `failed` with `error`), only if still claimed by
        `claimed_by`; whether it was written."""
        ...


@dataclass(frozen=True, kw_only=True)
class AnalysisEvent(DomainEvent):
    """The analysis context's events: about one job of one portfolio."""

    context: ClassVar[str] = "analysis"
    job_id: str
    changes: dict[str, Any] = field(default_factory=dict)

    @property
    def resource(self) -> str:
        return f"portfolio/{self.portfolio_id}/analysis/{self.job_id}"

    def payload(self) -> dict[str, JsonValue]:
        return {}

    def to_json(self) -> dict[str, JsonValue]:
        return {**super().to_json(), "jobId": self.job_id, **self.payload()}


@dataclass(frozen=True, kw_only=True)
class AnalysisRequested(AnalysisEvent):
    """Published when a user asks for an analysis; the analysis function consumes it."""

    action: ClassVar[str] = "analysis.requested"
    language: str = "ja"
    kind: str = "portfolio"

    def payload(self) -> dict[str, JsonValue]:
        return {"language": self.language, "kind": self.kind}


@dataclass(frozen=True, kw_only=True)
class AnalysisCompleted(AnalysisEvent):
    action: ClassVar[str] = "analysis.completed"
    analyst: str = "rules"
    fallback_reason: str | None = None

    def payload(self) -> dict[str, JsonValue]:
        return {"analyst": self.analyst, "fallbackReason": self.fallback_reason}


@dataclass(frozen=True, kw_only=True)
class AnalysisFailed(AnalysisEvent):
    action: ClassVar[str] = "analysis.failed"
    reason: str = ""

    def payload(self) -> dict[str, JsonValue]:
        return {"reason": self.reason}
