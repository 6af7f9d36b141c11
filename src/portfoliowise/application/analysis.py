"""Portfolio analysis, asynchronous: the owner asks (`request_analysis`: a pending job and
an `AnalysisRequested` event), the consumer runs it once (`run_analysis`), the owner reads
the job (`job_for_owner`).

The consumer values the portfolio from the quote cache, computes the rule-based report
(always available), and asks the AI analyst when one is configured; a refusal, timeout,
rate limit, invalid output or missing key keeps the rule-based report, which says which
analyst answered and why. An event delivered twice runs one analysis: the job is claimed
with a conditional write, and only the claimant writes the result, the audit entry and the
completion event."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any, Protocol

from portfoliowise.application.pricing import QuoteService, price_portfolio
from portfoliowise.domain.analysis import (
    AnalysisReport,
    AnalysisRequest,
    AnalystFailed,
    FallbackReason,
    Language,
)
from portfoliowise.domain.analysis_jobs import (
    JOB_TTL,
    AnalysisCompleted,
    AnalysisFailed,
    AnalysisJob,
    AnalysisJobs,
    AnalysisRequested,
    JobStatus,
)
from portfoliowise.domain.audit import RequestContext, audit_entry
from portfoliowise.domain.errors import (
    DomainError,
    NotFoundError,
    PayloadTooLarge,
    SourceUnavailable,
    ValidationError,
)
from portfoliowise.domain.market import DailyClose, DailyHistory
from portfoliowise.domain.ports import (
    Analyst,
    AuditLog,
    Clock,
    EventPublisher,
    IdGenerator,
    PortfolioRepository,
)
from portfoliowise.domain.risk_rules import Thresholds, portfolio_figures, rule_based_report
from portfoliowise.domain.valuation import value_portfolio

log = logging.getLogger(__name__)

KINDS = ("portfolio",)
HISTORY_DAYS = 366
HISTORY_SYMBOLS = 20  # the largest holdings' daily closes feed the history rules


class HistoryService(Protocol):
    def history(self, symbol: str, start: date, end: date) -> DailyHistory: ...


@dataclass(frozen=True, slots=True)
class AnalysisPorts:
    jobs: AnalysisJobs
    portfolios: PortfolioRepository
    events: EventPublisher
    audit: AuditLog
    market: QuoteService
    clock: Clock
    ids: IdGenerator
    history: HistoryService | None = None
    analyst: Analyst | None = None  # None: no AI key configured
    thresholds: Thresholds = field(default_factory=Thresholds)


def request_analysis(
    ports: AnalysisPorts,
    *,
    user_id: str,
    portfolio_id: str,
    language: str = "ja",
    kind: str = "portfolio",
) -> AnalysisJob:
    """A pending job for the owner's portfolio (another user's is a 404), announced on the
    bus. If the announcement fails, the error is raised (503) and the job expires unseen."""
    lang = Language.parse(language)
    if kind not in KINDS:
        raise ValidationError(f"kind must be one of {', '.join(KINDS)}")
    ports.portfolios.get(user_id, portfolio_id)
    now = ports.clock.now()
    job = AnalysisJob(
        job_id=ports.ids.new_id(),
        user_id=user_id,
        portfolio_id=portfolio_id,
        language=lang.value,
        kind=kind,
        status=JobStatus.PENDING,
        created_at=now,
        updated_at=now,
        expires_at=now + JOB_TTL,
    )
    ports.jobs.create(job)
    requested = AnalysisRequested(
        user_id=user_id,
        portfolio_id=portfolio_id,
        occurred_at=now,
        job_id=job.job_id,
        language=job.language,
        kind=kind,
    )
    ports.events.publish([requested])
    return job


def job_for_owner(jobs: AnalysisJobs, user_id: str, job_id: str) -> AnalysisJob:
    """The job, for its owner only: another user's job is a 404, like a missing one."""
    job = jobs.get(job_id)
    if job.user_id != user_id:
        raise NotFoundError(f"no analysis job {job_id}")
    return job


def _histories(
    history: HistoryService | None, symbols: Sequence[str], end: date
) -> dict[str, list[DailyClose]]:
    if history is None:
        return {}
    found: dict[str, list[DailyClose]] = {}
    start = end - timedelta(days=HISTORY_DAYS)
    for symbol in symbols:
        try:
            found[symbol] = list(history.history(symbol, start, end).closes)
        except DomainError as exc:  # unavailable, unknown: that symbol has no history
            log.info("no history for %s: %s", symbol, exc)
    return found


