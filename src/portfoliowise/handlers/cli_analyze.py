"""`portfoliowise analyze FILE [--quotes Q] [--language ja|en] [--json]`: the analysis use
case, offline, on the embedded in-process pieces: the file's portfolio in a memory store,
its prices from the quotes file (or the export's own), a job requested and consumed over
the in-process bus, exactly as `serve` and the analysis function run it. The rule-based
analyst always answers; the OpenAI analyst too when `OPENAI_API_KEY` is set."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from portfoliowise.adapters.clock import SystemClock, UuidGenerator
from portfoliowise.adapters.events import InProcessBus
from portfoliowise.adapters.memory import (
    InMemoryAnalysisJobs,
    InMemoryAuditLog,
    InMemoryPortfolioRepository,
)
from portfoliowise.adapters.portfolio_files import LoadedPortfolio, load_portfolio
from portfoliowise.application.analysis import AnalysisPorts, request_analysis, run_analysis
from portfoliowise.application.pricing import prices_in_batches
from portfoliowise.domain.analysis_jobs import AnalysisRequested
from portfoliowise.domain.errors import DomainError
from portfoliowise.domain.events import DomainEvent
from portfoliowise.domain.fx import RateTable
from portfoliowise.domain.instruments import parse_symbol
from portfoliowise.domain.money import Currency, Money
from portfoliowise.domain.quotes import Quote, QuoteStatus
from portfoliowise.handlers import tables
from portfoliowise.handlers.container import analyst_for
from portfoliowise.handlers.settings import Settings

MarketData = Callable[[LoadedPortfolio, Path | None], tuple[dict[str, Quote], RateTable, str]]


class FileQuotes:
    """The quote service over a file's prices and rates (direct, inverse or cross)."""

    def __init__(self, quotes: dict[str, Quote], rates: RateTable) -> None:
        self._quotes = quotes
        self._rates = rates

    def get_quotes(self, symbols: Sequence[str]) -> dict[str, Quote]:
        return {
            s: self._quotes.get(s) or Quote(s, None, QuoteStatus.UNAVAILABLE, "file")
            for s in symbols
        }

    def get_prices(self, symbols: Sequence[str], pairs: Sequence[str]) -> dict[str, Quote]:
        return prices_in_batches(self, symbols, pairs)

    def get_rates(self, pairs: Sequence[str]) -> dict[str, Quote]:
        out: dict[str, Quote] = {}
        for pair in pairs:
            code = parse_symbol(pair).code
            base, quote = Currency.of(code[:3]), Currency.of(code[4:])
            rate = self._rates.find(base, quote)
            out[pair] = (
                Quote(pair, Money(rate, quote), QuoteStatus.CACHED, "file")
                if rate is not None
                else Quote(pair, None, QuoteStatus.UNAVAILABLE, "file")
            )
        return out


def add_commands(commands: argparse._SubParsersAction[Any], market_data: MarketData) -> None:
    analyze = commands.add_parser("analyze", help="analyse a portfolio (rules, and AI if set)")
    analyze.add_argument("file", type=Path, help="portfolio JSON or the existing app's export")
    analyze.add_argument("--quotes", type=Path, help="quotes file (prices and FX rates)")
    analyze.add_argument("--language", choices=["ja", "en"], default="ja")
    analyze.add_argument("--json", action="store_true", help="print one JSON document")
    analyze.set_defaults(handler=lambda args: cmd_analyze(args, market_data))


def analyse_file(
    loaded: LoadedPortfolio, quotes: dict[str, Quote], rates: RateTable, language: str
) -> dict[str, Any]:
    """The job's report, through the same use cases as the API and the function."""
    clock = SystemClock()
    audit = InMemoryAuditLog(clock)
    portfolios = InMemoryPortfolioRepository(audit)
    portfolio = loaded.portfolio
    portfolios.add(portfolio, [])
    bus = InProcessBus()
    ports = AnalysisPorts(
        jobs=InMemoryAnalysisJobs(clock),
        portfolios=portfolios,
        events=bus,
        audit=audit,
        market=FileQuotes(quotes, rates),
        clock=clock,
        ids=UuidGenerator(),
        analyst=analyst_for(Settings.from_env()),
    )

    def consume(event: DomainEvent) -> None:
        if isinstance(event, AnalysisRequested):
            run_analysis(ports, job_id=event.job_id, event_id=event.event_id)

    bus.subscribe(AnalysisRequested.__name__, consume)
    job = request_analysis(
        ports, user_id=portfolio.user_id, portfolio_id=portfolio.portfolio_id, language=language
    )
    done = ports.jobs.get(job.job_id)
    if done.report is None:
        raise DomainError(done.error or "the analysis did not finish")
    return done.report


def cmd_analyze(args: argparse.Namespace, market_data: MarketData) -> int:
    loaded = load_portfolio(args.file, at=SystemClock().now())
    quotes, rates, label = market_data(loaded, args.quotes)
    report = analyse_file(loaded, quotes, rates, args.language)
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
        return 0
    analyst = report["analyst"] + (f" ({report['model']})" if report.get("model") else "")
    fallback = report.get("fallbackReason")
    print(f"{loaded.portfolio.name}: analysis by {analyst}, quotes: {label}")
    if fallback and report["analyst"] == "rules":
        print(f"(the AI analyst did not answer: {fallback})")
    print(report["summary"])
    rows = [
        [r["rule"], r["outcome"], r["value"] or "", r["threshold"] or "", r["message"]]
        for r in report["rules"]
    ]
    headers = ["Rule", "Outcome", "Value", "Threshold", "Detail"]
    print(tables.render(headers, rows, [False, False, True, True, False], max_width=60))
    for risk in report["risks"]:
        print(f"Risk: {risk}")
    for suggestion in report["suggestions"]:
        rule = f" [{suggestion['rule']}]" if suggestion.get("rule") else ""
        print(f"Suggestion{rule}: {suggestion['text']}")
    return 0
