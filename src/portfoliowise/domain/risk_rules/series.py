"""Daily history as the history rules use it: the valid closes of the largest holdings,
the constant-weight portfolio series, and the return maths (log returns, annualised
volatility, maximum drawdown, correlation)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Context, Decimal
from itertools import pairwise
from typing import Final

from portfoliowise.domain.limits import MAX_PRICE
from portfoliowise.domain.market import DailyClose
from portfoliowise.domain.risk_rules.context import RuleContext, canonical_symbol
from portfoliowise.domain.risk_rules.decimals import ONE, PRECISION, ZERO, round_to
from portfoliowise.domain.risk_rules.thresholds import (
    MAX_HISTORY_CANDIDATES,
    MAX_HISTORY_DAYS,
    MAX_SERIES_HOLDINGS,
    NO_HISTORY,
    NO_PRICED_HOLDINGS,
    TRADING_DAYS_PER_YEAR,
)
from portfoliowise.domain.valuation import HUNDRED, HoldingValuation

SQRT_YEAR: Final = Decimal(TRADING_DAYS_PER_YEAR).sqrt(Context(prec=PRECISION))


@dataclass(frozen=True, slots=True)
class History:
    item: HoldingValuation
    closes: dict[date, Decimal]  # valid closes, by day


@dataclass(slots=True)
class HistoryData:
    reason: str | None = None  # why the history rules cannot run at all
    candidates: list[History] = field(default_factory=list)  # largest first
    longest: int = 0  # closes of the longest candidate


def clean_closes(closes: Sequence[DailyClose]) -> dict[date, Decimal]:
    result: dict[date, Decimal] = {}
    for close in closes[-MAX_HISTORY_DAYS:]:
        price = getattr(close, "close", None)
        day = getattr(close, "day", None)
        if isinstance(day, datetime):
            day = day.date()
        if not isinstance(price, Decimal) or not isinstance(day, date):
            continue
        if price.is_finite() and ZERO < price <= MAX_PRICE:
            result[day] = price
    return dict(sorted(result.items()))


def history_data(
    ctx: RuleContext, history: Mapping[str, Sequence[DailyClose]] | None
) -> HistoryData:
    if not ctx.has_value:
        return HistoryData(NO_PRICED_HOLDINGS)
    if not history:
        return HistoryData(NO_HISTORY)
    index: dict[str, Sequence[DailyClose]] = {}
    for symbol, closes in history.items():
        index.setdefault(canonical_symbol(symbol), closes)
    data = HistoryData()
    examined = 0
    for item in ctx.by_weight:
        found = index.get(item.symbol)
        if found is None:
            continue
        examined += 1
        cleaned = clean_closes(found)
        if cleaned:
            data.candidates.append(History(item, cleaned))
            data.longest = max(data.longest, len(cleaned))
        if examined >= MAX_HISTORY_CANDIDATES:
            break
    if not data.candidates:
        data.reason = NO_HISTORY
    return data


@dataclass(frozen=True, slots=True)
class Series:
    days: list[date]
    index: list[Decimal]  # value of 1 invested on days[0], constant weights
    log_returns: list[Decimal]
    symbols: list[str]
    covered: Decimal  # percent of the priced value in the series


def portfolio_series(ctx: RuleContext, data: HistoryData) -> Series | None:
    minimum = ctx.thresholds.min_history_days
    included: list[History] = []
    common: set[date] | None = None
    for candidate in data.candidates:
        if len(included) >= MAX_SERIES_HOLDINGS:
            break
        available = set(candidate.closes)
        shared = available if common is None else common & available
        if len(shared) >= minimum:
            included.append(candidate)
            common = shared
    if not included or common is None:
        return None
    value = sum((c.item.base_value.amount for c in included), ZERO)
    weights = [c.item.base_value.amount / value for c in included]
    days = sorted(common)
    index = [ONE]
    log_returns: list[Decimal] = []
    for previous, day in pairwise(days):
        growth = sum(
            (
                w * c.closes[day] / c.closes[previous]
                for w, c in zip(weights, included, strict=True)
            ),
            ZERO,
        )
        index.append(index[-1] * growth)
        log_returns.append(growth.ln())
    return Series(
        days=days,
        index=index,
        log_returns=log_returns,
        symbols=[c.item.symbol for c in included],
        covered=round_to(value / ctx.total * HUNDRED, 2),
    )


def sample_variance(values: Sequence[Decimal]) -> tuple[Decimal, Decimal]:
    """(mean, sample variance) of at least 2 values."""
    mean = sum(values, ZERO) / len(values)
    return mean, sum(((v - mean) ** 2 for v in values), ZERO) / (len(values) - 1)


def daily_log_returns(logs: Mapping[date, Decimal], days: Sequence[date]) -> list[Decimal]:
    """Daily log returns over `days` from the logarithms of the closes."""
    return [logs[day] - logs[previous] for previous, day in pairwise(days)]


def annualised_volatility(log_returns: Sequence[Decimal]) -> Decimal:
    """Sample standard deviation of at least 2 daily log returns, times sqrt(252), as a
    fraction."""
    _mean, variance = sample_variance(log_returns)
    return variance.sqrt() * SQRT_YEAR


def max_drawdown(index: Sequence[Decimal]) -> tuple[Decimal, int, int]:
    """(largest fall from a previous high as a fraction, position of that high, position of
    the low); (0, 0, 0) when the series never falls."""
    peak, peak_at = index[0], 0
    worst, worst_peak, worst_trough = ZERO, 0, 0
    for i, level in enumerate(index):
        if level > peak:
            peak, peak_at = level, i
        fall = (peak - level) / peak
        if fall > worst:
            worst, worst_peak, worst_trough = fall, peak_at, i
    return worst, worst_peak, worst_trough


def correlation(a: Sequence[Decimal], b: Sequence[Decimal]) -> Decimal | None:
    """Correlation of two return series of the same length, clamped to -1..1; None when
    either does not vary."""
    mean_a, mean_b = sum(a, ZERO) / len(a), sum(b, ZERO) / len(b)
    var_a = sum(((x - mean_a) ** 2 for x in a), ZERO)
    var_b = sum(((y - mean_b) ** 2 for y in b), ZERO)
    if not var_a or not var_b:
        return None
    cov = sum(((x - mean_a) * (y - mean_b) for x, y in zip(a, b, strict=True)), ZERO)
    return max(Decimal(-1), min(ONE, cov / (var_a.sqrt() * var_b.sqrt())))
