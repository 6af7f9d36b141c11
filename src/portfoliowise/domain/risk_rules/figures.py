"""The anonymous figures an AI analyst is given (`portfolio_figures`)."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Context, Decimal, localcontext
from typing import Final

from portfoliowise.domain.allocation import Dimension, allocation
from portfoliowise.domain.events import JsonValue
from portfoliowise.domain.money import Money
from portfoliowise.domain.portfolio import Portfolio
from portfoliowise.domain.risk_rules.decimals import PRECISION, ZERO, decimal_text, round_to
from portfoliowise.domain.risk_rules.thresholds import MAX_FIGURE_ITEMS
from portfoliowise.domain.valuation import Valuation

_EMAIL: Final = re.compile(r"[^\s@]+@[^\s@]+")
REDACTED: Final = "[redacted]"


def _scrubber(portfolio: Portfolio) -> Callable[[str], str]:
    """Free text (regions) as an AI may see it: no e-mail address, and nothing that
    contains the user id, the portfolio id or the portfolio name."""
    identifiers = [
        s.casefold() for s in (portfolio.user_id, portfolio.portfolio_id, portfolio.name) if s
    ]
    identifiers = [s for s in identifiers if len(s) >= 3]

    def scrub(text: str) -> str:
        folded = text.casefold()
        if _EMAIL.search(text) or any(s in folded for s in identifiers):
            return REDACTED
        return text

    return scrub


def _amount(money: Money | None) -> JsonValue:
    if money is None:
        return None
    rounded = money.rounded()
    return {"amount": decimal_text(rounded.amount), "currency": rounded.currency.code}


def portfolio_figures(portfolio: Portfolio, valuation: Valuation) -> dict[str, JsonValue]:
    """The anonymous figures an AI analyst is given: currencies, the total, the largest
    holdings (symbol, market, asset class, quote currency, weight, value, unrealized
    P/L), the targets, allocations by asset class, currency, market and region, and the
    unpriced and stale symbols. Never the user id, the portfolio id, the portfolio name
    or an e-mail address: the portfolio's own identifiers are never copied, and region texts
    that contain one of them or an e-mail address are replaced by `[redacted]`.

    Lists hold at most `MAX_FIGURE_ITEMS` entries (the largest); the rest are counted."""
    with localcontext(Context(prec=PRECISION)):
        scrub = _scrubber(portfolio)
        ranked = sorted(valuation.holdings, key=lambda h: (-h.weight, h.symbol))
        shown, hidden = ranked[:MAX_FIGURE_ITEMS], ranked[MAX_FIGURE_ITEMS:]
        holdings: list[JsonValue] = []
        for h in shown:
            holdings.append(
                {
                    "symbol": h.symbol,
                    "market": h.holding.instrument.market.value,
                    "assetClass": h.holding.asset_class.value,
                    "currency": h.price.currency.code,
                    "weight": decimal_text(round_to(h.weight, 2)),
                    "value": _amount(h.base_value),
                    "unrealizedPl": _amount(h.unrealized_pl),
                    "unrealizedPlPercent": None
                    if h.unrealized_pl_percent is None
                    else decimal_text(round_to(h.unrealized_pl_percent, 2)),
                    "stale": h.stale,
                }
            )
        figures: dict[str, JsonValue] = {
            "baseCurrency": portfolio.base_currency.code,
            "valuationCurrency": valuation.currency.code,
            "valuedAt": valuation.at.isoformat(),
            "total": _amount(valuation.total),
            "costBasis": _amount(valuation.cost_basis),
            "unrealizedPl": _amount(valuation.unrealized_pl),
            "holdingCount": len(valuation.holdings) + len(valuation.unpriced),
            "pricedCount": len(valuation.holdings),
            "holdings": holdings,
        }
        if hidden:
            rest = sum((h.base_value.amount for h in hidden), ZERO)
            figures["otherHoldings"] = {
                "count": len(hidden),
                "weight": decimal_text(round_to(sum((h.weight for h in hidden), ZERO), 2)),
                "value": _amount(Money(rest, valuation.currency)),
            }
        targets = sorted(portfolio.targets.items(), key=lambda kv: (-kv[1], kv[0]))
        figures["targets"] = {
            symbol: decimal_text(pct) for symbol, pct in targets[:MAX_FIGURE_ITEMS]
        }
        if len(targets) > MAX_FIGURE_ITEMS:
            figures["otherTargets"] = {
                "count": len(targets) - MAX_FIGURE_ITEMS,
                "percent": decimal_text(sum((pct for _, pct in targets[MAX_FIGURE_ITEMS:]), ZERO)),
            }
        breakdowns: dict[str, JsonValue] = {}
        for dimension in (
            Dimension.ASSET_CLASS,
            Dimension.CURRENCY,
            Dimension.MARKET,
            Dimension.REGION,
        ):
            merged: dict[str, tuple[Decimal, Decimal]] = {}
            for s in allocation(valuation, dimension):
                key = scrub(s.key) if dimension is Dimension.REGION else s.key
                value, weight = merged.get(key, (ZERO, ZERO))
                merged[key] = (value + s.value.amount, weight + s.weight)
            slices = sorted(merged.items(), key=lambda kv: (-kv[1][0], kv[0]))
            rows: list[JsonValue] = [
                {
                    "key": key,
                    "weight": decimal_text(round_to(weight, 2)),
                    "value": _amount(Money(value, valuation.currency)),
                }
                for key, (value, weight) in slices[:MAX_FIGURE_ITEMS]
            ]
            if len(slices) > MAX_FIGURE_ITEMS:
                rest_weight = sum((w for _, (_, w) in slices[MAX_FIGURE_ITEMS:]), ZERO)
                rows.append(
                    {
                        "key": "(others)",
                        "weight": decimal_text(round_to(rest_weight, 2)),
                        "value": None,
                    }
                )
            breakdowns[dimension.value] = rows
        figures["allocation"] = breakdowns
        unpriced: list[JsonValue] = [
            {"symbol": u.symbol, "reason": u.reason.value}
            for u in valuation.unpriced[:MAX_FIGURE_ITEMS]
        ]
        figures["unpriced"] = unpriced
        figures["unpricedCount"] = len(valuation.unpriced)
        stale_symbols = valuation.stale
        stale: list[JsonValue] = list(stale_symbols[:MAX_FIGURE_ITEMS])
        figures["stale"] = stale
        figures["staleCount"] = len(stale_symbols)
        return figures
