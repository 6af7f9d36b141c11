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

Standard library only."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Context, Decimal, localcontext
from itertools import pairwise
from typing import Final

from portfoliowise.domain.allocation import Dimension, allocation, drift
from portfoliowise.domain.analysis import (
    RULES_ANALYST,
    AnalysisReport,
    Language,
    RuleOutcome,
    RuleResult,
    Suggestion,
)
from portfoliowise.domain.errors import ValidationError
from portfoliowise.domain.events import JsonValue
from portfoliowise.domain.instruments import Market, parse_symbol
from portfoliowise.domain.limits import MAX_PRICE
from portfoliowise.domain.market import DailyClose
from portfoliowise.domain.money import Money, quantize
from portfoliowise.domain.portfolio import Portfolio
from portfoliowise.domain.valuation import HUNDRED, HoldingValuation, Valuation

# -- rule ids and reasons -------------------------------------------------------------

LARGEST_HOLDING: Final = "largest_holding"
CONCENTRATION_HHI: Final = "concentration_hhi"
CURRENCY_CONCENTRATION: Final = "currency_concentration"
HOME_BIAS: Final = "home_bias"
TARGET_DRIFT: Final = "target_drift"
FEE_DRAG: Final = "fee_drag"
UNPRICED_HOLDINGS: Final = "unpriced_holdings"
STALE_HOLDINGS: Final = "stale_holdings"
VOLATILITY: Final = "volatility"
MAX_DRAWDOWN: Final = "max_drawdown"
CORRELATION: Final = "correlation"

RULE_IDS: Final = (
    LARGEST_HOLDING,
    CONCENTRATION_HHI,
    CURRENCY_CONCENTRATION,
    HOME_BIAS,
    TARGET_DRIFT,
    FEE_DRAG,
    UNPRICED_HOLDINGS,
    STALE_HOLDINGS,
    VOLATILITY,
    MAX_DRAWDOWN,
    CORRELATION,
)
"""Every rule, in the order of the report."""

IMPORTANCE: Final = (
    UNPRICED_HOLDINGS,
    LARGEST_HOLDING,
    CONCENTRATION_HHI,
    MAX_DRAWDOWN,
    VOLATILITY,
    TARGET_DRIFT,
    STALE_HOLDINGS,
    CORRELATION,
    CURRENCY_CONCENTRATION,
    HOME_BIAS,
    FEE_DRAG,
)
"""Failed rules, most important first (summary, risks, suggestions): missing prices
first (every other figure leaves those holdings out), then concentration, then the
size of past falls, then the rest."""

NO_PRICED_HOLDINGS: Final = "no priced holdings"
NO_TARGETS: Final = "no targets"
NO_FEE_DATA: Final = "no fee data"
NO_HOME_MARKET: Final = "no home market"
NO_HISTORY: Final = "no history"
NOT_ENOUGH_HISTORY: Final = "not enough history"
FEWER_THAN_TWO_HOLDINGS: Final = "fewer than 2 holdings"
NO_PRICE_VARIATION: Final = "no price variation"

# -- bounds ---------------------------------------------------------------------------

TRADING_DAYS_PER_YEAR: Final = 252
MAX_HISTORY_DAYS: Final = 20 * TRADING_DAYS_PER_YEAR
"""The latest closes read per symbol: 20 years."""
MAX_HISTORY_CANDIDATES: Final = 200
"""Holdings with history examined (largest first) to build the series."""
MAX_SERIES_HOLDINGS: Final = 50
"""Holdings in the portfolio series: the largest 50 with enough shared history."""
MAX_CORRELATION_HOLDINGS: Final = 5
"""Holdings whose pairwise correlations are computed: the largest 5 with history."""
MAX_FIGURE_ITEMS: Final = 100
"""Items per list in `portfolio_figures` (and symbols named in a rule: `MAX_NAMED`)."""
MAX_NAMED: Final = 10

_PRECISION: Final = 28
_ZERO: Final = Decimal(0)
_ONE: Final = Decimal(1)
_SQRT_YEAR: Final = Decimal(TRADING_DAYS_PER_YEAR).sqrt(Context(prec=_PRECISION))


@dataclass(frozen=True, slots=True)
class Thresholds:
    """A threshold per rule; a value above its threshold fails the rule."""

    largest_holding_percent: Decimal = Decimal(25)
    """Weight of the largest holding, % of the priced value."""
    hhi: Decimal = Decimal("0.25")
    """Herfindahl index on weights as fractions; 0.25 is four equal holdings."""
    currency_percent: Decimal = Decimal(80)
    """Share of the largest quote currency, %."""
    home_bias_percent: Decimal = Decimal(70)
    """Share of value in the home market (JPY base: Tokyo and Japanese funds; USD: US), %."""
    drift_points: Decimal = Decimal(5)
    """Largest distance from a target, percentage points (either way)."""
    fee_drag_percent: Decimal = Decimal("0.5")
    """Estimated running cost, % of value a year."""
    unpriced_holdings: int = 0
    """Holdings without a price."""
    stale_holdings: int = 0
    """Holdings priced from a stale quote."""
    volatility_percent: Decimal = Decimal(25)
    """Annualised volatility of the portfolio's daily log returns, %."""
    max_drawdown_percent: Decimal = Decimal(30)
    """Largest fall from a previous high of the portfolio series, %."""
    correlation: Decimal = Decimal("0.9")
    """Highest correlation of daily returns between two of the largest holdings."""
    min_history_days: int = 20
    """Closes needed (shared by the holdings) for the history rules: about a month."""

    def __post_init__(self) -> None:
        for name in (
            "largest_holding_percent",
            "hhi",
            "currency_percent",
            "home_bias_percent",
            "drift_points",
            "fee_drag_percent",
            "volatility_percent",
            "max_drawdown_percent",
            "correlation",
        ):
            value = getattr(self, name)
            if not isinstance(value, Decimal) or not value.is_finite():
                raise ValidationError(f"threshold {name} must be a finite Decimal")
            low = Decimal(-1) if name == "correlation" else _ZERO
            if value < low:
                raise ValidationError(f"threshold {name} must be at least {low}")
        for name in ("unpriced_holdings", "stale_holdings"):
            count = getattr(self, name)
            if isinstance(count, bool) or not isinstance(count, int) or count < 0:
                raise ValidationError(f"threshold {name} must be a count (0 or more)")
        days = self.min_history_days
        if isinstance(days, bool) or not isinstance(days, int):
            raise ValidationError("min_history_days must be an integer")
        if not 3 <= days <= MAX_HISTORY_DAYS:
            raise ValidationError(f"min_history_days must be from 3 to {MAX_HISTORY_DAYS}")


DEFAULT_THRESHOLDS: Final = Thresholds()

