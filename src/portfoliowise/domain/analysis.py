"""What the AI analyst is asked and what it answers."""

from __future__ import annotations

from dataclasses import dataclass

from portfoliowise.domain.events import JsonValue


@dataclass(frozen=True, slots=True)
class AnalysisRequest:
    portfolio_id: str
    summary: dict[str, JsonValue]  # valuation and allocation, no personal data
    language: str = "ja"


@dataclass(frozen=True, slots=True)
class AnalysisResult:
    text: str
    model: str
