"""The texts the rules share, in English and Japanese: rule titles, why a rule could not
be computed, and how numbers, thresholds, symbols and amounts are written."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Final

from portfoliowise.domain.analysis import Language
from portfoliowise.domain.money import Money
from portfoliowise.domain.risk_rules.decimals import round_to
from portfoliowise.domain.risk_rules.thresholds import (
    CONCENTRATION_HHI,
    CORRELATION,
    CURRENCY_CONCENTRATION,
    FEE_DRAG,
    FEWER_THAN_TWO_HOLDINGS,
    HOME_BIAS,
    LARGEST_HOLDING,
    MAX_DRAWDOWN,
    MAX_NAMED,
    NO_FEE_DATA,
    NO_HISTORY,
    NO_PRICE_VARIATION,
    NO_PRICED_HOLDINGS,
    NO_TARGETS,
    STALE_HOLDINGS,
    TARGET_DRIFT,
    UNPRICED_HOLDINGS,
    VOLATILITY,
)
from portfoliowise.domain.valuation import Valuation

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


def say(language: Language, en: str, ja: str) -> str:
    return ja if language is Language.JA else en


def title(rule: str, language: Language) -> str:
    en, ja = _TITLES[rule]
    return say(language, en, ja)


def show(value: Decimal, places: int = 2) -> str:
    """For messages: rounded to `places`, trailing zeros dropped, at least one decimal
    (42.1, 25.04, 50.0)."""
    text = format(round_to(value, places), "f")
    if "." in text:
        text = text.rstrip("0")
        if text.endswith("."):
            text += "0"
    return text


def plain(value: Decimal) -> str:
    """A threshold as the user wrote it, without trailing zeros (25, 0.5)."""
    return format(value.normalize(), "f") if value else "0"


def name_list(symbols: Sequence[str]) -> str:
    shown = ", ".join(symbols[:MAX_NAMED])
    rest = len(symbols) - MAX_NAMED
    return f"{shown}, … (+{rest})" if rest > 0 else shown


def holdings_phrase(count: int, one: str = "is", many: str = "are") -> str:
    """English: `1 holding is`, `2 holdings are` (`verb` empty: `1 holding, `)."""
    noun = "holding" if count == 1 else "holdings"
    verb = one if count == 1 else many
    return f"{count} {noun} {verb}" if verb else f"{count} {noun}, "


def money_text(amount: Decimal, valuation: Valuation) -> str:
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


def reason_message(rule: str, reason: str, language: Language) -> str:
    """`<rule title>: not computed, <why>` for a reason that has no message of its own."""
    en, ja = _REASONS[reason]
    return say(
        language,
        f"{title(rule, Language.EN)}: {en}",
        f"{title(rule, Language.JA)}：{ja}",
    )
