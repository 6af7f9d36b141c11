"""Custom metrics in Embedded Metric Format (namespace `PortfolioWise`, dimension
`service` = `POWERTOOLS_SERVICE_NAME`, which the stack sets to `portfoliowise-<function>`):
what the alarms and dashboards of `infra/cdk/components/monitoring.py` read.

- every API function: `ApiRequests`, one per request;
- market: `CacheHits`, `CacheMisses` (the "cache miss > 50 %" alarm) and `SourceFailures`,
  from the market service's counters, as the change during one invocation;
- auth: `SignIns` (a session opened) and `AuthFailures` (a sign-in or session refused);
- portfolio: `PortfolioWrites` (a successful create, update, import or delete);
- portfolio: `PortfolioValueJPY`, the total of each JPY valuation served (the business
  dashboard);
- auth and portfolio: one count per signal the use cases emit (`MetricSignals`), named by
  its kind (`SignUps`, `LargePortfolioChanges`, `UnusualActivity`): the info alarms.

The names live in `portfoliowise.handlers.metric_names`, which the CDK app reads too."""

from __future__ import annotations

import base64
import gzip
import json
import logging
import re
from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit

from portfoliowise.domain.signals import Signal, Signals
from portfoliowise.handlers import metric_names as names

NAMESPACE = names.NAMESPACE
log = logging.getLogger(__name__)
_STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_VALUATION_PATH = re.compile(r"/portfolios/[^/]+/valuation")


def metrics(function: str, service: str = "") -> Metrics:
    """The function's metrics, dimension `service` = `portfoliowise-<function>` (or the
    `POWERTOOLS_SERVICE_NAME` the stack sets, which is the same: `Settings.service_name`)."""
    return Metrics(namespace=NAMESPACE, service=service or names.service(function))


def count_request(metrics: Metrics, event: Mapping[str, Any], response: Mapping[str, Any]) -> None:
    """`ApiRequests` for every API request."""
    if "httpMethod" in event:
        metrics.add_metric(name=names.API_REQUESTS, unit=MetricUnit.Count, value=1)


def count_sign_in(metrics: Metrics, event: Mapping[str, Any], response: Mapping[str, Any]) -> None:
    path, status = str(event.get("path", "")), int(response.get("statusCode", 0))
    if path in ("/auth/google", "/auth/dev-login") and status == 200:
        metrics.add_metric(name=names.SIGN_INS, unit=MetricUnit.Count, value=1)
    elif path.startswith("/auth/") and status in (401, 403, 429):
        metrics.add_metric(name=names.AUTH_FAILURES, unit=MetricUnit.Count, value=1)


def count_portfolio_write(
    metrics: Metrics, event: Mapping[str, Any], response: Mapping[str, Any]
) -> None:
    status = int(response.get("statusCode", 0))
    if event.get("httpMethod") in _STATE_CHANGING and 200 <= status < 300:
        metrics.add_metric(name=names.PORTFOLIO_WRITES, unit=MetricUnit.Count, value=1)


def count_portfolio_value(
    metrics: Metrics, event: Mapping[str, Any], response: Mapping[str, Any]
) -> None:
    """`PortfolioValueJPY`: the total of a valuation served in JPY (`GET
    /portfolios/{id}/valuation`, 200); a valuation in another currency is not counted.
    Never fails the request."""
    path, status = str(event.get("path", "")), int(response.get("statusCode", 0))
    if event.get("httpMethod") != "GET" or status != 200 or not _VALUATION_PATH.fullmatch(path):
        return
    try:
        body = json.loads(_body_text(response))
        total = body.get("total") or {}
        if body.get("currency") == "JPY" and total.get("currency") == "JPY":
            value = float(total["amount"])
            metrics.add_metric(name=names.PORTFOLIO_VALUE_JPY, unit=MetricUnit.NoUnit, value=value)
    except Exception:  # a metric never fails the request that caused it
        log.warning("portfolio value not counted", exc_info=True)


def _body_text(response: Mapping[str, Any]) -> str:
    """The body as the client reads it: base64 decoded, gunzipped when compressed."""
    raw = response.get("body") or ""
    if not response.get("isBase64Encoded"):
        return str(raw)
    data = base64.b64decode(raw)
    headers = {str(k).lower(): v for k, v in (response.get("headers") or {}).items()}
    encodings = response.get("multiValueHeaders") or {}
    gzipped = headers.get("content-encoding") == "gzip" or any(
        str(k).lower() == "content-encoding" and "gzip" in v for k, v in encodings.items()
    )
    return (gzip.decompress(data) if gzipped else data).decode("utf-8")


def count_market(metrics: Metrics, before: Mapping[str, int], after: Mapping[str, int]) -> None:
    """The market service's counters as changed by one invocation."""

    def delta(key: str) -> int:
        return after.get(key, 0) - before.get(key, 0)

    metrics.add_metric(name=names.CACHE_HITS, unit=MetricUnit.Count, value=delta("cache_hits"))
    metrics.add_metric(name=names.CACHE_MISSES, unit=MetricUnit.Count, value=delta("cache_misses"))
    failures = sum(delta(k) for k in after if k.startswith("source_failures."))
    metrics.add_metric(name=names.SOURCE_FAILURES, unit=MetricUnit.Count, value=failures)


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
