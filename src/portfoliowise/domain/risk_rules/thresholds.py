"""The rules' ids (in report order and by importance), the reasons a rule cannot be
computed, the bounds on the work, and `Thresholds`: a threshold per rule."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from portfoliowise.domain.errors import ValidationError
from portfoliowise.domain.risk_rules.decimals import ZERO

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

# -- bounds of the work ---------------------------------------------------------------

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
            low = Decimal(-1) if name == "correlation" else ZERO
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
