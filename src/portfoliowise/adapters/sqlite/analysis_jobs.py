"""The `analysis_jobs` table: one row per analysis job, keyed by `jobId`, with `status`,
`createdAt`/`updatedAt` (UTC ISO-8601 text), `expiresAt` and `claimedUntil` (epoch
microseconds, exact), `ttl` (whole epoch seconds, rounded up), `claimedBy`, `report` (JSON
text) and `error`.

A claim and a finish are each one conditional `UPDATE` inside a `BEGIN IMMEDIATE`
transaction (SQLite serialises writers, so of two claims of one job only one matches);
the row is read back in the same transaction. Expiry is honoured on read and on every
write; `purge_expired` deletes the rows past their `ttl` (the cleanup job)."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import Any

from portfoliowise.adapters.sqlite.codec import (
    dump_json,
    epoch_micros,
    from_epoch_micros,
    load_json,
    now_seconds,
    ttl_seconds,
    utc_text,
)
from portfoliowise.adapters.sqlite.database import SqliteDatabase
from portfoliowise.domain.analysis_jobs import (
    CLAIM_LEASE,
    AnalysisJob,
    JobStatus,
    finished_status,
)
from portfoliowise.domain.errors import ConflictError, NotFoundError
from portfoliowise.domain.ports import Clock

_COLUMNS = (
    "jobId, userId, portfolioId, status, language, kind, createdAt, updatedAt, expiresAt, "
    "ttl, report, error, claimedUntil, claimedBy"
)
_INSERT = f"INSERT INTO analysis_jobs ({_COLUMNS}) VALUES ({', '.join('?' * 14)})"
_LIVE = "jobId = ? AND expiresAt > ?"
_SELECT = f"SELECT {_COLUMNS} FROM analysis_jobs WHERE {_LIVE}"
_CLAIM = (
    "UPDATE analysis_jobs SET status = 'running', updatedAt = ?, claimedBy = ?, "
    f"claimedUntil = ? WHERE {_LIVE} "
    "AND (status = 'pending' OR (status = 'running' AND claimedUntil < ?))"
)
_FINISH = (
    "UPDATE analysis_jobs SET status = ?, updatedAt = ?, report = ?, error = ? "
    f"WHERE {_LIVE} AND status = 'running' AND claimedBy = ?"
)


def _row(job: AnalysisJob) -> tuple[object, ...]:
    return (
        job.job_id,
        job.user_id,
        job.portfolio_id,
        job.status.value,
        job.language,
        job.kind,
        utc_text(job.created_at),
        utc_text(job.updated_at),
        epoch_micros(job.expires_at),
        ttl_seconds(job.expires_at),
        None if job.report is None else dump_json(job.report),
        job.error,
        None if job.claimed_until is None else epoch_micros(job.claimed_until),
        job.claimed_by,
    )


def _job(row: sqlite3.Row) -> AnalysisJob:
    report = row["report"]
    claimed_until = row["claimedUntil"]
    claimed_by = row["claimedBy"]
    error = row["error"]
    return AnalysisJob(
        job_id=str(row["jobId"]),
        user_id=str(row["userId"]),
        portfolio_id=str(row["portfolioId"]),
        language=str(row["language"]),
        kind=str(row["kind"]),
        status=JobStatus(str(row["status"])),
        created_at=datetime.fromisoformat(str(row["createdAt"])),
        updated_at=datetime.fromisoformat(str(row["updatedAt"])),
        expires_at=from_epoch_micros(int(row["expiresAt"])),
        report=None if report is None else dict(load_json(str(report))),
        error=None if error is None else str(error),
        claimed_until=None if claimed_until is None else from_epoch_micros(int(claimed_until)),
        claimed_by=None if claimed_by is None else str(claimed_by),
    )


class SqliteAnalysisJobs:
    """`AnalysisJobs` over the `analysis_jobs` table."""

    def __init__(self, db: SqliteDatabase, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    def create(self, job: AnalysisJob) -> None:
        """Insert the job; `ConflictError` if a live job has its id (an expired one that
        the cleanup has not purged yet is replaced)."""
        now = epoch_micros(self._clock.now())
        with self._db.writing() as conn:
            conn.execute(
                "DELETE FROM analysis_jobs WHERE jobId = ? AND expiresAt <= ?", (job.job_id, now)
            )
            try:
                conn.execute(_INSERT, _row(job))
            except sqlite3.IntegrityError as exc:
                raise ConflictError(f"analysis job {job.job_id} already exists") from exc

    def get(self, job_id: str) -> AnalysisJob:
        now = epoch_micros(self._clock.now())
        with self._db.reading() as conn:
            row = conn.execute(_SELECT, (job_id, now)).fetchone()
        if row is None:
            raise NotFoundError(f"analysis job {job_id} not found")
        return _job(row)

    def claim(self, job_id: str, claimed_by: str, now: datetime) -> AnalysisJob | None:
        at = epoch_micros(now)
        until = epoch_micros(now + CLAIM_LEASE)
        with self._db.writing() as conn:
            cursor = conn.execute(_CLAIM, (utc_text(now), claimed_by, until, job_id, at, at))
            claimed = cursor.rowcount == 1
            row = conn.execute(_SELECT, (job_id, at)).fetchone()
        if row is None:
            raise NotFoundError(f"analysis job {job_id} not found")
        return _job(row) if claimed else None

    def finish(
        self,
        job_id: str,
        claimed_by: str,
        now: datetime,
        *,
        report: dict[str, Any] | None = None,
        error: str | None = None,
    ) -> bool:
        status = finished_status(report, error)
        document = None if report is None else dump_json(report)
        with self._db.writing() as conn:
            cursor = conn.execute(
                _FINISH,
                (
                    status.value,
                    utc_text(now),
                    document,
                    error,
                    job_id,
                    epoch_micros(now),
                    claimed_by,
                ),
            )
            return cursor.rowcount == 1

    def purge_expired(self) -> int:
        """Delete the jobs past their `ttl` (the cleanup job); how many went."""
        with self._db.writing() as conn:
            cursor = conn.execute(
                "DELETE FROM analysis_jobs WHERE ttl <= ?", (now_seconds(self._clock.now()),)
            )
            return cursor.rowcount
