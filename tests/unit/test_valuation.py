"""Valuation: each holding in its quote currency and in the valuation currency, weights,
unrealized P/L, funds priced per 10,000 units, unpriced and stale holdings.

Worked example (USD-JPY 160, so JPY->USD is exactly 0.00625):
    7203      200 shares   x  2,500 JPY              =   500,000 JPY  (25 %)
    VTI        10 shares   x    250 USD = 2,500 USD  =   400,000 JPY  (20 %)
    0331418A  440,000 units x 25,000 JPY / 10,000    = 1,100,000 JPY  (55 %)
    total                                              2,000,000 JPY  = 12,500 USD
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from portfoliowise.domain.fx import FxRate, RateTable
from portfoliowise.domain.money import JPY, USD, Money
from portfoliowise.domain.portfolio import Holding, Portfolio
from portfoliowise.domain.quotes import Quote, QuoteStatus
from portfoliowise.domain.valuation import (
    HoldingValuation,
    UnpricedReason,
    Valuation,
    value_portfolio,
)

AT = datetime(2024, 6, 3, 6, 0, tzinfo=UTC)
RATES = RateTable([FxRate(USD, JPY, Decimal(160))])


def quote(symbol: str, price: str, currency: str, status: QuoteStatus = QuoteStatus.LIVE) -> Quote:
    return Quote(symbol, Money.of(price, currency), status, "test", AT)


def portfolio(*holdings: Holding, base: str = "JPY") -> Portfolio:
    return Portfolio(
        user_id="u1",
        portfolio_id="p1",
        name="NISA",
        base_currency=JPY if base == "JPY" else USD,
        created_at=AT,
        holdings=holdings,
    )


def item(valuation: Valuation, symbol: str) -> HoldingValuation:
    found = valuation.priced(symbol)
    assert found is not None, f"{symbol} is not priced"
    return found


def yen(amount: object) -> Money:
    return Money.of(amount, "JPY")


def dollars(amount: object) -> Money:
    return Money.of(amount, "USD")


TOYOTA = Holding.of("7203", 200, cost_basis=yen(400_000), sector="Automobiles")
VTI = Holding.of("VTI", 10, cost_basis=dollars(2_000))
FUND = Holding.of("0331418A", 440_000)  # no cost basis recorded
QUOTES = {
    "7203": quote("7203", "2500", "JPY"),
    "VTI": quote("VTI", "250", "USD"),
    "0331418A": quote("0331418A", "25000", "JPY"),
}


def test_each_holding_is_valued_in_its_quote_currency_and_in_the_base_currency() -> None:
    valuation = value_portfolio(portfolio(TOYOTA, VTI, FUND), QUOTES, RATES, at=AT)

    assert valuation.currency == JPY
    assert valuation.at == AT
    assert valuation.total == yen(2_000_000)
    toyota, vti, fund = (item(valuation, s) for s in ("7203", "VTI", "0331418A"))
    assert (toyota.value, toyota.fx_rate, toyota.base_value) == (yen(500_000), 1, yen(500_000))
    assert (vti.price, vti.value) == (dollars(250), dollars(2_500))
    assert (vti.fx_rate, vti.base_value) == (160, yen(400_000))
    assert (fund.value, fund.base_value) == (yen(1_100_000), yen(1_100_000))
    assert valuation.complete
    assert valuation.unpriced == []


def test_weights_are_percent_of_the_priced_total() -> None:
    valuation = value_portfolio(portfolio(TOYOTA, VTI, FUND), QUOTES, RATES, at=AT)

    weights = {h.symbol: h.weight for h in valuation.holdings}
    assert weights == {"7203": 25, "VTI": 20, "0331418A": 55}


def test_a_fund_is_priced_per_10000_units() -> None:
    valuation = value_portfolio(portfolio(FUND), QUOTES, RATES, at=AT)

    fund = item(valuation, "0331418A")
    assert fund.price == yen(25_000)  # 基準価額 per 10,000 口
    assert fund.value == yen(1_100_000)  # 25,000 x 440,000 / 10,000, not 25,000 x 440,000
    assert valuation.total == yen(1_100_000)


def test_unrealized_pl_where_the_cost_basis_is_known_and_none_where_unknown() -> None:
    valuation = value_portfolio(portfolio(TOYOTA, VTI, FUND), QUOTES, RATES, at=AT)

    toyota, vti, fund = (item(valuation, s) for s in ("7203", "VTI", "0331418A"))
    assert toyota.cost_basis == yen(400_000)
    assert toyota.unrealized_pl == yen(100_000)
    assert toyota.unrealized_pl_percent == 25
    # 2,000 USD paid, converted at today's 160: 320,000 JPY; worth 400,000 JPY now.
    assert vti.cost_basis == yen(320_000)
    assert vti.unrealized_pl == yen(80_000)
    assert vti.unrealized_pl_percent == 25
    assert (fund.cost_basis, fund.unrealized_pl, fund.unrealized_pl_percent) == (None, None, None)
    # Portfolio totals cover only the holdings whose cost is known.
    assert valuation.cost_basis == yen(720_000)
    assert valuation.unrealized_pl == yen(180_000)


def test_cost_basis_paid_in_jpy_for_a_usd_stock() -> None:
    vti_bought_in_yen = Holding.of("VTI", 10, cost_basis=yen(320_000))
    pf = portfolio(vti_bought_in_yen)

    in_yen = item(value_portfolio(pf, QUOTES, RATES, at=AT), "VTI")
    in_usd = item(value_portfolio(pf, QUOTES, RATES, at=AT, currency=USD), "VTI")

    assert (in_yen.cost_basis, in_yen.unrealized_pl) == (yen(320_000), yen(80_000))
    assert in_usd.cost_basis == dollars(2_000)  # 320,000 x 0.00625
    assert in_usd.unrealized_pl == dollars(500)
    assert in_usd.unrealized_pl_percent == 25


def test_no_cost_basis_anywhere_leaves_portfolio_pl_unknown() -> None:
    valuation = value_portfolio(portfolio(FUND), QUOTES, RATES, at=AT)

    assert valuation.cost_basis is None
    assert valuation.unrealized_pl is None


def test_a_zero_cost_basis_gives_pl_but_no_percentage() -> None:
    gift = Holding.of("7203", 100, cost_basis=yen(0))

    toyota = item(value_portfolio(portfolio(gift), QUOTES, RATES, at=AT), "7203")

    assert toyota.unrealized_pl == yen(250_000)
    assert toyota.unrealized_pl_percent is None


def test_unpriced_holdings_are_listed_with_their_reason_and_left_out_of_the_total() -> None:
    sony = Holding.of("6758", 100)  # quote unavailable
    softbank = Holding.of("9984", 100)  # no quote at all
    quotes = {**QUOTES, "6758": Quote.unavailable("6758", source="yahoo")}

    valuation = value_portfolio(portfolio(TOYOTA, sony, softbank), quotes, RATES, at=AT)

    assert valuation.total == yen(500_000)
    assert [h.symbol for h in valuation.holdings] == ["7203"]
    assert item(valuation, "7203").weight == 100
    reasons = {u.symbol: u.reason for u in valuation.unpriced}
    assert reasons == {
        "6758": UnpricedReason.QUOTE_UNAVAILABLE,
        "9984": UnpricedReason.NO_QUOTE,
    }
    assert "yahoo" in next(u.detail for u in valuation.unpriced if u.symbol == "6758")
    assert valuation.priced("6758") is None
    assert not valuation.complete


def test_a_holding_without_an_fx_rate_is_unpriced_not_valued() -> None:
    valuation = value_portfolio(portfolio(TOYOTA, VTI), QUOTES, RateTable(), at=AT)

    assert valuation.total == yen(500_000)
    [missing] = valuation.unpriced
    assert missing.symbol == "VTI"
    assert missing.reason is UnpricedReason.MISSING_FX_RATE
    assert "USD->JPY" in missing.detail
    assert valuation.priced("VTI") is None


def test_stale_quotes_are_valued_but_flagged() -> None:
    quotes = {**QUOTES, "VTI": quote("VTI", "250", "USD", QuoteStatus.STALE)}

    valuation = value_portfolio(portfolio(TOYOTA, VTI), quotes, RATES, at=AT)

    assert valuation.total == yen(900_000)
    assert valuation.stale == ["VTI"]
    assert item(valuation, "VTI").stale
    assert not item(valuation, "7203").stale
    assert valuation.complete


def test_a_jpy_portfolio_valued_in_usd() -> None:
    pf = portfolio(TOYOTA, VTI, FUND)

    valuation = value_portfolio(pf, QUOTES, RATES, at=AT, currency=USD)

    assert valuation.currency == USD
    assert valuation.total == dollars(12_500)  # 2,000,000 JPY / 160
    by_symbol = {h.symbol: h for h in valuation.holdings}
    assert by_symbol["7203"].value == yen(500_000)  # still in its quote currency
    assert by_symbol["7203"].fx_rate == Decimal("0.00625")
    assert by_symbol["7203"].base_value == dollars(3_125)
    assert by_symbol["VTI"].base_value == dollars(2_500)
    assert by_symbol["0331418A"].base_value == dollars(6_875)
    assert {s: h.weight for s, h in by_symbol.items()} == {
        "7203": 25,
        "VTI": 20,
        "0331418A": 55,
    }
    # Costs are converted too: 400,000 JPY -> 2,500 USD; 2,000 USD stays.
    assert by_symbol["7203"].cost_basis == dollars(2_500)
    assert by_symbol["7203"].unrealized_pl == dollars(625)
    assert valuation.cost_basis == dollars(4_500)
    assert valuation.unrealized_pl == dollars(1_125)


def test_a_usd_based_portfolio_defaults_to_usd() -> None:
    valuation = value_portfolio(portfolio(TOYOTA, VTI, base="USD"), QUOTES, RATES, at=AT)

    assert valuation.total == dollars(5_625)  # 3,125 + 2,500


def test_an_empty_portfolio_is_worth_zero() -> None:
    valuation = value_portfolio(portfolio(), QUOTES, RATES, at=AT)

    assert valuation.total == yen(0)
    assert valuation.holdings == []
    assert valuation.unpriced == []
    assert valuation.complete
    assert valuation.cost_basis is None


def test_a_zero_quantity_holding_is_priced_at_zero_with_zero_weight() -> None:
    sold_out = Holding.of("6758", 0)
    quotes = {**QUOTES, "6758": quote("6758", "13000", "JPY")}

    valuation = value_portfolio(portfolio(TOYOTA, sold_out), quotes, RATES, at=AT)

    assert valuation.total == yen(500_000)
    assert item(valuation, "6758").base_value == yen(0)
    assert item(valuation, "6758").weight == 0


@pytest.mark.parametrize("only", ["6758", "9984"])
def test_all_holdings_unpriced_gives_total_zero(only: str) -> None:
    quotes = {"6758": Quote.unavailable("6758")}

    valuation = value_portfolio(portfolio(Holding.of(only, 100)), quotes, RATES, at=AT)

    assert valuation.total == yen(0)
    assert valuation.holdings == []
    assert [u.symbol for u in valuation.unpriced] == [only]