def analyse_portfolio(ports: AnalysisPorts, job: AnalysisJob) -> AnalysisReport:
    """The report of `job`'s portfolio: the rules, refined by the AI analyst if it can."""
    language = Language.parse(job.language)
    portfolio = ports.portfolios.get(job.user_id, job.portfolio_id)
    prices = price_portfolio(ports.market, portfolio)
    now = ports.clock.now()
    valuation = value_portfolio(portfolio, prices.quotes, prices.rates, at=now)
    largest = sorted(valuation.holdings, key=lambda h: h.weight, reverse=True)
    history = _histories(ports.history, [h.symbol for h in largest[:HISTORY_SYMBOLS]], now.date())
    rules = rule_based_report(
        portfolio,
        valuation,
        language=language,
        history=history or None,
        thresholds=ports.thresholds,
    )
    if ports.analyst is None:
        return replace(rules, fallback_reason=FallbackReason.NO_KEY)
    request = AnalysisRequest(language, job.kind, portfolio_figures(portfolio, valuation), rules)
    try:
        return ports.analyst.analyse(request)
    except AnalystFailed as exc:
        log.warning("the AI analyst did not answer (%s): the rule-based report stands", exc)
        return replace(rules, fallback_reason=exc.reason)


def run_analysis(ports: AnalysisPorts, *, job_id: str, event_id: str) -> dict[str, Any]:
    """Consume one `AnalysisRequested`: claim the job, analyse, write the result, then one
    audit entry and one `AnalysisCompleted` (or `AnalysisFailed`). A job already claimed or
    finished (a redelivered event) is skipped."""
    now = ports.clock.now()
    try:
        job = ports.jobs.claim(job_id, event_id, now)
    except NotFoundError:
        return {"job": job_id, "skipped": "no such job (expired?)"}
    if job is None:
        return {"job": job_id, "skipped": "already claimed or finished"}
    report: AnalysisReport | None = None
    error = ""
    try:
        report = analyse_portfolio(ports, job)
    except NotFoundError:
        error = "the portfolio no longer exists"
    except DomainError as exc:
        log.warning("analysis %s failed: %s", job_id, exc)
        error = f"the analysis could not be made ({exc.code})"
    done = ports.clock.now()
    if report is not None:
        try:
            written = ports.jobs.finish(job_id, event_id, done, report=report.to_json())
        except PayloadTooLarge:
            report, error = None, "the report is too large to keep"
    if report is not None:
        event: AnalysisCompleted | AnalysisFailed = AnalysisCompleted(
            user_id=job.user_id,
            portfolio_id=job.portfolio_id,
            occurred_at=done,
            job_id=job_id,
            analyst=report.analyst,
            fallback_reason=None if report.fallback_reason is None else report.fallback_reason,
        )
    else:
        written = ports.jobs.finish(job_id, event_id, done, error=error)
        event = AnalysisFailed(
            user_id=job.user_id,
            portfolio_id=job.portfolio_id,
            occurred_at=done,
            job_id=job_id,
            reason=error,
        )
    if not written:  # another consumer took over after our lease ran out
        return {"job": job_id, "skipped": "the claim was lost"}
    ports.audit.record([audit_entry(event, RequestContext(user_agent="portfoliowise analysis"))])
    try:
        ports.events.publish([event])
    except SourceUnavailable:  # the result is kept; only the announcement is lost
        log.exception("%s of job %s was kept but not published", event.name, job_id)
    outcome: dict[str, Any] = {"job": job_id, "status": event.action}
    if report is not None:
        outcome["analyst"] = report.analyst
        outcome["fallbackReason"] = report.fallback_reason
    return outcome


def on_analysis_requested(ports: AnalysisPorts, event: Mapping[str, Any]) -> dict[str, Any]:
    """The consumer of an `AnalysisRequested` detail (`{eventId, jobId, ...}`)."""
    job_id, event_id = event.get("jobId"), event.get("eventId")
    if not isinstance(job_id, str) or not job_id or not isinstance(event_id, str):
        raise ValidationError("an AnalysisRequested event needs jobId and eventId")
    return run_analysis(ports, job_id=job_id, event_id=event_id)
