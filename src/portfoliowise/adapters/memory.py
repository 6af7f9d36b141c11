"""In-memory adapters for every port: the fakes unit tests run against, with the same
semantics the real adapters promise (optimistic lock, change + audit together, TTLs)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from portfoliowise.domain.activities import Activity, ActivityChange
from portfoliowise.domain.analysis import (
    OPENAI_ANALYST,
    AnalysisReport,
    AnalysisRequest,
    AnalystFailed,
    FallbackReason,
)
from portfoliowise.domain.analysis_jobs import (
    CLAIM_LEASE,
    AnalysisJob,
    JobStatus,
    finished_status,
)
from portfoliowise.domain.audit import AuditEntry
from portfoliowise.domain.errors import (
    ConflictError,
    CurrencyMismatchError,
    NotFoundError,
    SourceUnavailable,
)
from portfoliowise.domain.events import DomainEvent, JsonValue
from portfoliowise.domain.fx import FxRate
from portfoliowise.domain.instruments import Instrument, parse_symbol
from portfoliowise.domain.money import Currency, Money
from portfoliowise.domain.portfolio import Portfolio
from portfoliowise.domain.ports import CachedQuote, Clock
from portfoliowise.domain.quotes import QUOTE_KEPT_FOR, Quote
from portfoliowise.domain.sessions import Session
from portfoliowise.domain.signals import Signal


class InMemoryAuditLog:
    def __init__(self, clock: Clock | None = None) -> None:
        self._clock = clock
        self.entries: list[AuditEntry] = []
        self._lock = threading.Lock()

    def record(self, entries: Sequence[AuditEntry]) -> None:
        with self._lock:
            self.entries.extend(entries)

    def for_user(self, user_id: str, since: datetime, until: datetime) -> list[AuditEntry]:
        now = self._clock.now() if self._clock is not None else None
        with self._lock:
            found = [
                e
                for e in self.entries
                if e.user_id == user_id
                and since <= e.timestamp <= until
                and (now is None or now < e.expires_at)
            ]
        return sorted(found, key=lambda e: e.timestamp)


class InMemoryPortfolioRepository:
    """Stores JSON snapshots, so callers never share mutable state with the store."""

    def __init__(self, audit: InMemoryAuditLog | None = None) -> None:
        self.audit = audit or InMemoryAuditLog()
        self._rows: dict[tuple[str, str], dict[str, JsonValue]] = {}
        self._valuations: dict[tuple[str, str], tuple[Money, datetime]] = {}
        self._activities: dict[tuple[str, str], dict[str, Activity]] = {}
        self._batches: dict[tuple[str, str], set[str]] = {}
        self._lock = threading.Lock()

    def get(self, user_id: str, portfolio_id: str) -> Portfolio:
        with self._lock:
            row = self._rows.get((user_id, portfolio_id))
        if row is None:
            raise NotFoundError(f"portfolio {portfolio_id} not found")
        return Portfolio.from_json(row)

    def get_with_valuation(self, user_id: str, portfolio_id: str) -> tuple[Portfolio, Money | None]:
        with self._lock:
            row = self._rows.get((user_id, portfolio_id))
            kept = self._valuations.get((user_id, portfolio_id))
        if row is None:
            raise NotFoundError(f"portfolio {portfolio_id} not found")
        return Portfolio.from_json(row), None if kept is None else kept[0]

    def list_for_user(self, user_id: str) -> list[Portfolio]:
        with self._lock:
            rows = [row for (uid, _), row in sorted(self._rows.items()) if uid == user_id]
        return [Portfolio.from_json(row) for row in rows]

    def add(self, portfolio: Portfolio, audit: Sequence[AuditEntry]) -> None:
        key = (portfolio.user_id, portfolio.portfolio_id)
        with self._lock:
            row = self._rows.get(key)
            if row is not None:
                stored = row["version"]
                raise ConflictError(
                    f"portfolio {portfolio.portfolio_id} already exists",
                    stored if isinstance(stored, int) else None,
                )
            self._write(key, portfolio, audit)

    def save(self, portfolio: Portfolio, audit: Sequence[AuditEntry]) -> None:
        self.commit(portfolio, audit, ActivityChange())

    def activities(self, user_id: str, portfolio_id: str) -> list[Activity]:
        key = (user_id, portfolio_id)
        with self._lock:
            if key not in self._rows:
                raise NotFoundError(f"portfolio {portfolio_id} not found")
            found = list(self._activities.get(key, {}).values())
        return sorted(found, key=Activity.sort_key)

    def commit(
        self, portfolio: Portfolio, audit: Sequence[AuditEntry], change: ActivityChange
    ) -> None:
        key = (portfolio.user_id, portfolio.portfolio_id)
        with self._lock:
            row = self._rows.get(key)
            if row is None:
                raise NotFoundError(f"portfolio {portfolio.portfolio_id} not found")
            stored = row["version"]
            if stored != portfolio.version:
                raise ConflictError(
                    f"portfolio {portfolio.portfolio_id} is at version {stored}, "
                    f"not {portfolio.version}",
                    stored if isinstance(stored, int) else None,
                )
            if change.batch_id is not None and change.batch_id in self._batches.get(key, set()):
                raise ConflictError(f"import {change.batch_id} is already applied", None)
            if portfolio.deleted:
                del self._rows[key]
                self._valuations.pop(key, None)
                self._activities.pop(key, None)
                self._batches.pop(key, None)
                self.audit.record(audit)
                portfolio.version += 1
                return
            kept = self._activities.setdefault(key, {})
            for activity_id in change.removed:
                kept.pop(activity_id, None)
            kept.update((a.activity_id, a) for a in change.added)
            if change.batch_id is not None:
                self._batches.setdefault(key, set()).add(change.batch_id)
            self._write(key, portfolio, audit)

    def record_valuation(
        self, user_id: str, portfolio_id: str, total: Money, at: datetime
    ) -> Money | None:
        key = (user_id, portfolio_id)
        with self._lock:
            row = self._rows.get(key)
            if row is None:
                raise NotFoundError(f"portfolio {portfolio_id} not found")
            if total.currency.code != row["baseCurrency"]:
                raise CurrencyMismatchError(
                    f"portfolio {portfolio_id} is valued in {row['baseCurrency']}, "
                    f"not {total.currency.code}"
                )
            previous = self._valuations.get(key)
            self._valuations[key] = (total, at)
        return None if previous is None else previous[0]

    def all_portfolios(self) -> Iterator[Portfolio]:
        with self._lock:
            rows = [row for _, row in sorted(self._rows.items())]
        return iter([Portfolio.from_json(row) for row in rows])

    def restore(self, portfolio: Portfolio, audit: Sequence[AuditEntry]) -> None:
        key = (portfolio.user_id, portfolio.portfolio_id)
        with self._lock:
            row = self._rows.get(key)
            stored = row["version"] if row is not None else 0
            if isinstance(stored, int) and stored >= portfolio.version:
                portfolio.version = stored
            else:
                portfolio.version -= 1  # _write bumps it back to the backup's version
            self._write(key, portfolio, audit)

    def _write(
        self, key: tuple[str, str], portfolio: Portfolio, audit: Sequence[AuditEntry]
    ) -> None:
        snapshot = portfolio.to_json()
        snapshot["version"] = portfolio.version + 1
        self._rows[key] = snapshot
        self._valuations.pop(key, None)  # it valued what this write replaced
        self.audit.record(audit)
        portfolio.version += 1


class InMemoryQuoteCache:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._items: dict[str, CachedQuote] = {}
        self.reads = 0
        self.writes = 0

    def get_many(self, instruments: Sequence[Instrument]) -> dict[str, CachedQuote]:
        self.reads += 1
        now = self._clock.now()
        found: dict[str, CachedQuote] = {}
        for instrument in instruments:
            item = self._items.get(instrument.cache_key)
            if item is not None and now < item.expires_at + QUOTE_KEPT_FOR:
                found[instrument.symbol] = item
        return found

    def put_many(self, quotes: Sequence[Quote], expires_at: datetime) -> None:
        self.writes += 1
        for quote in quotes:
            if quote.price is None:
                continue  # an unavailable quote is never cached as if it were a price
            self._items[parse_symbol(quote.symbol).cache_key] = CachedQuote(quote, expires_at)


class StaticQuoteSource:
    """A source answering from a fixed table of quotes; `failing=True` makes it fail."""

    def __init__(self, name: str, quotes: dict[str, Quote], failing: bool = False) -> None:
        self.name = name
        self._quotes = quotes
        self.failing = failing
        self.calls: list[list[str]] = []

    def fetch(self, instruments: Sequence[Instrument]) -> dict[str, Quote]:
        self.calls.append([i.symbol for i in instruments])
        if self.failing:
            raise SourceUnavailable(f"{self.name} is unavailable")
        return {i.symbol: self._quotes[i.symbol] for i in instruments if i.symbol in self._quotes}


class StaticFxSource:
    def __init__(self, name: str, rates: list[FxRate], failing: bool = False) -> None:
        self.name = name
        self._rates = rates
        self.failing = failing

    def fetch_rates(self, pairs: Sequence[tuple[Currency, Currency]]) -> list[FxRate]:
        if self.failing:
            raise SourceUnavailable(f"{self.name} is unavailable")
        wanted = set(pairs)
        return [r for r in self._rates if (r.base, r.quote) in wanted]


class InMemorySessionStore:
    def __init__(self) -> None:
        self._sessions: dict[str, Session] = {}

    def put(self, session: Session) -> None:
        self._sessions[session.session_hash] = session

    def get(self, session_hash: str, now: datetime) -> Session | None:
        session = self._sessions.get(session_hash)
        if session is None or session.expired(now):
            return None
        return session

    def delete(self, session_hash: str) -> None:
        self._sessions.pop(session_hash, None)

    def rotate_refresh(
        self, session_hash: str, expected_hash: str, new_hash: str, at: datetime
    ) -> bool:
        session = self._sessions.get(session_hash)
        if session is None or session.refresh_hash != expected_hash:
            return False
        self._sessions[session_hash] = replace(
            session,
            previous_refresh_hash=session.refresh_hash,
            refresh_hash=new_hash,
            rotated_at=at,
        )
        return True


class InMemoryEventPublisher:
    def __init__(self) -> None:
        self.published: list[DomainEvent] = []

    def publish(self, events: Sequence[DomainEvent]) -> None:
        self.published.extend(events)


class InMemoryBlobStore:
    def __init__(self) -> None:
        self.objects: dict[str, tuple[bytes, str]] = {}

    def put(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        self.objects[key] = (bytes(data), content_type)

    def get(self, key: str) -> bytes:
        try:
            return self.objects[key][0]
        except KeyError:
            raise NotFoundError(f"no object at {key}") from None

    def list(self, prefix: str) -> list[str]:
        return sorted(key for key in self.objects if key.startswith(prefix))


class ScriptedAnalyst:
    """Answers each request with the next scripted summary, or raises the next scripted
    `AnalystFailed` (tests of the analysis flow and its fallback)."""

    name = "scripted"

    def __init__(self, answers: list[str | AnalystFailed], model: str = "scripted") -> None:
        self._answers = list(answers)
        self.model = model
        self.requests: list[AnalysisRequest] = []

    def analyse(self, request: AnalysisRequest) -> AnalysisReport:
        self.requests.append(request)
        if not self._answers:
            raise AnalystFailed(FallbackReason.UNAVAILABLE, "the scripted analyst has no answer")
        answer = self._answers.pop(0)
        if isinstance(answer, AnalystFailed):
            raise answer
        return replace(request.rules, analyst=OPENAI_ANALYST, model=self.model, summary=answer)


class InMemoryAnalysisJobs:
    """`AnalysisJobs` in a dict, every operation under one lock (so a claim is atomic, as
    the conditional writes of the real stores are). Expired jobs read as absent."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._jobs: dict[str, AnalysisJob] = {}
        self._lock = threading.Lock()

    def _live(self, job_id: str, now: datetime) -> AnalysisJob | None:
        job = self._jobs.get(job_id)
        return None if job is None or job.expires_at <= now else job

    def create(self, job: AnalysisJob) -> None:
        with self._lock:
            if self._live(job.job_id, self._clock.now()) is not None:
                raise ConflictError(f"analysis job {job.job_id} already exists")
            self._jobs[job.job_id] = replace(job, report=_json_copy(job.report))

    def get(self, job_id: str) -> AnalysisJob:
        with self._lock:
            job = self._live(job_id, self._clock.now())
        if job is None:
            raise NotFoundError(f"analysis job {job_id} not found")
        return job

    def claim(self, job_id: str, claimed_by: str, now: datetime) -> AnalysisJob | None:
        with self._lock:
            job = self._live(job_id, now)
            if job is None:
                raise NotFoundError(f"analysis job {job_id} not found")
            lease_passed = job.claimed_until is not None and job.claimed_until < now
            if not (
                job.status is JobStatus.PENDING
                or (job.status is JobStatus.RUNNING and lease_passed)
            ):
                return None
            claimed = replace(
                job,
                status=JobStatus.RUNNING,
                updated_at=now,
                claimed_by=claimed_by,
                claimed_until=now + CLAIM_LEASE,
            )
            self._jobs[job_id] = claimed
            return claimed

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
        with self._lock:
            job = self._live(job_id, now)
            if job is None or job.status is not JobStatus.RUNNING or job.claimed_by != claimed_by:
                return False
            self._jobs[job_id] = replace(
                job,
                status=status,
                updated_at=now,
                report=_json_copy(report),
                error=error,
            )
            return True


def _json_copy(report: dict[str, Any] | None) -> dict[str, Any] | None:
    """What a store that keeps the report as JSON text gives back (tuples become lists;
    a value JSON cannot hold fails here as it would there)."""
    return None if report is None else dict(json.loads(json.dumps(report)))


class RecordedSignals:
    """`Signals` that keeps what was emitted (tests)."""

    def __init__(self) -> None:
        self.emitted: list[Signal] = []

    def emit(self, signal: Signal) -> None:
        self.emitted.append(signal)


class InMemoryUserRegistry:
    """`UserRegistry` in process memory: the users seen, with when each was first seen."""

    def __init__(self) -> None:
        self.first_seen_at: dict[str, datetime] = {}
        self._lock = threading.Lock()

    def first_seen(self, user_id: str, at: datetime) -> bool:
        with self._lock:
            if user_id in self.first_seen_at:
                return False
            self.first_seen_at[user_id] = at
            return True