# -- text -----------------------------------------------------------------------------

_TITLES: Final[dict[str, tuple[str, str]]] = {
    LARGEST_HOLDING: ("Largest holding", "最大保有銘柄"),
    CONCENTRATION_HHI: ("Concentration (HHI)", "集中度（HHI）"),
    CURRENCY_CONCENTRATION: ("Currency concentration", "通貨の集中"),
    HOME_BIAS: ("Home bias", "ホームバイアス"),
    TARGET_DRIFT: ("Drift from targets", "目標配分からの乖離"),
    FEE_DRAG: ("Fee drag", "保有コスト"),
    UNPRICED_HOLDINGS: ("Unpriced holdings", "価格のない銘柄"),
    STALE_HOLDINGS: ("Stale prices", "古い価格"),
    VOLATILITY: ("Volatility", "ボラティリティ"),
    MAX_DRAWDOWN: ("Maximum drawdown", "最大ドローダウン"),
    CORRELATION: ("Correlation", "相関"),
}


def _say(language: Language, en: str, ja: str) -> str:
    return ja if language is Language.JA else en


def _title(rule: str, language: Language) -> str:
    en, ja = _TITLES[rule]
    return _say(language, en, ja)


def _round(value: Decimal, places: int) -> Decimal:
    return quantize(value, _ONE.scaleb(-places), ROUND_HALF_UP)


def _num(value: Decimal) -> str:
    """A decimal string as computed (figures)."""
    return format(value, "f")


def _show(value: Decimal, places: int = 2) -> str:
    """For messages: rounded to `places`, trailing zeros dropped, at least one decimal
    (42.1, 25.04, 50.0)."""
    text = format(_round(value, places), "f")
    if "." in text:
        text = text.rstrip("0")
        if text.endswith("."):
            text += "0"
    return text


def _plain(value: Decimal) -> str:
    """A threshold as the user wrote it, without trailing zeros (25, 0.5)."""
    return format(value.normalize(), "f") if value else "0"


def _named(symbols: Sequence[str]) -> str:
    shown = ", ".join(symbols[:MAX_NAMED])
    rest = len(symbols) - MAX_NAMED
    return f"{shown}, … (+{rest})" if rest > 0 else shown


def _holdings(count: int, one: str = "is", many: str = "are") -> str:
    """English: `1 holding is`, `2 holdings are` (`verb` empty: `1 holding, `)."""
    noun = "holding" if count == 1 else "holdings"
    verb = one if count == 1 else many
    return f"{count} {noun} {verb}" if verb else f"{count} {noun}, "


def _money(amount: Decimal, valuation: Valuation) -> str:
    return Money(amount, valuation.currency).display()


_REASONS: Final[dict[str, tuple[str, str]]] = {
    NO_PRICED_HOLDINGS: (
        "not computed, no holding has a price.",
        "評価額のある保有銘柄がないため計算できません",
    ),
    NO_TARGETS: (
        "not computed, no target allocation is set.",
        "目標配分が設定されていないため計算できません",
    ),
    NO_FEE_DATA: (
        "not computed, no fee data for the holdings.",
        "手数料（信託報酬など）のデータがないため計算できません",
    ),
    NO_HISTORY: (
        "not computed, no price history.",
        "価格履歴がないため計算できません",
    ),
    FEWER_THAN_TWO_HOLDINGS: (
        "not computed, fewer than 2 priced holdings.",
        "価格のある保有銘柄が 2 つ未満のため計算できません",
    ),
    NO_PRICE_VARIATION: (
        "not computed, the prices of the largest holdings did not move.",
        "上位銘柄の価格に変動がないため計算できません",
    ),
}


# -- rule results ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Checked:
    result: RuleResult
    suggestion: str | None = None


def _not_computed(
    rule: str,
    reason: str,
    language: Language,
    *,
    message: str | None = None,
    figures: dict[str, str] | None = None,
    threshold: Decimal | None = None,
    suggestion: str | None = None,
) -> _Checked:
    if message is None:
        en, ja = _REASONS[reason]
        message = _say(
            language,
            f"{_title(rule, Language.EN)}: {en}",
            f"{_title(rule, Language.JA)}：{ja}",
        )
    return _Checked(
        RuleResult(
            rule=rule,
            outcome=RuleOutcome.NOT_COMPUTED,
            message=message,
            threshold=threshold,
            figures=figures or {},
            reason=reason,
        ),
        suggestion,
    )


def _checked(
    rule: str,
    value: Decimal,
    threshold: Decimal,
    *,
    passed: str,
    failed: str,
    figures: dict[str, str],
    suggestion: str | None = None,
) -> _Checked:
    """Fails when `value` (already rounded as shown) is above `threshold`."""
    fail = value > threshold
    return _Checked(
        RuleResult(
            rule=rule,
            outcome=RuleOutcome.FAIL if fail else RuleOutcome.PASS,
            message=failed if fail else passed,
            value=value,
            threshold=threshold,
            figures=figures,
        ),
        suggestion if fail else None,
    )


@dataclass(frozen=True, slots=True)
class _Context:
    portfolio: Portfolio
    valuation: Valuation
    language: Language
    thresholds: Thresholds
    by_weight: list[HoldingValuation]  # priced, positive value, largest first

    @property
    def total(self) -> Decimal:
        return self.valuation.total.amount

    @property
    def has_value(self) -> bool:
        return bool(self.by_weight) and self.total > 0

    def say(self, en: str, ja: str) -> str:
        return _say(self.language, en, ja)


# -- value rules ----------------------------------------------------------------------


def _largest_holding(ctx: _Context) -> _Checked:
    limit = ctx.thresholds.largest_holding_percent
    if not ctx.has_value:
        return _not_computed(LARGEST_HOLDING, NO_PRICED_HOLDINGS, ctx.language, threshold=limit)
    top = ctx.by_weight[0]
    weight = _round(top.weight, 2)
    pct, lim = _show(weight), _plain(limit)
    return _checked(
        LARGEST_HOLDING,
        weight,
        limit,
        figures={"symbol": top.symbol, "weight": _num(weight), "holdings": str(len(ctx.by_weight))},
        failed=ctx.say(
            f"The largest holding, {top.symbol}, is {pct}% of the value (threshold {lim}%).",
            f"最大の保有銘柄 {top.symbol} が評価額の {pct}% を占めています（基準 {lim}%）",
        ),
        passed=ctx.say(
            f"The largest holding, {top.symbol}, is {pct}% of the value, "
            f"within the {lim}% threshold.",
            f"最大の保有銘柄 {top.symbol} は評価額の {pct}% で、基準（{lim}%）以内です",
        ),
        suggestion=ctx.say(
            f"Diversify: consider trimming {top.symbol} or adding to other holdings so that "
            f"no single holding is more than {lim}% of the value.",
            f"{top.symbol} の比率を下げるか他の銘柄を買い増して、1 銘柄が評価額の {lim}% を"
            "超えないよう分散を検討してください",
        ),
    )


