"""The home bias rule: the share of value in the home market of the base currency, with
the region names that count a Japanese fund as Japanese or American."""

from __future__ import annotations

from typing import Final

from portfoliowise.domain.instruments import Market
from portfoliowise.domain.risk_rules.context import RuleContext
from portfoliowise.domain.risk_rules.decimals import ZERO, decimal_text, round_to
from portfoliowise.domain.risk_rules.messages import plain, show
from portfoliowise.domain.risk_rules.results import Checked, compared, not_computed
from portfoliowise.domain.risk_rules.thresholds import HOME_BIAS, NO_HOME_MARKET, NO_PRICED_HOLDINGS
from portfoliowise.domain.valuation import HUNDRED, HoldingValuation

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


def check_home_bias(ctx: RuleContext) -> Checked:
    limit = ctx.thresholds.home_bias_percent
    base = ctx.portfolio.base_currency.code
    if not ctx.has_value:
        return not_computed(HOME_BIAS, NO_PRICED_HOLDINGS, ctx.language, threshold=limit)
    if base not in _HOME_MARKET:
        return not_computed(
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
    home = sum((h.base_value.amount for h in ctx.by_weight if _is_home(h, base)), ZERO)
    unknown = sum(
        (
            h.base_value.amount
            for h in ctx.by_weight
            if h.holding.instrument.market is Market.FUND and not h.holding.region
        ),
        ZERO,
    )
    share = round_to(home / ctx.total * HUNDRED, 2)
    funds = round_to(unknown / ctx.total * HUNDRED, 2)
    pct, lim = show(share), plain(limit)
    en_home, ja_home = _HOME_NAME[base]
    note_en = note_ja = ""
    if unknown:
        fund_side_en = "home" if base == "JPY" else "foreign"
        fund_side_ja = "国内" if base == "JPY" else "海外"
        note_en = (
            f" Funds without a region ({show(funds)}% of the value) count as {fund_side_en}; "
            "set their region for a closer figure."
        )
        note_ja = (
            f"。地域が未設定のファンド（評価額の {show(funds)}%）は{fund_side_ja}として"
            "計算しています。地域を設定するとより正確になります"
        )
    return compared(
        HOME_BIAS,
        share,
        limit,
        figures={
            "baseCurrency": base,
            "homeMarket": _HOME_MARKET[base].value,
            "homeWeight": decimal_text(share),
            "fundsWithoutRegionWeight": decimal_text(funds),
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
