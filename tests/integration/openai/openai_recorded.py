"""Recorded OpenAI answers, served to the real SDK through `httpx2.MockTransport` (the SDK
is built on httpx2 and takes an `httpx2.Client` as `http_client=`): the analyst runs its real
client code against the Responses API's wire format, and every HTTP round trip is counted.

A recording (`recorded/<name>.json`) is one HTTP answer: `status`, `headers` and either
`body` (the JSON document exactly as the API sends it) or `text` (a raw body that is not
JSON). An answer may also be an exception the transport raises (a timeout, a refused
connection)."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx2

from portfoliowise.adapters.openai import OpenAIAnalyst
from portfoliowise.domain.analysis import (
    RULES_ANALYST,
    AnalysisReport,
    AnalysisRequest,
    Language,
    RuleOutcome,
    RuleResult,
    Suggestion,
)

RECORDED = Path(__file__).parent / "recorded"
KEY = "sk-test-portfoliowise-0000"  # not a real key

Answer = Callable[[httpx2.Request], httpx2.Response]


def recording(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((RECORDED / f"{name}.json").read_text("utf-8"))
    return document


def recorded(name: str) -> Answer:
    """The recorded answer `name`, replayed as it was sent."""
    document = recording(name)
    if "body" in document:
        content = json.dumps(document["body"], ensure_ascii=False).encode("utf-8")
    else:
        content = document["text"].encode("utf-8")
    headers = document.get("headers", {})
    return lambda request: httpx2.Response(document["status"], headers=headers, content=content)


def raises(error: type[httpx2.TransportError]) -> Answer:
    def answer(request: httpx2.Request) -> httpx2.Response:
        raise error("recorded failure", request=request)

    return answer


class Recorder:
    """A MockTransport handler: answers each round trip with the next answer (the last one
    repeats) and keeps every request. `on_request` runs first (a test clock moves there)."""

    def __init__(self, *answers: Answer, on_request: Callable[[], None] | None = None) -> None:
        self._answers = list(answers)
        self._on_request = on_request
        self.requests: list[httpx2.Request] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        if self._on_request is not None:
            self._on_request()
        index = min(len(self.requests), len(self._answers)) - 1
        return self._answers[index](request)

    @property
    def calls(self) -> int:
        return len(self.requests)

    def body(self, index: int = 0) -> dict[str, Any]:
        sent: dict[str, Any] = json.loads(self.requests[index].content)
        return sent

    def client(self) -> httpx2.Client:
        return httpx2.Client(transport=httpx2.MockTransport(self))


class Sleeps:
    """A stand-in for `time.sleep`: records the pauses instead of making them."""

    def __init__(self) -> None:
        self.pauses: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.pauses.append(seconds)


def analyst_on(
    recorder: Recorder,
    *,
    key: Callable[[], str | None] = lambda: KEY,
    sleep: Callable[[float], None] | None = None,
    **settings: Any,
) -> OpenAIAnalyst:
    return OpenAIAnalyst(key, http_client=recorder.client(), sleep=sleep or Sleeps(), **settings)


# -- an analysis request, as the analysis use case builds it --------------------------------

FIGURES: dict[str, Any] = {
    "baseCurrency": "JPY",
    "totalValue": "5230000",
    "holdingCount": 4,
    "holdings": [
        {
            "symbol": "7203",
            "market": "JP",
            "assetClass": "equity",
            "currency": "JPY",
            "sector": "Transportation Equipment",
            "weight": "38.2",
            "unrealizedPnlPercent": "21.4",
        },
        {
            "symbol": "VTI",
            "market": "US",
            "assetClass": "equity",
            "currency": "USD",
            "weight": "31.5",
            "unrealizedPnlPercent": "12.9",
        },
        {
            "symbol": "0331418A",
            "market": "FUND",
            "assetClass": "balanced",
            "currency": "JPY",
            "weight": "24.6",
            "unrealizedPnlPercent": "4.1",
        },
        {
            "symbol": "8306",
            "market": "JP",
            "assetClass": "equity",
            "currency": "JPY",
            "sector": "Banks",
            "weight": "5.7",
            "unrealizedPnlPercent": "-2.3",
        },
    ],
    "byCurrency": {"JPY": "68.5", "USD": "31.5"},
    "byAssetClass": {"equity": "75.4", "balanced": "24.6"},
    "unpriced": [],
}


def rule_report(language: Language) -> AnalysisReport:
    ja = language is Language.JA
    return AnalysisReport(
        analyst=RULES_ANALYST,
        language=language,
        summary="最大銘柄の比率が上限を超えています。"
        if ja
        else "The largest holding is over its limit.",
        rules=(
            RuleResult(
                rule="largest_holding",
                outcome=RuleOutcome.FAIL,
                message="7203 が 38.2% (上限 25%)" if ja else "7203 is 38.2% (limit 25%)",
                value=Decimal("38.2"),
                threshold=Decimal("25"),
                figures={"symbol": "7203"},
            ),
            RuleResult(
                rule="hhi",
                outcome=RuleOutcome.PASS,
                message="集中度 HHI 0.30" if ja else "concentration HHI 0.30",
                value=Decimal("0.3006"),
                threshold=Decimal("0.35"),
            ),
            RuleResult(
                rule="volatility",
                outcome=RuleOutcome.NOT_COMPUTED,
                message="価格履歴がありません" if ja else "no price history",
                reason="no history",
            ),
        ),
        suggestions=(Suggestion("7203 の比率を下げる" if ja else "Trim 7203", "largest_holding"),),
    )


def analysis_request(language: Language = Language.JA) -> AnalysisRequest:
    return AnalysisRequest(language, "portfolio", FIGURES, rule_report(language))