def _concentration_hhi(ctx: _Context) -> _Checked:
    limit = ctx.thresholds.hhi
    if not ctx.has_value:
        return _not_computed(CONCENTRATION_HHI, NO_PRICED_HOLDINGS, ctx.language, threshold=limit)
    exact = sum(((h.weight / HUNDRED) ** 2 for h in ctx.by_weight), _ZERO)
    hhi = _round(exact, 4)
    effective = _round(_ONE / exact, 1) if exact else _ZERO
    shown, eff, lim = _show(hhi, 4), _show(effective, 1), _plain(limit)
    return _checked(
        CONCENTRATION_HHI,
        hhi,
        limit,
        figures={"hhi": _num(hhi), "effectiveHoldings": _num(effective)},
        failed=ctx.say(
            f"The Herfindahl index of the weights is {shown} (threshold {lim}): the value is "
            f"concentrated, like {eff} equal holdings.",
            f"ハーフィンダール指数（HHI）は {shown} で基準 {lim} を超えています。"
            f"実質的には {eff} 銘柄に均等投資しているのと同程度の集中です",
        ),
        passed=ctx.say(
            f"The Herfindahl index of the weights is {shown}, within the {lim} threshold "
            f"(like {eff} equal holdings).",
            f"ハーフィンダール指数（HHI）は {shown} で、基準（{lim}）以内です"
            f"（実質 {eff} 銘柄相当）",
        ),
        suggestion=ctx.say(
            f"Spread the value over more holdings: it behaves like only {eff} equal "
            "holdings; a broad index fund is one way to diversify.",
            f"評価額が実質 {eff} 銘柄相当に集中しています。銘柄数を増やすか、"
            "幅広く分散されたインデックスファンドの活用を検討してください",
        ),
    )


def _currency_concentration(ctx: _Context) -> _Checked:
    limit = ctx.thresholds.currency_percent
    if not ctx.has_value:
        return _not_computed(
            CURRENCY_CONCENTRATION, NO_PRICED_HOLDINGS, ctx.language, threshold=limit
        )
    slices = allocation(ctx.valuation, Dimension.CURRENCY)
    top = slices[0]
    weight = _round(top.weight, 2)
    pct, lim, code = _show(weight), _plain(limit), top.key
    return _checked(
        CURRENCY_CONCENTRATION,
        weight,
        limit,
        figures={"currency": code, "weight": _num(weight), "currencies": str(len(slices))},
        failed=ctx.say(
            f"{pct}% of the value is priced in {code} (threshold {lim}%).",
            f"評価額の {pct}% が {code} 建ての資産です（基準 {lim}%）",
        ),
        passed=ctx.say(
            f"The largest currency, {code}, is {pct}% of the value, within the {lim}% threshold.",
            f"最も多い通貨 {code} は評価額の {pct}% で、基準（{lim}%）以内です",
        ),
        suggestion=ctx.say(
            f"Consider holding assets priced in currencies other than {code} to spread "
            "currency risk.",
            f"{code} 以外の通貨建ての資産も組み入れて、為替リスクの分散を検討してください",
        ),
    )


_HOME_MARKET: Final[dict[str, Market]] = {"JPY": Market.JP, "USD": Market.US}
_HOME_NAME: Final[dict[str, tuple[str, str]]] = {
    "JPY": ("Japan", "日本"),
    "USD": ("the US", "米国"),
}
_REGION_ALIASES: Final[dict[str, frozenset[str]]] = {
    "JPY": frozenset(
        {
            "japan",
            "jp",
            "jpn",
            "日本",
            "国内",
            "国内株式",
            "国内債券",
            "国内reit",
            "日本株",
            "日本株式",
        }
    ),
    "USD": frozenset(
        {
            "us",
            "usa",
            "u.s.",
            "u.s.a.",
            "unitedstates",
            "unitedstatesofamerica",
            "america",
            "northamerica",
            "米国",
            "アメリカ",
            "北米",
            "米国株",
            "米国株式",
        }
    ),
}


def _region_key(region: str) -> str:
    return "".join(region.split()).casefold()


def _is_home(item: HoldingValuation, base: str) -> bool:
    market = item.holding.instrument.market
    if market is not Market.FUND:
        return market is _HOME_MARKET[base]
    region = item.holding.region
    if region:
        return _region_key(region) in _REGION_ALIASES[base]
    return base == "JPY"


def _home_bias(ctx: _Context) -> _Checked:
    limit = ctx.thresholds.home_bias_percent
    base = ctx.portfolio.base_currency.code
    if not ctx.has_value:
        return _not_computed(HOME_BIAS, NO_PRICED_HOLDINGS, ctx.language, threshold=limit)
    if base not in _HOME_MARKET:
        return _not_computed(
            HOME_BIAS,
            NO_HOME_MARKET,
            ctx.language,
            threshold=limit,
            figures={"baseCurrency": base},
            message=ctx.say(
                f"Home bias: not computed, no home market is known for a {base} base "
                "(Tokyo for JPY, the US for USD).",
                f"ホームバイアス：基準通貨 {base} に対応する国内市場がないため計算できません"
                "（円なら東証、ドルなら米国市場）",
            ),
        )
    home = sum((h.base_value.amount for h in ctx.by_weight if _is_home(h, base)), _ZERO)
    unknown = sum(
        (
            h.base_value.amount
            for h in ctx.by_weight
            if h.holding.instrument.market is Market.FUND and not h.holding.region
        ),
        _ZERO,
    )
    share = _round(home / ctx.total * HUNDRED, 2)
    funds = _round(unknown / ctx.total * HUNDRED, 2)
    pct, lim = _show(share), _plain(limit)
    en_home, ja_home = _HOME_NAME[base]
    note_en = note_ja = ""
    if unknown:
        fund_side_en = "home" if base == "JPY" else "foreign"
        fund_side_ja = "国内" if base == "JPY" else "海外"
        note_en = (
            f" Funds without a region ({_show(funds)}% of the value) count as {fund_side_en}; "
            "set their region for a closer figure."
        )
        note_ja = (
            f"。地域が未設定のファンド（評価額の {_show(funds)}%）は{fund_side_ja}として"
            "計算しています。地域を設定するとより正確になります"
        )
    return _checked(
        HOME_BIAS,
        share,
        limit,
        figures={
            "baseCurrency": base,
            "homeMarket": _HOME_MARKET[base].value,
            "homeWeight": _num(share),
            "fundsWithoutRegionWeight": _num(funds),
        },
        failed=ctx.say(
            f"{pct}% of the value is in {en_home}, the home market (threshold {lim}%).{note_en}",
            f"国内（{ja_home}）資産が評価額の {pct}% を占めています（基準 {lim}%）{note_ja}",
        ),
        passed=ctx.say(
            f"{pct}% of the value is in {en_home}, the home market, within the {lim}% "
            f"threshold.{note_en}",
            f"国内（{ja_home}）資産は評価額の {pct}% で、基準（{lim}%）以内です{note_ja}",
        ),
        suggestion=ctx.say(
            f"Consider adding assets outside {en_home} (for example a global index fund) "
            "to reduce home bias.",
            f"{ja_home}以外の資産（全世界株式のインデックスファンドなど）を加えて、"
            "国内への偏りを抑えることを検討してください",
        ),
    )


