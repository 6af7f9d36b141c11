"""Hypothesis properties of the rule-based analyst: any portfolio and valuation the domain
allows (with or without quotes, FX rates, targets, fees and history, in any base or
valuation currency) gets a complete report, never an exception; and the work stays
bounded at the limits (10,000 holdings with 20 years of history each)."""

from __future__ import annotations

import json
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portfoliowise.domain.analysis import Language, RuleOutcome
from portfoliowise.domain.fx import FxRate, RateTable
from portfoliowise.domain.instruments import Market, parse_symbol
from portfoliowise.domain.limits import MAX_HOLDINGS
from portfoliowise.domain.market import DailyClose
from portfoliowise.domain.money import EUR, JPY, USD, Currency, Money
from portfoliowise.domain.portfolio import Holding, Portfolio
from portfoliowise.domain.quotes import Quote, QuoteStatus
from portfoliowise.domain.risk_rules import (
    MAX_HISTORY_DAYS,
    RULE_IDS,
    Thresholds,
    portfolio_figures,
    rule_based_report,
)
from portfoliowise.domain.valuation import value_portfolio

AT = datetime(2024, 6, 3, 6, 0, tzinfo=UTC)
SYMBOLS = ["7203", "6758", "8306", "130A", "VTI", "VOO", "BND", "BRK-B", "0331418A", "2931113C"]
USER_ID = "google-oauth2|user-778123"
PORTFOLIO_ID = "pf-0f9a8b7c"
PORTFOLIO_NAME = "Hanako's retirement"
REASONS = {
    "no priced holdings",
    "no targets",
    "no fee data",
    "no home market",
    "no history",
    "not enough history",
    "fewer than 2 holdings",
    "no price variation",
}


def price_of(symbol: str) -> st.SearchStrategy[Money]:
    market = parse_symbol(symbol).market
    if market is Market.US:
        return st.integers(1, 10**8).map(lambda n: Money(Decimal(n) / 100, USD))
    return st.integers(1, 10**7).map(lambda n: Money(Decimal(n) / 10, JPY))


def quantity_of(symbol: str) -> st.SearchStrategy[Decimal]:
    return st.integers(0, 10**9).map(lambda n: Decimal(n) / 100)


@st.composite
def history_of(draw: st.DrawFn) -> list[DailyClose]:
    start = date(2024, 1, 1) + timedelta(days=draw(st.integers(0, 10)))
    gaps = draw(st.lists(st.integers(1, 3), max_size=40))
    prices = draw(
        st.lists(
            st.one_of(
                st.integers(1, 10**6).map(lambda n: Decimal(n) / 100),
                st.sampled_from([Decimal(0), Decimal(-1), Decimal("NaN"), Decimal(10) ** 12]),
            ),
            min_size=len(gaps),
            max_size=len(gaps),
        )
    )
    result, day = [], start
    for gap, close in zip(gaps, prices, strict=True):
        day += timedelta(days=gap)
        result.append(DailyClose(day, close))
    return result


@st.composite
def targets_of(draw: st.DrawFn, symbols: list[str]) -> dict[str, int]:
    cuts = sorted(draw(st.lists(st.integers(0, 100), min_size=len(symbols) - 1)))[
        : len(symbols) - 1
    ]
    bounds = [0, *cuts, 100]
    return {s: bounds[i + 1] - bounds[i] for i, s in enumerate(symbols)}


