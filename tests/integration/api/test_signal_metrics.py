"""Each signal the auth and portfolio functions emit is counted in their metrics (EMF,
flushed by the handler's `@metrics.log_metrics`) under its kind, the name the info alarms
watch, and still reaches the real `Signals` (the topic, or a log line).

Here a stand-in resolver emits the signals, to check `MetricSignals` in the functions;
tests/infra/test_metric_wiring.py drives the real use cases that emit them."""

from __future__ import annotations

import importlib
import json
import logging
from datetime import UTC, datetime
from typing import Any

import pytest
from api_harness import LambdaContext, make_event
from aws_lambda_powertools import Metrics

from portfoliowise.adapters.notify import LoggedSignals
from portfoliowise.domain.signals import Signal, SignalKind, subject_of
from portfoliowise.handlers.lambdas.telemetry import MetricSignals

AT = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)


def _emf(out: str) -> dict[str, Any]:
    """Metric name -> value, from the EMF documents printed (with their `service`)."""
    found: dict[str, Any] = {}
    for line in out.splitlines():
        if not line.startswith("{"):
            continue
        document = json.loads(line)
        if "_aws" not in document:
            continue
        [directive] = document["_aws"]["CloudWatchMetrics"]
        for metric in directive["Metrics"]:
            value = document[metric["Name"]]
            found[metric["Name"]] = sum(value) if isinstance(value, list) else value
        found["service"] = document["service"]
    return found


def _json_lines(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


class Recorded:
    def __init__(self) -> None:
        self.emitted: list[Signal] = []

    def emit(self, signal: Signal) -> None:
        self.emitted.append(signal)


@pytest.mark.parametrize(
    ("name", "kinds"),
    [
        ("auth", [SignalKind.SIGN_UP]),
        ("portfolio", [SignalKind.LARGE_PORTFOLIO_CHANGE, SignalKind.UNUSUAL_ACTIVITY]),
    ],
)
def test_a_signal_emitted_during_a_request_is_counted_and_flushed(
    name: str,
    kinds: list[SignalKind],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    function = importlib.import_module(f"portfoliowise.handlers.lambdas.{name}")
    signals = function.container.signals()
    assert isinstance(signals, MetricSignals)

    def resolve(event: Any, context: Any) -> dict[str, Any]:
        # what a use case does (it is handed `container.signals()`)
        for kind in kinds:
            function.container.signals().emit(Signal(kind, subject_of("userA"), AT))
        return {"statusCode": 200, "headers": {}, "body": "{}"}

    monkeypatch.setattr(function.app, "resolve", resolve)
    capsys.readouterr()
    with caplog.at_level(logging.INFO, logger="portfoliowise.signals"):
        function.handler(make_event("auth_session.json"), LambdaContext())

    out = capsys.readouterr().out
    metrics = _emf(out)
    assert metrics["service"] == f"portfoliowise-{name}"
    for kind in kinds:
        assert metrics[kind.value] == 1.0
    # No topic configured in tests: the real Signals is the log line, printed by the
    # function's JSON logger with the signal as a key (or, when an earlier test changed the
    # `portfoliowise` logger's configuration, only captured by pytest).
    printed = [line for line in _json_lines(out) if "signal" in line and "_aws" not in line]
    captured = [r for r in caplog.records if r.name == "portfoliowise.signals"]
    logged = [line["signal"] for line in printed] or [r.signal for r in captured]  # type: ignore[attr-defined]
    assert [document["kind"] for document in logged] == [k.value for k in kinds]


def test_metric_signals_count_then_publish() -> None:
    metrics = Metrics(namespace="PortfolioWise", service="portfoliowise-test")
    inner = Recorded()
    signal = Signal(SignalKind.UNUSUAL_ACTIVITY, subject_of("u"), AT)

    MetricSignals(inner, metrics).emit(signal)

    assert inner.emitted == [signal]
    document: dict[str, Any] = dict(metrics.serialize_metric_set())
    assert document["UnusualActivity"] == [1.0]
    [directive] = document["_aws"]["CloudWatchMetrics"]
    assert directive["Metrics"] == [{"Name": "UnusualActivity", "Unit": "Count"}]
    metrics.clear_metrics()


def test_metric_signals_publish_even_when_counting_fails(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Broken(Metrics):
        def add_metric(self, *args: Any, **kwargs: Any) -> None:
            raise RuntimeError("metric set full")

    inner = Recorded()
    signal = Signal(SignalKind.SIGN_UP, subject_of("u"), AT)
    MetricSignals(inner, Broken(namespace="PortfolioWise", service="x")).emit(signal)
    assert inner.emitted == [signal]
    assert any("not counted" in r.getMessage() for r in caplog.records)


def test_the_wrapped_signals_are_the_containers_own() -> None:
    from portfoliowise.handlers.lambdas import auth

    signals = auth.container.signals()
    assert isinstance(signals._inner, LoggedSignals)  # no INFO_TOPIC_ARN in tests
