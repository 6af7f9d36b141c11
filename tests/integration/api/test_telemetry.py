"""The Lambda functions print their custom metrics in Embedded Metric Format on stdout,
where CloudWatch turns them into the metrics the alarms and dashboards read."""

from __future__ import annotations

import json
from typing import Any

import pytest
from api_harness import NOW, LambdaContext, fake_container, make_event
from dependency_injector import providers

from portfoliowise.adapters.clock import FixedClock


def _emf(out: str, dimensions: tuple[str, ...] = ("service",)) -> dict[str, Any]:
    """Metric name -> value, from the EMF documents printed with `dimensions` (the
    function's document: `service` only; per route: `route`, `service`; ...)."""
    found: dict[str, Any] = {}
    for line in out.splitlines():
        if not line.startswith("{"):
            continue
        document = json.loads(line)
        if "_aws" not in document:
            continue
        [directive] = document["_aws"]["CloudWatchMetrics"]
        assert directive["Namespace"] == "PortfolioWise"
        assert document["service"].startswith("portfoliowise-")
        if sorted(directive["Dimensions"][0]) != sorted(dimensions):
            continue
        for metric in directive["Metrics"]:
            value = document[metric["Name"]]  # a number, or a list of the values added
            found[metric["Name"]] = sum(value) if isinstance(value, list) else value
    return found


def test_the_market_function_counts_requests_and_cache_lookups(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from portfoliowise.handlers.lambdas import market as function

    fakes = fake_container(FixedClock(NOW))
    with function.container.market.override(providers.Object(fakes.market())):
        answer = function.handler(make_event("market_quotes.json"), LambdaContext())
    assert answer["statusCode"] == 200
    metrics = _emf(capsys.readouterr().out)
    assert metrics["ApiRequests"] == 1.0
    symbols = json.loads(answer["body"])
    looked_up = metrics["CacheHits"] + metrics["CacheMisses"]
    assert looked_up == len(symbols.get("quotes", symbols))
    assert metrics["SourceFailures"] == 0.0


def test_the_auth_function_counts_a_refused_session(capsys: pytest.CaptureFixture[str]) -> None:
    from portfoliowise.handlers.lambdas import auth as function

    answer = function.handler(make_event("auth_session.json", user=None), LambdaContext())
    assert answer["statusCode"] == 401
    out = capsys.readouterr().out
    metrics = _emf(out)
    assert metrics.pop("MemoryUsedPercent") > 0
    assert metrics == {"ApiRequests": 1.0, "AuthFailures": 1.0}
    per_route = _emf(out, ("route", "service"))
    assert per_route["ApiErrors"] == 0.0
    assert per_route["ApiLatency"] > 0
    assert _emf(out, ("service", "tier")) == {"ApiRequests": 1.0}  # anonymous: refused
