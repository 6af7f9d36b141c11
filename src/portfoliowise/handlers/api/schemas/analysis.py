"""Answers of the analysis routes."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from portfoliowise.handlers.api.schemas.common import DecimalText, Out


class RuleResultOut(Out):
    rule: str
    outcome: str = Field(description="pass, fail or not_computed")
    message: str
    value: DecimalText | None
    threshold: DecimalText | None
    figures: dict[str, str]
    reason: str | None = Field(description="why it could not be computed, e.g. no history")


class SuggestionOut(Out):
    text: str
    rule: str | None


class AnalysisReportOut(Out):
    analyst: str = Field(description="rules or openai")
    model: str | None
    language: str
    summary: str
    rules: list[RuleResultOut]
    risks: list[str]
    suggestions: list[SuggestionOut]
    fallbackReason: str | None = Field(
        description="why the AI did not answer: no_key, refusal, timeout, rate_limited, "
        "invalid_output, unavailable"
    )


class AnalysisJobOut(Out):
    jobId: str
    portfolioId: str
    language: str
    kind: str
    status: str = Field(description="pending, running, done or failed")
    createdAt: datetime
    updatedAt: datetime
    expiresAt: datetime
    result: AnalysisReportOut | None
    error: str | None
