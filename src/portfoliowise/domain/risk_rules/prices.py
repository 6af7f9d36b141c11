"""Rules on prices: holdings without a price and holdings priced from a stale quote."""

from __future__ import annotations

from decimal import Decimal

from portfoliowise.domain.risk_rules.context import RuleContext
from portfoliowise.domain.risk_rules.decimals import ZERO, decimal_text, round_to
from portfoliowise.domain.risk_rules.messages import holdings_phrase, name_list, show
from portfoliowise.domain.risk_rules.results import Checked, compared
from portfoliowise.domain.risk_rules.thresholds import MAX_NAMED, STALE_HOLDINGS, UNPRICED_HOLDINGS
from portfoliowise.domain.valuation import HUNDRED


def check_unpriced(ctx: RuleContext) -> Checked:
    limit = ctx.thresholds.unpriced_holdings
    symbols = [u.symbol for u in ctx.valuation.unpriced]
    count = len(symbols)
    reasons: dict[str, int] = {}
    for item in ctx.valuation.unpriced:
        reasons[item.reason.value] = reasons.get(item.reason.value, 0) + 1
    named = name_list(symbols)
    return compared(
        UNPRICED_HOLDINGS,
        Decimal(count),
        Decimal(limit),
        figures={
            "count": str(count),
            "symbols": ",".join(symbols[:MAX_NAMED]),
            "reasons": ",".join(f"{k}:{v}" for k, v in sorted(reasons.items())),
        },
        failed=ctx.say(
            f"No price for {holdings_phrase(count, '', '')}left out of the value: {named} "
            f"(threshold {limit}).",
            f"価格を取得できない銘柄が {count} 件あり、評価額に含まれていません: {named}"
            f"（基準 {limit} 件）",
        ),
        passed=ctx.say(
            "Every holding has a price."
            if not count
            else f"{holdings_phrase(count, 'has', 'have')} no price ({named}), "
            f"within the threshold of {limit}.",
            "すべての保有銘柄に価格があります"
            if not count
            else f"価格のない銘柄は {count} 件（{named}）で、基準（{limit} 件）以内です",
        ),
        suggestion=ctx.say(
            f"Check the symbols or add a price source (or an FX rate) for: {named}.",
            "次の銘柄の銘柄コードを確認するか、価格の取得元（または為替レート）を"
            f"追加してください: {named}",
        ),
    )


def check_stale(ctx: RuleContext) -> Checked:
    limit = ctx.thresholds.stale_holdings
    stale = [h for h in ctx.valuation.holdings if h.stale]
    symbols = [h.symbol for h in stale]
    count = len(symbols)
    total = ctx.total
    weight = (
        round_to(sum((h.base_value.amount for h in stale), ZERO) / total * HUNDRED, 2)
        if total > 0
        else ZERO
    )
    named = name_list(symbols)
    return compared(
        STALE_HOLDINGS,
        Decimal(count),
        Decimal(limit),
        figures={
            "count": str(count),
            "symbols": ",".join(symbols[:MAX_NAMED]),
            "weight": decimal_text(weight),
        },
        failed=ctx.say(
            f"{holdings_phrase(count)} valued at a stale price ({show(weight)}% of the value): "
            f"{named} (threshold {limit}).",
            f"古い価格で評価している銘柄が {count} 件あります（評価額の {show(weight)}%）: "
            f"{named}（基準 {limit} 件）",
        ),
        passed=ctx.say(
            "No holding is valued at a stale price."
            if not count
            else f"{holdings_phrase(count, 'uses', 'use')} a stale price ({named}), "
            f"within the threshold of {limit}.",
            "古い価格で評価している銘柄はありません"
            if not count
            else f"古い価格の銘柄は {count} 件（{named}）で、基準（{limit} 件）以内です",
        ),
        suggestion=ctx.say(
            f"Check the prices of {named}: every price source failed and the last known "
            "price was used.",
            f"{named} の価格を確認してください"
            "（価格を取得できず、最後に取得した価格を使っています）",
        ),
    )
