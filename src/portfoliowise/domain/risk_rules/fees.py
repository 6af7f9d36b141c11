"""The fee drag rule: the estimated annual running cost (信託報酬, expense ratio) as a share of
the value."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from portfoliowise.domain.money import Money
from portfoliowise.domain.risk_rules.context import RuleContext, canonical_symbol
from portfoliowise.domain.risk_rules.decimals import ZERO, decimal_text, round_to
from portfoliowise.domain.risk_rules.messages import money_text, plain, show
from portfoliowise.domain.risk_rules.results import Checked, compared, not_computed
from portfoliowise.domain.risk_rules.thresholds import FEE_DRAG, NO_FEE_DATA, NO_PRICED_HOLDINGS
from portfoliowise.domain.valuation import HUNDRED


def _fee_index(fees: Mapping[str, Decimal] | None) -> dict[str, Decimal]:
    if not fees:
        return {}
    index: dict[str, Decimal] = {}
    for symbol, fee in fees.items():
        if isinstance(fee, Decimal) and fee.is_finite() and ZERO <= fee <= HUNDRED:
            index[canonical_symbol(symbol)] = fee
    return index


def check_fee_drag(ctx: RuleContext, fees: Mapping[str, Decimal] | None) -> Checked:
    limit = ctx.thresholds.fee_drag_percent
    if not ctx.has_value:
        return not_computed(FEE_DRAG, NO_PRICED_HOLDINGS, ctx.language, threshold=limit)
    index = _fee_index(fees)
    known = [(h, index[h.symbol]) for h in ctx.by_weight if h.symbol in index]
    if not known:
        return not_computed(FEE_DRAG, NO_FEE_DATA, ctx.language, threshold=limit)
    cost = sum((h.base_value.amount * fee / HUNDRED for h, fee in known), ZERO)
    drag = round_to(cost / ctx.total * HUNDRED, 3)
    covered = round_to(sum((h.weight for h, _ in known), ZERO), 2)
    dearest, dearest_fee = max(known, key=lambda pair: (pair[1], pair[0].weight))
    amount = money_text(cost, ctx.valuation)
    pct, lim, cov = show(drag, 3), plain(limit), show(covered)
    n_known, n_all = len(known), len(ctx.by_weight)
    coverage_en = f"fees known for {n_known} of {n_all} holdings ({cov}% of the value)"
    coverage_ja = f"手数料が分かっているのは {n_all} 銘柄中 {n_known} 銘柄（評価額の {cov}%）"
    return compared(
        FEE_DRAG,
        drag,
        limit,
        figures={
            "percent": decimal_text(drag),
            "amount": decimal_text(Money(cost, ctx.valuation.currency).rounded().amount),
            "currency": ctx.valuation.currency.code,
            "coveredWeight": decimal_text(covered),
            "knownHoldings": str(n_known),
            "holdings": str(n_all),
            "highestFeeSymbol": dearest.symbol,
            "highestFee": decimal_text(dearest_fee),
        },
        failed=ctx.say(
            f"Running costs take an estimated {pct}% of the value a year, about {amount} "
            f"(threshold {lim}%); {coverage_en}.",
            f"信託報酬などの保有コストは推定で年 {pct}%（約 {amount}/年）です"
            f"（基準 {lim}%、{coverage_ja}）",
        ),
        passed=ctx.say(
            f"Running costs take an estimated {pct}% of the value a year, about {amount}, "
            f"within the {lim}% threshold; {coverage_en}.",
            f"信託報酬などの保有コストは推定で年 {pct}%（約 {amount}/年）で、基準（{lim}%）"
            f"以内です（{coverage_ja}）",
        ),
        suggestion=ctx.say(
            f"Look for a lower-cost alternative to {dearest.symbol} "
            f"({show(dearest_fee, 4)}% a year).",
            f"{dearest.symbol}（年 {show(dearest_fee, 4)}%）について、"
            "より低コストな代替商品を検討してください",
        ),
    )
