"""`portfoliowise performance LEDGER --prices PRICES.csv [--json]`: the performance report
(`domain.performance`) of an activities file of any importable format over a range,
measured against a prices CSV of daily closes and FX rates. Offline and deterministic:
the as-of date defaults to the last date of the prices file, never today.

This command loads neither the API nor the AWS SDK, pandas or yfinance (`cli.main`
builds it without the commands that do; a test checks it in a fresh interpreter).

- The base currency is `--currency`, else the file's (`baseCurrency` of this project's
  JSON, the existing app's export), else JPY. An activity's `fx_rate` is a rate into the
  ledger's base currency: when the file names a base and `--currency` is another, the
  file's rates are set aside and the prices file's rates are used instead.
- FX pairs of the prices file are used directly or inverted (`USD-JPY` for JPY or USD);
  a pair without the base currency is not used (no cross rates).
- A missing close or rate is never invented: the report carries the last one forward
  (counted as filled) and before the first one the day's value is unknown (null, "n/a").
- `--mode partial` keeps the good rows of both files and prints each refused row as a
  warning on stderr, with its line; `all_or_nothing` (the default) refuses the file."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

from portfoliowise.adapters.ledger_files import (
    ALL_OR_NOTHING,
    MAX_LEDGER_BYTES,
    PARTIAL,
    LedgerFormat,
    LedgerImport,
    PriceFile,
    RejectedRow,
    read_ledger,
    read_prices,
)
from portfoliowise.adapters.portfolio_files import FileFormatError
from portfoliowise.domain.activities import Activity, CostMethod
from portfoliowise.domain.errors import PayloadTooLarge, ValidationError
from portfoliowise.domain.events import JsonValue
from portfoliowise.domain.market import DailyHistory
from portfoliowise.domain.money import Currency, Money
from portfoliowise.domain.performance import PerformanceReport, Period, performance_report
from portfoliowise.handlers import tables
from portfoliowise.handlers.presenters import pct_display

COMMAND: Final = "performance"
DEFAULT_CURRENCY: Final = "JPY"
NOT_AVAILABLE: Final = "n/a"
RANGES: Final = " ".join(p.value for p in Period)


def add_commands(commands: argparse._SubParsersAction[Any]) -> None:
    perf = commands.add_parser(
        COMMAND, help="returns, income and P/L of an activities file against daily closes"
    )
    perf.add_argument("ledger", type=Path, metavar="LEDGER", help="activities file, any format")
    perf.add_argument(
        "--prices",
        type=Path,
        required=True,
        metavar="PRICES.csv",
        help="daily closes and FX rates: date,symbol,close[,currency]",
    )
    perf.add_argument("--currency", help="base currency (default: the file's, else JPY)")
    perf.add_argument(
        "--range", default="MAX", help=f"{RANGES} or YYYY-MM-DD..YYYY-MM-DD (default: MAX)"
    )
    perf.add_argument(
        "--as-of", metavar="YYYY-MM-DD", help="default: the last date in the prices file"
    )
    perf.add_argument(
        "--cost-basis",
        choices=[m.value for m in CostMethod],
        help="default: the file's, else average",
    )
    perf.add_argument(
        "--mode",
        choices=[ALL_OR_NOTHING, PARTIAL],
        default=ALL_OR_NOTHING,
        help="partial: skip refused rows (warnings on stderr) instead of refusing the file",
    )
    perf.add_argument(
        "--opening-date",
        metavar="YYYY-MM-DD",
        help="holdings files: date of the opening buys (default: the first price date)",
    )
    perf.add_argument(
        "--format",
        choices=[f.value for f in LedgerFormat],
        help="the ledger's format (default: detected from its content)",
    )
    perf.add_argument(
        "--split-adjusted",
        action="store_true",
        help="the closes are adjusted for later splits (as Yahoo's); default: as quoted",
    )
    perf.add_argument("--series", action="store_true", help="include the daily value series")
    perf.add_argument("--json", action="store_true", help="print one JSON document")
    perf.set_defaults(handler=cmd_performance)


# -- reading ---------------------------------------------------------------------------


def read_file(path: Path) -> bytes:
    """The file's bytes, refused above the activities files' limit before it is read."""
    try:
        size = path.stat().st_size
        if size > MAX_LEDGER_BYTES:
            raise PayloadTooLarge(
                f"{path}: the file is {size:,} bytes, over the limit of {MAX_LEDGER_BYTES:,} bytes"
            )
        with path.open("rb") as handle:
            return handle.read(MAX_LEDGER_BYTES + 1)
    except FileNotFoundError:
        raise FileFormatError(f"{path}: no such file") from None
    except OSError as exc:
        raise FileFormatError(f"{path}: cannot read ({exc.strerror or exc})") from None


def parse_day(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValidationError(f"{option}: not a date (YYYY-MM-DD): {text.strip()[:40]!r}") from None


def price_days(prices: PriceFile) -> list[date]:
    """The first and last days of the file's closes and rates (empty: no rows)."""
    histories = [*prices.closes.values(), *prices.fx.values()]
    days = [h.closes[i].day for h in histories if h.closes for i in (0, -1)]
    return [min(days), max(days)] if days else []


