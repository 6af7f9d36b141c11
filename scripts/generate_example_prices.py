"""Generate `src/portfoliowise/examples/prices.csv`, the daily closes the example
activities file (`examples/activities.csv`) is measured against:

    .venv/bin/python scripts/generate_example_prices.py

MADE-UP DATA, not market prices: each series is a seeded random walk pinned to a few
plausible levels of the first half of 2024 (a Brownian bridge in log space between them),
so the same script always writes the same file. Closes are dated on their market's
trading days only (Tokyo for 7203 and the fund, whose 基準価額 is set on Tokyo business
days; New York for VOO; every weekday for USD-JPY), so weekends and holidays are absent
and the performance report fills them forward. 7203's closes are as quoted, not
adjusted: they halve at the made-up 2-for-1 split of 2024-04-01, as the activities file
records it. `tests/e2e/test_cli_performance.py` checks the committed file is this
script's output.
"""

from __future__ import annotations

import itertools
import math
import random
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from portfoliowise.adapters.market.calendars import new_york_calendar, tokyo_calendar

OUTPUT = (
    Path(__file__).resolve().parent.parent / "src" / "portfoliowise" / "examples" / "prices.csv"
)
FIRST = date(2024, 1, 4)
LAST = date(2024, 6, 28)
SPLIT_DAY = date(2024, 4, 1)  # 7203, 2-for-1 (made up)
SEED = 20240104


@dataclass(frozen=True)
class Series:
    symbol: str
    currency: str
    trading_day: Callable[[date], bool]
    waypoints: Sequence[tuple[date, float]]  # levels the walk passes through
    volatility: float  # daily, of the log price
    places: Decimal  # rounding of a close


def _weekday(day: date) -> bool:
    return day.weekday() < 5


SERIES = (
    Series(
        "7203",
        "JPY",
        tokyo_calendar().is_trading_day,
        ((FIRST, 2740), (date(2024, 3, 22), 3820), (LAST, 3290)),  # before the split
        0.015,
        Decimal(1),
    ),
    Series(
        "0331418A",
        "JPY",
        tokyo_calendar().is_trading_day,
        ((FIRST, 21050), (date(2024, 3, 29), 23900), (LAST, 25800)),
        0.007,
        Decimal(1),
    ),
    Series(
        "VOO",
        "USD",
        new_york_calendar().is_trading_day,
        ((FIRST, 431.0), (date(2024, 3, 28), 480.7), (date(2024, 4, 19), 455.0), (LAST, 500.1)),
        0.008,
        Decimal("0.01"),
    ),
    Series(
        "USD-JPY",
        "JPY",
        _weekday,
        ((FIRST, 144.6), (date(2024, 3, 29), 151.3), (date(2024, 4, 29), 156.2), (LAST, 160.8)),
        0.0045,
        Decimal("0.001"),
    ),
)


def _days(series: Series) -> list[date]:
    days, day = [], FIRST
    while day <= LAST:
        if series.trading_day(day):
            days.append(day)
        day += timedelta(days=1)
    return days


def _walk(series: Series, days: list[date], rng: random.Random) -> list[float]:
    """Log-space Brownian bridges between the waypoints, over the series' trading days."""
    index = {day: i for i, day in enumerate(days)}
    points = [(index[day], math.log(level)) for day, level in series.waypoints]
    logs = [points[0][1]]
    for (start, low), (end, high) in itertools.pairwise(points):
        steps = end - start
        walk = [0.0]
        for _ in range(steps):
            walk.append(walk[-1] + rng.gauss(0.0, series.volatility))
        for k in range(1, steps + 1):
            share = k / steps
            logs.append(low + share * (high - low) + walk[k] - share * walk[steps])
    return [math.exp(x) for x in logs]


def _close(series: Series, day: date, level: float) -> Decimal:
    close = Decimal(repr(level)).quantize(series.places, ROUND_HALF_UP)
    if series.symbol == "7203" and day >= SPLIT_DAY:
        close /= 2  # as quoted after the split (x.5 yen possible)
    return close


def render() -> str:
    rng = random.Random(SEED)
    rows: list[tuple[date, int, str]] = []
    for order, series in enumerate(SERIES):
        days = _days(series)
        for day, level in zip(days, _walk(series, days, rng), strict=True):
            close = _close(series, day, level)
            rows.append(
                (day, order, f"{day.isoformat()},{series.symbol},{close},{series.currency}")
            )
    rows.sort()
    return "date,symbol,close,currency\n" + "".join(line + "\n" for *_, line in rows)


def main(argv: Sequence[str]) -> int:
    target = Path(argv[0]) if argv else OUTPUT
    target.write_text(render(), encoding="utf-8")
    print(f"wrote {target}")  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
