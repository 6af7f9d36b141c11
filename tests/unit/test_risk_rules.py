"""The rule-based analyst: each rule passing and failing, the reasons a rule is not
computed, known values (a 50 % drawdown, correlations of 1 and -1, the volatility of a
constant series), both languages, and the anonymous figures an AI is given.

Portfolios are built from values in JPY (USD-JPY 160): a Tokyo stock is 100 shares at
value/100 JPY, a US share 1 share at value/160 USD, a fund 10,000 units at value JPY
(per 10,000 units), so that weights are the values' shares of their total."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from portfoliowise.domain.analysis import (
    RULES_ANALYST,
    AnalysisReport,
    Language,
    RuleOutcome,
    RuleResult,
)
from portfoliowise.domain.errors import ValidationError
from portfoliowise.domain.fx import FxRate, RateTable
from portfoliowise.domain.instruments import Market, parse_symbol
from portfoliowise.domain.market import DailyClose
from portfoliowise.domain.money import EUR, JPY, USD, Currency, Money
from portfoliowise.domain.portfolio import Holding, Portfolio
from portfoliowise.domain.quotes import Quote, QuoteStatus
from portfoliowise.domain.risk_rules import (
    IMPORTANCE,
    MAX_CORRELATION_HOLDINGS,
    MAX_FIGURE_ITEMS,
    REDACTED,
    RULE_IDS,
    Thresholds,
    portfolio_figures,
    rule_based_report,
)
from portfoliowise.domain.valuation import Valuation, value_portfolio

AT = datetime(2024, 6, 3, 6, 0, tzinfo=UTC)
RATES = RateTable([FxRate(USD, JPY, Decimal(160)), FxRate(EUR, JPY, Decimal(170))])
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
START = date(2024, 1, 1)
USER_ID = "google-oauth2|user-778123"
PORTFOLIO_ID = "pf-0f9a8b7c"
PORTFOLIO_NAME = "Taro's secret NISA"


# -- building portfolios ----------------------------------------------------------------


def holding(symbol: str, *, region: str | None = None, cost: object = None) -> Holding:
    market = parse_symbol(symbol).market
    quantity = {Market.JP: 100, Market.US: 1, Market.FUND: 10_000}[market]
    cost_basis = None if cost is None else Money.of(cost, "JPY")
    return Holding.of(symbol, quantity, region=region, cost_basis=cost_basis)


def price(symbol: str, value: object) -> Money:
    """The price that makes `holding(symbol)` worth `value` JPY."""
    amount = Decimal(str(value))
    market = parse_symbol(symbol).market
    if market is Market.JP:
        return Money(amount / 100, JPY)
    if market is Market.US:
        return Money(amount / 160, USD)
    return Money(amount, JPY)


def case(
    values: Mapping[str, object],
    *,
    base: Currency = JPY,
    targets: Mapping[str, object] | None = None,
    stale: Iterable[str] = (),
    unpriced: Iterable[str] = (),
    regions: Mapping[str, str] | None = None,
    costs: Mapping[str, object] | None = None,
    name: str = PORTFOLIO_NAME,
) -> tuple[Portfolio, Valuation]:
    """A portfolio holding each symbol worth `values[symbol]` JPY (plus `unpriced`
    symbols with no quote) and its valuation in its base currency."""
    regions, costs = regions or {}, costs or {}
    stale = set(stale)
    unpriced = list(unpriced)
    holdings = [holding(s, region=regions.get(s), cost=costs.get(s)) for s in [*values, *unpriced]]
    portfolio = Portfolio(
        user_id=USER_ID,
        portfolio_id=PORTFOLIO_ID,
        name=name,
        base_currency=base,
        created_at=AT,
        holdings=holdings,
        targets=targets,
    )
    quotes = {
        s: Quote(
            s,
            price(s, v),
            QuoteStatus.STALE if s in stale else QuoteStatus.LIVE,
            "test",
            AT,
        )
        for s, v in values.items()
    }
    return portfolio, value_portfolio(portfolio, quotes, RATES, at=AT)


def report(
    values: Mapping[str, object],
    *,
    language: Language = Language.EN,
    history: Mapping[str, Sequence[DailyClose]] | None = None,
    fees: Mapping[str, Decimal] | None = None,
    thresholds: Thresholds | None = None,
    **kwargs: object,
) -> AnalysisReport:
    portfolio, valuation = case(values, **kwargs)  # type: ignore[arg-type]
    return rule_based_report(
        portfolio,
        valuation,
        language=language,
        history=history,
        fees=fees,
        thresholds=thresholds or Thresholds(),
    )


def rule(result: AnalysisReport, rule_id: str) -> RuleResult:
    found = [r for r in result.rules if r.rule == rule_id]
    assert len(found) == 1
    return found[0]


def closes(*prices: object, start: date = START) -> list[DailyClose]:
    return [DailyClose(start + timedelta(days=i), Decimal(str(p))) for i, p in enumerate(prices)]


def alternating(low: object, high: object, count: int) -> list[DailyClose]:
    return closes(*[low if i % 2 == 0 else high for i in range(count)])


EQUAL_FOUR = {"7203": 250_000, "6758": 250_000, "8306": 250_000, "9984": 250_000}


# -- the report as a whole -------------------------------------------------------------


def test_the_report_lists_every_rule_once_in_order_from_the_rules_analyst() -> None:
    result = report(EQUAL_FOUR)

    assert result.analyst == RULES_ANALYST
    assert result.language is Language.EN
    assert tuple(r.rule for r in result.rules) == RULE_IDS
    assert result.model is None
    assert result.fallback_reason is None
    json.dumps(result.to_json())


def test_risks_are_one_line_per_failed_rule_and_suggestions_name_their_rule() -> None:
    result = report(
        {"7203": 700_000, "6758": 300_000},
        unpriced=["8306"],
        stale=["6758"],
        targets={"7203": "50", "6758": "50"},
    )

    failed = [r for r in result.rules if r.outcome is RuleOutcome.FAIL]
    assert {r.rule for r in failed} >= {
        "largest_holding",
        "concentration_hhi",
        "unpriced_holdings",
        "stale_holdings",
        "target_drift",
    }
    assert len(result.risks) == len(failed)
    assert all(
        r.message in line
        for r, line in zip(sorted_by_importance(failed), result.risks, strict=True)
    )
    assert {s.rule for s in result.suggestions} == {r.rule for r in failed}
    assert all(s.text for s in result.suggestions)
    assert result.summary.startswith(f"{len(failed)} of the 11 rules flag a risk")
    # Missing prices come first: every other figure leaves those holdings out.
    assert "Most important: No price for 1 holding" in result.summary


def sorted_by_importance(failed: list[RuleResult]) -> list[RuleResult]:
    return sorted(failed, key=lambda r: IMPORTANCE.index(r.rule))


def test_a_portfolio_that_passes_everything_says_so() -> None:
    values = {"7203": 200_000, "VTI": 200_000, "0331418A": 200_000, "BND": 200_000, "AAPL": 200_000}
    result = report(
        values,
        regions={"0331418A": "Global"},
        targets=dict.fromkeys(values, "20"),
        fees={"0331418A": Decimal("0.1")},
    )

    outcomes = {r.rule: r.outcome for r in result.rules}
    assert RuleOutcome.FAIL not in outcomes.values(), outcomes
    assert result.risks == ()
    assert result.suggestions == ()
    assert result.summary.startswith("No rule flags a risk: all 8 rules that could be computed")


# -- largest holding -------------------------------------------------------------------


def test_largest_holding_at_the_threshold_passes() -> None:
    result = rule(report(EQUAL_FOUR), "largest_holding")

    assert result.outcome is RuleOutcome.PASS
    assert (result.value, result.threshold) == (Decimal(25), Decimal(25))
    assert result.figures["symbol"] == "6758"  # ties go to the first symbol


def test_largest_holding_above_the_threshold_fails_with_its_numbers() -> None:
    values = {"7203": 421_000, "6758": 200_000, "8306": 200_000, "9984": 179_000}
    en = rule(report(values), "largest_holding")
    ja = rule(report(values, language=Language.JA), "largest_holding")

    assert en.outcome is RuleOutcome.FAIL
    assert en.value == Decimal("42.10")
    assert en.figures == {"symbol": "7203", "weight": "42.10", "holdings": "4"}
    assert en.message == "The largest holding, 7203, is 42.1% of the value (threshold 25%)."
    assert ja.message == "最大の保有銘柄 7203 が評価額の 42.1% を占めています（基準 25%）"


def test_thresholds_are_configurable() -> None:
    values = {"7203": 421_000, "6758": 579_000}
    result = report(values, thresholds=Thresholds(largest_holding_percent=Decimal(60)))

    assert rule(result, "largest_holding").outcome is RuleOutcome.PASS
    assert rule(result, "largest_holding").threshold == Decimal(60)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"hhi": Decimal(-1)},
        {"correlation": Decimal(-2)},
        {"volatility_percent": Decimal("NaN")},
        {"unpriced_holdings": -1},
        {"min_history_days": 2},
    ],
)
def test_invalid_thresholds_are_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        Thresholds(**kwargs)  # type: ignore[arg-type]


# -- concentration (HHI) ---------------------------------------------------------------


def test_hhi_of_five_equal_holdings_passes() -> None:
    values = dict.fromkeys(["7203", "6758", "8306", "9984", "6501"], 100_000)
    result = rule(report(values), "concentration_hhi")

    assert result.outcome is RuleOutcome.PASS
    assert result.value == Decimal("0.2")
    assert result.figures["effectiveHoldings"] == "5.0"


def test_hhi_of_two_equal_holdings_fails() -> None:
    result = rule(report({"7203": 100_000, "6758": 100_000}), "concentration_hhi")

    assert result.outcome is RuleOutcome.FAIL
    assert (result.value, result.threshold) == (Decimal("0.5"), Decimal("0.25"))
    assert result.figures == {"hhi": "0.5000", "effectiveHoldings": "2.0"}


# -- currency concentration ------------------------------------------------------------


def test_half_yen_half_dollars_passes_currency_concentration() -> None:
    result = rule(report({"7203": 500_000, "VTI": 500_000}), "currency_concentration")

    assert result.outcome is RuleOutcome.PASS
    assert result.value == Decimal(50)


def test_everything_in_yen_fails_currency_concentration() -> None:
    result = rule(report({"7203": 500_000, "0331418A": 500_000}), "currency_concentration")

    assert result.outcome is RuleOutcome.FAIL
    assert result.value == Decimal(100)
    assert result.figures == {"currency": "JPY", "weight": "100.00", "currencies": "1"}


# -- home bias -------------------------------------------------------------------------


def test_home_bias_of_a_yen_portfolio_counts_tokyo_shares_as_home() -> None:
    passing = rule(report({"7203": 600_000, "VTI": 400_000}), "home_bias")
    failing = rule(report({"7203": 800_000, "VTI": 200_000}), "home_bias")

    assert (passing.outcome, passing.value) == (RuleOutcome.PASS, Decimal(60))
    assert (failing.outcome, failing.value) == (RuleOutcome.FAIL, Decimal(80))
    assert failing.figures["homeMarket"] == "JP"


def test_a_fund_counts_as_home_unless_its_region_says_otherwise() -> None:
    values = {"7203": 500_000, "0331418A": 500_000}
    no_region = rule(report(values), "home_bias")
    global_fund = rule(report(values, regions={"0331418A": "Global"}), "home_bias")
    japan_fund = rule(report(values, regions={"0331418A": "日本"}), "home_bias")

    assert (no_region.outcome, no_region.value) == (RuleOutcome.FAIL, Decimal(100))
    assert no_region.figures["fundsWithoutRegionWeight"] == "50.00"
    assert "Funds without a region" in no_region.message
    assert (global_fund.outcome, global_fund.value) == (RuleOutcome.PASS, Decimal(50))
    assert japan_fund.value == Decimal(100)


def test_home_bias_of_a_dollar_portfolio_counts_us_shares_as_home() -> None:
    result = rule(report({"VTI": 900_000, "7203": 100_000}, base=USD), "home_bias")

    assert (result.outcome, result.value) == (RuleOutcome.FAIL, Decimal(90))
    assert result.figures["homeMarket"] == "US"


def test_home_bias_needs_a_home_market() -> None:
    result = rule(report({"VTI": 500_000, "7203": 500_000}, base=EUR), "home_bias")

    assert result.outcome is RuleOutcome.NOT_COMPUTED
    assert result.reason == "no home market"
    assert "EUR" in result.message


# -- target drift ----------------------------------------------------------------------


def test_target_drift_is_not_computed_without_targets_and_suggests_setting_them() -> None:
    result = report(EQUAL_FOUR)
    drift = rule(result, "target_drift")

    assert (drift.outcome, drift.reason) == (RuleOutcome.NOT_COMPUTED, "no targets")
    suggestion = [s for s in result.suggestions if s.rule == "target_drift"]
    assert len(suggestion) == 1
    assert "target" in suggestion[0].text


def test_target_drift_within_five_points_passes() -> None:
    targets = {"7203": "30", "6758": "30", "8306": "40"}
    values = {"7203": 330_000, "6758": 280_000, "8306": 390_000}
    result = rule(report(values, targets=targets), "target_drift")

    assert result.outcome is RuleOutcome.PASS
    assert result.value == Decimal(3)
    assert result.figures["symbol"] == "7203"


def test_target_drift_beyond_five_points_fails_with_the_worst_holding() -> None:
    targets = {"7203": "30", "6758": "30", "8306": "40"}
    values = {"7203": 300_000, "6758": 480_000, "8306": 220_000}
    result = report(values, targets=targets)
    drift = rule(result, "target_drift")

    assert drift.outcome is RuleOutcome.FAIL
    assert drift.value == Decimal(18)
    assert drift.figures["symbol"] == "6758"
    assert drift.figures["drift"] == "18.00"
    assert drift.figures["gap"] == "-180000"
    assert drift.figures["beyondThreshold"] == "2"
    assert any(s.rule == "target_drift" and "6758" in s.text for s in result.suggestions)


def test_the_target_of_an_unpriced_holding_is_not_counted_as_drift() -> None:
    targets = {"7203": "50", "6758": "50"}
    result = rule(report({"7203": 100_000}, unpriced=["6758"], targets=targets), "target_drift")

    assert result.figures["symbol"] == "7203"
    assert result.figures["unpricedWithTarget"] == "1"
    assert result.value == Decimal(50)  # 100 % held against 50 %


# -- fee drag --------------------------------------------------------------------------


@pytest.mark.parametrize("fees", [None, {}, {"VOO": Decimal("0.03")}])
def test_fee_drag_without_fees_for_the_holdings_is_not_computed(
    fees: dict[str, Decimal] | None,
) -> None:
    result = rule(report(EQUAL_FOUR, fees=fees), "fee_drag")

    assert (result.outcome, result.reason) == (RuleOutcome.NOT_COMPUTED, "no fee data")


def test_low_fees_pass_in_percent_and_in_money() -> None:
    values = {"0331418A": 500_000, "7203": 500_000}
    result = rule(report(values, fees={"0331418A": Decimal("0.1")}), "fee_drag")

    assert result.outcome is RuleOutcome.PASS
    assert result.value == Decimal("0.05")
    assert result.figures["amount"] == "500"  # 0.1 % of 500,000 JPY a year
    assert result.figures["coveredWeight"] == "50.00"
    assert result.figures["knownHoldings"] == "1"


def test_high_fees_fail_and_symbols_are_matched_in_any_spelling() -> None:
    values = {"0331418A": 600_000, "7203": 400_000}
    fees = {"0331418a": Decimal("1.5"), "7203.T": Decimal(0)}
    result = report(values, fees=fees, language=Language.JA)
    fee = rule(result, "fee_drag")

    assert fee.outcome is RuleOutcome.FAIL
    assert fee.value == Decimal("0.9")  # 1.5 % on 60 % of the value
    assert fee.figures["amount"] == "9000"
    assert fee.figures["highestFeeSymbol"] == "0331418A"
    assert fee.figures["knownHoldings"] == "2"
    assert "9,000 JPY" in fee.message
    assert any(s.rule == "fee_drag" and "0331418A" in s.text for s in result.suggestions)


# -- unpriced and stale ----------------------------------------------------------------


def test_no_unpriced_holdings_pass() -> None:
    result = rule(report(EQUAL_FOUR), "unpriced_holdings")

    assert (result.outcome, result.value, result.threshold) == (
        RuleOutcome.PASS,
        Decimal(0),
        Decimal(0),
    )


def test_an_unpriced_holding_fails_and_is_named() -> None:
    result = report({"7203": 100_000}, unpriced=["6758"])
    unpriced = rule(result, "unpriced_holdings")

    assert (unpriced.outcome, unpriced.value) == (RuleOutcome.FAIL, Decimal(1))
    assert unpriced.figures == {"count": "1", "symbols": "6758", "reasons": "no_quote:1"}
    assert "6758" in unpriced.message
    assert any(s.rule == "unpriced_holdings" and "6758" in s.text for s in result.suggestions)


def test_the_unpriced_threshold_allows_some() -> None:
    thresholds = Thresholds(unpriced_holdings=1)
    result = rule(
        report({"7203": 1}, unpriced=["6758"], thresholds=thresholds), "unpriced_holdings"
    )

    assert result.outcome is RuleOutcome.PASS


def test_stale_prices_fail_and_fresh_ones_pass() -> None:
    fresh = rule(report(EQUAL_FOUR), "stale_holdings")
    stale = rule(report(EQUAL_FOUR, stale=["8306"]), "stale_holdings")

    assert (fresh.outcome, fresh.value) == (RuleOutcome.PASS, Decimal(0))
    assert (stale.outcome, stale.value) == (RuleOutcome.FAIL, Decimal(1))
    assert stale.figures == {"count": "1", "symbols": "8306", "weight": "25.00"}


# -- nothing priced --------------------------------------------------------------------

VALUE_RULES = (
    "largest_holding",
    "concentration_hhi",
    "currency_concentration",
    "home_bias",
    "target_drift",
    "fee_drag",
    "volatility",
    "max_drawdown",
    "correlation",
)


@pytest.mark.parametrize("language", list(Language))
def test_an_empty_portfolio_gets_a_report_of_rules_not_computed(language: Language) -> None:
    result = report({}, language=language, history={}, fees={"7203": Decimal(1)})

    for rule_id in VALUE_RULES:
        assert rule(result, rule_id).reason == "no priced holdings", rule_id
        assert rule(result, rule_id).outcome is RuleOutcome.NOT_COMPUTED
    assert rule(result, "unpriced_holdings").outcome is RuleOutcome.PASS
    assert result.summary
    assert result.risks == ()


def test_a_portfolio_with_nothing_priced_flags_only_the_missing_prices() -> None:
    result = report({}, unpriced=["7203", "VTI"], targets={"7203": "50", "VTI": "50"})

    for rule_id in VALUE_RULES:
        assert rule(result, rule_id).reason == "no priced holdings", rule_id
    assert rule(result, "unpriced_holdings").value == 2
    assert "No holding has a price" in result.summary


def test_a_valuation_with_a_total_of_zero_divides_nothing_by_zero() -> None:
    portfolio = Portfolio(
        user_id=USER_ID,
        portfolio_id=PORTFOLIO_ID,
        name=PORTFOLIO_NAME,
        base_currency=JPY,
        created_at=AT,
        holdings=[Holding.of("7203", 0)],
        targets={"7203": "100"},
    )
    quotes = {"7203": Quote("7203", Money.of(2500, "JPY"), QuoteStatus.LIVE, "test", AT)}
    valuation = value_portfolio(portfolio, quotes, RATES, at=AT)

    result = rule_based_report(
        portfolio,
        valuation,
        language=Language.JA,
        history={"7203": alternating(100, 110, 30)},
        fees={"7203": Decimal(1)},
    )

    for rule_id in VALUE_RULES:
        assert rule(result, rule_id).reason == "no priced holdings", rule_id
    json.dumps(portfolio_figures(portfolio, valuation))


# -- history: reasons ------------------------------------------------------------------

HISTORY_RULES = ("volatility", "max_drawdown", "correlation")
TWO = {"7203": 500_000, "VTI": 500_000}


@pytest.mark.parametrize("history", [None, {}, {"8306": alternating(100, 101, 40)}])
def test_history_rules_without_history_are_not_computed(
    history: dict[str, list[DailyClose]] | None,
) -> None:
    result = report(TWO, history=history)

    for rule_id in HISTORY_RULES:
        assert rule(result, rule_id).outcome is RuleOutcome.NOT_COMPUTED
        assert rule(result, rule_id).reason == "no history", rule_id


def test_history_rules_with_too_short_a_history_say_the_minimum() -> None:
    short = {"7203": closes(100, 101, 102, 103, 104), "VTI": closes(50, 51, 52, 53, 54)}
    en = report(TWO, history=short)
    ja = report(TWO, history=short, language=Language.JA)

    for rule_id in HISTORY_RULES:
        result = rule(en, rule_id)
        assert (result.outcome, result.reason) == (RuleOutcome.NOT_COMPUTED, "not enough history")
        assert result.figures == {"minimumDays": "20", "days": "5"}
        assert "at least 20" in result.message
        assert "20 日分以上" in rule(ja, rule_id).message


def test_the_minimum_history_is_configurable() -> None:
    short = {"7203": closes(100, 101, 102, 103, 104), "VTI": closes(50, 52, 51, 53, 50)}
    result = report(TWO, history=short, thresholds=Thresholds(min_history_days=5))

    for rule_id in HISTORY_RULES:
        assert rule(result, rule_id).outcome is not RuleOutcome.NOT_COMPUTED, rule_id


def test_invalid_closes_are_ignored() -> None:
    bad = [*closes(100, 0, -5), DailyClose(START, Decimal("NaN"))]
    result = report({"7203": 1_000_000}, history={"7203": bad})

    volatility = rule(result, "volatility")
    assert volatility.reason == "not enough history"
    assert volatility.figures["days"] == "1"


# -- volatility ------------------------------------------------------------------------


def test_the_volatility_of_a_constant_series_is_zero() -> None:
    result = rule(report({"7203": 1_000_000}, history={"7203": closes(*[500] * 30)}), "volatility")

    assert result.outcome is RuleOutcome.PASS
    assert result.value == 0
    assert result.figures["days"] == "30"


def test_volatility_is_annualised_from_daily_log_returns() -> None:
    # 21 closes alternating 100/110: 10 returns of +ln 1.1 and 10 of -ln 1.1, mean 0,
    # sample variance 20 (ln 1.1)^2 / 19.
    history = {"7203.T": alternating(100, 110, 21)}
    result = rule(report({"7203": 1_000_000}, history=history), "volatility")

    a = Decimal("1.1").ln()
    expected = (Decimal(20) * a * a / 19).sqrt() * Decimal(252).sqrt() * 100
    assert result.outcome is RuleOutcome.FAIL
    assert result.value == expected.quantize(Decimal("0.01"))
    assert result.figures["annualisedPercent"] == str(result.value)


def test_small_daily_moves_pass_volatility() -> None:
    history = {"7203": alternating(1000, 1001, 40)}
    result = rule(report({"7203": 1_000_000}, history=history), "volatility")

    assert result.outcome is RuleOutcome.PASS
    assert result.value is not None
    assert Decimal(1) < result.value < Decimal(2)  # 0.1 % a day is about 1.6 % a year


# -- maximum drawdown ------------------------------------------------------------------


def test_a_series_that_doubles_then_halves_has_a_drawdown_of_exactly_50_percent() -> None:
    series = closes(*([100] * 10 + [200] * 5 + [100] * 10))
    result = rule(report({"7203": 1_000_000}, history={"7203": series}), "max_drawdown")

    assert result.outcome is RuleOutcome.FAIL
    assert result.value == Decimal(50)
    assert result.figures["peak"] == (START + timedelta(days=10)).isoformat()
    assert result.figures["trough"] == (START + timedelta(days=15)).isoformat()


def test_a_rising_series_has_no_drawdown() -> None:
    series = closes(*range(100, 130))
    result = rule(report({"7203": 1_000_000}, history={"7203": series}), "max_drawdown")

    assert (result.outcome, result.value) == (RuleOutcome.PASS, Decimal(0))


def test_the_portfolio_series_weights_holdings_by_value() -> None:
    # Half the value falls by half, the other half does not move: the portfolio falls 25 %.
    history = {
        "7203": closes(*([100] * 10 + [50] * 10)),
        "VTI": closes(*([300] * 20)),
    }
    result = rule(report(TWO, history=history), "max_drawdown")

    assert (result.outcome, result.value) == (RuleOutcome.PASS, Decimal(25))
    assert result.figures["holdings"] == "2"
    assert result.figures["coveredWeight"] == "100.00"


def test_a_holding_whose_history_is_too_short_is_left_out_of_the_series() -> None:
    values = {"7203": 800_000, "6758": 200_000}
    history = {"7203": closes(*([100] * 10 + [50] * 10)), "6758": closes(1, 2, 3)}
    result = rule(report(values, history=history), "max_drawdown")

    assert result.value == Decimal(50)
    assert result.figures["symbols"] == "7203"
    assert result.figures["coveredWeight"] == "80.00"


# -- correlation -----------------------------------------------------------------------


def test_two_holdings_moving_together_have_a_correlation_of_1() -> None:
    history = {"7203": alternating(100, 120, 30), "VTI": alternating(200, 240, 30)}
    result = rule(report(TWO, history=history), "correlation")

    assert result.outcome is RuleOutcome.FAIL
    assert result.value == Decimal(1)
    assert {result.figures["first"], result.figures["second"]} == {"7203", "VTI"}
    assert result.figures["days"] == "30"


def test_two_holdings_moving_against_each_other_have_a_correlation_of_minus_1() -> None:
    history = {"7203": alternating(100, 200, 30), "VTI": alternating(200, 100, 30)}
    result = rule(report(TWO, history=history), "correlation")

    assert result.outcome is RuleOutcome.PASS
    assert result.value == Decimal(-1)


def test_correlation_is_the_highest_pair_of_the_five_largest_holdings() -> None:
    symbols = ["7203", "6758", "8306", "9984", "6501", "7974", "8035"]
    values = {s: 1_000_000 - i * 100_000 for i, s in enumerate(symbols)}
    # The two smallest move together; among the five largest, 8306 and 6501 do.
    history = {s: alternating(100, 100 + i + 1, 25) for i, s in enumerate(symbols)}
    history["7203"] = closes(*[100 + (i * 7) % 5 for i in range(25)])
    history["6758"] = closes(*[100 + (i * 3) % 4 for i in range(25)])
    history["9984"] = closes(*[100 + (i * i) % 6 for i in range(25)])
    result = rule(report(values, history=history), "correlation")

    assert result.figures["holdings"] == str(MAX_CORRELATION_HOLDINGS)
    assert result.figures["symbols"] == "7203,6758,8306,9984,6501"
    assert {result.figures["first"], result.figures["second"]} == {"8306", "6501"}
    assert result.value == Decimal(1)


def test_correlation_needs_two_holdings() -> None:
    result = rule(
        report({"7203": 1_000_000}, history={"7203": alternating(100, 110, 30)}), "correlation"
    )

    assert (result.outcome, result.reason) == (RuleOutcome.NOT_COMPUTED, "fewer than 2 holdings")


def test_correlation_of_prices_that_never_move_is_not_computed() -> None:
    history = {"7203": closes(*[100] * 30), "VTI": closes(*[50] * 30)}
    result = rule(report(TWO, history=history), "correlation")

    assert (result.outcome, result.reason) == (RuleOutcome.NOT_COMPUTED, "no price variation")


def test_correlation_needs_enough_shared_days() -> None:
    later = START + timedelta(days=100)
    history = {
        "7203": alternating(100, 110, 30),
        "VTI": [DailyClose(later + timedelta(days=i), Decimal(100 + i)) for i in range(30)],
    }
    result = rule(report(TWO, history=history), "correlation")

    assert (result.outcome, result.reason) == (RuleOutcome.NOT_COMPUTED, "not enough history")


# -- languages -------------------------------------------------------------------------


def full_report(language: Language) -> AnalysisReport:
    values = {"7203": 700_000, "VTI": 200_000, "0331418A": 100_000}
    history = {"7203": alternating(100, 130, 30), "VTI": alternating(200, 260, 30)}
    return report(
        values,
        language=language,
        history=history,
        fees={"0331418A": Decimal("1.8")},
        targets={"7203": "40", "VTI": "40", "0331418A": "20"},
        stale=["VTI"],
        unpriced=["6758"],
    )


def texts(result: AnalysisReport) -> list[str]:
    return [
        result.summary,
        *(r.message for r in result.rules),
        *result.risks,
        *(s.text for s in result.suggestions),
    ]


def test_japanese_reports_are_written_in_japanese() -> None:
    result = full_report(Language.JA)

    assert result.language is Language.JA
    assert result.risks
    assert result.suggestions
    for text in texts(result):
        assert JAPANESE.search(text), text
    not_computed = report(EQUAL_FOUR, language=Language.JA)
    for text in texts(not_computed):
        assert JAPANESE.search(text), text


def test_english_reports_are_written_in_english() -> None:
    result = full_report(Language.EN)

    assert result.risks
    assert result.suggestions
    for text in texts(result):
        assert text, text
        assert not JAPANESE.search(text), text


def test_both_languages_carry_the_same_numbers() -> None:
    en, ja = full_report(Language.EN), full_report(Language.JA)

    for a, b in zip(en.rules, ja.rules, strict=True):
        assert (a.rule, a.outcome, a.value, a.threshold, a.figures, a.reason) == (
            b.rule,
            b.outcome,
            b.value,
            b.threshold,
            b.figures,
            b.reason,
        )


def test_values_and_figures_are_decimals_and_decimal_strings() -> None:
    for result in full_report(Language.EN).rules:
        assert result.value is None or isinstance(result.value, Decimal)
        assert result.threshold is None or isinstance(result.threshold, Decimal)
        assert all(isinstance(v, str) for v in result.figures.values())
        if result.outcome is RuleOutcome.NOT_COMPUTED:
            assert result.reason
        else:
            assert result.value is not None
            assert result.threshold is not None
            assert (result.outcome is RuleOutcome.FAIL) == (result.value > result.threshold)


# -- figures for an AI -----------------------------------------------------------------


def test_portfolio_figures_never_contain_the_user_the_portfolio_id_or_its_name() -> None:
    portfolio, valuation = case(
        {"7203": 500_000, "VTI": 300_000, "0331418A": 200_000},
        unpriced=["6758"],
        stale=["VTI"],
        targets={"7203": "50", "VTI": "30", "0331418A": "20"},
        regions={"7203": "taro@example.com", "VTI": "North America", "0331418A": PORTFOLIO_NAME},
    )

    figures: Any = portfolio_figures(portfolio, valuation)
    text = json.dumps(figures, ensure_ascii=False)

    for secret in (USER_ID, PORTFOLIO_ID, PORTFOLIO_NAME, "taro@example.com", "@"):
        assert secret not in text
    assert REDACTED in text
    assert "North America" in text


def test_portfolio_figures_carry_the_numbers_an_analyst_needs() -> None:
    portfolio, valuation = case(
        {"7203": 500_000, "VTI": 300_000, "0331418A": 200_000},
        unpriced=["6758"],
        stale=["VTI"],
        targets={"7203": "50", "VTI": "30", "0331418A": "20"},
        costs={"7203": 400_000},
    )

    figures: Any = portfolio_figures(portfolio, valuation)

    assert figures["baseCurrency"] == "JPY"
    assert figures["total"] == {"amount": "1000000", "currency": "JPY"}
    holdings = figures["holdings"]
    assert holdings[0] == {
        "symbol": "7203",
        "market": "JP",
        "assetClass": "equity",
        "currency": "JPY",
        "weight": "50.00",
        "value": {"amount": "500000", "currency": "JPY"},
        "unrealizedPl": {"amount": "100000", "currency": "JPY"},
        "unrealizedPlPercent": "25.00",
        "stale": False,
    }
    assert [h["symbol"] for h in holdings] == ["7203", "VTI", "0331418A"]
    assert figures["targets"] == {"7203": "50", "VTI": "30", "0331418A": "20"}
    allocation = figures["allocation"]
    assert set(allocation) == {"assetClass", "currency", "market", "region"}
    assert allocation["currency"][0] == {
        "key": "JPY",
        "weight": "70.00",
        "value": {"amount": "700000", "currency": "JPY"},
    }
    assert figures["unpriced"] == [{"symbol": "6758", "reason": "no_quote"}]
    assert figures["stale"] == ["VTI"]
    json.dumps(figures)


def test_portfolio_figures_list_the_largest_holdings_and_count_the_rest() -> None:
    values = {f"{1000 + i}": 1_000 + i for i in range(MAX_FIGURE_ITEMS + 50)}
    portfolio, valuation = case(values)

    figures: Any = portfolio_figures(portfolio, valuation)

    holdings = figures["holdings"]
    assert len(holdings) == MAX_FIGURE_ITEMS
    assert holdings[0]["symbol"] == "1149"
    other = figures["otherHoldings"]
    assert other["count"] == 50