def rates_into(prices: PriceFile, base: Currency) -> list[DailyHistory]:
    """The FX pairs of the file that give a rate into `base`, directly or inverted."""
    return [history for pair, history in prices.fx.items() if base.code in pair.split("-")]


def warn(message: str) -> None:
    print(f"portfoliowise: warning: {' '.join(message.splitlines())}", file=sys.stderr)


def warn_rejected(path: Path, rows: tuple[RejectedRow, ...]) -> None:
    for row in rows:
        warn(f"{path}: {row.describe()} (row skipped)")


def ledger_activities(imported: LedgerImport, base: Currency) -> list[Activity]:
    """The activities, without their `fx_rate` when the file names another base currency
    (a rate into JPY says nothing of USD): the prices file's rates are used instead."""
    activities = list(imported.activities)
    named = imported.base_currency
    if named is None or named == base:
        return activities
    return [a if a.fx_rate is None else replace(a, fx_rate=None) for a in activities]


# -- the command -----------------------------------------------------------------------


def cmd_performance(args: argparse.Namespace) -> int:
    as_of = parse_day(args.as_of, "--as-of") if args.as_of else None
    opening = parse_day(args.opening_date, "--opening-date") if args.opening_date else None
    currency = Currency.of(args.currency) if args.currency else None

    prices = read_prices(read_file(args.prices), filename=str(args.prices), mode=args.mode)
    span = price_days(prices)
    imported = read_ledger(
        read_file(args.ledger),
        filename=str(args.ledger),
        mode=args.mode,
        opening_date=opening or (span[0] if span else as_of),
        format=args.format,
    )
    warn_rejected(args.prices, prices.rejected)
    warn_rejected(args.ledger, imported.rejected)
    if imported.unknown_cost:
        warn(
            f"{args.ledger}: no acquisition price for {', '.join(imported.unknown_cost)}: "
            "their opening buys are at the file's current price"
        )

    base = currency or imported.base_currency or Currency.of(DEFAULT_CURRENCY)
    if args.cost_basis:
        method = CostMethod.parse(args.cost_basis)
    elif imported.cost_basis:
        method = CostMethod.parse(imported.cost_basis)
    else:
        method = CostMethod.AVERAGE
    activities = ledger_activities(imported, base)
    if as_of is None:
        if span:
            as_of = span[1]
        elif activities:
            as_of = max(a.day for a in activities)
        else:
            raise ValidationError(f"{args.prices}: no prices and no activities: give --as-of")

    report = performance_report(
        activities,
        base_currency=base,
        closes=prices.closes,
        fx=rates_into(prices, base),
        period=args.range,
        as_of=as_of,
        method=method,
        split_adjusted=args.split_adjusted,
    )
    if args.json:
        document = performance_json(report, args, imported, prices, as_of)
        print(json.dumps(document, ensure_ascii=False))
        return 0
    print_report(report, args, imported, prices, as_of)
    return 0


# -- output ----------------------------------------------------------------------------


def _rejected_json(rows: tuple[RejectedRow, ...]) -> list[JsonValue]:
    return [
        {"line": row.line, "where": row.where, "code": row.code, "reason": row.reason}
        for row in rows
    ]


def _texts(items: Iterable[str]) -> list[JsonValue]:
    return list(items)


