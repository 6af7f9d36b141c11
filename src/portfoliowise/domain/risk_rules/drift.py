"""The target drift rule: the largest distance of a holding from its target allocation."""

from __future__ import annotations

from portfoliowise.domain.allocation import drift
from portfoliowise.domain.risk_rules.context import RuleContext
from portfoliowise.domain.risk_rules.decimals import decimal_text, round_to
from portfoliowise.domain.risk_rules.messages import holdings_phrase, money_text, plain, show
from portfoliowise.domain.risk_rules.results import Checked, compared, not_computed
from portfoliowise.domain.risk_rules.thresholds import NO_PRICED_HOLDINGS, NO_TARGETS, TARGET_DRIFT


def check_target_drift(ctx: RuleContext) -> Checked:
    limit = ctx.thresholds.drift_points
    if not ctx.has_value:
        return not_computed(TARGET_DRIFT, NO_PRICED_HOLDINGS, ctx.language, threshold=limit)
    targets = ctx.portfolio.targets
    if not targets:
        return not_computed(
            TARGET_DRIFT,
            NO_TARGETS,
            ctx.language,
            threshold=limit,
            suggestion=ctx.say(
                "Set target allocations to see how far the portfolio drifts from them.",
                "目標配分を設定すると、現在の配分とのずれを確認できます",
            ),
        )
    unpriced = {u.symbol for u in ctx.valuation.unpriced}
    drifts = [d for d in drift(ctx.valuation, targets) if d.symbol not in unpriced]
    if not drifts:
        return not_computed(TARGET_DRIFT, NO_PRICED_HOLDINGS, ctx.language, threshold=limit)
    worst = min(drifts, key=lambda d: (-abs(d.drift), d.symbol))
    value = round_to(abs(worst.drift), 2)
    beyond = sum(1 for d in drifts if round_to(abs(d.drift), 2) > limit)
    signed = round_to(worst.drift, 2)
    points = ("+" if signed > 0 else "") + show(signed)
    target, current, lim = show(worst.target), show(worst.current), plain(limit)
    gap = worst.gap.amount
    move_en = (
        f"add about {money_text(gap, ctx.valuation)}"
        if gap > 0
        else f"reduce it by about {money_text(-gap, ctx.valuation)}"
    )
    move_ja = (
        f"約 {money_text(gap, ctx.valuation)} の買い増し"
        if gap > 0
        else f"約 {money_text(-gap, ctx.valuation)} の売却"
    )
    return compared(
        TARGET_DRIFT,
        value,
        limit,
        figures={
            "symbol": worst.symbol,
            "target": decimal_text(worst.target),
            "current": decimal_text(round_to(worst.current, 2)),
            "drift": decimal_text(signed),
            "gap": decimal_text(worst.gap.rounded().amount),
            "currency": ctx.valuation.currency.code,
            "beyondThreshold": str(beyond),
            "unpricedWithTarget": str(sum(1 for s in targets if s in unpriced)),
        },
        failed=ctx.say(
            f"{worst.symbol} is {current}% of the value against a target of {target}% "
            f"({points} points; threshold ±{lim}); {holdings_phrase(beyond)} beyond it.",
            f"目標配分からの乖離が最も大きいのは {worst.symbol} で、目標 {target}% に対して "
            f"{current}%（{points} ポイント）です（基準 ±{lim} ポイント、超過 {beyond} 銘柄）",
        ),
        passed=ctx.say(
            f"Every holding is within ±{lim} points of its target; the largest drift is "
            f"{worst.symbol} at {points} points.",
            f"すべての銘柄が目標配分の ±{lim} ポイント以内です"
            f"（最大は {worst.symbol} の {points} ポイント）",
        ),
        suggestion=ctx.say(
            f"Rebalance toward your targets: for {worst.symbol}, {move_en}; the contribution "
            "simulator can plan the orders.",
            f"目標配分に向けたリバランスを検討してください（{worst.symbol} は{move_ja}が目安）。"
            "追加投資シミュレーションで注文案を作成できます",
        ),
    )
