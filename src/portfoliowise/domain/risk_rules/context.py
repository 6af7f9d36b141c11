"""What every rule reads (`RuleContext`: the portfolio, its valuation, the language, the
thresholds, the priced holdings largest first) and how a symbol given with the inputs
(history, fees) is matched to a holding."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from portfoliowise.domain.analysis import Language
from portfoliowise.domain.errors import ValidationError
from portfoliowise.domain.instruments import parse_symbol
from portfoliowise.domain.portfolio import Portfolio
from portfoliowise.domain.risk_rules.messages import say
from portfoliowise.domain.risk_rules.thresholds import Thresholds
from portfoliowise.domain.valuation import HoldingValuation, Valuation


@dataclass(frozen=True, slots=True)
class RuleContext:
    portfolio: Portfolio
    valuation: Valuation
    language: Language
    thresholds: Thresholds
    by_weight: list[HoldingValuation]  # priced, positive value, largest first

    @property
    def total(self) -> Decimal:
        return self.valuation.total.amount

    @property
    def has_value(self) -> bool:
        return bool(self.by_weight) and self.total > 0

    def say(self, en: str, ja: str) -> str:
        return say(self.language, en, ja)


def canonical_symbol(symbol: str) -> str:
    try:
        return parse_symbol(symbol).symbol
    except ValidationError:
        return symbol.strip().upper() if isinstance(symbol, str) else str(symbol)
