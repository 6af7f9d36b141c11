"""The performance report (`domain.performance.performance_report`, range MAX) of a
generated ledger: 10,000 activities (buys, deposits funding them, sells, dividends with
withholding tax, fees, splits) over 250 symbols (Tokyo stocks, US stocks, Japanese
funds) and 10 years of daily closes (weekdays, with gaps) and USD-JPY rates; JPY base,
FIFO. Deterministic (seeded). The report is timed (median of 5 runs, wall clock) and its
peak memory measured with tracemalloc (a separate run: tracing slows Python down); 2,500
and 5,000 activities over the same market data show the growth with the number of
activities. Targets: under 1 second on one core and under 200 MB. `rows()` gives the
rows of `make bench`'s table (bench/run.py); `python bench/bench_performance.py` prints
them alone."""

from __future__ import annotations

import random
import resource
import statistics
import sys
import time
import tracemalloc
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_CEILING, Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from portfoliowise.domain.activities import Activity, ActivityType
from portfoliowise.domain.instruments import parse_symbol
from portfoliowise.domain.ledger import CostMethod, FxHistory
from portfoliowise.domain.market import DailyClose, DailyHistory
from portfoliowise.domain.money import JPY, USD
from portfoliowise.domain.performance import PerformanceReport, performance_report
from table import Row, failed, render  # bench/table.py, beside this file

SEED = 20261128
SYMBOLS = 250
FIRST_DAY = date(2015, 1, 1)
DAYS = 3653  # ten years
AS_OF = FIRST_DAY + timedelta(days=DAYS - 1)
SIZES = (2_500, 5_000, 10_000)
RUNS = 5
TARGET_SECONDS = 1.0
TARGET_MB = 200.0


@dataclass(frozen=True)
class Market:
    closes: list[DailyHistory]
    rates: FxHistory
    paths: dict[str, list[Decimal | None]]  # close by day offset (None on closed days)
    usd: list[Decimal]  # USD-JPY by day offset (carried over closed days)


def _symbols(rng: random.Random) -> list[str]:
    tokyo = [f"{code}" for code in rng.sample(range(1301, 9999), 150)]
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    us: list[str] = []
    while len(us) < 80:
        code = "".join(rng.choice(letters) for _ in range(4))
        if code not in us:
            us.append(code)
    funds = [f"{rng.randrange(10**7):07d}{rng.choice('ABC')}" for _ in range(20)]
    return tokyo + us + funds


def build_market(rng: random.Random) -> Market:
    weekdays = [i for i in range(DAYS) if (FIRST_DAY + timedelta(days=i)).weekday() < 5]
    days = [FIRST_DAY + timedelta(days=i) for i in range(DAYS)]
    closes: list[DailyHistory] = []
    paths: dict[str, list[Decimal | None]] = {}
    for symbol in _symbols(rng):
        instrument = parse_symbol(symbol)
        price = rng.uniform(500, 20_000) if instrument.currency == JPY else rng.uniform(10, 500)
        cents = Decimal("0.01") if instrument.currency == USD else Decimal(1)
        path: list[Decimal | None] = [None] * DAYS
        rows = []
        for i in weekdays:
            price *= 1 + rng.gauss(0.0003, 0.015)
            if rng.random() < 0.01:  # a gap in the data
                continue
            close = Decimal(str(round(price, 2))).quantize(cents)
            path[i] = close
            rows.append(DailyClose(days[i], close))
        paths[symbol] = path
        closes.append(DailyHistory(symbol, instrument.currency.code, tuple(rows), "bench"))
    usd: list[Decimal] = []
    rate = 120.0
    points = {}
    for i in range(DAYS):
        if i in weekdays or not usd:
            rate *= 1 + rng.gauss(0, 0.004)
            points[days[i]] = Decimal(str(round(rate, 3)))
        usd.append(points[days[i]] if days[i] in points else usd[-1])
    return Market(closes, FxHistory(JPY, {USD: points}), paths, usd)


def _carried(path: list[Decimal | None]) -> list[Decimal | None]:
    """The latest close on or before each day."""
    result: list[Decimal | None] = []
    last = None
    for price in path:
        last = price if price is not None else last
        result.append(last)
    return result