@st.composite
def cases(draw: st.DrawFn) -> dict[str, object]:
    symbols = draw(st.lists(st.sampled_from(SYMBOLS), unique=True, max_size=len(SYMBOLS)))
    regions = st.none() | st.sampled_from(["Japan", "日本", "Global", "US", "北米", "a@b.c"])
    holdings = [
        Holding.of(s, draw(quantity_of(s)), region=draw(regions), name=PORTFOLIO_NAME)
        for s in symbols
    ]
    target_symbols = draw(st.lists(st.sampled_from(SYMBOLS), unique=True, max_size=5))
    targets = draw(targets_of(target_symbols)) if target_symbols else None
    base = draw(st.sampled_from([JPY, USD, EUR]))
    portfolio = Portfolio(
        user_id=USER_ID,
        portfolio_id=PORTFOLIO_ID,
        name=PORTFOLIO_NAME,
        base_currency=base,
        created_at=AT,
        holdings=holdings,
        targets=targets,
    )
    quotes: dict[str, Quote] = {}
    for s in symbols:
        kind = draw(st.sampled_from(["live", "stale", "unavailable", "missing"]))
        if kind == "unavailable":
            quotes[s] = Quote.unavailable(s)
        elif kind != "missing":
            status = QuoteStatus.STALE if kind == "stale" else QuoteStatus.LIVE
            quotes[s] = Quote(s, draw(price_of(s)), status, "test", AT)
    rates = RateTable(
        draw(
            st.lists(
                st.sampled_from(
                    [FxRate(USD, JPY, Decimal("156.25")), FxRate(EUR, JPY, Decimal("170.5"))]
                ),
                unique=True,
            )
        )
    )
    currency: Currency | None = draw(st.sampled_from([None, JPY, USD]))
    valuation = value_portfolio(portfolio, quotes, rates, at=AT, currency=currency)
    fees = draw(
        st.none()
        | st.dictionaries(
            st.sampled_from(SYMBOLS),
            st.decimals(min_value=-1, max_value=200, places=4, allow_nan=True),
            max_size=5,
        )
    )
    history = draw(
        st.none() | st.dictionaries(st.sampled_from([*SYMBOLS, "7203.T"]), history_of(), max_size=6)
    )
    thresholds = Thresholds(min_history_days=draw(st.integers(3, 25)))
    language = draw(st.sampled_from(list(Language)))
    return {
        "portfolio": portfolio,
        "valuation": valuation,
        "language": language,
        "fees": fees,
        "history": history,
        "thresholds": thresholds,
    }


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_any_portfolio_and_valuation_gets_a_complete_report(case: dict[str, object]) -> None:
    result = rule_based_report(**case)  # type: ignore[arg-type]

    assert tuple(r.rule for r in result.rules) == RULE_IDS
    assert result.summary
    failed = 0
    for r in result.rules:
        assert r.message
        if r.outcome is RuleOutcome.NOT_COMPUTED:
            assert r.reason in REASONS
            assert r.value is None
        else:
            assert r.value is not None
            assert r.threshold is not None
            assert (r.outcome is RuleOutcome.FAIL) == (r.value > r.threshold)
            failed += r.outcome is RuleOutcome.FAIL
    assert len(result.risks) == failed
    assert {s.rule for s in result.suggestions} <= set(RULE_IDS)
    json.dumps(result.to_json())


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_the_figures_for_an_ai_are_anonymous(case: dict[str, object]) -> None:
    figures = portfolio_figures(case["portfolio"], case["valuation"])  # type: ignore[arg-type]
    text = json.dumps(figures, ensure_ascii=False)

    for secret in (USER_ID, PORTFOLIO_ID, PORTFOLIO_NAME, "@"):
        assert secret not in text


def test_the_work_is_bounded_at_the_limits() -> None:
    """10,000 holdings, each with 20 years of daily closes (one shared list: the same
    numbers, so every pair correlates at 1), plus 10 years more that are not read."""
    symbols = [f"{n:04d}" for n in range(MAX_HOLDINGS)]
    start = date(2000, 1, 3)
    count = MAX_HISTORY_DAYS + 2_520
    series = [
        DailyClose(start + timedelta(days=i), Decimal(1000 + (i * 37) % 101)) for i in range(count)
    ]
    portfolio = Portfolio(
        user_id=USER_ID,
        portfolio_id=PORTFOLIO_ID,
        name=PORTFOLIO_NAME,
        base_currency=JPY,
        created_at=AT,
        holdings=[Holding.of(s, 100 + i) for i, s in enumerate(symbols)],
        targets=dict.fromkeys(symbols, "0.01"),
    )
    quotes = {s: Quote(s, Money.of(1000, "JPY"), QuoteStatus.LIVE, "test", AT) for s in symbols}
    valuation = value_portfolio(portfolio, quotes, RateTable(), at=AT)

    began = time.perf_counter()
    result = rule_based_report(
        portfolio,
        valuation,
        language=Language.JA,
        history=dict.fromkeys(symbols, series),
        fees=dict.fromkeys(symbols, Decimal("0.1")),
    )
    figures = portfolio_figures(portfolio, valuation)
    elapsed = time.perf_counter() - began

    assert elapsed < 30, elapsed
    volatility = next(r for r in result.rules if r.rule == "volatility")
    assert volatility.figures["days"] == str(MAX_HISTORY_DAYS)
    assert volatility.figures["holdings"] == "50"
    correlation = next(r for r in result.rules if r.rule == "correlation")
    assert correlation.figures["holdings"] == "5"
    assert correlation.value == 1
    assert len(json.dumps(figures)) < 100_000