def _target_drift(ctx: _Context) -> _Checked:
    limit = ctx.thresholds.drift_points
    if not ctx.has_value:
        return _not_computed(TARGET_DRIFT, NO_PRICED_HOLDINGS, ctx.language, threshold=limit)
    targets = ctx.portfolio.targets
    if not targets:
        return _not_computed(
            TARGET_DRIFT,
            NO_TARGETS,
            ctx.language,
            threshold=limit,
            suggestion=ctx.say(
                "Set target allocations to see how far the portfolio drifts from them.",
                "目標配分を設定すると、現在の配分とのずれを確認できます",
            ),
        )
    unpriced = {u.symbol for u in ctx.valuation.unpriced}
    drifts = [d for d in drift(ctx.valuation, targets) if d.symbol not in unpriced]
    if not drifts:
        return _not_computed(TARGET_DRIFT, NO_PRICED_HOLDINGS, ctx.language, threshold=limit)
    worst = min(drifts, key=lambda d: (-abs(d.drift), d.symbol))
    value = _round(abs(worst.drift), 2)
    beyond = sum(1 for d in drifts if _round(abs(d.drift), 2) > limit)
    signed = _round(worst.drift, 2)
    points = ("+" if signed > 0 else "") + _show(signed)
    target, current, lim = _show(worst.target), _show(worst.current), _plain(limit)
    gap = worst.gap.amount
    move_en = (
        f"add about {_money(gap, ctx.valuation)}"
        if gap > 0
        else f"reduce it by about {_money(-gap, ctx.valuation)}"
    )
    move_ja = (
        f"約 {_money(gap, ctx.valuation)} の買い増し"
        if gap > 0
        else f"約 {_money(-gap, ctx.valuation)} の売却"
    )
    return _checked(
        TARGET_DRIFT,
        value,
        limit,
        figures={
            "symbol": worst.symbol,
            "target": _num(worst.target),
            "current": _num(_round(worst.current, 2)),
            "drift": _num(signed),
            "gap": _num(worst.gap.rounded().amount),
            "currency": ctx.valuation.currency.code,
            "beyondThreshold": str(beyond),
            "unpricedWithTarget": str(sum(1 for s in targets if s in unpriced)),
        },
        failed=ctx.say(
            f"{worst.symbol} is {current}% of the value against a target of {target}% "
            f"({points} points; threshold ±{lim}); {_holdings(beyond)} beyond it.",
            f"目標配分からの乖離が最も大きいのは {worst.symbol} で、目標 {target}% に対して "
            f"{current}%（{points} ポイント）です（基準 ±{lim} ポイント、超過 {beyond} 銘柄）",
        ),
        passed=ctx.say(
            f"Every holding is within ±{lim} points of its target; the largest drift is "
            f"{worst.symbol} at {points} points.",
            f"すべての銘柄が目標配分の ±{lim} ポイント以内です"
            f"（最大は {worst.symbol} の {points} ポイント）",
        ),
        suggestion=ctx.say(
            f"Rebalance toward your targets: for {worst.symbol}, {move_en}; the contribution "
            "simulator can plan the orders.",
            f"目標配分に向けたリバランスを検討してください（{worst.symbol} は{move_ja}が目安）。"
            "追加投資シミュレーションで注文案を作成できます",
        ),
    )


def _canonical(symbol: str) -> str:
    try:
        return parse_symbol(symbol).symbol
    except ValidationError:
        return symbol.strip().upper() if isinstance(symbol, str) else str(symbol)


def _fee_index(fees: Mapping[str, Decimal] | None) -> dict[str, Decimal]:
    if not fees:
        return {}
    index: dict[str, Decimal] = {}
    for symbol, fee in fees.items():
        if isinstance(fee, Decimal) and fee.is_finite() and _ZERO <= fee <= HUNDRED:
            index[_canonical(symbol)] = fee
    return index


def _fee_drag(ctx: _Context, fees: Mapping[str, Decimal] | None) -> _Checked:
    limit = ctx.thresholds.fee_drag_percent
    if not ctx.has_value:
        return _not_computed(FEE_DRAG, NO_PRICED_HOLDINGS, ctx.language, threshold=limit)
    index = _fee_index(fees)
    known = [(h, index[h.symbol]) for h in ctx.by_weight if h.symbol in index]
    if not known:
        return _not_computed(FEE_DRAG, NO_FEE_DATA, ctx.language, threshold=limit)
    cost = sum((h.base_value.amount * fee / HUNDRED for h, fee in known), _ZERO)
    drag = _round(cost / ctx.total * HUNDRED, 3)
    covered = _round(sum((h.weight for h, _ in known), _ZERO), 2)
    dearest, dearest_fee = max(known, key=lambda pair: (pair[1], pair[0].weight))
    amount = _money(cost, ctx.valuation)
    pct, lim, cov = _show(drag, 3), _plain(limit), _show(covered)
    n_known, n_all = len(known), len(ctx.by_weight)
    coverage_en = f"fees known for {n_known} of {n_all} holdings ({cov}% of the value)"
    coverage_ja = f"手数料が分かっているのは {n_all} 銘柄中 {n_known} 銘柄（評価額の {cov}%）"
    return _checked(
        FEE_DRAG,
        drag,
        limit,
        figures={
            "percent": _num(drag),
            "amount": _num(Money(cost, ctx.valuation.currency).rounded().amount),
            "currency": ctx.valuation.currency.code,
            "coveredWeight": _num(covered),
            "knownHoldings": str(n_known),
            "holdings": str(n_all),
            "highestFeeSymbol": dearest.symbol,
            "highestFee": _num(dearest_fee),
        },
        failed=ctx.say(
            f"Running costs take an estimated {pct}% of the value a year, about {amount} "
            f"(threshold {lim}%); {coverage_en}.",
            f"信託報酬などの保有コストは推定で年 {pct}%（約 {amount}/年）です"
            f"（基準 {lim}%、{coverage_ja}）",
        ),
        passed=ctx.say(
            f"Running costs take an estimated {pct}% of the value a year, about {amount}, "
            f"within the {lim}% threshold; {coverage_en}.",
            f"信託報酬などの保有コストは推定で年 {pct}%（約 {amount}/年）で、基準（{lim}%）"
            f"以内です（{coverage_ja}）",
        ),
        suggestion=ctx.say(
            f"Look for a lower-cost alternative to {dearest.symbol} "
            f"({_show(dearest_fee, 4)}% a year).",
            f"{dearest.symbol}（年 {_show(dearest_fee, 4)}%）について、"
            "より低コストな代替商品を検討してください",
        ),
    )


