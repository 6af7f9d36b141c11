"""The history rules: volatility and maximum drawdown of the portfolio series, and the
highest correlation among the largest holdings."""

from __future__ import annotations

from decimal import Decimal

from portfoliowise.domain.analysis import Language
from portfoliowise.domain.risk_rules.context import RuleContext
from portfoliowise.domain.risk_rules.decimals import decimal_text, round_to
from portfoliowise.domain.risk_rules.messages import holdings_phrase, plain, show, title
from portfoliowise.domain.risk_rules.results import Checked, compared, not_computed
from portfoliowise.domain.risk_rules.series import (
    HistoryData,
    Series,
    annualised_volatility,
    correlation,
    daily_log_returns,
    max_drawdown,
)
from portfoliowise.domain.risk_rules.thresholds import (
    CORRELATION,
    FEWER_THAN_TWO_HOLDINGS,
    MAX_CORRELATION_HOLDINGS,
    MAX_DRAWDOWN,
    MAX_NAMED,
    NO_PRICE_VARIATION,
    NOT_ENOUGH_HISTORY,
    VOLATILITY,
)
from portfoliowise.domain.valuation import HUNDRED


def _not_enough(rule: str, ctx: RuleContext, days: int, threshold: Decimal) -> Checked:
    minimum = ctx.thresholds.min_history_days
    return not_computed(
        rule,
        NOT_ENOUGH_HISTORY,
        ctx.language,
        threshold=threshold,
        figures={"minimumDays": str(minimum), "days": str(days)},
        message=ctx.say(
            f"{title(rule, Language.EN)}: not computed, not enough price history "
            f"({days} days; at least {minimum} needed).",
            f"{title(rule, Language.JA)}：価格履歴が足りないため計算できません"
            f"（{minimum} 日分以上が必要、利用できるのは {days} 日分）",
        ),
    )


def _series_figures(series: Series) -> dict[str, str]:
    symbols = series.symbols
    return {
        "days": str(len(series.days)),
        "from": series.days[0].isoformat(),
        "to": series.days[-1].isoformat(),
        "holdings": str(len(symbols)),
        "symbols": ",".join(symbols[:MAX_NAMED]),
        "coveredWeight": decimal_text(series.covered),
    }


def _coverage(ctx: RuleContext, series: Series) -> tuple[str, str]:
    n, first, last = len(series.days), series.days[0], series.days[-1]
    cov = show(series.covered)
    return (
        f"{n} days from {first} to {last}, {holdings_phrase(len(series.symbols), '', '')}"
        f"{cov}% of the value",
        f"{first}〜{last} の {n} 日分、{len(series.symbols)} 銘柄（評価額の {cov}%）",
    )


def check_volatility(ctx: RuleContext, data: HistoryData, series: Series | None) -> Checked:
    limit = ctx.thresholds.volatility_percent
    if data.reason is not None:
        return not_computed(VOLATILITY, data.reason, ctx.language, threshold=limit)
    if series is None:
        return _not_enough(VOLATILITY, ctx, data.longest, limit)
    annual = round_to(annualised_volatility(series.log_returns) * HUNDRED, 2)
    pct, lim = show(annual), plain(limit)
    cov_en, cov_ja = _coverage(ctx, series)
    return compared(
        VOLATILITY,
        annual,
        limit,
        figures={"annualisedPercent": decimal_text(annual), **_series_figures(series)},
        failed=ctx.say(
            f"The annualised volatility of the portfolio is {pct}% (threshold {lim}%; {cov_en}).",
            f"ポートフォリオの年率ボラティリティは {pct}% です（基準 {lim}%、{cov_ja}）",
        ),
        passed=ctx.say(
            f"The annualised volatility of the portfolio is {pct}%, within the {lim}% threshold "
            f"({cov_en}).",
            f"ポートフォリオの年率ボラティリティは {pct}% で、基準（{lim}%）以内です（{cov_ja}）",
        ),
        suggestion=ctx.say(
            "The portfolio swings more than the threshold: consider adding steadier assets "
            "such as bonds, if that suits your goals.",
            "値動きが大きめです。目的に合う範囲で、債券など値動きの穏やかな資産の組み入れを"
            "検討してください",
        ),
    )


