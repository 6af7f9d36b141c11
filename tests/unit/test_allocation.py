"""Allocation breakdowns and drift against targets.

Worked example (USD-JPY 160), total 2,000,000 JPY:
    0331418A  400,000 units x 25,000 / 10,000 = 1,000,000 JPY  50 %  balanced, region Global
    7203      200 shares x 2,500 JPY          =   500,000 JPY  25 %  equity, Automobiles, Japan
    VTI       10 shares x 250 USD  (2,500 USD)=   400,000 JPY  20 %  equity, North America
    BND       10 shares x 62.50 USD  (625 USD)=   100,000 JPY   5 %  bond, North America
    6758      (quote unavailable: left out of every breakdown)
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from portfoliowise.domain.allocation import (
    UNCLASSIFIED,
    Dimension,
    TargetDrift,
    allocation,
    drift,
)
from portfoliowise.domain.errors import ValidationError
from portfoliowise.domain.fx import FxRate, RateTable
from portfoliowise.domain.money import JPY, USD, Money
from portfoliowise.domain.portfolio import Holding, Portfolio
from portfoliowise.domain.quotes import Quote, QuoteStatus
from portfoliowise.domain.valuation import Valuation, value_portfolio

AT = datetime(2024, 6, 3, 6, 0, tzinfo=UTC)
RATES = RateTable([FxRate(USD, JPY, Decimal(160))])


def quote(symbol: str, price: str, currency: str) -> Quote:
    return Quote(symbol, Money.of(price, currency), QuoteStatus.LIVE, "test", AT)


def yen(amount: object) -> Money:
    return Money.of(amount, "JPY")


HOLDINGS = [
    Holding.of("0331418A", 400_000, asset_class="balanced", region="Global"),
    Holding.of("7203", 200, sector="Automobiles", region="Japan"),
    Holding.of("VTI", 10, region="North America"),
    Holding.of("BND", 10, asset_class="bond", region="North America"),
    Holding.of("6758", 100, sector="Electronics", region="Japan"),
]
QUOTES = {
    "0331418A": quote("0331418A", "25000", "JPY"),
    "7203": quote("7203", "2500", "JPY"),
    "VTI": quote("VTI", "250", "USD"),
    "BND": quote("BND", "62.50", "USD"),
    "6758": Quote.unavailable("6758"),
}


def valuation(currency: str = "JPY") -> Valuation:
    pf = Portfolio(
        user_id="u1",
        portfolio_id="p1",
        name="Family",
        base_currency=JPY,
        created_at=AT,
        holdings=HOLDINGS,
    )
    return value_portfolio(pf, QUOTES, RATES, at=AT, currency=USD if currency == "USD" else JPY)


def slices(by: Dimension, currency: str = "JPY") -> list[tuple[str, Money, Decimal]]:
    return [(s.key, s.value, s.weight) for s in allocation(valuation(currency), by)]


def test_by_holding_sorted_by_value_largest_first() -> None:
    assert slices(Dimension.HOLDING) == [
        ("0331418A", yen(1_000_000), 50),
        ("7203", yen(500_000), 25),
        ("VTI", yen(400_000), 20),
        ("BND", yen(100_000), 5),
    ]


def test_by_asset_class() -> None:
    assert slices(Dimension.ASSET_CLASS) == [
        ("balanced", yen(1_000_000), 50),
        ("equity", yen(900_000), 45),
        ("bond", yen(100_000), 5),
    ]


def test_by_currency_of_the_quote() -> None:
    assert slices(Dimension.CURRENCY) == [
        ("JPY", yen(1_500_000), 75),
        ("USD", yen(500_000), 25),
    ]


def test_by_market_ties_broken_by_key() -> None:
    assert slices(Dimension.MARKET) == [
        ("FUND", yen(1_000_000), 50),
        ("JP", yen(500_000), 25),
        ("US", yen(500_000), 25),
    ]


def test_by_sector_with_unclassified_default() -> None:
    # 6758 has a sector but no price: it appears nowhere.
    assert slices(Dimension.SECTOR) == [
        (UNCLASSIFIED, yen(1_500_000), 75),
        ("Automobiles", yen(500_000), 25),
    ]
    assert UNCLASSIFIED == "unclassified"


def test_by_region() -> None:
    assert slices(Dimension.REGION) == [
        ("Global", yen(1_000_000), 50),
        ("Japan", yen(500_000), 25),
        ("North America", yen(500_000), 25),
    ]


def test_slices_in_usd() -> None:
    assert slices(Dimension.CURRENCY, "USD") == [
        ("JPY", Money.of("9375", "USD"), 75),  # 1,500,000 / 160
        ("USD", Money.of("3125", "USD"), 25),
    ]


def test_allocation_of_an_empty_valuation_is_empty() -> None:
    pf = Portfolio(user_id="u", portfolio_id="p", name="Empty", base_currency=JPY, created_at=AT)
    empty = value_portfolio(pf, {}, RATES, at=AT)

    assert allocation(empty, Dimension.HOLDING) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("holding", Dimension.HOLDING),
        ("assetClass", Dimension.ASSET_CLASS),
        ("asset_class", Dimension.ASSET_CLASS),
        ("asset-class", Dimension.ASSET_CLASS),
        ("class", Dimension.ASSET_CLASS),
        ("currency", Dimension.CURRENCY),
        ("market", Dimension.MARKET),
        ("sector", Dimension.SECTOR),
        ("region", Dimension.REGION),
    ],
)
def test_dimension_parse(text: str, expected: Dimension) -> None:
    assert Dimension.parse(text) is expected


@pytest.mark.parametrize("text", ["country", "", "holdings", "asset class"])
def test_dimension_parse_rejects_unknown_names_listing_the_allowed_ones(text: str) -> None:
    with pytest.raises(ValidationError, match="unknown allocation dimension") as caught:
        Dimension.parse(text)
    assert "assetClass" in str(caught.value)
    assert "region" in str(caught.value)


# -- drift ------------------------------------------------------------------------
TARGETS = {
    "0331418A": Decimal(40),
    "VTI": Decimal(30),
    "7203": Decimal(20),
    "2558": Decimal(10),  # MAXIS S&P500 ETF: a target not held yet
}


def test_drift_against_targets_most_under_weight_first() -> None:
    result = drift(valuation(), TARGETS)

    assert result == [
        # target 10 %, nothing held: 200,000 JPY to add
        TargetDrift("2558", Decimal(10), Decimal(0), Decimal(-10), yen(200_000)),
        # target 30 % = 600,000, held 400,000
        TargetDrift("VTI", Decimal(30), Decimal(20), Decimal(-10), yen(200_000)),
        # target 20 % = 400,000, held 500,000
        TargetDrift("7203", Decimal(20), Decimal(25), Decimal(5), yen(-100_000)),
        # not a target: target 0, all of it is excess
        TargetDrift("BND", Decimal(0), Decimal(5), Decimal(5), yen(-100_000)),
        # target 40 % = 800,000, held 1,000,000
        TargetDrift("0331418A", Decimal(40), Decimal(50), Decimal(10), yen(-200_000)),
    ]


def test_drift_gaps_add_up_to_zero_when_targets_sum_to_100() -> None:
    result = drift(valuation(), TARGETS)

    assert sum((d.gap.amount for d in result), Decimal(0)) == 0
    assert sum((d.drift for d in result), Decimal(0)) == 0


def test_drift_gap_in_the_valuation_currency() -> None:
    by_symbol = {d.symbol: d for d in drift(valuation("USD"), TARGETS)}

    assert by_symbol["VTI"].gap == Money.of("1250", "USD")  # 200,000 JPY / 160
    assert by_symbol["VTI"].drift == -10


def test_an_unpriced_holding_with_a_target_counts_as_zero_current() -> None:
    result = {d.symbol: d for d in drift(valuation(), {"6758": Decimal(100)})}

    assert result["6758"].current == 0
    assert result["6758"].gap == yen(2_000_000)


def test_no_targets_no_drift() -> None:
    assert drift(valuation(), {}) == []