def _unpriced(ctx: _Context) -> _Checked:
    limit = ctx.thresholds.unpriced_holdings
    symbols = [u.symbol for u in ctx.valuation.unpriced]
    count = len(symbols)
    reasons: dict[str, int] = {}
    for item in ctx.valuation.unpriced:
        reasons[item.reason.value] = reasons.get(item.reason.value, 0) + 1
    named = _named(symbols)
    return _checked(
        UNPRICED_HOLDINGS,
        Decimal(count),
        Decimal(limit),
        figures={
            "count": str(count),
            "symbols": ",".join(symbols[:MAX_NAMED]),
            "reasons": ",".join(f"{k}:{v}" for k, v in sorted(reasons.items())),
        },
        failed=ctx.say(
            f"No price for {_holdings(count, '', '')}left out of the value: {named} "
            f"(threshold {limit}).",
            f"価格を取得できない銘柄が {count} 件あり、評価額に含まれていません: {named}"
            f"（基準 {limit} 件）",
        ),
        passed=ctx.say(
            "Every holding has a price."
            if not count
            else f"{_holdings(count, 'has', 'have')} no price ({named}), "
            f"within the threshold of {limit}.",
            "すべての保有銘柄に価格があります"
            if not count
            else f"価格のない銘柄は {count} 件（{named}）で、基準（{limit} 件）以内です",
        ),
        suggestion=ctx.say(
            f"Check the symbols or add a price source (or an FX rate) for: {named}.",
            "次の銘柄の銘柄コードを確認するか、価格の取得元（または為替レート）を"
            f"追加してください: {named}",
        ),
    )


def _stale(ctx: _Context) -> _Checked:
    limit = ctx.thresholds.stale_holdings
    stale = [h for h in ctx.valuation.holdings if h.stale]
    symbols = [h.symbol for h in stale]
    count = len(symbols)
    total = ctx.total
    weight = (
        _round(sum((h.base_value.amount for h in stale), _ZERO) / total * HUNDRED, 2)
        if total > 0
        else _ZERO
    )
    named = _named(symbols)
    return _checked(
        STALE_HOLDINGS,
        Decimal(count),
        Decimal(limit),
        figures={
            "count": str(count),
            "symbols": ",".join(symbols[:MAX_NAMED]),
            "weight": _num(weight),
        },
        failed=ctx.say(
            f"{_holdings(count)} valued at a stale price ({_show(weight)}% of the value): "
            f"{named} (threshold {limit}).",
            f"古い価格で評価している銘柄が {count} 件あります（評価額の {_show(weight)}%）: "
            f"{named}（基準 {limit} 件）",
        ),
        passed=ctx.say(
            "No holding is valued at a stale price."
            if not count
            else f"{_holdings(count, 'uses', 'use')} a stale price ({named}), "
            f"within the threshold of {limit}.",
            "古い価格で評価している銘柄はありません"
            if not count
            else f"古い価格の銘柄は {count} 件（{named}）で、基準（{limit} 件）以内です",
        ),
        suggestion=ctx.say(
            f"Check the prices of {named}: every price source failed and the last known "
            "price was used.",
            f"{named} の価格を確認してください"
            "（価格を取得できず、最後に取得した価格を使っています）",
        ),
    )


# -- history rules --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _History:
    item: HoldingValuation
    closes: dict[date, Decimal]  # valid closes, by day


@dataclass(slots=True)
class _HistoryData:
    reason: str | None = None  # why the history rules cannot run at all
    candidates: list[_History] = field(default_factory=list)  # largest first
    longest: int = 0  # closes of the longest candidate


def _clean(closes: Sequence[DailyClose]) -> dict[date, Decimal]:
    result: dict[date, Decimal] = {}
    for close in closes[-MAX_HISTORY_DAYS:]:
        price = getattr(close, "close", None)
        day = getattr(close, "day", None)
        if isinstance(day, datetime):
            day = day.date()
        if not isinstance(price, Decimal) or not isinstance(day, date):
            continue
        if price.is_finite() and _ZERO < price <= MAX_PRICE:
            result[day] = price
    return dict(sorted(result.items()))


def _history_data(
    ctx: _Context, history: Mapping[str, Sequence[DailyClose]] | None
) -> _HistoryData:
    if not ctx.has_value:
        return _HistoryData(NO_PRICED_HOLDINGS)
    if not history:
        return _HistoryData(NO_HISTORY)
    index: dict[str, Sequence[DailyClose]] = {}
    for symbol, closes in history.items():
        index.setdefault(_canonical(symbol), closes)
    data = _HistoryData()
    examined = 0
    for item in ctx.by_weight:
        found = index.get(item.symbol)
        if found is None:
            continue
        examined += 1
        cleaned = _clean(found)
        if cleaned:
            data.candidates.append(_History(item, cleaned))
            data.longest = max(data.longest, len(cleaned))
        if examined >= MAX_HISTORY_CANDIDATES:
            break
    if not data.candidates:
        data.reason = NO_HISTORY
    return data


def _not_enough(rule: str, ctx: _Context, days: int, threshold: Decimal) -> _Checked:
    minimum = ctx.thresholds.min_history_days
    return _not_computed(
        rule,
        NOT_ENOUGH_HISTORY,
        ctx.language,
        threshold=threshold,
        figures={"minimumDays": str(minimum), "days": str(days)},
        message=ctx.say(
            f"{_title(rule, Language.EN)}: not computed, not enough price history "
            f"({days} days; at least {minimum} needed).",
            f"{_title(rule, Language.JA)}：価格履歴が足りないため計算できません"
            f"（{minimum} 日分以上が必要、利用できるのは {days} 日分）",
        ),
    )


@dataclass(frozen=True, slots=True)
class _Series:
    days: list[date]
    index: list[Decimal]  # value of 1 invested on days[0], constant weights
    log_returns: list[Decimal]
    symbols: list[str]
    covered: Decimal  # percent of the priced value in the series