def performance_json(
    report: PerformanceReport,
    args: argparse.Namespace,
    imported: LedgerImport,
    prices: PriceFile,
    as_of: date,
) -> dict[str, JsonValue]:
    """The report's JSON (amounts as decimal strings rounded to the base currency's minor
    unit, returns as decimal fractions to ten places, null when unknown), with the as-of
    date and what was read from each file."""
    return {
        "asOf": as_of.isoformat(),
        **report.to_json(series=args.series),
        "ledger": {
            "file": str(args.ledger),
            "format": imported.format.value,
            "encoding": imported.encoding,
            "activities": len(imported.activities),
            "rejected": _rejected_json(imported.rejected),
            "unknownCost": _texts(imported.unknown_cost),
        },
        "prices": {
            "file": str(args.prices),
            "symbols": _texts(sorted(prices.closes)),
            "pairs": _texts(sorted(prices.fx)),
            "rejected": _rejected_json(prices.rejected),
        },
    }


def _money(amount: Decimal | None, currency: Currency) -> str:
    return NOT_AVAILABLE if amount is None else Money(amount, currency).display()


def _rate(rate: Decimal | None) -> str:
    return NOT_AVAILABLE if rate is None else f"{pct_display(rate * 100)} %"


def _count(n: int, what: str) -> str:
    if n == 1:
        return f"1 {what}"
    return f"{n:,} {what[:-1]}ies" if what.endswith("y") else f"{n:,} {what}s"


def _counts(total: int, parts: Mapping[str, int]) -> str:
    detail = ", ".join(f"{key} {count}" for key, count in sorted(parts.items()))
    return f"{total}" + (f" ({detail})" if detail else "")


def print_report(
    report: PerformanceReport,
    args: argparse.Namespace,
    imported: LedgerImport,
    prices: PriceFile,
    as_of: date,
) -> None:
    base = report.currency
    window = report.range
    dates = f"{window.start}..{window.end}"
    label = dates if window.label == dates else f"{window.label} {dates}"
    print(
        f"{args.ledger} ({imported.format.value}, {_count(len(imported.activities), 'activity')}"
        f"): performance in {base.code}, {label}, cost basis {report.method.value}"
    )
    print(
        f"Prices: {args.prices} ({_count(len(prices.closes), 'symbol')}, "
        f"{_count(len(prices.fx), 'FX pair')}), as of {as_of}"
    )
    gain = report.gain
    figures = [
        ("Value", _money(report.value, base)),
        (f"Value on {window.base}", _money(report.start_value, base)),
        ("Invested", _money(report.invested, base)),
        ("Net flows in range", _money(report.net_flows, base)),
        ("Gain", _money(gain, base)),
        ("Income", _money(report.income, base)),
        ("Fees", _money(report.fees, base)),
        ("Taxes", _money(report.taxes, base)),
        ("Realized P/L", _money(report.realized, base)),
        ("Unrealized P/L", _money(report.unrealized, base)),
        ("TWR", _rate(report.twr)),
        ("XIRR (annual)", _rate(report.xirr)),
        ("Price effect", _money(report.price_effect, base)),
        ("Currency effect", _money(report.currency_effect, base)),
        ("Cash currency effect", _money(report.cash_currency_effect, base)),
    ]
    print()
    print(tables.render(["Figure", "Amount"], [list(row) for row in figures], [False, True]))
    print(f"Filled (carried from an earlier day): {_counts(report.filled_total, report.filled)}")
    print(f"Unknown days: {_counts(report.unknown_days, report.unknown)}")
    if report.holdings:
        rows = [
            [
                h.symbol,
                f"{h.quantity:,f}",
                NOT_AVAILABLE if h.price is None else Money(h.price, h.currency).display(True),
                _money(h.value, base),
                _money(h.cost, base),
                _money(h.unrealized, base),
                _money(h.realized, base),
                _money(h.income, base),
                _money(h.price_effect, base),
                _money(h.currency_effect, base),
            ]
            for h in report.holdings
        ]
        headers = ["Symbol", "Quantity", "Price", "Value", "Cost", "Unrealized", "Realized"]
        print()
        print(
            tables.render([*headers, "Income", "Price eff.", "FX eff."], rows, [False, *[True] * 9])
        )
    if report.cash:
        cash = ", ".join(
            Money(a, c).display() for c, a in sorted(report.cash.items(), key=lambda i: i[0].code)
        )
        print(f"\nCash: {cash}")
    if report.unknown:
        print(
            "Unknown values are left out, never assumed: a symbol before its first close "
            "or a currency before its first rate in the prices file."
        )