def build_activities(rng: random.Random, market: Market, count: int) -> list[Activity]:
    """`count` activities on random days: buys (funded by a deposit in their currency
    when the cash would go below 0), sells of half or all of a holding, dividends with
    20 % withheld, fees and splits; never selling more than held."""
    symbols = list(market.paths)
    carried = {symbol: _carried(path) for symbol, path in market.paths.items()}
    held = dict.fromkeys(symbols, Decimal(0))
    cash = {JPY: Decimal(0), USD: Decimal(0)}
    activities: list[Activity] = []
    offsets = sorted(rng.randrange(DAYS) for _ in range(count))
    for index, offset in enumerate(offsets):
        if len(activities) >= count:
            break
        day = FIRST_DAY + timedelta(days=offset)
        symbol = rng.choice(symbols)
        instrument = parse_symbol(symbol)
        currency = instrument.currency
        price = carried[symbol][offset]
        fee = Decimal(2 if currency == USD else 250)
        roll = rng.random()
        if price is None or roll < 0.02:
            activities.append(
                Activity(f"f{index}", ActivityType.FEE, day, JPY, amount=Decimal(330))
            )
            cash[JPY] -= 330
        elif roll < 0.03 and held[symbol]:
            ratio = Decimal(rng.choice(["2", "3", "0.5"]))
            activities.append(
                Activity(f"x{index}", ActivityType.SPLIT, day, currency, symbol, quantity=ratio)
            )
            held[symbol] *= ratio
        elif roll < 0.12 and held[symbol]:
            gross = instrument.value_of(held[symbol], price) * Decimal("0.005")
            amount = gross.quantize(currency.quantum) + currency.quantum
            taxes = (amount * Decimal("0.2")).quantize(currency.quantum)
            activities.append(
                Activity(
                    f"d{index}", ActivityType.DIVIDEND, day, currency, symbol,
                    amount=amount, taxes=taxes,
                )
            )  # fmt: skip
            cash[currency] += amount - taxes
        elif roll < 0.40 and held[symbol] >= 1:
            quantity = held[symbol]
            if quantity >= 2 and rng.random() < 0.8:
                quantity = (quantity / 2).quantize(1)
            held[symbol] -= quantity
            activities.append(
                Activity(
                    f"s{index}", ActivityType.SELL, day, currency, symbol,
                    quantity=quantity, unit_price=price, fees=fee,
                )
            )  # fmt: skip
            cash[currency] += instrument.value_of(quantity, price) - fee
        else:
            if instrument.bought_by_amount:
                lot = Decimal(rng.randrange(10_000, 1_000_000))
            elif currency == JPY:
                lot = Decimal(100)
            else:
                lot = Decimal(rng.randrange(1, 50))
            cost = instrument.value_of(lot, price) + fee
            if cash[currency] < cost:
                step = Decimal(1_000_000) if currency == JPY else Decimal(10_000)
                amount = ((cost - cash[currency]) / step).to_integral_value(ROUND_CEILING) * step
                activities.append(
                    Activity(f"dep{index}", ActivityType.DEPOSIT, day, currency, amount=amount)
                )
                cash[currency] += amount
            held[symbol] += lot
            activities.append(
                Activity(
                    f"b{index}", ActivityType.BUY, day, currency, symbol,
                    quantity=lot, unit_price=price, fees=fee,
                )
            )  # fmt: skip
            cash[currency] -= cost
    return activities[:count]


def report(market: Market, activities: list[Activity]) -> PerformanceReport:
    return performance_report(
        activities,
        base_currency=JPY,
        closes=market.closes,
        fx=market.rates,
        period="MAX",
        as_of=AS_OF,
        method=CostMethod.FIFO,
    )


@dataclass(frozen=True)
class Measurement:
    seconds: float  # median wall clock of RUNS
    cpu: float  # median CPU time of this process over the same runs
    megabytes: float  # tracemalloc's peak during one more run
    report: PerformanceReport


def measure(market: Market, activities: list[Activity]) -> Measurement:
    result = report(market, activities)  # warm-up
    walls, cpus = [], []
    for _ in range(RUNS):
        wall, cpu = time.perf_counter(), time.process_time()
        result = report(market, activities)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    tracemalloc.start()
    tracemalloc.reset_peak()
    report(market, activities)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return Measurement(statistics.median(walls), statistics.median(cpus), peak / 1e6, result)


GROUP = "performance"


def rows() -> list[Row]:
    """The report's time and peak memory per ledger size, the growth per activity, and
    the whole process's peak RSS with its inputs, as rows of the bench table."""
    rng = random.Random(SEED)
    market = build_market(rng)
    closes = sum(len(history.closes) for history in market.closes)
    out: list[Row] = []
    seen: list[tuple[int, float]] = []
    for size in SIZES:
        activities = build_activities(random.Random(SEED + size), market, size)
        m = measure(market, activities)
        seen.append((len(activities), m.cpu))
        label = f"report MAX, {len(activities):,} activities, {SYMBOLS} symbols, 10 y"
        note = (
            f"cpu {m.cpu:.3f} s; {len(m.report.series):,} days, {closes:,} closes, "
            f"{m.report.filled_total:,} filled, twr {m.report.twr:.4f}"
        )
        out.append(
            Row(
                GROUP,
                f"{label}: time (median of {RUNS})",
                f"{m.seconds:.3f} s",
                f"< {TARGET_SECONDS:.1f} s",
                m.seconds < TARGET_SECONDS,
                note,
            )
        )
        out.append(
            Row(
                GROUP,
                f"{label}: peak memory (tracemalloc)",
                f"{m.megabytes:.1f} MB",
                f"< {TARGET_MB:.0f} MB",
                m.megabytes < TARGET_MB,
            )
        )
    (first, first_cpu), (last, last_cpu) = seen[0], seen[-1]
    slope = (last_cpu - first_cpu) / (last - first) * 1e6
    out.append(
        Row(
            GROUP,
            "growth: CPU per activity beyond the market data",
            f"{slope:.0f} us",
            note=f"plus {first_cpu - slope * first / 1e6:.3f} s for the market data "
            "(linear in activities, closes and days)",
        )
    )
    # The whole process (interpreter, the 10 years of closes, every ledger and report
    # built above) against the portfolio function's memory: what Lambda would see.
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out.append(
        Row(
            GROUP,
            "process peak RSS with the inputs",
            f"{rss:.0f} MB",
            f"< {TARGET_MB:.0f} MB",
            rss < TARGET_MB,
            "the portfolio function has 256 MB; in `make bench` the process also ran "
            "the benchmarks before this one",
        )
    )
    return out


def main() -> int:
    result = rows()
    print(render(result))
    return 1 if failed(result) else 0


if __name__ == "__main__":
    sys.exit(main())