def _portfolio_series(ctx: _Context, data: _HistoryData) -> _Series | None:
    minimum = ctx.thresholds.min_history_days
    included: list[_History] = []
    common: set[date] | None = None
    for candidate in data.candidates:
        if len(included) >= MAX_SERIES_HOLDINGS:
            break
        available = set(candidate.closes)
        shared = available if common is None else common & available
        if len(shared) >= minimum:
            included.append(candidate)
            common = shared
    if not included or common is None:
        return None
    value = sum((c.item.base_value.amount for c in included), _ZERO)
    weights = [c.item.base_value.amount / value for c in included]
    days = sorted(common)
    index = [_ONE]
    log_returns: list[Decimal] = []
    for previous, day in pairwise(days):
        growth = sum(
            (
                w * c.closes[day] / c.closes[previous]
                for w, c in zip(weights, included, strict=True)
            ),
            _ZERO,
        )
        index.append(index[-1] * growth)
        log_returns.append(growth.ln())
    return _Series(
        days=days,
        index=index,
        log_returns=log_returns,
        symbols=[c.item.symbol for c in included],
        covered=_round(value / ctx.total * HUNDRED, 2),
    )


def _sample_variance(values: Sequence[Decimal]) -> tuple[Decimal, Decimal]:
    """(mean, sample variance) of at least 2 values."""
    mean = sum(values, _ZERO) / len(values)
    return mean, sum(((v - mean) ** 2 for v in values), _ZERO) / (len(values) - 1)


def _series_figures(series: _Series) -> dict[str, str]:
    symbols = series.symbols
    return {
        "days": str(len(series.days)),
        "from": series.days[0].isoformat(),
        "to": series.days[-1].isoformat(),
        "holdings": str(len(symbols)),
        "symbols": ",".join(symbols[:MAX_NAMED]),
        "coveredWeight": _num(series.covered),
    }


def _coverage(ctx: _Context, series: _Series) -> tuple[str, str]:
    n, first, last = len(series.days), series.days[0], series.days[-1]
    cov = _show(series.covered)
    return (
        f"{n} days from {first} to {last}, {_holdings(len(series.symbols), '', '')}"
        f"{cov}% of the value",
        f"{first}〜{last} の {n} 日分、{len(series.symbols)} 銘柄（評価額の {cov}%）",
    )


def _volatility(ctx: _Context, data: _HistoryData, series: _Series | None) -> _Checked:
    limit = ctx.thresholds.volatility_percent
    if data.reason is not None:
        return _not_computed(VOLATILITY, data.reason, ctx.language, threshold=limit)
    if series is None:
        return _not_enough(VOLATILITY, ctx, data.longest, limit)
    _mean, variance = _sample_variance(series.log_returns)
    annual = _round(variance.sqrt() * _SQRT_YEAR * HUNDRED, 2)
    pct, lim = _show(annual), _plain(limit)
    cov_en, cov_ja = _coverage(ctx, series)
    return _checked(
        VOLATILITY,
        annual,
        limit,
        figures={"annualisedPercent": _num(annual), **_series_figures(series)},
        failed=ctx.say(
            f"The annualised volatility of the portfolio is {pct}% (threshold {lim}%; {cov_en}).",
            f"ポートフォリオの年率ボラティリティは {pct}% です（基準 {lim}%、{cov_ja}）",
        ),
        passed=ctx.say(
            f"The annualised volatility of the portfolio is {pct}%, within the {lim}% threshold "
            f"({cov_en}).",
            f"ポートフォリオの年率ボラティリティは {pct}% で、基準（{lim}%）以内です（{cov_ja}）",
        ),
        suggestion=ctx.say(
            "The portfolio swings more than the threshold: consider adding steadier assets "
            "such as bonds, if that suits your goals.",
            "値動きが大きめです。目的に合う範囲で、債券など値動きの穏やかな資産の組み入れを"
            "検討してください",
        ),
    )


def _max_drawdown(ctx: _Context, data: _HistoryData, series: _Series | None) -> _Checked:
    limit = ctx.thresholds.max_drawdown_percent
    if data.reason is not None:
        return _not_computed(MAX_DRAWDOWN, data.reason, ctx.language, threshold=limit)
    if series is None:
        return _not_enough(MAX_DRAWDOWN, ctx, data.longest, limit)
    peak, peak_at = series.index[0], 0
    worst, worst_peak, worst_trough = _ZERO, 0, 0
    for i, level in enumerate(series.index):
        if level > peak:
            peak, peak_at = level, i
        fall = (peak - level) / peak
        if fall > worst:
            worst, worst_peak, worst_trough = fall, peak_at, i
    value = _round(worst * HUNDRED, 2)
    pct, lim = _show(value), _plain(limit)
    start, end = series.days[worst_peak], series.days[worst_trough]
    cov_en, cov_ja = _coverage(ctx, series)
    when_en = f"from {start} to {end}" if worst else "no fall"
    when_ja = f"{start}〜{end}" if worst else "下落なし"
    return _checked(
        MAX_DRAWDOWN,
        value,
        limit,
        figures={
            "percent": _num(value),
            "peak": start.isoformat(),
            "trough": end.isoformat(),
            **_series_figures(series),
        },
        failed=ctx.say(
            f"The portfolio's largest fall from a high was {pct}% ({when_en}; threshold {lim}%; "
            f"{cov_en}).",
            f"過去の最大下落率（最大ドローダウン）は {pct}% です"
            f"（{when_ja}、基準 {lim}%、{cov_ja}）",
        ),
        passed=ctx.say(
            f"The portfolio's largest fall from a high was {pct}% ({when_en}), within the {lim}% "
            f"threshold ({cov_en}).",
            f"過去の最大下落率（最大ドローダウン）は {pct}%（{when_ja}）で、基準（{lim}%）以内です"
            f"（{cov_ja}）",
        ),
        suggestion=ctx.say(
            f"The portfolio once fell {pct}%: make sure you could hold on through a fall like "
            "that, and consider steadier assets if not.",
            f"過去に {pct}% 下落した局面があります。同程度の下落に耐えられるか確認し、"
            "難しければ値動きの穏やかな資産の組み入れを検討してください",
        ),
    )


def _log_returns(logs: Mapping[date, Decimal], days: Sequence[date]) -> list[Decimal]:
    """Daily log returns over `days` from the logarithms of the closes."""
    return [logs[day] - logs[previous] for previous, day in pairwise(days)]


