"""The OpenAI analyst against recorded Responses API answers, through the real SDK on an
`httpx2.MockTransport`: what is sent, how each answer and failure maps to a report or an
`AnalystFailed` reason, and how many HTTP round trips each failure makes."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import httpx2
import pytest
from openai_recorded import (
    FIGURES,
    KEY,
    Recorder,
    Sleeps,
    analysis_request,
    analyst_on,
    raises,
    recorded,
    recording,
)

from portfoliowise.adapters.openai import DEFAULT_MODEL, OpenAIAnalyst
from portfoliowise.domain.analysis import (
    OPENAI_ANALYST,
    AnalystFailed,
    FallbackReason,
    Language,
    Suggestion,
)

# What the analysis use case knows and the analyst must never send (AnalysisRequest does
# not carry them; the adapter must not add them either).
USER_ID = "google:109876543210987654321"
EMAIL = "investor@example.com"
PORTFOLIO_NAME = "老後資金"
PERSONAL_KEYS = {"user", "userId", "user_id", "email", "safety_identifier", "portfolioId"}


def failure(analyst: OpenAIAnalyst, language: Language = Language.JA) -> AnalystFailed:
    with pytest.raises(AnalystFailed) as caught:
        analyst.analyse(analysis_request(language))
    return caught.value


def keys_in(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in keys_in(v)}
    if isinstance(value, list):
        return {k for v in value for k in keys_in(v)}
    return set()


# -- a valid answer --------------------------------------------------------------------------


def test_a_valid_answer_is_the_report() -> None:
    recorder = Recorder(recorded("answer_ja"))
    request = analysis_request(Language.JA)

    report = analyst_on(recorder).analyse(request)

    assert recorder.calls == 1
    assert report.analyst == OPENAI_ANALYST
    assert report.model == "gpt-4.1-mini-2025-04-14"  # the model the API says answered
    assert report.language is Language.JA
    assert report.fallback_reason is None
    assert report.summary.startswith("評価額 523 万円のうち 7203 が 38.2% を占め")
    assert len(report.risks) == 3
    assert report.risks[0].startswith("7203 の比率が 38.2% と高く")
    assert report.suggestions == (
        Suggestion(
            "今後の追加投資は 7203 以外に振り向け、"
            "比率を上限の 25% に近づけることを検討してください。",
            "largest_holding",
        ),
        Suggestion(
            "債券などの値動きの異なる資産を加え、株式の比率を目標に合わせて見直しましょう。"
        ),
        Suggestion("価格履歴を取得できるようにすると、変動率のチェックも行えます。", "volatility"),
    )
    assert report.rules == request.rules.rules  # the rule results stand as computed
    assert report.to_json()["analyst"] == "openai"


def test_the_request_sends_the_figures_and_rules_and_nothing_personal() -> None:
    recorder = Recorder(recorded("answer_ja"))
    request = analysis_request(Language.JA)

    analyst_on(recorder).analyse(request)

    sent = recorder.requests[0]
    assert sent.method == "POST"
    assert sent.url == "https://api.openai.com/v1/responses"
    assert sent.headers["authorization"] == f"Bearer {KEY}"
    assert sent.headers["x-stainless-retry-count"] == "0"  # the SDK's own retries are off
    body = recorder.body()
    assert body["model"] == DEFAULT_MODEL == "gpt-4.1-mini"
    assert body["store"] is False
    assert body["max_output_tokens"] == 1500
    assert body["text"]["format"]["type"] == "json_schema"
    assert body["text"]["format"]["strict"] is True
    assert body["text"]["format"]["name"] == "PortfolioAnalysis"
    assert body["text"]["format"]["schema"]["required"] == ["summary", "risks", "suggestions"]
    document = json.loads(body["input"])
    assert document["figures"] == FIGURES
    assert document["ruleReport"] == json.loads(json.dumps(request.rules.to_json()))
    assert document["kind"] == "portfolio"
    # nothing personal, anywhere in the request
    assert not keys_in(body) & PERSONAL_KEYS
    assert not keys_in(document) & PERSONAL_KEYS
    text = sent.content.decode("utf-8")
    for personal in (USER_ID, EMAIL, PORTFOLIO_NAME, "example.com"):
        assert personal not in text
        assert json.dumps(personal)[1:-1] not in text  # nor JSON-escaped


def test_the_instructions_ask_for_the_requested_language_and_name_the_rules() -> None:
    recorder = Recorder(recorded("answer_ja"), recorded("answer_en_unknown_rule"))
    analyst = analyst_on(recorder)

    analyst.analyse(analysis_request(Language.JA))
    analyst.analyse(analysis_request(Language.EN))

    ja, en = recorder.body(0)["instructions"], recorder.body(1)["instructions"]
    assert "in Japanese (日本語で書いてください)" in ja
    assert "in English" in en
    assert "Japanese (" not in en
    for instructions in (ja, en):
        assert "one of: hhi, largest_holding, volatility" in instructions
        assert "never invent prices" in instructions
    assert json.loads(recorder.body(1)["input"])["language"] == "en"


def test_an_unknown_rule_id_keeps_the_suggestion_without_its_reference() -> None:
    recorder = Recorder(recorded("answer_en_unknown_rule"))

    report = analyst_on(recorder).analyse(analysis_request(Language.EN))

    assert report.language is Language.EN
    assert report.summary.startswith("Of a 5.23 million JPY portfolio")
    assert [s.rule for s in report.suggestions] == ["largest_holding", None, None]
    assert report.suggestions[1].text == "Consider adding a bond fund to balance the equity weight."


def test_the_configured_model_is_asked() -> None:
    recorder = Recorder(recorded("answer_ja"))

    report = analyst_on(recorder, model="gpt-5.4-mini").analyse(analysis_request())

    assert recorder.body()["model"] == "gpt-5.4-mini"
    assert report.model == "gpt-4.1-mini-2025-04-14"  # the recording's: what answered


def test_the_recordings_are_response_objects_in_the_wire_format() -> None:
    from openai.types.responses import Response

    for name in ("answer_ja", "answer_en_unknown_rule", "refusal", "answer_missing_summary"):
        body = recording(name)["body"]
        parsed = Response.model_validate(body)  # validates every field, unlike the client
        assert parsed.object == "response"
        assert parsed.usage is not None
        assert parsed.id.startswith("resp_")
        assert str(parsed.output[0].id).startswith("msg_")


# -- failures: the reason, and the HTTP round trips -----------------------------------------


def test_a_refusal() -> None:
    recorder = Recorder(recorded("refusal"))

    failed = failure(analyst_on(recorder))

    assert failed.reason is FallbackReason.REFUSAL
    assert "can't help with that request" in str(failed)
    assert recorder.calls == 1  # a refusal is not asked again


@pytest.mark.parametrize("name", ["rate_limited", "insufficient_quota"])
def test_a_429_is_rate_limited_at_once(name: str) -> None:
    recorder = Recorder(recorded(name))
    sleeps = Sleeps()

    failed = failure(analyst_on(recorder, sleep=sleeps))

    assert failed.reason is FallbackReason.RATE_LIMITED
    assert str(failed) == (
        f"rate_limited: HTTP 429 {recording(name)['body']['error']['code']} "
        f"(request {recording(name)['headers']['x-request-id']})"
    )
    assert recorder.calls == 1  # never retried: the rule-based report stands at once
    assert sleeps.pauses == []


def test_a_timeout_is_retried_once_then_reported() -> None:
    recorder = Recorder(raises(httpx2.ReadTimeout))
    sleeps = Sleeps()

    failed = failure(analyst_on(recorder, sleep=sleeps))

    assert failed.reason is FallbackReason.TIMEOUT
    assert recorder.calls == 2  # the first attempt and one retry
    assert sleeps.pauses == [0.5]
    assert [r.headers["x-stainless-read-timeout"] for r in recorder.requests] == ["18.0", "18.0"]


def test_a_timeout_without_retries_is_one_call() -> None:
    recorder = Recorder(raises(httpx2.ConnectTimeout))

    failed = failure(analyst_on(recorder, max_retries=0))

    assert failed.reason is FallbackReason.TIMEOUT
    assert recorder.calls == 1


def test_no_retry_when_it_would_overrun_the_budget() -> None:
    now = [100.0]

    def slow_attempt() -> None:  # each round trip takes 25 s of the 45 s budget
        now[0] += 25.0

    recorder = Recorder(raises(httpx2.ReadTimeout), on_request=slow_attempt)
    analyst = analyst_on(recorder, clock=lambda: now[0])

    assert failure(analyst).reason is FallbackReason.TIMEOUT
    assert recorder.calls == 1  # 25 + 0.5 + a full attempt (21 s) > 45 s


def test_a_server_error_is_retried_once() -> None:
    recorder = Recorder(recorded("server_error"))

    failed = failure(analyst_on(recorder))

    assert failed.reason is FallbackReason.UNAVAILABLE
    assert "HTTP 500" in str(failed)
    assert recorder.calls == 2
    assert [r.headers["x-stainless-retry-count"] for r in recorder.requests] == ["0", "0"]


def test_a_server_error_then_an_answer_is_the_answer() -> None:
    recorder = Recorder(recorded("server_error"), recorded("answer_ja"))

    report = analyst_on(recorder).analyse(analysis_request())

    assert report.analyst == OPENAI_ANALYST
    assert recorder.calls == 2


def test_a_refused_connection_is_unavailable_after_one_retry() -> None:
    recorder = Recorder(raises(httpx2.ConnectError))

    failed = failure(analyst_on(recorder))

    assert failed.reason is FallbackReason.UNAVAILABLE
    assert recorder.calls == 2


def test_a_bad_request_is_unavailable_without_retry() -> None:
    recorder = Recorder(recorded("bad_request"))

    failed = failure(analyst_on(recorder))

    assert failed.reason is FallbackReason.UNAVAILABLE
    assert str(failed).startswith("unavailable: HTTP 400 model_not_found")
    assert recorder.calls == 1


@pytest.mark.parametrize(
    "answer",
    [
        recorded("truncated_body"),  # cut off mid-document, served as JSON
        lambda request: httpx2.Response(
            200,
            text="<html><body>upstream error</body></html>",
            headers={"content-type": "text/html"},
        ),
        lambda request: httpx2.Response(200, json=["not", "a", "response"]),
        lambda request: httpx2.Response(200, json={}),
    ],
    ids=["truncated-json", "html", "not-an-object", "empty-object"],
)
def test_a_malformed_body_is_invalid_output(answer: Any) -> None:
    recorder = Recorder(answer)

    failed = failure(analyst_on(recorder))

    assert failed.reason is FallbackReason.INVALID_OUTPUT
    assert recorder.calls == 1


def test_an_answer_failing_the_schema_is_invalid_output() -> None:
    recorder = Recorder(recorded("answer_missing_summary"))

    failed = failure(analyst_on(recorder))

    assert failed.reason is FallbackReason.INVALID_OUTPUT
    assert "ValidationError" in str(failed)
    assert recorder.calls == 1


def _answer_with(text: str | None, **changes: Any) -> Any:
    body = recording("answer_ja")["body"]
    body.update(changes)
    if text is None:
        body["output"] = []
    else:
        body["output"][0]["content"][0]["text"] = text
    return lambda request: httpx2.Response(200, json=body)


@pytest.mark.parametrize(
    ("answer", "detail"),
    [
        (_answer_with('{"summary":"  ","risks":[],"suggestions":[]}'), "an empty summary"),
        (_answer_with(None), "no structured answer"),
        (
            _answer_with(
                '{"summary":"評価額',
                status="incomplete",
                incomplete_details={"reason": "max_output_tokens"},
            ),
            "unreadable answer",
        ),
    ],
    ids=["blank-summary", "no-output", "cut-by-max-output-tokens"],
)
def test_an_empty_or_incomplete_answer_is_invalid_output(answer: Any, detail: str) -> None:
    failed = failure(analyst_on(Recorder(answer)))

    assert failed.reason is FallbackReason.INVALID_OUTPUT
    assert detail in str(failed)


def test_an_answer_stopped_by_the_content_filter_is_a_refusal() -> None:
    answer = _answer_with(
        '{"summary":"ok","risks":[],"suggestions":[]}',
        status="incomplete",
        incomplete_details={"reason": "content_filter"},
    )

    assert failure(analyst_on(Recorder(answer))).reason is FallbackReason.REFUSAL


# -- the key -------------------------------------------------------------------------------


@pytest.mark.parametrize("key", [None, "", "   "])
def test_no_key_makes_no_call(key: str | None) -> None:
    recorder = Recorder(recorded("answer_ja"))

    failed = failure(analyst_on(recorder, key=lambda: key))

    assert failed.reason is FallbackReason.NO_KEY
    assert recorder.calls == 0


class ForgetfulKey:
    def __init__(self) -> None:
        self.forgotten = 0

    def __call__(self) -> str:
        return KEY

    def forget(self) -> None:
        self.forgotten += 1


def test_a_refused_key_is_no_key_and_forgotten() -> None:
    recorder = Recorder(recorded("invalid_api_key"))
    key = ForgetfulKey()

    failed = failure(analyst_on(recorder, key=key))

    assert failed.reason is FallbackReason.NO_KEY
    assert "invalid_api_key" in str(failed)
    assert KEY not in str(failed)
    assert "sk-test" not in str(failed)
    assert recorder.calls == 1
    assert key.forgotten == 1


def test_a_rotated_key_gets_a_new_client() -> None:
    keys = iter(["sk-test-old", "sk-test-new"])
    recorder = Recorder(recorded("answer_ja"))
    analyst = analyst_on(recorder, key=lambda: next(keys))

    analyst.analyse(analysis_request())
    analyst.analyse(analysis_request())

    assert [r.headers["authorization"] for r in recorder.requests] == [
        "Bearer sk-test-old",
        "Bearer sk-test-new",
    ]


# -- settings and import -----------------------------------------------------------------


def test_settings_over_the_budget_are_refused() -> None:
    with pytest.raises(ValueError, match="over the 45 s budget"):
        OpenAIAnalyst(lambda: KEY, timeout_seconds=30.0)  # 2 x (3 + 30) + 0.5 = 66.5 s
    with pytest.raises(ValueError, match="over the 45 s budget"):
        OpenAIAnalyst(lambda: KEY, max_retries=2)  # 3 x 21 + 2 x 0.5 = 64 s
    OpenAIAnalyst(lambda: KEY, timeout_seconds=20.0, connect_timeout_seconds=2.0)  # 44.5 s


PROBE = """
import json, sys
from portfoliowise.adapters.openai import OpenAIAnalyst, secret_api_key
from portfoliowise.domain.analysis import (
    RULES_ANALYST, AnalysisReport, AnalysisRequest, AnalystFailed, Language,
)
rules = AnalysisReport(RULES_ANALYST, Language.EN, "summary", ())
analyst = OpenAIAnalyst(lambda: None, model="gpt-4.1-mini")
secret_api_key(lambda: None, "pw/openai-api-key")
try:
    analyst.analyse(AnalysisRequest(Language.EN, "portfolio", {}, rules))
except AnalystFailed:
    pass
print(json.dumps(sorted(m for m in ("openai", "httpx2", "httpcore2") if m in sys.modules)))
"""


def test_the_sdk_is_imported_only_when_an_analysis_calls_openai() -> None:
    """Importing the package, building the analyst and its key, and an analysis that stops
    for want of a key load neither the SDK nor httpx2."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []
