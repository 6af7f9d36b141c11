"""The analysis flow through the API with the in-process bus, as `serve` runs it: 202 and a
job, the consumer runs it once, the owner reads the report; the rule-based analyst always
answers, the AI's failures fall back to it and say why."""

from __future__ import annotations

from typing import Any

import pytest
from api_harness import NOW, assert_error_shape, call
from dependency_injector import providers

from portfoliowise.adapters.clock import FixedClock
from portfoliowise.adapters.events import InProcessBus
from portfoliowise.adapters.memory import InMemoryAnalysisJobs, ScriptedAnalyst
from portfoliowise.application.analysis import run_analysis
from portfoliowise.domain.analysis import AnalystFailed, FallbackReason
from portfoliowise.handlers import bootstrap
from portfoliowise.handlers.api.app import build_app
from portfoliowise.handlers.container import Container

PID = "p-0001"


@pytest.fixture
def bus(container: Container) -> InProcessBus:
    bus = InProcessBus()
    container.events.override(providers.Object(bus))
    container.analysis_jobs.override(providers.Object(InMemoryAnalysisJobs(container.clock())))
    bootstrap.local_analysis(container, background=False)
    return bus


def _ask(app: Any, body: dict[str, Any] | None = None, user: str = "userA") -> Any:
    return call(
        app,
        "create_portfolio.json",
        path=f"/portfolios/{PID}/analysis",
        body=body if body is not None else {"language": "en"},
        user=user,
    )


def _app(container: Container) -> Any:
    app = build_app(container)
    status, _, _ = call(app, "create_portfolio.json")
    assert status == 201
    return app


def test_asking_gives_202_and_a_job_whose_report_the_owner_reads(
    container: Container, bus: InProcessBus
) -> None:
    app = _app(container)
    status, headers, job = _ask(app)
    assert status == 202, job
    assert headers["Location"] == f"/analysis/{job['jobId']}"
    assert job["status"] == "pending"
    status, _, done = call(app, "get_portfolio.json", path=f"/analysis/{job['jobId']}")
    assert status == 200, done
    assert done["status"] == "done"
    report = done["result"]
    assert report["analyst"] == "rules"
    assert report["fallbackReason"] == "no_key"
    assert report["language"] == "en"
    assert {r["rule"] for r in report["rules"]} >= {"largest_holding", "volatility"}
    assert report["summary"]
    names = [e.name for e in bus.published]
    assert names.count("AnalysisRequested") == 1
    assert names.count("AnalysisCompleted") == 1
    # the trail of the portfolio shows the analysis
    status, _, trail = call(app, "get_portfolio.json", path=f"/portfolios/{PID}/audit")
    assert "analysis.completed" in [e["action"] for e in trail["entries"]]


def test_only_the_owner_sees_a_job_and_only_the_owner_may_ask(
    container: Container, bus: InProcessBus
) -> None:
    app = _app(container)
    _, _, job = _ask(app)
    status, _, body = call(
        app, "get_portfolio.json", path=f"/analysis/{job['jobId']}", user="userB"
    )
    assert status == 404
    assert_error_shape(status, body)
    assert _ask(app, user="userB")[0] == 404
    assert call(app, "get_portfolio.json", path="/analysis/nope")[0] == 404
    assert _ask(app, user=None)[0] == 401  # type: ignore[arg-type]


@pytest.mark.parametrize("body", [{"language": "fr"}, {"kind": "tax"}, {"extra": 1}])
def test_a_bad_request_is_400(container: Container, bus: InProcessBus, body: Any) -> None:
    app = _app(container)
    status, _, answer = _ask(app, body)
    assert status == 400, answer
    assert_error_shape(status, answer)


def test_the_ai_answers_when_it_can_and_the_rules_when_it_cannot(
    container: Container, bus: InProcessBus
) -> None:
    scripted = ScriptedAnalyst(
        ["AI summary", AnalystFailed(FallbackReason.RATE_LIMITED, "429")], model="test-model"
    )
    container.analyst.override(providers.Object(scripted))
    app = _app(container)
    first = call(app, "get_portfolio.json", path=f"/analysis/{_ask(app)[2]['jobId']}")[2]
    assert (first["result"]["analyst"], first["result"]["summary"]) == ("openai", "AI summary")
    assert first["result"]["model"] == "test-model"
    second = call(app, "get_portfolio.json", path=f"/analysis/{_ask(app)[2]['jobId']}")[2]
    assert second["result"]["analyst"] == "rules"
    assert second["result"]["fallbackReason"] == "rate_limited"
    # the AI was never given the user's id, e-mail, the portfolio's id or name
    for request in scripted.requests:
        text = repr(request.figures)
        assert "userA" not in text
        assert PID not in text
        assert "老後資金" not in text


def test_an_event_delivered_twice_runs_one_analysis(
    container: Container, bus: InProcessBus, clock: FixedClock
) -> None:
    app = _app(container)
    job = _ask(app)[2]
    requested = next(e for e in bus.published if e.name == "AnalysisRequested")
    again = run_analysis(
        container.analysis_ports(), job_id=job["jobId"], event_id=requested.event_id
    )
    assert again["skipped"]
    names = [e.name for e in bus.published]
    assert names.count("AnalysisCompleted") == 1
    _, _, trail = call(app, "get_portfolio.json", path=f"/portfolios/{PID}/audit")
    assert [e["action"] for e in trail["entries"]].count("analysis.completed") == 1
    assert clock.now() >= NOW