def _correlation(ctx: _Context, data: _HistoryData) -> _Checked:
    limit = ctx.thresholds.correlation
    minimum = ctx.thresholds.min_history_days
    if ctx.has_value and len(ctx.by_weight) < 2:
        return _not_computed(CORRELATION, FEWER_THAN_TWO_HOLDINGS, ctx.language, threshold=limit)
    if data.reason is not None:
        return _not_computed(CORRELATION, data.reason, ctx.language, threshold=limit)
    largest = [c for c in data.candidates if len(c.closes) >= minimum][:MAX_CORRELATION_HOLDINGS]
    if len(largest) < 2:
        return _not_enough(CORRELATION, ctx, data.longest, limit)
    logs = [{day: close.ln() for day, close in c.closes.items()} for c in largest]
    pairs: list[tuple[Decimal, str, str, int]] = []
    shared_most = 0
    flat = False
    for i, first in enumerate(largest):
        for j in range(i + 1, len(largest)):
            second = largest[j]
            days = sorted(set(first.closes) & set(second.closes))
            shared_most = max(shared_most, len(days))
            if len(days) < minimum:
                continue
            a = _log_returns(logs[i], days)
            b = _log_returns(logs[j], days)
            mean_a, mean_b = sum(a, _ZERO) / len(a), sum(b, _ZERO) / len(b)
            var_a = sum(((x - mean_a) ** 2 for x in a), _ZERO)
            var_b = sum(((y - mean_b) ** 2 for y in b), _ZERO)
            if not var_a or not var_b:
                flat = True
                continue
            cov = sum(((x - mean_a) * (y - mean_b) for x, y in zip(a, b, strict=True)), _ZERO)
            corr = max(Decimal(-1), min(_ONE, cov / (var_a.sqrt() * var_b.sqrt())))
            pairs.append((_round(corr, 4), first.item.symbol, second.item.symbol, len(days)))
    if not pairs:
        if flat:
            return _not_computed(CORRELATION, NO_PRICE_VARIATION, ctx.language, threshold=limit)
        return _not_enough(CORRELATION, ctx, shared_most, limit)
    corr, a_sym, b_sym, days_used = max(pairs, key=lambda p: (p[0], p[3]))
    shown, lim = _show(corr, 4), _plain(limit)
    n = len(largest)
    return _checked(
        CORRELATION,
        corr,
        limit,
        figures={
            "first": a_sym,
            "second": b_sym,
            "correlation": _num(corr),
            "days": str(days_used),
            "holdings": str(n),
            "pairs": str(len(pairs)),
            "symbols": ",".join(c.item.symbol for c in largest),
        },
        failed=ctx.say(
            f"{a_sym} and {b_sym} move together: the correlation of their daily returns is "
            f"{shown} over {days_used} days, the highest among the {n} largest holdings "
            f"(threshold {lim}).",
            f"上位 {n} 銘柄のうち {a_sym} と {b_sym} の日次リターンの相関係数は {shown} で最も高く"
            f"（{days_used} 日分）、ほぼ同じ値動きをしています（基準 {lim}）",
        ),
        passed=ctx.say(
            f"The highest correlation of daily returns among the {n} largest holdings is {shown} "
            f"({a_sym} and {b_sym}, {days_used} days), within the {lim} threshold.",
            f"上位 {n} 銘柄の日次リターンの相関係数は最大で {shown}（{a_sym} と {b_sym}、"
            f"{days_used} 日分）で、基準（{lim}）以内です",
        ),
        suggestion=ctx.say(
            f"{a_sym} and {b_sym} move almost together, so holding both adds little "
            "diversification; consider assets that behave differently.",
            f"{a_sym} と {b_sym} はほぼ同じ値動きのため、両方を持っても分散効果は小さくなります。"
            "値動きの異なる資産の組み入れを検討してください",
        ),
    )


# -- the report -----------------------------------------------------------------------


def rule_based_report(
    portfolio: Portfolio,
    valuation: Valuation,
    *,
    language: Language,
    history: Mapping[str, Sequence[DailyClose]] | None = None,
    fees: Mapping[str, Decimal] | None = None,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
) -> AnalysisReport:
    """Every rule of `RULE_IDS` on this valuation, with a summary, one risk line per
    failed rule and suggestions, in `language`. Never raises for a portfolio and a
    valuation the domain allows: what cannot be computed says why.

    `history` maps a symbol (any accepted spelling) to its daily closes, oldest first;
    `fees` maps a symbol to its annual running cost in percent (0.0938 for 0.0938 %)."""
    with localcontext(Context(prec=_PRECISION)):
        by_weight = sorted(
            (h for h in valuation.holdings if h.base_value.amount > 0),
            key=lambda h: (-h.weight, h.symbol),
        )
        ctx = _Context(portfolio, valuation, language, thresholds, by_weight)
        data = _history_data(ctx, history)
        series = _portfolio_series(ctx, data) if data.reason is None else None
        checked = {
            LARGEST_HOLDING: _largest_holding(ctx),
            CONCENTRATION_HHI: _concentration_hhi(ctx),
            CURRENCY_CONCENTRATION: _currency_concentration(ctx),
            HOME_BIAS: _home_bias(ctx),
            TARGET_DRIFT: _target_drift(ctx),
            FEE_DRAG: _fee_drag(ctx, fees),
            UNPRICED_HOLDINGS: _unpriced(ctx),
            STALE_HOLDINGS: _stale(ctx),
            VOLATILITY: _volatility(ctx, data, series),
            MAX_DRAWDOWN: _max_drawdown(ctx, data, series),
            CORRELATION: _correlation(ctx, data),
        }
        rules = tuple(checked[rule].result for rule in RULE_IDS)
        failed = [
            checked[r].result for r in IMPORTANCE if checked[r].result.outcome is RuleOutcome.FAIL
        ]
        risks = tuple(
            f"{_title(r.rule, language)}{_say(language, ': ', '：')}{r.message}" for r in failed
        )
        suggestions = tuple(
            Suggestion(text, rule=rule)
            for rule in IMPORTANCE
            if (text := checked[rule].suggestion) is not None
        )
        return AnalysisReport(
            analyst=RULES_ANALYST,
            language=language,
            summary=_summary(ctx, rules, failed),
            rules=rules,
            risks=risks,
            suggestions=suggestions,
        )


