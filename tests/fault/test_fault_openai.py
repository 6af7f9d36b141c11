"""OpenAI timing out or refusing, on the wire (recorded Responses API answers through the
SDK's `httpx2.MockTransport`), driven through the API's asynchronous analysis as `serve`
runs it (in-process bus): the job completes with the rule-based report, which says why
the AI did not answer. (The analyst's own retries and reasons are in
tests/integration/openai/test_openai_analyst.py.)"""

from __future__ import annotations

from typing import Any

import httpx2
import pytest
from api_harness import NOW, call, fake_container
from dependency_injector import providers
from openai_recorded import KEY, Recorder, Sleeps, raises, recorded

from portfoliowise.adapters.clock import FixedClock
from portfoliowise.adapters.events import InProcessBus
from portfoliowise.adapters.memory import InMemoryAnalysisJobs
from portfoliowise.adapters.openai import OpenAIAnalyst
from portfoliowise.handlers import bootstrap
from portfoliowise.handlers.api.app import build_app


def _analysis(recorder: Recorder) -> dict[str, Any]:
    clock = FixedClock(NOW)
    container = fake_container(clock)
    container.events.override(providers.Object(InProcessBus()))
    container.analysis_jobs.override(providers.Object(InMemoryAnalysisJobs(clock)))
    analyst = OpenAIAnalyst(lambda: KEY, http_client=recorder.client(), sleep=Sleeps())
    container.analyst.override(providers.Object(analyst))
    bootstrap.local_analysis(container, background=False)
    app = build_app(container)
    status, _, created = call(app, "create_portfolio.json")
    assert status == 201, created
    pid = created["portfolioId"]
    status, _, job = call(
        app, "create_portfolio.json", path=f"/portfolios/{pid}/analysis", body={"language": "en"}
    )
    assert status == 202, job
    status, _, done = call(app, "get_portfolio.json", path=f"/analysis/{job['jobId']}")
    assert status == 200, done
    assert done["status"] == "done", done
    report: dict[str, Any] = done["result"]
    return report


@pytest.mark.parametrize(
    ("answer", "reason", "calls"),
    [
        (raises(httpx2.ReadTimeout), "timeout", 2),  # one retry, then the rules
        (raises(httpx2.ConnectTimeout), "timeout", 2),
        (recorded("refusal"), "refusal", 1),  # a refusal is not asked again
        (recorded("rate_limited"), "rate_limited", 1),
        (recorded("server_error"), "unavailable", 2),
    ],
    ids=["read-timeout", "connect-timeout", "refusal", "429", "500"],
)
def test_the_analysis_falls_back_to_the_rules_and_says_why(
    answer: Any, reason: str, calls: int
) -> None:
    recorder = Recorder(answer)
    report = _analysis(recorder)
    assert report["analyst"] == "rules"
    assert report["fallbackReason"] == reason
    assert report["summary"]  # the rule-based report is a whole answer
    assert {r["rule"] for r in report["rules"]} >= {"largest_holding"}
    assert recorder.calls == calls


def test_a_valid_answer_is_the_ais_report() -> None:
    report = _analysis(Recorder(recorded("answer_en_unknown_rule")))
    assert report["analyst"] == "openai"
    assert report.get("fallbackReason") is None
