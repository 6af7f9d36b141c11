"""The rule-based analyst: a report that always answers, from the valuation alone (plus
daily history and fund fees when known), in Japanese or English.

Rules (stable ids, in report order) and their default thresholds (`Thresholds`):

| rule | value | fails when | default |
|---|---|---|---|
| `largest_holding` | weight of the largest holding, % | above | 25 % |
| `concentration_hhi` | Herfindahl index of the weights as fractions (0..1) | above | 0.25 |
| `currency_concentration` | share of the largest quote currency, % | above | 80 % |
| `home_bias` | share of value in the home market, % | above | 70 % |
| `target_drift` | largest distance of a holding from its target, points | above | 5 |
| `fee_drag` | estimated annual running cost, % of value a year | above | 0.5 |
| `unpriced_holdings` | holdings without a price | above | 0 |
| `stale_holdings` | holdings priced from a stale quote | above | 0 |
| `volatility` | annualised volatility of daily log returns (x sqrt 252), % | above | 25 % |
| `max_drawdown` | largest fall from a previous high, % | above | 30 % |
| `correlation` | highest correlation of daily log returns among the 5 largest | above | 0.9 |

Every value is a `Decimal` rounded for presentation (percentages and points to 2
decimals, fee drag to 3, HHI and correlation to 4), and the outcome compares that rounded
value with the threshold, so that the message never contradicts it. A value equal to its
threshold passes.

A rule that cannot be computed says why (`RuleResult.reason`): `no priced holdings` (an
empty portfolio, nothing priced, or a total of zero: checked first by every rule that
needs a value), `no targets`, `no fee data`, `no home market` (a base currency other
than JPY or USD), `no history`, `not enough history` (with the minimum and the days
available in `figures`), `fewer than 2 holdings` and `no price variation` (correlation).

Choices:
- Weights are shares of the priced total (`Valuation`): unpriced holdings are reported by
  their own rule and left out of the others.
- Currency concentration is by quote currency: a Japanese fund that invests abroad is
  quoted in JPY and counts as JPY.
- Home bias: the home market follows the portfolio's base currency (not the currency the
  valuation was asked in), JPY -> Tokyo, USD -> US. A Tokyo or US share counts by its
  market. A Japanese fund's market says nothing about what it holds (eMAXIS Slim S&P 500
  is a Japanese fund of US shares): its `region` decides when one is given (Japan, 日本,
  国内, ... count as Japan; US, United States, North America, 米国, ... as the US;
  anything else as foreign); a fund without a region counts as home for a JPY base
  (it is a Japanese product) and as foreign for a USD base. `figures` says how much of
  the value sat in funds without a region.
- Target drift ignores targets of unpriced holdings (their weight is unknown, not 0).
- Fee drag: `fees` maps a symbol to its annual fee in percent (信託報酬, expense ratio);
  holdings with no entry count as costing nothing (shares have no running cost) and the
  figures say how much of the value had a known fee. Fees that are not finite or not
  within 0..100 % are ignored.
- History: closes are in each instrument's own currency (no FX history); closes that are
  not finite, not positive or above `MAX_PRICE` are ignored. The portfolio series is a
  constant-weight one: each day's return is the holdings' returns weighted by their
  current weights (renormalised over the holdings in the series), over the days that all
  of them share. Holdings join in weight order while the shared days stay at or above
  the minimum; one whose history would shorten them further is left out, and `figures`
  says which share of the value the series covers.

Bounded work for any input the domain allows (10,000 holdings, any history): at most
`MAX_HISTORY_DAYS` closes of each symbol are read (the latest), at most
`MAX_HISTORY_CANDIDATES` holdings with history are examined, at most
`MAX_SERIES_HOLDINGS` of them make the portfolio series and `MAX_CORRELATION_HOLDINGS`
the correlation (10 pairs). Everything else is linear in the holdings (or n log n).
`portfolio_figures` lists at most `MAX_FIGURE_ITEMS` holdings, targets, slices and
symbols (the largest), the rest as a count and a total.

Standard library only. Modules: `thresholds` (rule ids, reasons, bounds, `Thresholds`),
`decimals` and `messages` (rounding and the shared texts), `context` and `results` (what a
rule reads and returns), one module per group of rules (`concentration`, `home_bias`,
`drift`, `fees`, `prices`, and `history` on `series`), `report` (`rule_based_report`) and
`figures` (`portfolio_figures`)."""

from portfoliowise.domain.risk_rules.figures import REDACTED, portfolio_figures
from portfoliowise.domain.risk_rules.report import rule_based_report
from portfoliowise.domain.risk_rules.thresholds import (
    IMPORTANCE,
    MAX_CORRELATION_HOLDINGS,
    MAX_FIGURE_ITEMS,
    MAX_HISTORY_DAYS,
    RULE_IDS,
    Thresholds,
)

__all__ = [
    "IMPORTANCE",
    "MAX_CORRELATION_HOLDINGS",
    "MAX_FIGURE_ITEMS",
    "MAX_HISTORY_DAYS",
    "REDACTED",
    "RULE_IDS",
    "Thresholds",
    "portfolio_figures",
    "rule_based_report",
]
