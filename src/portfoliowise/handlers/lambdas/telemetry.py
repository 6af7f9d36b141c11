"""Custom metrics in Embedded Metric Format (namespace `PortfolioWise`, dimension
`service` = `POWERTOOLS_SERVICE_NAME`, which the stack sets to `portfoliowise-<function>`):
what the alarms and dashboards of `infra/cdk/components/monitoring.py` read.

- every API function: `ApiRequests`, one per request;
- market: `CacheHits`, `CacheMisses` (the "cache miss > 50 %" alarm) and `SourceFailures`,
  from the market service's counters, as the change during one invocation;
- auth: `SignIns` (a session opened) and `AuthFailures` (a sign-in or session refused);
- portfolio: `PortfolioWrites` (a successful create, update, import or delete);
- auth and portfolio: one count per signal the use cases emit (`MetricSignals`), named by
  its kind (`SignUps`, `LargePortfolioChanges`, `UnusualActivity`): the info alarms."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit

from portfoliowise.domain.signals import Signal, Signals

NAMESPACE = "PortfolioWise"
log = logging.getLogger(__name__)
_STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def metrics(function: str, service: str = "") -> Metrics:
    """The function's metrics, dimension `service` = `portfoliowise-<function>` (or the
    `POWERTOOLS_SERVICE_NAME` the stack sets, which is the same: `Settings.service_name`)."""
    return Metrics(namespace=NAMESPACE, service=service or f"portfoliowise-{function}")


def count_request(metrics: Metrics, event: Mapping[str, Any], response: Mapping[str, Any]) -> None:
    """`ApiRequests` for every API request."""
    if "httpMethod" in event:
        metrics.add_metric(name="ApiRequests", unit=MetricUnit.Count, value=1)


def count_sign_in(metrics: Metrics, event: Mapping[str, Any], response: Mapping[str, Any]) -> None:
    path, status = str(event.get("path", "")), int(response.get("statusCode", 0))
    if path in ("/auth/google", "/auth/dev-login") and status == 200:
        metrics.add_metric(name="SignIns", unit=MetricUnit.Count, value=1)
    elif path.startswith("/auth/") and status in (401, 403, 429):
        metrics.add_metric(name="AuthFailures", unit=MetricUnit.Count, value=1)


def count_portfolio_write(
    metrics: Metrics, event: Mapping[str, Any], response: Mapping[str, Any]
) -> None:
    status = int(response.get("statusCode", 0))
    if event.get("httpMethod") in _STATE_CHANGING and 200 <= status < 300:
        metrics.add_metric(name="PortfolioWrites", unit=MetricUnit.Count, value=1)


def count_market(metrics: Metrics, before: Mapping[str, int], after: Mapping[str, int]) -> None:
    """The market service's counters as changed by one invocation."""

    def delta(key: str) -> int:
        return after.get(key, 0) - before.get(key, 0)

    metrics.add_metric(name="CacheHits", unit=MetricUnit.Count, value=delta("cache_hits"))
    metrics.add_metric(name="CacheMisses", unit=MetricUnit.Count, value=delta("cache_misses"))
    failures = sum(delta(k) for k in after if k.startswith("source_failures."))
    metrics.add_metric(name="SourceFailures", unit=MetricUnit.Count, value=failures)


class MetricSignals:
    """`Signals` that also count: one `Count` metric named by the signal's kind in the
    function's `metrics` (flushed by its handler's `@metrics.log_metrics`), then `inner`
    publishes the signal. Never raises, like every `Signals`."""

    def __init__(self, inner: Signals, metrics: Metrics) -> None:
        self._inner = inner
        self._metrics = metrics

    def emit(self, signal: Signal) -> None:
        try:
            self._metrics.add_metric(name=signal.kind.value, unit=MetricUnit.Count, value=1)
        except Exception:  # a signal never fails the request that caused it
            log.warning("signal %s not counted", signal.kind.value, exc_info=True)
        self._inner.emit(signal)
