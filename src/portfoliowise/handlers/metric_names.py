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
SIGN_INS: Final = "SignIns"  # auth: a session opened (Count) -> active users
AUTH_FAILURES: Final = "AuthFailures"  # auth: a sign-in or session refused (Count)
PORTFOLIO_WRITES: Final = "PortfolioWrites"  # portfolio: a successful write (Count)
PORTFOLIO_VALUE_JPY: Final = "PortfolioValueJPY"  # portfolio: a JPY valuation total served (None)
# The signals' kinds, counted by the functions that emit them (the info alarms).
SIGN_UPS: Final = SignalKind.SIGN_UP.value  # auth: first sign-in of a new user (Count)
LARGE_PORTFOLIO_CHANGES: Final = SignalKind.LARGE_PORTFOLIO_CHANGE.value  # portfolio (Count)
UNUSUAL_ACTIVITY: Final = SignalKind.UNUSUAL_ACTIVITY.value  # portfolio (Count)

API_FUNCTIONS: Final = ("market", "auth", "portfolio", "analysis")


@dataclass(frozen=True, slots=True)
class EmittedMetric:
    """A metric as CloudWatch stores it: name, dimension names, and the function whose
    `service` value it carries."""

    name: str
    function: str
    dimensions: tuple[str, ...] = (SERVICE_DIMENSION,)


CATALOG: Final[tuple[EmittedMetric, ...]] = (
    *(EmittedMetric(API_REQUESTS, function) for function in API_FUNCTIONS),
    EmittedMetric(CACHE_HITS, "market"),
    EmittedMetric(CACHE_MISSES, "market"),
    EmittedMetric(SOURCE_FAILURES, "market"),
    EmittedMetric(SIGN_INS, "auth"),
    EmittedMetric(AUTH_FAILURES, "auth"),
    EmittedMetric(SIGN_UPS, "auth"),
    EmittedMetric(PORTFOLIO_WRITES, "portfolio"),
    EmittedMetric(PORTFOLIO_VALUE_JPY, "portfolio"),
    EmittedMetric(LARGE_PORTFOLIO_CHANGES, "portfolio"),
    EmittedMetric(UNUSUAL_ACTIVITY, "portfolio"),
)
"""Every (metric, function) the code emits in `NAMESPACE`."""


def max_memory_used(function: str) -> str:
    """Not emitted by the code: the metric a log metric filter of the CDK app extracts from
    the `Max Memory Used` of the function's REPORT lines (MB), in `NAMESPACE`, no dimension."""
    return f"MaxMemoryUsedMB-{function}"
