"""Every metric an alarm or a dashboard widget reads in our namespace is emitted by the code,
and every metric the code emits is on a dashboard.

The synthesized stack's alarms and dashboard bodies give (namespace, name, dimensions); the
Lambda handlers, driven in-process with recorded API Gateway events (adapters replaced by the
API tests' fakes), print Embedded Metric Format documents on stdout, whose
`_aws.CloudWatchMetrics` blocks give what CloudWatch will store. AWS namespaces (`AWS/...`)
are the services' own metrics; the memory metrics in our namespace come from the stack's log
metric filters (Lambda's REPORT lines), not from the code, and are checked against them."""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from compute_harness import Synth, synth
from dependency_injector import providers

# The API tests' harness: recorded events and in-memory fakes.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration" / "api"))

from api_harness import NOW, LambdaContext, fake_container, make_event, quotes_table

from portfoliowise.adapters.clock import FixedClock
from portfoliowise.adapters.memory import InMemoryQuoteCache
from portfoliowise.domain.signals import Signal, SignalKind, subject_of
from portfoliowise.handlers import metric_names as names

# (namespace, metric name, ((dimension, value), ...)) as CloudWatch stores a metric.
Key = tuple[str, str, tuple[tuple[str, str], ...]]


# -- what the stack reads --------------------------------------------------------------------


def _flatten(value: Any) -> str:
    """A dashboard body (`Fn::Join` of strings and tokens) as text; tokens become `TOKEN`."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return str(separator).join(_flatten(part) for part in parts)
    return "TOKEN"


def _dimensions(pairs: list[Any]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((str(p["Name"]), _flatten(p["Value"])) for p in pairs))


def _alarm_metrics(result: Synth) -> dict[Key, list[str]]:
    read: dict[Key, list[str]] = {}
    for alarm in result.resources("AWS::CloudWatch::Alarm").values():
        props = alarm["Properties"]
        where = f"alarm {props['AlarmDescription']}"
        stats = (
            [props]
            if "MetricName" in props
            else [q["MetricStat"]["Metric"] for q in props["Metrics"] if "MetricStat" in q]
        )
        for stat in stats:
            key = (stat["Namespace"], stat["MetricName"], _dimensions(stat.get("Dimensions", [])))
            read.setdefault(key, []).append(where)
    return read


def _widget_metrics(result: Synth) -> dict[Key, list[str]]:
    read: dict[Key, list[str]] = {}
    for dashboard in result.resources("AWS::CloudWatch::Dashboard").values():
        body = json.loads(_flatten(dashboard["Properties"]["DashboardBody"]))
        for widget in body["widgets"]:
            where = f"widget {widget['properties'].get('title')}"
            previous: list[Any] = []
            for row in widget["properties"].get("metrics", []):
                fields = [f for f in row if not isinstance(f, dict)]
                if not fields:  # a math expression: its inputs are rows of their own
                    continue
                fields = [
                    previous[i] if f == "." and i < len(previous) else f
                    for i, f in enumerate(fields)
                ]
                previous = fields
                namespace, name, *rest = fields
                dimensions = tuple(sorted(zip(rest[::2], rest[1::2], strict=True)))
                read.setdefault((namespace, name, dimensions), []).append(where)
    return read


# -- what the code emits ---------------------------------------------------------------------


def _emitted(out: str) -> dict[Key, str]:
    """Every metric of the EMF documents printed, with its value's type."""
    found: dict[Key, str] = {}
    for line in out.splitlines():
        if not line.startswith("{"):
            continue
        document = json.loads(line)
        if "_aws" not in document:
            continue
        for directive in document["_aws"]["CloudWatchMetrics"]:
            for dimension_set in directive["Dimensions"]:
                dimensions = tuple(sorted((d, str(document[d])) for d in dimension_set))
                for metric in directive["Metrics"]:
                    key = (directive["Namespace"], metric["Name"], dimensions)
                    found[key] = metric.get("Unit", "")
    return found


def _lambda(name: str) -> Any:
    return importlib.import_module(f"portfoliowise.handlers.lambdas.{name}")


@pytest.fixture
def fakes_of() -> Iterator[Callable[[Any, list[str]], None]]:
    """Override a function module's providers by the API tests' fakes."""
    with ExitStack() as stack:

        def override(function: Any, providers_: list[str]) -> None:
            fakes = fake_container(FixedClock(NOW))
            for provider_name in providers_:
                provider = getattr(function.container, provider_name)
                fake = providers.Object(getattr(fakes, provider_name)())
                stack.enter_context(provider.override(fake))

        yield override


def _stand_in(function: Any, monkeypatch: pytest.MonkeyPatch, kinds: list[SignalKind]) -> None:
    """The function's resolver replaced by one doing what its use cases do on success: emit
    `kinds` through the function's `signals` (the counting one) and answer 200."""

    def resolve(event: Any, context: Any) -> dict[str, Any]:
        for kind in kinds:
            function.container.signals().emit(
                Signal(kind, subject_of("userA"), datetime(2026, 11, 28, tzinfo=UTC))
            )
        return {"statusCode": 200, "headers": {}, "body": "{}"}

    monkeypatch.setattr(function.app, "resolve", resolve)


