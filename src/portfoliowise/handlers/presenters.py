"""JSON shapes of valuations, allocations and simulations (CLI `--json` now, the HTTP
API later). Amounts are decimal strings rounded to the currency's minor unit; weights
are percentages as decimal strings with 4 decimals."""

from __future__ import annotations

import json
import re
import secrets
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from portfoliowise.domain.allocation import AllocationSlice, TargetDrift
from portfoliowise.domain.money import Money
from portfoliowise.domain.simulation import Simulation
from portfoliowise.domain.valuation import Valuation

PCT = Decimal("0.0001")
PCT_DISPLAY = Decimal("0.01")


def pct(value: Decimal) -> str:
    return str(value.quantize(PCT, ROUND_HALF_UP))


def pct_display(value: Decimal) -> str:
    """A percentage for tables: rounded half up to 2 decimals (never truncated), no -0.00."""
    rounded = value.quantize(PCT_DISPLAY, ROUND_HALF_UP)
    return str(rounded.copy_abs() if rounded.is_zero() else rounded)


def json_with_numbers(document: object) -> str:
    """JSON where every `Decimal` is a JSON number with exactly its digits (`301.45`, never
    a float's approximation): for contracts that want numbers, such as the existing app's
    market data. Everywhere else amounts are decimal strings. Each call marks its numbers
    with a fresh random tag, so no string in the document can pass for one."""
    tag = secrets.token_hex(8)

    def marker(value: object) -> str:
        if isinstance(value, Decimal) and value.is_finite():
            return f"{tag}:{format(value, 'f')}"
        raise TypeError(f"{type(value).__name__} is not JSON serialisable")

    text = json.dumps(document, ensure_ascii=False, default=marker)
    return re.sub(f'"{tag}:(-?[0-9]+(?:\\.[0-9]+)?)"', r"\1", text)


def plain(value: Decimal) -> str:
    """A quantity as a plain decimal string (never exponent notation such as 1E+3)."""
    return format(value, "f")


def money(value: Money | None) -> dict[str, str] | None:
    return None if value is None else value.to_json()


def price(value: Money) -> dict[str, str]:
    return value.exact_json()


def valuation_json(
    valuation: Valuation,
    allocations: dict[str, list[AllocationSlice]],
    drifts: list[TargetDrift],
) -> dict[str, Any]:
    return {
        "portfolioId": valuation.portfolio_id,
        "currency": valuation.currency.code,
        "asOf": valuation.at.isoformat(),
        "total": money(valuation.total),
        "costBasis": money(valuation.cost_basis),
        "unrealizedPL": money(valuation.unrealized_pl),
        "holdings": [
            {
                "symbol": h.symbol,
                "name": h.holding.name or h.quote.name,
                "market": h.holding.instrument.market.value,
                "quantity": plain(h.holding.quantity),
                "price": price(h.price),
                "priceUnit": str(h.holding.instrument.price_unit),
                "localValue": money(h.value),
                "value": money(h.base_value),
                "weight": pct(h.weight),
                "fxRate": str(h.fx_rate),
                "costBasis": money(h.cost_basis),
                "unrealizedPL": money(h.unrealized_pl),
                "unrealizedPLPercent": None
                if h.unrealized_pl_percent is None
                else pct(h.unrealized_pl_percent),
                "quote": {
                    "status": h.quote.status.value,
                    "source": h.quote.source,
                    "asOf": h.quote.as_of.isoformat() if h.quote.as_of else None,
                },
                "stale": h.stale,
            }
            for h in valuation.holdings
        ],
        "unpriced": [u.symbol for u in valuation.unpriced],
        "unpricedDetails": [
            {"symbol": u.symbol, "reason": u.reason.value, "detail": u.detail}
            for u in valuation.unpriced
        ],
        "stale": valuation.stale,
        "allocation": {
            by: [{"key": s.key, "value": money(s.value), "weight": pct(s.weight)} for s in slices]
            for by, slices in allocations.items()
        },
        "drift": [
            {
                "symbol": d.symbol,
                "target": pct(d.target),
                "current": pct(d.current),
                "drift": pct(d.drift),
                "gap": money(d.gap),
            }
            for d in drifts
        ],
    }


def simulation_json(result: Simulation) -> dict[str, Any]:
    return {
        "mode": result.mode.value,
        "budget": money(result.budget),
        "orders": [
            {
                "symbol": o.symbol,
                "side": o.side.value,
                "quantity": plain(o.quantity),
                "price": price(o.price),
                "localAmount": money(o.local_amount),
                "cost": money(o.cost),
            }
            for o in result.orders
        ],
        "bought": money(result.bought),
        "sold": money(result.sold),
        "spent": money(result.spent),
        "leftover": money(result.leftover),
        "weights": [
            {
                "symbol": line.symbol,
                "target": pct(line.target),
                "before": pct(line.before),
                "after": pct(line.after),
            }
            for line in result.lines
        ],
        "distanceBefore": pct(result.distance_before),
        "distanceAfter": pct(result.distance_after),
        "excluded": result.excluded,
    }