def _summary(ctx: _Context, rules: Sequence[RuleResult], failed: Sequence[RuleResult]) -> str:
    total = len(rules)
    not_computed = sum(1 for r in rules if r.outcome is RuleOutcome.NOT_COMPUTED)
    computed = total - not_computed
    skipped_en = f" ({not_computed} could not be computed)" if not_computed else ""
    skipped_ja = f"（{not_computed} 項目は計算できませんでした）" if not_computed else ""
    parts: list[str] = []
    if failed:
        rules_en = "rule flags" if len(failed) == 1 else "rules flag"
        parts.append(
            ctx.say(
                f"{len(failed)} of the {total} {rules_en} a risk{skipped_en}.",
                f"{total} 項目のルールのうち {len(failed)} 項目で基準を超えています{skipped_ja}。",
            )
        )
        top = failed[0]
        parts.append(ctx.say(f"Most important: {top.message}", f"最も重要な点：{top.message}。"))
        others = [_title(r.rule, ctx.language) for r in failed[1:]]
        if others:
            parts.append(
                ctx.say(
                    f"Also flagged: {', '.join(others)}.",
                    "ほかに"
                    + "".join(f"「{title}」" for title in others)
                    + "も基準を超えています。",
                )
            )
    else:
        parts.append(
            ctx.say(
                f"No rule flags a risk: all {computed} rules that could be computed "
                f"passed{skipped_en}.",
                f"計算できた {computed} 項目のルールはすべて基準内です{skipped_ja}。",
            )
        )
    if not ctx.has_value:
        parts.append(
            ctx.say(
                "No holding has a price, so the rules on value could not be computed.",
                "評価額のある保有銘柄がないため、評価額にもとづくルールは計算できませんでした。",
            )
        )
    return ctx.say(" ", "").join(parts)


# -- figures for an AI analyst --------------------------------------------------------

_EMAIL: Final = re.compile(r"[^\s@]+@[^\s@]+")
REDACTED: Final = "[redacted]"


def _scrubber(portfolio: Portfolio) -> Callable[[str], str]:
    """Free text (regions) as an AI may see it: no e-mail address, and nothing that
    contains the user id, the portfolio id or the portfolio name."""
    identifiers = [
        s.casefold() for s in (portfolio.user_id, portfolio.portfolio_id, portfolio.name) if s
    ]
    identifiers = [s for s in identifiers if len(s) >= 3]

    def scrub(text: str) -> str:
        folded = text.casefold()
        if _EMAIL.search(text) or any(s in folded for s in identifiers):
            return REDACTED
        return text

    return scrub


def _amount(money: Money | None) -> JsonValue:
    if money is None:
        return None
    rounded = money.rounded()
    return {"amount": _num(rounded.amount), "currency": rounded.currency.code}


def portfolio_figures(portfolio: Portfolio, valuation: Valuation) -> dict[str, JsonValue]:
    """The anonymous figures an AI analyst is given: currencies, the total, the largest
    holdings (symbol, market, asset class, quote currency, weight, value, unrealized
    P/L), the targets, allocations by asset class, currency, market and region, and the
    unpriced and stale symbols. Never the user id, the portfolio id, the portfolio name
    or an e-mail address: the portfolio's own identifiers are never copied, and region texts
    that contain one of them or an e-mail address are replaced by `[redacted]`.

    Lists hold at most `MAX_FIGURE_ITEMS` entries (the largest); the rest are counted."""
    with localcontext(Context(prec=_PRECISION)):
        scrub = _scrubber(portfolio)
        ranked = sorted(valuation.holdings, key=lambda h: (-h.weight, h.symbol))
        shown, hidden = ranked[:MAX_FIGURE_ITEMS], ranked[MAX_FIGURE_ITEMS:]
        holdings: list[JsonValue] = []
        for h in shown:
            holdings.append(
                {
                    "symbol": h.symbol,
                    "market": h.holding.instrument.market.value,
                    "assetClass": h.holding.asset_class.value,
                    "currency": h.price.currency.code,
                    "weight": _num(_round(h.weight, 2)),
                    "value": _amount(h.base_value),
                    "unrealizedPl": _amount(h.unrealized_pl),
                    "unrealizedPlPercent": None
                    if h.unrealized_pl_percent is None
                    else _num(_round(h.unrealized_pl_percent, 2)),
                    "stale": h.stale,
                }
            )
        figures: dict[str, JsonValue] = {
            "baseCurrency": portfolio.base_currency.code,
            "valuationCurrency": valuation.currency.code,
            "valuedAt": valuation.at.isoformat(),
            "total": _amount(valuation.total),
            "costBasis": _amount(valuation.cost_basis),
            "unrealizedPl": _amount(valuation.unrealized_pl),
            "holdingCount": len(valuation.holdings) + len(valuation.unpriced),
            "pricedCount": len(valuation.holdings),
            "holdings": holdings,
        }
        if hidden:
            rest = sum((h.base_value.amount for h in hidden), _ZERO)
            figures["otherHoldings"] = {
                "count": len(hidden),
                "weight": _num(_round(sum((h.weight for h in hidden), _ZERO), 2)),
                "value": _amount(Money(rest, valuation.currency)),
            }
        targets = sorted(portfolio.targets.items(), key=lambda kv: (-kv[1], kv[0]))
        figures["targets"] = {symbol: _num(pct) for symbol, pct in targets[:MAX_FIGURE_ITEMS]}
        if len(targets) > MAX_FIGURE_ITEMS:
            figures["otherTargets"] = {
                "count": len(targets) - MAX_FIGURE_ITEMS,
                "percent": _num(sum((pct for _, pct in targets[MAX_FIGURE_ITEMS:]), _ZERO)),
            }
        breakdowns: dict[str, JsonValue] = {}
        for dimension in (
            Dimension.ASSET_CLASS,
            Dimension.CURRENCY,
            Dimension.MARKET,
            Dimension.REGION,
        ):
            merged: dict[str, tuple[Decimal, Decimal]] = {}
            for s in allocation(valuation, dimension):
                key = scrub(s.key) if dimension is Dimension.REGION else s.key
                value, weight = merged.get(key, (_ZERO, _ZERO))
                merged[key] = (value + s.value.amount, weight + s.weight)
            slices = sorted(merged.items(), key=lambda kv: (-kv[1][0], kv[0]))
            rows: list[JsonValue] = [
                {
                    "key": key,
                    "weight": _num(_round(weight, 2)),
                    "value": _amount(Money(value, valuation.currency)),
                }
                for key, (value, weight) in slices[:MAX_FIGURE_ITEMS]
            ]
            if len(slices) > MAX_FIGURE_ITEMS:
                rest_weight = sum((w for _, (_, w) in slices[MAX_FIGURE_ITEMS:]), _ZERO)
                rows.append(
                    {"key": "(others)", "weight": _num(_round(rest_weight, 2)), "value": None}
                )
            breakdowns[dimension.value] = rows
        figures["allocation"] = breakdowns
        unpriced: list[JsonValue] = [
            {"symbol": u.symbol, "reason": u.reason.value}
            for u in valuation.unpriced[:MAX_FIGURE_ITEMS]
        ]
        figures["unpriced"] = unpriced
        figures["unpricedCount"] = len(valuation.unpriced)
        stale_symbols = valuation.stale
        stale: list[JsonValue] = list(stale_symbols[:MAX_FIGURE_ITEMS])
        figures["stale"] = stale
        figures["staleCount"] = len(stale_symbols)
        return figures
