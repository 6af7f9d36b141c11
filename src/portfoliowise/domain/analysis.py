"""What an analyst is asked and what it answers: a report of rules (each with its numbers
and pass/fail, or why it could not be computed), a summary, risks and suggestions, in
Japanese or English, saying which analyst answered and, when the AI could not, why."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from portfoliowise.domain.errors import DomainError, ValidationError
from portfoliowise.domain.events import JsonValue

RULES_ANALYST = "rules"
OPENAI_ANALYST = "openai"


class Language(StrEnum):
    JA = "ja"
    EN = "en"

    @classmethod
    def parse(cls, value: str) -> Language:
        try:
            return cls(value.strip().lower())
        except ValueError:
            raise ValidationError("language must be ja or en") from None


class RuleOutcome(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    NOT_COMPUTED = "not_computed"


class FallbackReason(StrEnum):
    """Why the AI analyst did not answer and the rule-based report stands instead."""

    NO_KEY = "no_key"
    REFUSAL = "refusal"
    TIMEOUT = "timeout"
    RATE_LIMITED = "rate_limited"
    INVALID_OUTPUT = "invalid_output"
    UNAVAILABLE = "unavailable"


class AnalystFailed(DomainError):
    """The AI analyst gave no usable answer; `reason` says why (the report falls back)."""

    code = "analyst_failed"

    def __init__(self, reason: FallbackReason, detail: str = "") -> None:
        super().__init__(f"{reason.value}: {detail}" if detail else reason.value)
        self.reason = reason


def _num(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


@dataclass(frozen=True, slots=True)
class RuleResult:
    rule: str  # stable id: "largest_holding", "hhi", "volatility", ...
    outcome: RuleOutcome
    message: str  # in the report's language
    value: Decimal | None = None
    threshold: Decimal | None = None
    figures: dict[str, str] = field(default_factory=dict)  # numbers as decimal strings
    reason: str | None = None  # why it was not computed ("no history", "no fee data")

    def to_json(self) -> dict[str, JsonValue]:
        return {
            "rule": self.rule,
            "outcome": self.outcome.value,
            "message": self.message,
            "value": _num(self.value),
            "threshold": _num(self.threshold),
            "figures": dict(self.figures),
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class Suggestion:
    text: str
    rule: str | None = None  # the rule it refers to

    def to_json(self) -> dict[str, JsonValue]:
        return {"text": self.text, "rule": self.rule}


@dataclass(frozen=True, slots=True)
class AnalysisReport:
    analyst: str  # RULES_ANALYST | OPENAI_ANALYST
    language: Language
    summary: str
    rules: tuple[RuleResult, ...]
    risks: tuple[str, ...] = ()
    suggestions: tuple[Suggestion, ...] = ()
    model: str | None = None
    fallback_reason: FallbackReason | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "analyst": self.analyst,
            "model": self.model,
            "language": self.language.value,
            "summary": self.summary,
            "rules": [r.to_json() for r in self.rules],
            "risks": list(self.risks),
            "suggestions": [s.to_json() for s in self.suggestions],
            "fallbackReason": None if self.fallback_reason is None else self.fallback_reason.value,
        }


@dataclass(frozen=True, slots=True)
class AnalysisRequest:
    """What an AI analyst is given: anonymous figures (no user id, e-mail or name, no
    portfolio id or name) and the rule-based report it may refine."""

    language: Language
    kind: str
    figures: dict[str, JsonValue]
    rules: AnalysisReport
