"""Custom metrics in Embedded Metric Format (namespace `PortfolioWise`, dimension
`service` = `POWERTOOLS_SERVICE_NAME`, which the stack sets to `portfoliowise-<function>`):
what the alarms and dashboards of `infra/cdk/components/monitoring.py` read. The names and
their dimensions live in `portfoliowise.handlers.metric_names`, which the CDK app reads too.

`Telemetry` is one function's metrics. The function's `Metrics` (one document per
invocation, flushed by `@metrics.log_metrics`) carries the `service`-only metrics; the
metrics with a second dimension (route, tier, source, job, analyst) go out as documents of
their own (Powertools' `EphemeralMetrics`: one dimension set per document).

- every API request (`api_request`): `ApiRequests`; per route `ApiLatency` and `ApiErrors`
  (5xx; the 4xx are API Gateway's `4XXError`); per tier `ApiRequests`;
- every invocation (`memory`): `MemoryUsedPercent`, the process's peak RSS against the
  function's memory size (what Lambda's `Max Memory Used` measures);
- market: `CacheHits`, `CacheMisses`, `SourceFailures`, `QuotesStale`, `QuotesUnavailable`
  from the market service's counters as changed by one invocation, and per source
  `SourceCalls`, `SourceFailures`, `SourceLatency`; the portfolio function the two quote
  counts of its cache-only market;
- auth: `SignIns` (a session opened, reported by the use case through `EmfMeasurements`)
  and `AuthFailures` (a sign-in or session refused);
- portfolio: `PortfolioWrites`, and `PortfolioValueJPY` (reported by the valuation use case);
- scheduled: per job `JobRuns`, `JobFailures`, `JobDuration`;
- analysis: per analyst and outcome `AnalysisRuns`;
- auth and portfolio: one count per signal the use cases emit (`MetricSignals`), named by
  its kind (`SignUps`, `LargePortfolioChanges`, `UnusualActivity`): the info alarms.

A metric never fails the request that caused it."""

from __future__ import annotations

import logging
import resource
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Protocol

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit

from portfoliowise.domain.money import Money
from portfoliowise.domain.signals import Signal, Signals
from portfoliowise.handlers import metric_names as names

NAMESPACE = names.NAMESPACE
log = logging.getLogger(__name__)
_STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class Resolver(Protocol):
    def resolve(self, event: Mapping[str, Any], context: Any) -> dict[str, Any]: ...

    @property
    def caller(self) -> str | None: ...


