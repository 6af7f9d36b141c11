"""`portfoliowise` command line: portfolio files, a ledger's performance, backups, the API.

Value, simulate and analyse a portfolio file; measure a ledger's performance against
daily closes; back up and restore; serve the API.

Errors the user can fix (bad file, unknown symbol, bad budget, missing price, a value
outside the limits of `domain.limits`) print one line on stderr and exit 2; nothing is
half-done because nothing is written."""

from __future__ import annotations

import argparse
import decimal
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from portfoliowise.adapters.clock import SystemClock
from portfoliowise.adapters.portfolio_files import LoadedPortfolio, load_portfolio, load_quotes
from portfoliowise.domain.allocation import Dimension, allocation, drift
from portfoliowise.domain.errors import DomainError, ValidationError
from portfoliowise.domain.fx import RateTable
from portfoliowise.domain.money import Currency, Money, to_decimal
from portfoliowise.domain.quotes import Quote
from portfoliowise.domain.simulation import SimulationMode, SimulationOptions, simulate
from portfoliowise.domain.valuation import value_portfolio
from portfoliowise.handlers import tables
from portfoliowise.handlers.presenters import pct_display, simulation_json, valuation_json

EXIT_USER_ERROR = 2
# Options whose value may start with "-" (a negative budget must reach the budget check,
# not be taken for an unknown option by argparse).
VALUE_OPTIONS = ("--budget", "--tolerance")
LIGHT_COMMANDS = frozenset({"value", "simulate"})  # defined here, built from this module only
BREAKDOWNS = (Dimension.ASSET_CLASS, Dimension.CURRENCY, Dimension.MARKET, Dimension.REGION)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise ValidationError(message)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """Every command, each subcommand's module imported only when needed: for `command`
    (the one about to run) `value` or `simulate`, only those two (no ledger readers);
    for `performance`, without `analyze`, `backup` and `serve`, whose modules load the
    API, the AWS SDK and the container."""
    parser = _Parser(prog="portfoliowise", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    value = commands.add_parser("value", help="value a portfolio and show its allocation")
    value.add_argument("file", type=Path, help="portfolio JSON or the existing app's export")
    value.add_argument("--quotes", type=Path, help="quotes file (prices and FX rates)")
    value.add_argument("--currency", help="valuation currency (default: the portfolio's)")
    value.add_argument("--json", action="store_true", help="print one JSON document")
    value.set_defaults(handler=cmd_value)

    sim = commands.add_parser("simulate", help="plan an additional investment")
    sim.add_argument("file", type=Path, help="portfolio JSON or the existing app's export")
    sim.add_argument("--budget", required=True, help="amount with currency, e.g. 300000JPY")
    sim.add_argument("--mode", choices=[m.value for m in SimulationMode], default="buy")
    sim.add_argument(
        "--tolerance", default="5", help="rebalance: sell only above target + this many points"
    )
    sim.add_argument("--quotes", type=Path, help="quotes file (prices and FX rates)")
    sim.add_argument("--json", action="store_true", help="print one JSON document")
    sim.set_defaults(handler=cmd_simulate)

    if command in LIGHT_COMMANDS:
        return parser
    from portfoliowise.handlers import cli_performance  # the ledger readers

    cli_performance.add_commands(commands)
    if command == cli_performance.COMMAND:
        return parser
    from portfoliowise.handlers import cli_analyze, cli_backup, cli_serve  # API, boto3

    cli_analyze.add_commands(commands, _market_data)
    cli_backup.add_commands(commands)
    cli_serve.add_commands(commands)
    return parser


def _market_data(
    loaded: LoadedPortfolio, quotes_path: Path | None
) -> tuple[dict[str, Quote], RateTable, str]:
    """A quotes file when given; else the prices and rate the file itself carries."""
    if quotes_path is not None:
        snapshot = load_quotes(quotes_path)
        sample = ": SAMPLE DATA, not market prices" if snapshot.sample else ""
        label = f"{quotes_path.name} (source {snapshot.source}{sample})"
        return snapshot.quotes, RateTable(snapshot.rates), label
    if loaded.quotes or loaded.rates:
        return loaded.quotes, RateTable(loaded.rates), "prices in the portfolio file"
    return {}, RateTable(), "none (pass --quotes FILE)"


def cmd_value(args: argparse.Namespace) -> int:
    clock = SystemClock()
    loaded = load_portfolio(args.file, at=clock.now())
    quotes, rates, label = _market_data(loaded, args.quotes)
    portfolio = loaded.portfolio
    currency = Currency.of(args.currency) if args.currency else None
    valuation = value_portfolio(portfolio, quotes, rates, at=clock.now(), currency=currency)
    breakdowns = {by.value: allocation(valuation, by) for by in BREAKDOWNS}
    drifts = drift(valuation, portfolio.targets)
    if args.json:
        print(json.dumps(valuation_json(valuation, breakdowns, drifts), ensure_ascii=False))
        return 0

    targets = portfolio.targets
    print(f"{portfolio.name}: valued in {valuation.currency.code}, quotes: {label}")
    rows = [
        [
            h.symbol,
            h.holding.name or h.quote.name or "",
            f"{h.holding.quantity:,f}",
            h.price.display(exact=True),
            h.base_value.display(),
            pct_display(h.weight),
            pct_display(targets[h.symbol]) if h.symbol in targets else "",
            "" if h.unrealized_pl is None else h.unrealized_pl.display(),
            h.quote.status.value,
        ]
        for h in valuation.holdings
    ]
    headers = ["Symbol", "Name", "Quantity", "Price", "Value", "Weight%", "Target%", "P/L"]
    print(tables.render([*headers, "Quote"], rows, [False, False, *[True] * 6, False]))
    print(f"Total: {valuation.total.display()}")
    if valuation.unrealized_pl is not None:
        print(f"Unrealized P/L (holdings with a cost basis): {valuation.unrealized_pl.display()}")
    for item in valuation.unpriced:
        print(f"Unpriced, not in the total: {item.symbol} ({item.detail})")
    if valuation.stale:
        print("Stale quotes: " + ", ".join(valuation.stale))
    for by, slices in breakdowns.items():
        print(f"\nBy {by}")
        slice_rows = [[s.key, s.value.display(), pct_display(s.weight)] for s in slices]
        print(tables.render(["Key", "Value", "Weight%"], slice_rows, [False, True, True]))
    if drifts:
        print("\nDrift against targets (most under-weight first)")
        drift_rows = [
            [
                d.symbol,
                pct_display(d.target),
                pct_display(d.current),
                pct_display(d.drift),
                d.gap.display(),
            ]
            for d in drifts
        ]
        print(
            tables.render(
                ["Symbol", "Target%", "Now%", "Drift", "Gap"], drift_rows, [False, *[True] * 4]
            )
        )
    return 0


def cmd_simulate(args: argparse.Namespace) -> int:
    clock = SystemClock()
    budget = Money.parse(args.budget)
    tolerance = to_decimal(args.tolerance, "--tolerance")
    loaded = load_portfolio(args.file, at=clock.now())
    quotes, rates, label = _market_data(loaded, args.quotes)
    if not quotes:
        raise ValidationError(f"{args.file}: no prices to plan with: pass --quotes FILE")
    options = SimulationOptions(mode=SimulationMode(args.mode), tolerance=tolerance)
    result = simulate(loaded.portfolio, quotes, rates, budget, options)
    if args.json:
        print(json.dumps(simulation_json(result), ensure_ascii=False))
        return 0

    print(
        f"{loaded.portfolio.name}: {result.mode.value} plan for {budget.display()}, quotes: {label}"
    )
    if result.orders:
        rows = [
            [
                o.side.value,
                o.symbol,
                f"{o.quantity:,f}",
                o.price.display(exact=True),
                o.local_amount.display(),
                o.cost.display(),
            ]
            for o in result.orders
        ]
        headers = ["Side", "Symbol", "Quantity", "Price", "Amount", f"Cost ({budget.currency})"]
        print(tables.render(headers, rows, [False, False, True, True, True, True]))
    else:
        print("No order: the budget cannot buy a lot that brings the portfolio closer to target.")
    print(f"Spent: {result.spent.display()}   Leftover: {result.leftover.display()}")
    weight_rows = [
        [line.symbol, pct_display(line.target), pct_display(line.before), pct_display(line.after)]
        for line in result.lines
    ]
    print()
    print(
        tables.render(
            ["Symbol", "Target%", "Now%", "After%"], weight_rows, [False, True, True, True]
        )
    )
    print(
        f"Distance from targets (sum of |weight - target|): "
        f"{pct_display(result.distance_before)} -> {pct_display(result.distance_after)} points"
    )
    for symbol in result.excluded:
        print(f"Left out (no usable price): {symbol}")
    return 0


def _attach_values(argv: Sequence[str]) -> list[str]:
    """`--budget -5JPY` -> `--budget=-5JPY`, so that argparse passes the value on."""
    out: list[str] = []
    args = iter(argv)
    for arg in args:
        if arg in VALUE_OPTIONS:
            value = next(args, None)
            if value is not None and value.startswith("-") and not value.startswith("--"):
                out.append(f"{arg}={value}")
                continue
            out.append(arg)
            if value is not None:
                out.append(value)
            continue
        out.append(arg)
    return out


def _one_line(message: str) -> str:
    """The message on one line (a file name or a quoted value may hold a line break)."""
    return " ".join(message.splitlines())


def main(argv: Sequence[str] | None = None) -> int:
    try:
        raw = sys.argv[1:] if argv is None else argv
        args = build_parser(raw[0] if raw else None).parse_args(_attach_values(raw))
        handler: Callable[[argparse.Namespace], int] = args.handler
        return handler(args)
    except DomainError as exc:
        print(f"portfoliowise: error: {_one_line(str(exc))}", file=sys.stderr)
        return EXIT_USER_ERROR
    except decimal.DecimalException as exc:  # e.g. a budget of 1e999999999JPY
        name = type(exc).__name__
        print(f"portfoliowise: error: a number is out of range ({name})", file=sys.stderr)
        return EXIT_USER_ERROR
    except BrokenPipeError:  # e.g. piped into `head`
        return 0


if __name__ == "__main__":
    sys.exit(main())
