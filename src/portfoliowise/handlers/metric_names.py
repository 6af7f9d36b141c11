"""Every custom metric the code emits, named once: the namespace, the metric names, their
dimensions and which function emits each. The Lambda functions emit them in Embedded Metric
Format (handlers/lambdas/telemetry.py, through Powertools Metrics); the CDK app's alarms and
dashboards (infra/cdk/components/monitoring.py) read these names from here, and
tests/infra/test_metric_wiring.py checks both sides against each other.

Standard library (and the domain) only: the CDK app imports this module without the Lambda
runtime's packages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from portfoliowise.domain.signals import SignalKind

NAMESPACE: Final = "PortfolioWise"
SERVICE_DIMENSION: Final = "service"
"""The one dimension of every metric: the function's POWERTOOLS_SERVICE_NAME, `service(name)`."""


def service(function: str) -> str:
    """The `service` dimension of a function's metrics (`portfoliowise-<function>`)."""
    return f"portfoliowise-{function}"


API_REQUESTS: Final = "ApiRequests"  # every API function: one per request (Count)
CACHE_HITS: Final = "CacheHits"  # market: a quote served from the cache table (Count)
CACHE_MISSES: Final = "CacheMisses"  # market: a quote fetched from a source (Count)
SOURCE_FAILURES: Final = "SourceFailures"  # market: calls to a source that failed (Count)
QUOTES_STALE: Final = "QuotesStale"  # market, portfolio: quotes answered stale (Count)
QUOTES_UNAVAILABLE: Final = "QuotesUnavailable"  # market, portfolio: no price at all (Count)
SIGN_INS: Final = "SignIns"  # auth: a session created by a sign-in (Count) -> active users
AUTH_FAILURES: Final = "AuthFailures"  # auth: a sign-in or session refused (Count)
PORTFOLIO_WRITES: Final = "PortfolioWrites"  # portfolio: a successful write (Count)
PORTFOLIO_VALUE_JPY: Final = "PortfolioValueJPY"  # portfolio: a JPY valuation total served (None)
MEMORY_USED_PERCENT: Final = "MemoryUsedPercent"  # every function: peak RSS / its size (Percent)
# The signals' kinds, counted by the functions that emit them (the info alarms).
SIGN_UPS: Final = SignalKind.SIGN_UP.value  # auth: first sign-in of a new user (Count)
LARGE_PORTFOLIO_CHANGES: Final = SignalKind.LARGE_PORTFOLIO_CHANGE.value  # portfolio (Count)
UNUSUAL_ACTIVITY: Final = SignalKind.UNUSUAL_ACTIVITY.value  # portfolio (Count)

# Per route (dimensions service, route = "<METHOD> <API Gateway resource>"), every API function:
API_LATENCY: Final = "ApiLatency"  # the handler's time for the request (Milliseconds)
API_ERRORS: Final = "ApiErrors"  # 1 for a 5xx answer, else 0 (Count): Sum = errors
# Per usage tier (dimensions service, tier = the caller's plan, or `anonymous`): ApiRequests.
# Per market source (dimensions service, source), market:
SOURCE_CALLS: Final = "SourceCalls"  # calls made to the source (Count); SourceFailures too
SOURCE_LATENCY: Final = "SourceLatency"  # mean time of a call in the invocation (Milliseconds)
# Per job (dimensions service, job), scheduled: the cron jobs and the domain-event consumer.
JOB_RUNS: Final = "JobRuns"  # runs (Count)
JOB_FAILURES: Final = "JobFailures"  # runs that raised (Count)
JOB_DURATION: Final = "JobDuration"  # a run's time (Milliseconds)
# Per outcome (dimensions service, analyst, outcome = `answered` or the fallback reason, or
# `failed`), analysis:
ANALYSIS_RUNS: Final = "AnalysisRuns"  # analyses finished (Count)

ROUTE: Final = "route"
TIER: Final = "tier"
SOURCE: Final = "source"
JOB: Final = "job"
ANALYST: Final = "analyst"
OUTCOME: Final = "outcome"
ANONYMOUS_TIER: Final = "anonymous"

API_FUNCTIONS: Final = ("market", "auth", "portfolio", "analysis")
FUNCTIONS: Final = (*API_FUNCTIONS, "scheduled")


@dataclass(frozen=True, slots=True)
class EmittedMetric:
    """A metric as CloudWatch stores it: name, dimension names, and the function whose
    `service` value it carries. Dimensions other than `service` take values known only at
    run time (a route, a source): dashboards read those through SEARCH expressions."""

    name: str
    function: str
    dimensions: tuple[str, ...] = (SERVICE_DIMENSION,)


def _per(
    dimensions: tuple[str, ...], functions: tuple[str, ...], *metrics: str
) -> tuple[EmittedMetric, ...]:
    return tuple(
        EmittedMetric(metric, function, (SERVICE_DIMENSION, *dimensions))
        for function in functions
        for metric in metrics
    )


CATALOG: Final[tuple[EmittedMetric, ...]] = (
    *(EmittedMetric(API_REQUESTS, function) for function in API_FUNCTIONS),
    *(EmittedMetric(MEMORY_USED_PERCENT, function) for function in FUNCTIONS),
    EmittedMetric(CACHE_HITS, "market"),
    EmittedMetric(CACHE_MISSES, "market"),
    EmittedMetric(SOURCE_FAILURES, "market"),
    *(EmittedMetric(QUOTES_STALE, f) for f in ("market", "portfolio")),
    *(EmittedMetric(QUOTES_UNAVAILABLE, f) for f in ("market", "portfolio")),
    EmittedMetric(SIGN_INS, "auth"),
    EmittedMetric(AUTH_FAILURES, "auth"),
    EmittedMetric(SIGN_UPS, "auth"),
    EmittedMetric(PORTFOLIO_WRITES, "portfolio"),
    EmittedMetric(PORTFOLIO_VALUE_JPY, "portfolio"),
    EmittedMetric(LARGE_PORTFOLIO_CHANGES, "portfolio"),
    EmittedMetric(UNUSUAL_ACTIVITY, "portfolio"),
    *_per((ROUTE,), API_FUNCTIONS, API_LATENCY, API_ERRORS),
    *_per((TIER,), API_FUNCTIONS, API_REQUESTS),
    *_per((SOURCE,), ("market",), SOURCE_CALLS, SOURCE_FAILURES, SOURCE_LATENCY),
    *_per((JOB,), ("scheduled",), JOB_RUNS, JOB_FAILURES, JOB_DURATION),
    *_per((ANALYST, OUTCOME), ("analysis",), ANALYSIS_RUNS),
)
"""Every (metric, function, dimension names) the code emits in `NAMESPACE`."""
