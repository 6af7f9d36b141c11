"""Portfolio and quote files: this project's format, the existing app's export and quote
snapshots. Every number is a Decimal (never a float); every format error names the field,
the list index or the line it is about."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from portfoliowise.adapters.portfolio_files import (
    FileFormatError,
    load_portfolio,
    load_quotes,
    parse_portfolio_document,
    parse_quotes_document,
    read_json,
)
from portfoliowise.domain.errors import OutOfRange
from portfoliowise.domain.fx import RateTable
from portfoliowise.domain.instruments import Market
from portfoliowise.domain.money import JPY, USD, Money
from portfoliowise.domain.portfolio import AssetClass
from portfoliowise.domain.quotes import QuoteStatus
from portfoliowise.domain.valuation import value_portfolio

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
AT = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


def write(tmp_path: Path, data: Any, name: str = "file.json") -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


def native(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "format": "portfoliowise/portfolio@1",
        "name": "Test",
        "baseCurrency": "JPY",
        "holdings": [
            {"symbol": "7203.T", "quantity": "200"},
            {"symbol": "VTI", "quantity": "10"},
        ],
        "targets": {"7203": "40", "VTI": "60"},
    }
    data.update(overrides)
    return data


def legacy(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "baseCurrency": "JPY",
        "exchangeRate": {"rate": Decimal("150"), "lastUpdated": "2026-11-27T06:00:00.000Z"},
        "currentAssets": [
            {"id": "1", "ticker": "7203.T", "price": 2500, "currency": "JPY", "holdings": 100,
             "fundType": "個別株"},
            {"id": "2", "ticker": "VTI", "price": Decimal("250.5"), "currency": "USD",
             "holdings": 4, "fundType": "ETF（米国）"},
            {"id": "3", "ticker": "0331418A", "price": 25000, "currency": "JPY", "holdings": 12,
             "fundType": "インデックス（全世界）", "isMutualFund": True},
        ],
        "targetPortfolio": [
            {"ticker": "7203.T", "targetPercentage": 20},
            {"ticker": "VTI", "targetPercentage": 30},
            {"ticker": "0331418A", "targetPercentage": 50},
        ],
    }  # fmt: skip
    data.update(overrides)
    return data


def parse(data: Any) -> Any:
    return parse_portfolio_document(data, at=AT, default_name="default")


# -- this project's format -------------------------------------------------------------
def test_the_example_portfolio_parses_into_canonical_symbols_and_decimals() -> None:
    loaded = load_portfolio(EXAMPLES / "portfolio.json", at=AT)
    portfolio = loaded.portfolio

    assert loaded.kind == "portfoliowise"
    assert loaded.quotes == {}
    assert loaded.rates == []
    assert portfolio.name == "Example: Tokyo stocks, US ETFs and a Japanese fund"
    assert portfolio.base_currency == JPY
    assert portfolio.allow_fractional is False
    assert [h.symbol for h in portfolio.holdings] == [
        "7203", "8306", "1306", "VTI", "BND", "0331418A",
    ]  # fmt: skip
    for holding in portfolio.holdings:
        assert type(holding.quantity) is Decimal
    fund = portfolio.holding("0331418A")
    assert fund is not None
    assert fund.instrument.market is Market.FUND
    assert fund.quantity == Decimal(1_200_000)
    bond = portfolio.holding("BND")
    assert bond is not None
    assert bond.asset_class is AssetClass.BOND
    assert (bond.sector, bond.region, bond.name) == (
        "Bonds", "US", "Vanguard Total Bond Market ETF",
    )  # fmt: skip
    assert portfolio.targets == {
        "7203": Decimal(10), "8306": Decimal(10), "1306": Decimal(15),
        "VTI": Decimal(25), "BND": Decimal(10), "0331418A": Decimal(30),
    }  # fmt: skip
    assert all(type(pct) is Decimal for pct in portfolio.targets.values())


def test_average_cost_becomes_a_total_cost_basis_per_share_or_per_10000_fund_units() -> None:
    portfolio = load_portfolio(EXAMPLES / "portfolio.json", at=AT).portfolio

    def cost(symbol: str) -> Money | None:
        holding = portfolio.holding(symbol)
        assert holding is not None
        return holding.cost_basis

    assert cost("7203") == Money(Decimal(490_000), JPY)  # 2,450 x 200 shares
    assert cost("BND") == Money(Decimal("2163.00"), USD)  # 72.10 x 30 shares
    # funds: 21,500 JPY per 10,000 units x 1,200,000 units
    assert cost("0331418A") == Money(Decimal(2_580_000), JPY)
    assert cost("VTI") == Money(Decimal(1_250_000), JPY)  # costBasis is a total, kept as is
    assert cost("1306") is None


def test_cost_basis_wins_over_average_cost_when_both_are_given() -> None:
    holdings = [
        {
            "symbol": "VTI",
            "quantity": "10",
            "costBasis": {"amount": "2000", "currency": "USD"},
            "averageCost": {"amount": "1", "currency": "USD"},
        }
    ]
    portfolio = parse(native(holdings=holdings, targets=None)).portfolio
    holding = portfolio.holding("VTI")
    assert holding is not None
    assert holding.cost_basis == Money(Decimal(2000), USD)


def test_optional_fields_have_defaults() -> None:
    data = {"holdings": [{"symbol": "AAPL", "quantity": "1.5"}]}
    portfolio = parse(data).portfolio

    assert portfolio.name == "default"
    assert portfolio.portfolio_id == "default"
    assert portfolio.base_currency == JPY
    assert portfolio.targets == {}
    assert portfolio.allow_fractional is False
    holding = portfolio.holdings[0]
    assert holding.currency == USD
    assert holding.asset_class is AssetClass.EQUITY
    assert holding.quantity == Decimal("1.5")


def test_json_numbers_are_read_as_exact_decimals(tmp_path: Path) -> None:
    raw = (
        '{"holdings": [{"symbol": "VTI", "quantity": 0.1,'
        ' "costBasis": {"amount": 12.34, "currency": "USD"}}], "allowFractional": true}'
    )
    portfolio = load_portfolio(write(tmp_path, raw), at=AT).portfolio
    holding = portfolio.holdings[0]

    assert type(holding.quantity) is Decimal
    assert holding.quantity == Decimal("0.1")  # a float would be 0.1000000000000000055...
    assert holding.cost_basis == Money(Decimal("12.34"), USD)
    assert portfolio.allow_fractional is True


def test_a_utf8_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(native()).encode())
    assert len(load_portfolio(path, at=AT).portfolio) == 2


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "a portfolio file is a JSON object"),
        ({"name": "x"}, "expected `holdings`"),
        (native(format="portfoliowise/portfolio@2"), "unsupported format"),
        (native(holdings={"VTI": 1}), "`holdings` must be a list"),
        (native(holdings=[{"symbol": "VTI"}]), "holdings[0] needs `symbol` and `quantity`"),
        (native(holdings=["VTI"]), "holdings[0] needs `symbol` and `quantity`"),
        (
            native(holdings=[{"symbol": "VTI", "quantity": "1"}, {"symbol": "???", "quantity": 1}]),
            "holdings[1]: unknown symbol '???'",
        ),
        (
            native(holdings=[{"symbol": "VTI", "quantity": "ten"}], targets=None),
            "holdings[0]: VTI quantity is not a number: 'ten'",
        ),
        (
            native(holdings=[{"symbol": "VTI", "quantity": "1", "assetClass": "stonks"}]),
            "holdings[0]: unknown asset class 'stonks'",
        ),
        (
            native(holdings=[{"symbol": "VTI", "quantity": "1", "costBasis": {"amount": "1"}}]),
            "holdings[0].costBasis must be an object with `amount` and `currency`",
        ),
        (
            native(holdings=[{"symbol": "VTI", "quantity": "1", "costBasis": "100"}]),
            "holdings[0].costBasis must be an object",
        ),
        (
            native(holdings=[{"symbol": "VTI", "quantity": "1", "averageCost": 72}]),
            "holdings[0].averageCost must be an object",
        ),
        (
            native(
                holdings=[
                    {
                        "symbol": "VTI",
                        "quantity": "1",
                        "averageCost": {"amount": "x", "currency": "USD"},
                    }
                ]
            ),
            "holdings[0]: averageCost is not a number",
        ),
        (
            native(holdings=[{"symbol": "VTI", "quantity": "1", "name": {"en": "VTI"}}]),
            "holdings[0].name must be a string",
        ),
        (
            native(holdings=[{"symbol": "VTI", "quantity": "1", "currency": "XYZ"}]),
            "holdings[0]: unknown currency code: 'XYZ'",
        ),
        (native(baseCurrency="XYZ"), "unknown currency code: 'XYZ'"),
        (native(targets=["VTI"]), "`targets` must be an object"),
        (native(targets={"7203": "40", "VTI": "50"}), "targets: targets must sum to 100"),
        (native(targets={"7203": "40", "ZZZZZZZZZZ": "60"}), "targets: unknown symbol"),
        (native(allowFractional="false"), "`allowFractional` must be true or false"),
        (native(version="abc"), "`version` must be a non-negative integer"),
        (native(createdAt="yesterday"), "not an ISO 8601 time: 'yesterday'"),
    ],
)
def test_format_errors_name_the_field(data: Any, message: str) -> None:
    with pytest.raises(FileFormatError) as caught:
        parse(data)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            native(holdings=[{"symbol": "VTI", "quantity": "-1"}], targets=None),
            "holdings[0]: VTI quantity is out of range (from 0 to 1,000,000,000,000",
        ),
        (
            native(targets={"7203": "120", "VTI": "-20"}),
            "targets: target for 7203 is out of range (from 0 to 100",
        ),
    ],
)
def test_values_outside_the_limits_are_out_of_range_where_they_are(data: Any, message: str) -> None:
    with pytest.raises(OutOfRange) as caught:
        parse(data)
    assert message in str(caught.value)
    assert caught.value.code == "out_of_range"


def test_load_errors_name_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, native(targets={"VTI": "100", "7203": "1"}), "mine.json")
    with pytest.raises(FileFormatError, match=r"mine\.json: targets: targets must sum to 100"):
        load_portfolio(path, at=AT)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(FileFormatError, match=r"nope\.json: no such file"):
        read_json(tmp_path / "nope.json")


def test_a_directory_cannot_be_read(tmp_path: Path) -> None:
    with pytest.raises(FileFormatError, match="cannot read"):
        read_json(tmp_path)


def test_invalid_json_names_the_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, '{\n  "holdings": [\n    {"symbol": "VTI",}\n  ]\n}\n')
    with pytest.raises(FileFormatError, match=r"not valid JSON \(.*line 3 column 22\)"):
        read_json(path)


def test_a_file_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "latin1.json"
    path.write_bytes('{"name": "caf\u00e9"}'.encode("latin-1"))
    with pytest.raises(FileFormatError, match="not UTF-8 text"):
        read_json(path)


# -- the existing app's export ---------------------------------------------------------
def test_the_example_export_maps_to_holdings_quotes_and_a_rate() -> None:
    loaded = load_portfolio(EXAMPLES / "legacy-export.json", at=AT)
    portfolio = loaded.portfolio

    assert loaded.kind == "legacy-export"
    assert portfolio.name == "legacy-export"
    assert portfolio.base_currency == JPY
    assert [h.symbol for h in portfolio.holdings] == ["7203", "VTI", "BND", "0331418A"]
    fund = portfolio.holding("0331418A")
    assert fund is not None
    assert fund.quantity == Decimal(1_200_000)  # 120 lots of 10,000 units
    assert set(loaded.quotes) == {"7203", "VTI", "BND", "0331418A"}
    assert loaded.quotes["0331418A"].price == Money(Decimal(29874), JPY)  # per 10,000 units
    assert loaded.quotes["VTI"].price == Money(Decimal("301.45"), USD)
    for quote in loaded.quotes.values():
        assert quote.price is not None
        assert type(quote.price.amount) is Decimal
        assert quote.status is QuoteStatus.CACHED
        assert quote.as_of == datetime(2026, 11, 27, 6, 0, tzinfo=UTC)
    [rate] = loaded.rates
    assert (rate.base, rate.quote, rate.rate) == (USD, JPY, Decimal("154.32"))
    assert type(rate.rate) is Decimal
    assert rate.as_of == datetime(2026, 11, 27, 6, 0, tzinfo=UTC)
    assert portfolio.targets == {
        "7203": Decimal(10), "VTI": Decimal(40), "BND": Decimal(15), "0331418A": Decimal(35),
    }  # fmt: skip


def test_a_fund_is_worth_price_times_holdings_in_the_export() -> None:
    loaded = parse(legacy())
    valuation = value_portfolio(loaded.portfolio, loaded.quotes, RateTable(loaded.rates), at=AT)

    fund = valuation.priced("0331418A")
    assert fund is not None
    assert fund.base_value == Money(Decimal(300_000), JPY)  # 25,000 x 12 lots
    stock = valuation.priced("7203")
    assert stock is not None
    assert stock.base_value == Money(Decimal(250_000), JPY)  # 2,500 x 100 shares
    vti = valuation.priced("VTI")
    assert vti is not None
    assert vti.base_value == Money(Decimal(150_300), JPY)  # 250.5 x 4 x 150
    assert valuation.total == Money(Decimal(700_300), JPY)
    assert valuation.unpriced == []


def test_export_asset_classes_and_regions_come_from_the_fund_type() -> None:
    portfolio = parse(legacy()).portfolio
    by_symbol = {h.symbol: h for h in portfolio.holdings}
    assert (by_symbol["7203"].asset_class, by_symbol["7203"].region) == (
        AssetClass.EQUITY,
        "Japan",
    )
    assert by_symbol["VTI"].region == "US"
    assert by_symbol["0331418A"].region == "Global"
    bond = parse(
        legacy(
            currentAssets=[
                {"ticker": "BND", "price": 73, "holdings": 1, "fundType": "債券ETF（米国）"}
            ],
            targetPortfolio=[],
        )
    ).portfolio
    assert bond.holdings[0].asset_class is AssetClass.BOND
    assert bond.holdings[0].currency == USD  # no currency given: the instrument's


@pytest.mark.parametrize("rate", [150, Decimal("150.0"), "150"])
def test_an_exchange_rate_given_as_a_plain_number_is_usd_jpy(rate: object) -> None:
    loaded = parse(legacy(exchangeRate=rate))
    [fx] = loaded.rates
    assert (fx.base, fx.quote, fx.rate) == (USD, JPY, Decimal(150))
    assert fx.as_of == AT  # no lastUpdated: the time of loading
    assert loaded.quotes["VTI"].as_of == AT


def test_an_exchange_rate_below_one_is_dollars_per_yen() -> None:
    data = legacy()
    data["exchangeRate"] = {"rate": "0.00625", "lastUpdated": "2026-11-27T06:00:00Z"}
    loaded = parse(data)
    [fx] = loaded.rates
    assert (fx.base, fx.quote, fx.rate) == (JPY, USD, Decimal("0.00625"))
    valuation = value_portfolio(loaded.portfolio, loaded.quotes, RateTable(loaded.rates), at=AT)
    vti = valuation.priced("VTI")
    assert vti is not None
    assert vti.base_value == Money(Decimal(160_320), JPY)  # 1,002 USD x 160 JPY/USD


def test_a_float_exchange_rate_in_a_file_is_read_as_decimal(tmp_path: Path) -> None:
    raw = json.dumps(legacy(exchangeRate="RATE"), default=str).replace(
        '"exchangeRate": "RATE"', '"exchangeRate": {"rate": 154.32}'
    )
    assert '{"rate": 154.32}' in raw
    [fx] = load_portfolio(write(tmp_path, raw), at=AT).rates
    assert fx.rate == Decimal("154.32")
    assert type(fx.rate) is Decimal


def test_without_an_exchange_rate_usd_assets_stay_unpriced() -> None:
    loaded = parse(legacy(exchangeRate=None))
    assert loaded.rates == []
    valuation = value_portfolio(loaded.portfolio, loaded.quotes, RateTable(loaded.rates), at=AT)
    assert [u.symbol for u in valuation.unpriced] == ["VTI"]
    assert valuation.total == Money(Decimal(550_000), JPY)  # never converted at a made-up rate


@pytest.mark.parametrize("rate", [0, -150, "abc"])
def test_a_bad_exchange_rate_is_refused(rate: object) -> None:
    with pytest.raises(ValueError, match="exchangeRate"):
        parse(legacy(exchangeRate={"rate": rate}))


def test_all_zero_targets_mean_no_targets() -> None:
    data = legacy()
    for target in data["targetPortfolio"]:
        target["targetPercentage"] = 0
    assert parse(data).portfolio.targets == {}
    assert parse(legacy(targetPortfolio=[])).portfolio.targets == {}
    assert parse(legacy(targetPortfolio=None)).portfolio.targets == {}


def test_export_targets_must_still_sum_to_100() -> None:
    data = legacy()
    data["targetPortfolio"][0]["targetPercentage"] = 10
    with pytest.raises(FileFormatError, match="targets: targets must sum to 100"):
        parse(data)


def test_an_asset_without_a_price_gets_no_quote() -> None:
    data = legacy()
    data["currentAssets"][0]["price"] = 0
    del data["currentAssets"][1]["price"]
    loaded = parse(data)
    assert set(loaded.quotes) == {"0331418A"}
    valuation = value_portfolio(loaded.portfolio, loaded.quotes, RateTable(loaded.rates), at=AT)
    assert {u.symbol for u in valuation.unpriced} == {"7203", "VTI"}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"currentAssets": {"a": 1}}, "`currentAssets` must be a list"),
        ({"currentAssets": [{"price": 1}]}, "currentAssets[0] needs a `ticker`"),
        ({"currentAssets": [{"ticker": "bad ticker!"}]}, "currentAssets[0]: unknown symbol"),
        ({"currentAssets": [{"ticker": "VTI", "holdings": "many"}]}, "VTI holdings"),
        ({"targetPortfolio": [{"targetPercentage": 100}]}, "targetPortfolio[0] needs a `ticker`"),
        ({"allowFractional": 1}, "`allowFractional` must be true or false"),
        ({"baseCurrency": "XYZ"}, "unknown currency code: 'XYZ'"),
    ],
)
def test_export_format_errors_name_the_field(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        parse(legacy(**overrides))


# -- quote snapshots -------------------------------------------------------------------
def test_the_sample_quotes_file_is_read_as_decimals() -> None:
    snapshot = load_quotes(EXAMPLES / "quotes.sample.json")

    assert snapshot.sample is True
    assert snapshot.source == "sample"
    assert set(snapshot.quotes) == {"7203", "8306", "1306", "VTI", "BND", "0331418A"}
    toyota = snapshot.quotes["7203"]
    assert toyota.price == Money(Decimal(2865), JPY)
    assert toyota.change == Decimal(-12)
    assert toyota.change_percent == Decimal("-0.42")
    assert toyota.status is QuoteStatus.CACHED
    assert toyota.as_of == datetime(2026, 11, 27, 6, 0, tzinfo=UTC)
    assert snapshot.quotes["8306"].price == Money(Decimal("1912.5"), JPY)
    assert snapshot.quotes["VTI"].price == Money(Decimal("301.45"), USD)
    for quote in snapshot.quotes.values():
        assert quote.price is not None
        assert type(quote.price.amount) is Decimal
    [rate] = snapshot.rates
    assert (rate.base, rate.quote, rate.rate) == (USD, JPY, Decimal("154.32"))
    assert type(rate.rate) is Decimal


def test_numbers_in_a_quotes_file_never_pass_through_a_float(tmp_path: Path) -> None:
    raw = (
        '{"quotes": {"VTI": {"price": 0.1, "change": 0.3}, "7203.T": {"price": 2865}},'
        ' "rates": {"USDJPY=X": 154.32}}'
    )
    snapshot = load_quotes(write(tmp_path, raw))
    vti = snapshot.quotes["VTI"]
    assert vti.price is not None
    assert vti.price.amount == Decimal("0.1")
    assert str(vti.price.amount) == "0.1"
    assert vti.change == Decimal("0.3")
    assert vti.price.currency == USD  # defaults to the instrument's currency
    assert snapshot.quotes["7203"].price == Money(Decimal(2865), JPY)
    [rate] = snapshot.rates
    assert (rate.base, rate.quote, str(rate.rate)) == (USD, JPY, "154.32")
    assert snapshot.sample is False
    assert snapshot.source == "file"


def test_float_objects_are_refused_rather_than_rounded() -> None:
    with pytest.raises(FileFormatError, match=r"quotes\.VTI: VTI price must be a decimal"):
        parse_quotes_document({"quotes": {"VTI": {"price": 301.45}}})


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "a quotes file is an object with a `quotes` object"),
        ({"quotes": []}, "a quotes file is an object with a `quotes` object"),
        ({"format": "other@1", "quotes": {}}, "unsupported format 'other@1'"),
        ({"quotes": {"VTI": {"currency": "USD"}}}, "quotes.VTI needs a `price`"),
        ({"quotes": {"VTI": "301"}}, "quotes.VTI needs a `price`"),
        ({"quotes": {"VTI": {"price": "abc"}}}, "quotes.VTI: VTI price is not a number: 'abc'"),
        ({"quotes": {"VTI": {"price": "0"}}}, "quotes.VTI: quote for VTI needs a positive price"),
        ({"quotes": {"VTI": {"price": "1", "change": "x"}}}, "quotes.VTI: VTI change"),
        ({"quotes": {"VTI": {"price": "1", "currency": "XYZ"}}}, "quotes.VTI: unknown currency"),
        ({"quotes": {"bad sym": {"price": "1"}}}, "quotes.bad sym: unknown symbol 'bad sym'"),
        ({"quotes": {}, "rates": {"VTI": "1"}}, "rates key 'VTI' is not an FX pair"),
        ({"quotes": {}, "rates": ["USD-JPY"]}, "`rates` must be an object"),
        ({"quotes": {}, "rates": {"USD-JPY": "0"}}, "rates.USD-JPY: FX rate USD-JPY must be"),
        ({"quotes": {}, "rates": {"USD-JPY": "x"}}, "rates.USD-JPY: USD-JPY rate is not a num"),
        ({"quotes": {}, "status": "fresh"}, "unknown quote status 'fresh'"),
        ({"quotes": {}, "status": "unavailable"}, "cannot mark its prices unavailable"),
        ({"quotes": {}, "asOf": "today"}, "not an ISO 8601 time: 'today'"),
    ],
)
def test_quotes_format_errors_name_the_field(data: Any, message: str) -> None:
    with pytest.raises(FileFormatError) as caught:
        parse_quotes_document(data)
    assert message in str(caught.value)


def test_quotes_load_errors_name_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, {"quotes": {"VTI": {"price": "-1"}}}, "q.json")
    with pytest.raises(FileFormatError, match=r"q\.json: quotes\.VTI"):
        load_quotes(path)