def check_max_drawdown(ctx: RuleContext, data: HistoryData, series: Series | None) -> Checked:
    limit = ctx.thresholds.max_drawdown_percent
    if data.reason is not None:
        return not_computed(MAX_DRAWDOWN, data.reason, ctx.language, threshold=limit)
    if series is None:
        return _not_enough(MAX_DRAWDOWN, ctx, data.longest, limit)
    worst, worst_peak, worst_trough = max_drawdown(series.index)
    value = round_to(worst * HUNDRED, 2)
    pct, lim = show(value), plain(limit)
    start, end = series.days[worst_peak], series.days[worst_trough]
    cov_en, cov_ja = _coverage(ctx, series)
    when_en = f"from {start} to {end}" if worst else "no fall"
    when_ja = f"{start}〜{end}" if worst else "下落なし"
    return compared(
        MAX_DRAWDOWN,
        value,
        limit,
        figures={
            "percent": decimal_text(value),
            "peak": start.isoformat(),
            "trough": end.isoformat(),
            **_series_figures(series),
        },
        failed=ctx.say(
            f"The portfolio's largest fall from a high was {pct}% ({when_en}; threshold {lim}%; "
            f"{cov_en}).",
            f"過去の最大下落率（最大ドローダウン）は {pct}% です"
            f"（{when_ja}、基準 {lim}%、{cov_ja}）",
        ),
        passed=ctx.say(
            f"The portfolio's largest fall from a high was {pct}% ({when_en}), within the {lim}% "
            f"threshold ({cov_en}).",
            f"過去の最大下落率（最大ドローダウン）は {pct}%（{when_ja}）で、基準（{lim}%）以内です"
            f"（{cov_ja}）",
        ),
        suggestion=ctx.say(
            f"The portfolio once fell {pct}%: make sure you could hold on through a fall like "
            "that, and consider steadier assets if not.",
            f"過去に {pct}% 下落した局面があります。同程度の下落に耐えられるか確認し、"
            "難しければ値動きの穏やかな資産の組み入れを検討してください",
        ),
    )


def check_correlation(ctx: RuleContext, data: HistoryData) -> Checked:
    limit = ctx.thresholds.correlation
    minimum = ctx.thresholds.min_history_days
    if ctx.has_value and len(ctx.by_weight) < 2:
        return not_computed(CORRELATION, FEWER_THAN_TWO_HOLDINGS, ctx.language, threshold=limit)
    if data.reason is not None:
        return not_computed(CORRELATION, data.reason, ctx.language, threshold=limit)
    largest = [c for c in data.candidates if len(c.closes) >= minimum][:MAX_CORRELATION_HOLDINGS]
    if len(largest) < 2:
        return _not_enough(CORRELATION, ctx, data.longest, limit)
    logs = [{day: close.ln() for day, close in c.closes.items()} for c in largest]
    pairs: list[tuple[Decimal, str, str, int]] = []
    shared_most = 0
    flat = False
    for i, first in enumerate(largest):
        for j in range(i + 1, len(largest)):
            second = largest[j]
            days = sorted(set(first.closes) & set(second.closes))
            shared_most = max(shared_most, len(days))
            if len(days) < minimum:
                continue
            corr = correlation(daily_log_returns(logs[i], days), daily_log_returns(logs[j], days))
            if corr is None:
                flat = True
                continue
            pairs.append((round_to(corr, 4), first.item.symbol, second.item.symbol, len(days)))
    if not pairs:
        if flat:
            return not_computed(CORRELATION, NO_PRICE_VARIATION, ctx.language, threshold=limit)
        return _not_enough(CORRELATION, ctx, shared_most, limit)
    corr, a_sym, b_sym, days_used = max(pairs, key=lambda p: (p[0], p[3]))
    shown, lim = show(corr, 4), plain(limit)
    n = len(largest)
    return compared(
        CORRELATION,
        corr,
        limit,
        figures={
            "first": a_sym,
            "second": b_sym,
            "correlation": decimal_text(corr),
            "days": str(days_used),
            "holdings": str(n),
            "pairs": str(len(pairs)),
            "symbols": ",".join(c.item.symbol for c in largest),
        },
        failed=ctx.say(
            f"{a_sym} and {b_sym} move together: the correlation of their daily returns is "
            f"{shown} over {days_used} days, the highest among the {n} largest holdings "
            f"(threshold {lim}).",
            f"上位 {n} 銘柄のうち {a_sym} と {b_sym} の日次リターンの相関係数は {shown} で最も高く"
            f"（{days_used} 日分）、ほぼ同じ値動きをしています（基準 {lim}）",
        ),
        passed=ctx.say(
            f"The highest correlation of daily returns among the {n} largest holdings is {shown} "
            f"({a_sym} and {b_sym}, {days_used} days), within the {lim} threshold.",
            f"上位 {n} 銘柄の日次リターンの相関係数は最大で {shown}（{a_sym} と {b_sym}、"
            f"{days_used} 日分）で、基準（{lim}）以内です",
        ),
        suggestion=ctx.say(
            f"{a_sym} and {b_sym} move almost together, so holding both adds little "
            "diversification; consider assets that behave differently.",
            f"{a_sym} と {b_sym} はほぼ同じ値動きのため、両方を持っても分散効果は小さくなります。"
            "値動きの異なる資産の組み入れを検討してください",
        ),
    )
