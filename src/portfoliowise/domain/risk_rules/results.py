"""What a rule returns: its `RuleResult` and, when it fails, a suggestion; built by
`compared` (a value against its threshold) or `not_computed` (with the reason)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from portfoliowise.domain.analysis import Language, RuleOutcome, RuleResult
from portfoliowise.domain.risk_rules.messages import reason_message


@dataclass(frozen=True, slots=True)
class Checked:
    result: RuleResult
    suggestion: str | None = None


def not_computed(
    rule: str,
    reason: str,
    language: Language,
    *,
    message: str | None = None,
    figures: dict[str, str] | None = None,
    threshold: Decimal | None = None,
    suggestion: str | None = None,
) -> Checked:
    if message is None:
        message = reason_message(rule, reason, language)
    return Checked(
        RuleResult(
            rule=rule,
            outcome=RuleOutcome.NOT_COMPUTED,
            message=message,
            threshold=threshold,
            figures=figures or {},
            reason=reason,
        ),
        suggestion,
    )


def compared(
    rule: str,
    value: Decimal,
    threshold: Decimal,
    *,
    passed: str,
    failed: str,
    figures: dict[str, str],
    suggestion: str | None = None,
) -> Checked:
    """Fails when `value` (already rounded as shown) is above `threshold`."""
    fail = value > threshold
    return Checked(
        RuleResult(
            rule=rule,
            outcome=RuleOutcome.FAIL if fail else RuleOutcome.PASS,
            message=failed if fail else passed,
            value=value,
            threshold=threshold,
            figures=figures,
        ),
        suggestion if fail else None,
    )