@pytest.fixture
def emitted(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    fakes_of: Callable[[Any, list[str]], None],
) -> dict[Key, str]:
    """Everything the functions emit along the code paths below."""
    capsys.readouterr()
    context = LambdaContext()

    market = _lambda("market")
    fakes_of(market, ["market"])
    assert market.handler(make_event("market_quotes.json"), context)["statusCode"] == 200

    portfolio = _lambda("portfolio")
    quote_cache = InMemoryQuoteCache(FixedClock(NOW))
    quote_cache.put_many(list(quotes_table().values()), NOW + timedelta(hours=1))
    fakes_of(portfolio, ["settings", "clock", "ids", "audit_log", "portfolios", "events"])
    fakes_of(portfolio, ["authenticator"])
    with portfolio.container.quote_cache.override(providers.Object(quote_cache)):
        portfolio.container.cached_market.reset()
        created = portfolio.handler(make_event("create_portfolio.json"), context)
        assert created["statusCode"] == 201
        path = f"/portfolios/{json.loads(created['body'])['portfolioId']}/valuation"
        valued = portfolio.handler(make_event("get_portfolio.json", path=path), context)
        assert valued["statusCode"] == 200
        assert json.loads(valued["body"])["currency"] == "JPY"
    portfolio.container.cached_market.reset()

    auth = _lambda("auth")
    refused = auth.handler(make_event("auth_session.json", user=None), context)
    assert refused["statusCode"] == 401

    analysis = _lambda("analysis")
    analysis.handler(make_event("get_portfolio.json", path="/portfolios/p1/analysis"), context)

    with monkeypatch.context() as patch:
        _stand_in(auth, patch, [SignalKind.SIGN_UP])
        auth.handler(make_event("auth_dev_login.json", user=None), context)  # a sign-in
    with monkeypatch.context() as patch:
        _stand_in(
            portfolio, patch, [SignalKind.LARGE_PORTFOLIO_CHANGE, SignalKind.UNUSUAL_ACTIVITY]
        )
        portfolio.handler(make_event("auth_session.json"), context)
    return _emitted(capsys.readouterr().out)


# -- the wiring ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def stack() -> Synth:
    return synth()


def _ours(read: dict[Key, list[str]]) -> dict[Key, list[str]]:
    return {key: where for key, where in read.items() if key[0] == names.NAMESPACE}


def _filtered(result: Synth) -> set[Key]:
    """Our-namespace metrics the stack's log metric filters extract (no dimension)."""
    return {
        (t["MetricNamespace"], t["MetricName"], ())
        for f in result.resources("AWS::Logs::MetricFilter").values()
        for t in f["Properties"]["MetricTransformations"]
    }


def test_every_alarm_and_widget_reads_a_metric_the_code_emits(
    stack: Synth, emitted: dict[Key, str]
) -> None:
    read = _ours(_alarm_metrics(stack)) | _ours(_widget_metrics(stack))
    assert read, "no alarm or widget reads our namespace"
    unwired = {
        key: where
        for key, where in read.items()
        if key not in emitted and key not in _filtered(stack)
    }
    assert unwired == {}


def test_every_metric_the_code_emits_is_on_a_dashboard(
    stack: Synth, emitted: dict[Key, str]
) -> None:
    on_dashboards = set(_widget_metrics(stack))
    catalog = {
        (names.NAMESPACE, m.name, ((names.SERVICE_DIMENSION, names.service(m.function)),))
        for m in names.CATALOG
    }
    assert set(emitted) <= catalog, "a metric emitted is not in the catalog"
    assert catalog <= set(emitted), "a metric of the catalog was not driven"
    assert sorted(catalog - on_dashboards) == []


def test_every_memory_metric_is_extracted_and_shown(stack: Synth) -> None:
    memory = {(names.NAMESPACE, names.max_memory_used(f), ()) for f in stack.compute.functions}
    assert memory <= _filtered(stack)
    assert memory <= set(_widget_metrics(stack))
    assert memory <= set(_alarm_metrics(stack))


def test_the_portfolio_value_is_the_jpy_total_served(
    capsys: pytest.CaptureFixture[str], fakes_of: Callable[[Any, list[str]], None]
) -> None:
    portfolio = _lambda("portfolio")
    quote_cache = InMemoryQuoteCache(FixedClock(NOW))
    quote_cache.put_many(list(quotes_table().values()), NOW + timedelta(hours=1))
    fakes_of(portfolio, ["settings", "clock", "ids", "audit_log", "portfolios", "events"])
    fakes_of(portfolio, ["authenticator"])
    with portfolio.container.quote_cache.override(providers.Object(quote_cache)):
        portfolio.container.cached_market.reset()
        created = portfolio.handler(make_event("create_portfolio.json"), LambdaContext())
        path = f"/portfolios/{json.loads(created['body'])['portfolioId']}/valuation"
        capsys.readouterr()
        valued = portfolio.handler(make_event("get_portfolio.json", path=path), LambdaContext())
    portfolio.container.cached_market.reset()
    total = json.loads(valued["body"])["total"]
    documents = [
        json.loads(line) for line in capsys.readouterr().out.splitlines() if "_aws" in line
    ]
    values = [d[names.PORTFOLIO_VALUE_JPY] for d in documents if names.PORTFOLIO_VALUE_JPY in d]
    assert values in ([float(total["amount"])], [[float(total["amount"])]])
    assert total["currency"] == "JPY"
