"""The rule-based report: every rule, then the summary, the risks and the suggestions,
most important first."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Context, Decimal, localcontext

from portfoliowise.domain.analysis import (
    RULES_ANALYST,
    AnalysisReport,
    Language,
    RuleOutcome,
    RuleResult,
    Suggestion,
)
from portfoliowise.domain.market import DailyClose
from portfoliowise.domain.portfolio import Portfolio
from portfoliowise.domain.risk_rules.concentration import (
    check_concentration_hhi,
    check_currency_concentration,
    check_largest_holding,
)
from portfoliowise.domain.risk_rules.context import RuleContext
from portfoliowise.domain.risk_rules.decimals import PRECISION
from portfoliowise.domain.risk_rules.drift import check_target_drift
from portfoliowise.domain.risk_rules.fees import check_fee_drag
from portfoliowise.domain.risk_rules.history import (
    check_correlation,
    check_max_drawdown,
    check_volatility,
)
from portfoliowise.domain.risk_rules.home_bias import check_home_bias
from portfoliowise.domain.risk_rules.messages import say, title
from portfoliowise.domain.risk_rules.prices import check_stale, check_unpriced
from portfoliowise.domain.risk_rules.series import history_data, portfolio_series
from portfoliowise.domain.risk_rules.thresholds import (
    CONCENTRATION_HHI,
    CORRELATION,
    CURRENCY_CONCENTRATION,
    DEFAULT_THRESHOLDS,
    FEE_DRAG,
    HOME_BIAS,
    IMPORTANCE,
    LARGEST_HOLDING,
    MAX_DRAWDOWN,
    RULE_IDS,
    STALE_HOLDINGS,
    TARGET_DRIFT,
    UNPRICED_HOLDINGS,
    VOLATILITY,
    Thresholds,
)
from portfoliowise.domain.valuation import Valuation


def rule_based_report(
    portfolio: Portfolio,
    valuation: Valuation,
    *,
    language: Language,
    history: Mapping[str, Sequence[DailyClose]] | None = None,
    fees: Mapping[str, Decimal] | None = None,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
) -> AnalysisReport:
    """Every rule of `RULE_IDS` on this valuation, with a summary, one risk line per
    failed rule and suggestions, in `language`. Never raises for a portfolio and a
    valuation the domain allows: what cannot be computed says why.

    `history` maps a symbol (any accepted spelling) to its daily closes, oldest first;
    `fees` maps a symbol to its annual running cost in percent (0.0938 for 0.0938 %)."""
    with localcontext(Context(prec=PRECISION)):
        by_weight = sorted(
            (h for h in valuation.holdings if h.base_value.amount > 0),
            key=lambda h: (-h.weight, h.symbol),
        )
        ctx = RuleContext(portfolio, valuation, language, thresholds, by_weight)
        data = history_data(ctx, history)
        series = portfolio_series(ctx, data) if data.reason is None else None
        checked = {
            LARGEST_HOLDING: check_largest_holding(ctx),
            CONCENTRATION_HHI: check_concentration_hhi(ctx),
            CURRENCY_CONCENTRATION: check_currency_concentration(ctx),
            HOME_BIAS: check_home_bias(ctx),
            TARGET_DRIFT: check_target_drift(ctx),
            FEE_DRAG: check_fee_drag(ctx, fees),
            UNPRICED_HOLDINGS: check_unpriced(ctx),
            STALE_HOLDINGS: check_stale(ctx),
            VOLATILITY: check_volatility(ctx, data, series),
            MAX_DRAWDOWN: check_max_drawdown(ctx, data, series),
            CORRELATION: check_correlation(ctx, data),
        }
        rules = tuple(checked[rule].result for rule in RULE_IDS)
        failed = [
            checked[r].result for r in IMPORTANCE if checked[r].result.outcome is RuleOutcome.FAIL
        ]
        risks = tuple(
            f"{title(r.rule, language)}{say(language, ': ', '：')}{r.message}" for r in failed
        )
        suggestions = tuple(
            Suggestion(text, rule=rule)
            for rule in IMPORTANCE
            if (text := checked[rule].suggestion) is not None
        )
        return AnalysisReport(
            analyst=RULES_ANALYST,
            language=language,
            summary=_summary(ctx, rules, failed),
            rules=rules,
            risks=risks,
            suggestions=suggestions,
        )


def _summary(ctx: RuleContext, rules: Sequence[RuleResult], failed: Sequence[RuleResult]) -> str:
    total = len(rules)
    not_computed = sum(1 for r in rules if r.outcome is RuleOutcome.NOT_COMPUTED)
    computed = total - not_computed
    skipped_en = f" ({not_computed} could not be computed)" if not_computed else ""
    skipped_ja = f"（{not_computed} 項目は計算できませんでした）" if not_computed else ""
    parts: list[str] = []
    if failed:
        rules_en = "rule flags" if len(failed) == 1 else "rules flag"
        parts.append(
            ctx.say(
                f"{len(failed)} of the {total} {rules_en} a risk{skipped_en}.",
                f"{total} 項目のルールのうち {len(failed)} 項目で基準を超えています{skipped_ja}。",
            )
        )
        top = failed[0]
        parts.append(ctx.say(f"Most important: {top.message}", f"最も重要な点：{top.message}。"))
        others = [title(r.rule, ctx.language) for r in failed[1:]]
        if others:
            parts.append(
                ctx.say(
                    f"Also flagged: {', '.join(others)}.",
                    "ほかに"
                    + "".join(f"「{title}」" for title in others)
                    + "も基準を超えています。",
                )
            )
    else:
        parts.append(
            ctx.say(
                f"No rule flags a risk: all {computed} rules that could be computed "
                f"passed{skipped_en}.",
                f"計算できた {computed} 項目のルールはすべて基準内です{skipped_ja}。",
            )
        )
    if not ctx.has_value:
        parts.append(
            ctx.say(
                "No holding has a price, so the rules on value could not be computed.",
                "評価額のある保有銘柄がないため、評価額にもとづくルールは計算できませんでした。",
            )
        )
    return ctx.say(" ", "").join(parts)
