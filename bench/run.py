"""`make bench`: every benchmark's rows in ONE table (bench/table.py), each figure beside
its target; the exit status is 1 when a row misses its target.

- domain (here): valuation, allocation and a buy-mode simulation for a generated portfolio
  of 10,000 holdings and a 100,000,000 JPY budget, best of 3, each under 1 s on one core;
- performance (bench_performance.py): the ledger's performance report of 10,000 activities;
- round trips (bench_round_trips.py): the portfolio function's DynamoDB requests for a
  warm valuation of 250 holdings, and its HTTP calls outside AWS;
- server (bench_server.py): `portfoliowise serve` under 8 keep-alive clients, a 50-holding
  valuation against /health;
- cli (bench_cli.py): `portfoliowise value` on the bundled example, wall time;
- cold start, memory, sizes (bench_cold_start.py): the Lambda functions as Lambda runs them.

A benchmark that fails to run is a failed row naming its error, never a silent skip."""

from __future__ import annotations

import random
import sys
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_cli  # the modules beside this file
import bench_cold_start
import bench_performance
import bench_round_trips
import bench_server
from portfoliowise.domain.allocation import Dimension, allocation, drift
from portfoliowise.domain.fx import FxRate, RateTable
from portfoliowise.domain.money import JPY, USD, Money
from portfoliowise.domain.portfolio import Holding, Portfolio
from portfoliowise.domain.quotes import Quote, QuoteStatus
from portfoliowise.domain.simulation import simulate
from portfoliowise.domain.valuation import value_portfolio
from table import Row, failed, render

HOLDINGS = 10_000
BUDGET = Money(Decimal(100_000_000), JPY)
TARGET_SECONDS = 1.0
AT = datetime(2026, 11, 27, 6, tzinfo=UTC)
_TSE_LETTERS = "ACDFGHJKLMNPRSTUWXY"


def _symbols(rng: random.Random) -> list[str]:
    tokyo = [f"{n:04d}" for n in range(1300, 9999)]
    tokyo += [
        f"{d}{n}{e}{letter}"
        for d in "12345"
        for n in "0123456789"
        for e in "0123456789"
        for letter in _TSE_LETTERS
    ][:3000]
    us = ["".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(4)) for _ in range(4000)]
    funds = [f"{rng.randrange(10**7):07d}{rng.choice('0123456789ABC')}" for _ in range(3000)]
    pool = list(dict.fromkeys(tokyo[:4000] + us + funds))
    rng.shuffle(pool)
    return pool[:HOLDINGS]


def build(fresh: bool = False) -> tuple[Portfolio, dict[str, Quote], RateTable]:
    """`fresh`: nothing held yet, so the budget spreads over thousands of holdings."""
    rng = random.Random(20261128)
    holdings: list[Holding] = []
    quotes: dict[str, Quote] = {}
    for symbol in _symbols(rng):
        holding = Holding.of(symbol, 0 if fresh else rng.randrange(0, 50) * 100)
        market = holding.instrument.market.value
        if market == "US":
            price = Money(Decimal(rng.randrange(500, 90_000)) / 100, USD)
        elif market == "FUND":
            price = Money(Decimal(rng.randrange(8_000, 60_000)), JPY)
            holding = Holding.of(symbol, 0 if fresh else rng.randrange(0, 2_000_000))
        else:
            price = Money(Decimal(rng.randrange(100, 20_000)), JPY)
        holdings.append(holding)
        quotes[holding.symbol] = Quote(holding.symbol, price, QuoteStatus.LIVE, "bench", AT)
    weights = [Decimal(rng.randrange(1, 1000)) for _ in holdings]
    scale = Decimal(100) / sum(weights)
    targets = {
        h.symbol: (w * scale).quantize(Decimal("0.000001"))
        for h, w in zip(holdings, weights, strict=True)
    }
    drift_fix = Decimal(100) - sum(targets.values())
    targets[holdings[0].symbol] += drift_fix
    portfolio = Portfolio.create(
        user_id="bench",
        portfolio_id="bench",
        name="bench",
        base_currency=JPY,
        at=AT,
        holdings=holdings,
        targets=targets,
    )
    return portfolio, quotes, RateTable([FxRate(USD, JPY, Decimal("154.32"))])


def timed(fn: Callable[[], object], repeat: int = 3) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def _orders(result: object) -> str:
    orders = result.orders  # type: ignore[attr-defined]
    return f"{len(orders):,} orders, spent {result.spent.display()}"  # type: ignore[attr-defined]


def domain_rows() -> list[Row]:
    portfolio, quotes, rates = build()
    t_value, valuation = timed(lambda: value_portfolio(portfolio, quotes, rates, at=AT))
    assert valuation is not None
    t_alloc, _ = timed(
        lambda: (
            [allocation(valuation, by) for by in Dimension]  # type: ignore[arg-type]
            + [drift(valuation, portfolio.targets)]
        )  # type: ignore[arg-type]
    )
    t_sim, sim = timed(lambda: simulate(portfolio, quotes, rates, BUDGET))
    fresh, fresh_quotes, _ = build(fresh=True)
    t_fresh, sim_fresh = timed(lambda: simulate(fresh, fresh_quotes, rates, BUDGET))
    measured = [
        ("valuation (10,000 holdings)", t_value, ""),
        ("allocation (6 breakdowns + drift, 10,000 holdings)", t_alloc, ""),
        ("simulation, buy, 100,000,000 JPY (10,000 holdings)", t_sim, _orders(sim)),
        ("simulation, buy, nothing held yet (10,000 holdings)", t_fresh, _orders(sim_fresh)),
    ]
    return [
        Row(
            "domain",
            f"{name}, best of 3",
            f"{seconds:.3f} s",
            f"< {TARGET_SECONDS:.1f} s",
            seconds < TARGET_SECONDS,
            note,
        )
        for name, seconds, note in measured
    ]


BENCHMARKS: tuple[tuple[str, Callable[[], list[Row]]], ...] = (
    ("domain", domain_rows),
    ("performance", bench_performance.rows),
    ("round trips", bench_round_trips.rows),
    ("server", bench_server.rows),
    ("cli", bench_cli.rows),
    ("cold start", bench_cold_start.rows),
)


def main() -> int:
    rows: list[Row] = []
    for group, benchmark in BENCHMARKS:
        print(f"bench: {group} ...", file=sys.stderr, flush=True)
        start = time.perf_counter()
        try:
            rows.extend(benchmark())
        except Exception as exc:  # a failed row, and the others still run
            traceback.print_exc()
            rows.append(Row(group, "(did not run)", "error", "", False, repr(exc)[:200]))
        print(f"bench: {group} took {time.perf_counter() - start:.0f} s", file=sys.stderr)
    print(render(rows))
    return 1 if failed(rows) else 0


if __name__ == "__main__":
    sys.exit(main())