def peak_rss_mb() -> float:
    """The process's peak resident set size in MB (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


class Telemetry:
    """One function's metrics (see the module docstring)."""

    def __init__(self, function: str, service: str = "") -> None:
        self.function = function
        self.service = service or names.service(function)
        self.metrics = Metrics(namespace=NAMESPACE, service=self.service)

    # -- documents with a second dimension ---------------------------------------------

    @contextmanager
    def _group(self, **dimensions: str) -> Iterator[EphemeralMetrics]:
        group = EphemeralMetrics(namespace=NAMESPACE, service=self.service)
        for name, value in dimensions.items():
            group.add_dimension(name=name, value=value or "none")
        yield group
        group.flush_metrics()

    def _count(self, name: str, value: float = 1) -> None:
        self.metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)

    # -- API requests ------------------------------------------------------------------

    def api_request(self, app: Resolver, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        """Resolve `event` with `app` and measure it."""
        start = time.perf_counter()
        response = app.resolve(event, context)
        millis = (time.perf_counter() - start) * 1000
        self._safely(self._request, event, response, millis, app.caller)
        return response

    def _request(
        self,
        event: Mapping[str, Any],
        response: Mapping[str, Any],
        millis: float,
        caller: str | None,
    ) -> None:
        status = int(response.get("statusCode", 0))
        method = str(event.get("httpMethod", "")).upper()
        self._count(names.API_REQUESTS)
        route = f"{method} {event.get('resource') or '(unmatched)'}"
        with self._group(**{names.ROUTE: route}) as group:
            group.add_metric(name=names.API_LATENCY, unit=MetricUnit.Milliseconds, value=millis)
            group.add_metric(name=names.API_ERRORS, unit=MetricUnit.Count, value=status >= 500)
        # Every user is on the free plan (imported here: the web app's use cases load only
        # in the functions that serve them).
        from portfoliowise.application.web_app import FREE_PLAN

        tier = FREE_PLAN if caller else names.ANONYMOUS_TIER
        with self._group(**{names.TIER: tier}) as group:
            group.add_metric(name=names.API_REQUESTS, unit=MetricUnit.Count, value=1)

    def auth_failure(self, event: Mapping[str, Any], response: Mapping[str, Any]) -> None:
        """`AuthFailures` (the auth function): a sign-in or session refused."""
        status = int(response.get("statusCode", 0))
        if str(event.get("path", "")).startswith("/auth/") and status in (401, 403, 429):
            self._safely(self._count, names.AUTH_FAILURES)

    def portfolio_write(self, event: Mapping[str, Any], response: Mapping[str, Any]) -> None:
        """`PortfolioWrites` (the portfolio function): a successful write."""
        status = int(response.get("statusCode", 0))
        if event.get("httpMethod") in _STATE_CHANGING and 200 <= status < 300:
            self._safely(self._count, names.PORTFOLIO_WRITES)

    # -- every invocation --------------------------------------------------------------

    def memory(self, context: Any) -> None:
        """`MemoryUsedPercent`: the peak RSS so far against the function's memory size."""
        size = float(getattr(context, "memory_limit_in_mb", 0) or 0)
        if size > 0:
            percent = 100 * peak_rss_mb() / size
            self.metrics.add_metric(
                name=names.MEMORY_USED_PERCENT, unit=MetricUnit.Percent, value=percent
            )

    # -- the market's counters ---------------------------------------------------------

    def quotes(self, before: Mapping[str, int], after: Mapping[str, int]) -> None:
        """Quotes answered stale or with no price during the invocation."""
        self._count(names.QUOTES_STALE, _delta(before, after, "stale_served"))
        self._count(names.QUOTES_UNAVAILABLE, _delta(before, after, "unavailable_served"))

    def market(self, before: Mapping[str, int], after: Mapping[str, int]) -> None:
        """The market service's counters as changed by one invocation."""
        self._count(names.CACHE_HITS, _delta(before, after, "cache_hits"))
        self._count(names.CACHE_MISSES, _delta(before, after, "cache_misses"))
        failures = sum(_delta(before, after, k) for k in after if k.startswith("source_failures."))
        self._count(names.SOURCE_FAILURES, failures)
        self.quotes(before, after)
        sources = sorted(k.partition(".")[2] for k in after if k.startswith("source_calls."))
        for source in sources:
            calls = _delta(before, after, f"source_calls.{source}")
            if calls <= 0:
                continue
            millis = _delta(before, after, f"source_millis.{source}")
            with self._group(**{names.SOURCE: source}) as group:
                group.add_metric(name=names.SOURCE_CALLS, unit=MetricUnit.Count, value=calls)
                failed = _delta(before, after, f"source_failures.{source}")
                group.add_metric(name=names.SOURCE_FAILURES, unit=MetricUnit.Count, value=failed)
                group.add_metric(
                    name=names.SOURCE_LATENCY, unit=MetricUnit.Milliseconds, value=millis / calls
                )

    # -- jobs and analyses -------------------------------------------------------------

    @contextmanager
    def job(self, name: str) -> Iterator[None]:
        """Count a run of job `name`, its time, and whether it raised (which it still does)."""
        start, failed = time.perf_counter(), True
        try:
            yield
            failed = False
        finally:
            millis = (time.perf_counter() - start) * 1000
            self._safely(self._job, name, millis, failed)

    def _job(self, name: str, millis: float, failed: bool) -> None:
        with self._group(**{names.JOB: name}) as group:
            group.add_metric(name=names.JOB_RUNS, unit=MetricUnit.Count, value=1)
            group.add_metric(name=names.JOB_FAILURES, unit=MetricUnit.Count, value=failed)
            group.add_metric(name=names.JOB_DURATION, unit=MetricUnit.Milliseconds, value=millis)

    def analysis(self, outcome: Mapping[str, Any]) -> None:
        """An analysis run's outcome (`run_analysis`): which analyst answered, and the
        fallback reason when the rules answered instead; a skipped delivery is not counted."""
        if "skipped" in outcome:
            return
        if outcome.get("status") == "completed" or "analyst" in outcome:
            analyst = str(outcome.get("analyst") or "none")
            result = str(outcome.get("fallbackReason") or "answered")
        else:
            analyst, result = "none", "failed"
        with self._group(**{names.ANALYST: analyst, names.OUTCOME: result}) as group:
            group.add_metric(name=names.ANALYSIS_RUNS, unit=MetricUnit.Count, value=1)

    def _safely(self, measure: Callable[..., None], *args: Any) -> None:
        try:
            measure(*args)
        except Exception:  # a metric never fails the request that caused it
            log.warning("metrics not recorded", exc_info=True)


def _delta(before: Mapping[str, int], after: Mapping[str, int], key: str) -> int:
    return after.get(key, 0) - before.get(key, 0)


class EmfMeasurements:
    """The use cases' `Measurements` as metrics of the function (flushed with the others)."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    def session_opened(self, provider: str) -> None:
        self._add(names.SIGN_INS, MetricUnit.Count, 1)

    def portfolio_valued(self, total: Money) -> None:
        if total.currency.code == "JPY":
            self._add(names.PORTFOLIO_VALUE_JPY, MetricUnit.NoUnit, float(total.amount))

    def _add(self, name: str, unit: MetricUnit, value: float) -> None:
        try:
            self._metrics.add_metric(name=name, unit=unit, value=value)
        except Exception:  # a metric never fails the request that caused it
            log.warning("metric %s not recorded", name, exc_info=True)


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
