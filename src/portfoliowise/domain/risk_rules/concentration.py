"""Concentration rules: the largest holding, the Herfindahl index of the weights, and the
share of the largest quote currency."""

from __future__ import annotations

from portfoliowise.domain.allocation import Dimension, allocation
from portfoliowise.domain.risk_rules.context import RuleContext
from portfoliowise.domain.risk_rules.decimals import ONE, ZERO, decimal_text, round_to
from portfoliowise.domain.risk_rules.messages import plain, show
from portfoliowise.domain.risk_rules.results import Checked, compared, not_computed
from portfoliowise.domain.risk_rules.thresholds import (
    CONCENTRATION_HHI,
    CURRENCY_CONCENTRATION,
    LARGEST_HOLDING,
    NO_PRICED_HOLDINGS,
)
from portfoliowise.domain.valuation import HUNDRED


def check_largest_holding(ctx: RuleContext) -> Checked:
    limit = ctx.thresholds.largest_holding_percent
    if not ctx.has_value:
        return not_computed(LARGEST_HOLDING, NO_PRICED_HOLDINGS, ctx.language, threshold=limit)
    top = ctx.by_weight[0]
    weight = round_to(top.weight, 2)
    pct, lim = show(weight), plain(limit)
    return compared(
        LARGEST_HOLDING,
        weight,
        limit,
        figures={
            "symbol": top.symbol,
            "weight": decimal_text(weight),
            "holdings": str(len(ctx.by_weight)),
        },
        failed=ctx.say(
            f"The largest holding, {top.symbol}, is {pct}% of the value (threshold {lim}%).",
            f"最大の保有銘柄 {top.symbol} が評価額の {pct}% を占めています（基準 {lim}%）",
        ),
        passed=ctx.say(
            f"The largest holding, {top.symbol}, is {pct}% of the value, "
            f"within the {lim}% threshold.",
            f"最大の保有銘柄 {top.symbol} は評価額の {pct}% で、基準（{lim}%）以内です",
        ),
        suggestion=ctx.say(
            f"Diversify: consider trimming {top.symbol} or adding to other holdings so that "
            f"no single holding is more than {lim}% of the value.",
            f"{top.symbol} の比率を下げるか他の銘柄を買い増して、1 銘柄が評価額の {lim}% を"
            "超えないよう分散を検討してください",
        ),
    )


def check_concentration_hhi(ctx: RuleContext) -> Checked:
    limit = ctx.thresholds.hhi
    if not ctx.has_value:
        return not_computed(CONCENTRATION_HHI, NO_PRICED_HOLDINGS, ctx.language, threshold=limit)
    exact = sum(((h.weight / HUNDRED) ** 2 for h in ctx.by_weight), ZERO)
    hhi = round_to(exact, 4)
    effective = round_to(ONE / exact, 1) if exact else ZERO
    shown, eff, lim = show(hhi, 4), show(effective, 1), plain(limit)
    return compared(
        CONCENTRATION_HHI,
        hhi,
        limit,
        figures={"hhi": decimal_text(hhi), "effectiveHoldings": decimal_text(effective)},
        failed=ctx.say(
            f"The Herfindahl index of the weights is {shown} (threshold {lim}): the value is "
            f"concentrated, like {eff} equal holdings.",
            f"ハーフィンダール指数（HHI）は {shown} で基準 {lim} を超えています。"
            f"実質的には {eff} 銘柄に均等投資しているのと同程度の集中です",
        ),
        passed=ctx.say(
            f"The Herfindahl index of the weights is {shown}, within the {lim} threshold "
            f"(like {eff} equal holdings).",
            f"ハーフィンダール指数（HHI）は {shown} で、基準（{lim}）以内です"
            f"（実質 {eff} 銘柄相当）",
        ),
        suggestion=ctx.say(
            f"Spread the value over more holdings: it behaves like only {eff} equal "
            "holdings; a broad index fund is one way to diversify.",
            f"評価額が実質 {eff} 銘柄相当に集中しています。銘柄数を増やすか、"
            "幅広く分散されたインデックスファンドの活用を検討してください",
        ),
    )


def check_currency_concentration(ctx: RuleContext) -> Checked:
    limit = ctx.thresholds.currency_percent
    if not ctx.has_value:
        return not_computed(
            CURRENCY_CONCENTRATION, NO_PRICED_HOLDINGS, ctx.language, threshold=limit
        )
    slices = allocation(ctx.valuation, Dimension.CURRENCY)
    top = slices[0]
    weight = round_to(top.weight, 2)
    pct, lim, code = show(weight), plain(limit), top.key
    return compared(
        CURRENCY_CONCENTRATION,
        weight,
        limit,
        figures={"currency": code, "weight": decimal_text(weight), "currencies": str(len(slices))},
        failed=ctx.say(
            f"{pct}% of the value is priced in {code} (threshold {lim}%).",
            f"評価額の {pct}% が {code} 建ての資産です（基準 {lim}%）",
        ),
        passed=ctx.say(
            f"The largest currency, {code}, is {pct}% of the value, within the {lim}% threshold.",
            f"最も多い通貨 {code} は評価額の {pct}% で、基準（{lim}%）以内です",
        ),
        suggestion=ctx.say(
            f"Consider holding assets priced in currencies other than {code} to spread "
            "currency risk.",
            f"{code} 以外の通貨建ての資産も組み入れて、為替リスクの分散を検討してください",
        ),
    )
