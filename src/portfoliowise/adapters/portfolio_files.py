"""Portfolio and quote files: this project's portfolio JSON, the existing app's export
(`{baseCurrency, exchangeRate, currentAssets, targetPortfolio}`) and quote snapshots.

Numbers are read with `parse_float=Decimal`: no amount ever passes through a float.

Every value goes through the domain's constructors, and so meets the limits of
`domain.limits` as the API does: a value outside them is `OutOfRange` (`out_of_range`),
located in the file (`holdings[3]: ...`), whatever the format; prices and FX rates, which
enter here, are checked here against the same limits. Other errors are `FileFormatError`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from portfoliowise.adapters.json_text import InvalidJson, load_json
from portfoliowise.domain.attributes import Attributes
from portfoliowise.domain.errors import DomainError, OutOfRange, ValidationError
from portfoliowise.domain.fx import FxRate
from portfoliowise.domain.instruments import FUND_PRICE_UNIT, Market, parse_symbol
from portfoliowise.domain.limits import (
    MAX_DECIMAL_PLACES,
    MAX_HOLDINGS,
    MAX_PORTFOLIO_ATTRIBUTES_LENGTH,
    MAX_TARGETS,
    MIN_STEP,
    check_amount,
    check_count,
    check_price,
    check_quantity,
    check_rate,
    decimal_places,
)
from portfoliowise.domain.money import JPY, USD, Currency, Money, quantize, to_decimal
from portfoliowise.domain.portfolio import (
    AssetClass,
    Holding,
    Portfolio,
    holding_from_json,
    validate_targets,
)
from portfoliowise.domain.quotes import Quote, QuoteStatus

PORTFOLIO_FORMAT = "portfoliowise/portfolio@1"
QUOTES_FORMAT = "portfoliowise/quotes@1"
EXPORT_SOURCE = "export-file"
LOCAL_USER = "local"


class FileFormatError(ValidationError):
    code = "bad_file"


def located(exc: DomainError, where: str) -> ValidationError:
    """A domain error found at `where` in a file: `OutOfRange` stays itself (the same code
    as from the API), located; anything else becomes a `FileFormatError`."""
    if isinstance(exc, OutOfRange):
        return exc.located(where)
    return FileFormatError(f"{where}: {exc}")


@dataclass(slots=True)
class LoadedPortfolio:
    portfolio: Portfolio
    quotes: dict[str, Quote] = field(default_factory=dict)  # prices carried by the file
    rates: list[FxRate] = field(default_factory=list)
    kind: str = "portfoliowise"  # or "legacy-export"


@dataclass(slots=True)
class QuoteSnapshot:
    quotes: dict[str, Quote]
    rates: list[FxRate]
    source: str
    sample: bool
    as_of: datetime | None = None  # the file's `asOf`


def read_json(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise FileFormatError(f"{path}: no such file") from None
    except OSError as exc:
        raise FileFormatError(f"{path}: cannot read ({exc.strerror})") from None
    except UnicodeDecodeError as exc:
        raise FileFormatError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    try:
        return load_json(text)  # the API's rules: Decimal numbers, bounded nesting
    except InvalidJson as exc:
        raise FileFormatError(f"{path}: {exc}") from None


def load_portfolio(path: Path, *, at: datetime) -> LoadedPortfolio:
    """This project's JSON, the existing app's export, or a CSV of holdings (`.csv`: one
    holding a row, the portfolio named after the file, in JPY)."""
    if path.suffix.lower() == ".csv":
        from portfoliowise.adapters.portfolio_csv import csv_document

        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise FileFormatError(f"{path}: cannot read ({exc})") from None
        try:
            data: Any = csv_document(text, name=path.stem, base_currency="JPY")
        except FileFormatError as exc:
            raise FileFormatError(f"{path}: {exc}") from None
        except OutOfRange as exc:
            raise exc.located(str(path)) from None
    else:
        data = read_json(path)
    try:
        return parse_portfolio_document(data, at=at, default_name=path.stem)
    except DomainError as exc:
        raise located(exc, str(path)) from None


def parse_portfolio_document(data: Any, *, at: datetime, default_name: str) -> LoadedPortfolio:
    if not isinstance(data, dict):
        raise FileFormatError("a portfolio file is a JSON object")
    if "currentAssets" in data:
        return _parse_legacy_export(data, at=at, default_name=default_name)
    if "holdings" in data:
        return LoadedPortfolio(_parse_native(data, at=at, default_name=default_name))
    raise FileFormatError(
        "not a portfolio: expected `holdings` (this project's format) "
        "or `currentAssets` (the existing app's export)"
    )


# -- this project's format -----------------------------------------------------------
def _parse_native(data: Mapping[str, Any], *, at: datetime, default_name: str) -> Portfolio:
    fmt = data.get("format", PORTFOLIO_FORMAT)
    if fmt != PORTFOLIO_FORMAT:
        raise FileFormatError(f"unsupported format {fmt!r} (expected {PORTFOLIO_FORMAT})")
    holdings_data = data.get("holdings")
    if not isinstance(holdings_data, list):
        raise FileFormatError("`holdings` must be a list")
    check_count(len(holdings_data), "holdings", MAX_HOLDINGS)
    holdings = []
    for index, item in enumerate(holdings_data):
        where = f"holdings[{index}]"
        if not isinstance(item, dict) or "symbol" not in item or "quantity" not in item:
            raise FileFormatError(f"{where} needs `symbol` and `quantity`")
        _check_holding_fields(item, where)
        try:
            holdings.append(holding_from_json(_with_cost(item)))
        except FileFormatError:
            raise
        except DomainError as exc:
            raise located(exc, where) from None
    targets = data.get("targets")
    if targets is not None and not isinstance(targets, dict):
        raise FileFormatError("`targets` must be an object of symbol: percentage")
    _check_targets(targets)
    version = data.get("version", 0)
    if isinstance(version, bool) or not isinstance(version, int) or version < 0:
        raise FileFormatError(f"`version` must be a non-negative integer, got {version!r}")
    created = data.get("createdAt")
    details = _native_details(data)
    return Portfolio(
        user_id=str(data.get("userId") or LOCAL_USER),
        portfolio_id=str(data.get("portfolioId") or default_name),
        name=str(data.get("name") or default_name),
        base_currency=_base_currency(data),
        created_at=_parse_time(created, "createdAt") if created else at,
        updated_at=_parse_time(data["updatedAt"], "updatedAt") if data.get("updatedAt") else None,
        holdings=holdings,
        targets=targets,
        allow_fractional=_flag(data, "allowFractional"),
        version=version,
        **details,
    )


def _native_details(data: Mapping[str, Any]) -> dict[str, Any]:
    """The optional fields of `Portfolio.to_json`: the additional budget (`{amount,
    currency}`), the AI prompt template and a client's attributes (their JSON text)."""
    details: dict[str, Any] = {}
    budget = data.get("additionalBudget")
    if budget is not None:
        if not isinstance(budget, dict) or "amount" not in budget or "currency" not in budget:
            raise FileFormatError(
                "`additionalBudget` must be an object with `amount` and `currency`"
            )
        try:
            details["additional_budget"] = Money.of(budget["amount"], str(budget["currency"]))
        except DomainError as exc:
            raise located(exc, "additionalBudget") from None
    template = data.get("aiPromptTemplate")
    if template is not None and not isinstance(template, str):
        raise FileFormatError("`aiPromptTemplate` must be a string")
    details["ai_prompt_template"] = template
    attributes = data.get("attributes")
    if attributes is not None:
        if not isinstance(attributes, str):
            raise FileFormatError("`attributes` must be the JSON text of an object")
        try:
            details["attributes"] = Attributes.from_text(
                attributes, max_length=MAX_PORTFOLIO_ATTRIBUTES_LENGTH
            )
        except DomainError as exc:
            raise located(exc, "attributes") from None
    return details


def _check_holding_fields(item: Mapping[str, Any], where: str) -> None:
    for key in ("name", "sector", "region", "assetClass", "currency", "attributes"):
        value = item.get(key)
        if value is not None and not isinstance(value, str):
            raise FileFormatError(f"{where}.{key} must be a string, got {value!r}")
    for key in ("costBasis", "averageCost"):
        value = item.get(key)
        if value is not None and not (
            isinstance(value, dict) and "amount" in value and "currency" in value
        ):
            raise FileFormatError(f"{where}.{key} must be an object with `amount` and `currency`")


def _check_targets(targets: Mapping[str, object] | None) -> None:
    try:
        validate_targets(targets)
    except DomainError as exc:
        raise located(exc, "targets") from None


def _flag(data: Mapping[str, Any], key: str) -> bool:
    value = data.get(key, False)
    if not isinstance(value, bool):
        raise FileFormatError(f"`{key}` must be true or false, got {value!r}")
    return value


def _with_cost(item: dict[str, Any]) -> dict[str, Any]:
    """`averageCost` (per share, or per 10,000 units for funds) becomes a total cost basis,
    to `MAX_DECIMAL_PLACES` (10^-10 of a currency unit: the product of two 10-decimal
    numbers has 20)."""
    if "averageCost" not in item or item.get("costBasis"):
        return item
    average = item["averageCost"]
    if not isinstance(average, dict) or "amount" not in average or "currency" not in average:
        raise FileFormatError(f"{item['symbol']}: averageCost needs `amount` and `currency`")
    instrument = parse_symbol(str(item["symbol"]))
    symbol = instrument.symbol
    what = f"{symbol} quantity"
    quantity = check_quantity(to_decimal(item["quantity"], what), what)
    per_unit = to_decimal(average["amount"], "averageCost")
    check_amount(per_unit, "averageCost", f"{symbol} average cost")
    total = instrument.value_of(quantity, per_unit)
    if decimal_places(total) > MAX_DECIMAL_PLACES:
        total = quantize(total, MIN_STEP, ROUND_HALF_UP)
    return {**item, "costBasis": {"amount": str(total), "currency": average["currency"]}}


# -- the existing app's export -------------------------------------------------------
_ASSET_CLASS_HINTS: tuple[tuple[tuple[str, ...], AssetClass], ...] = (
    (("債券", "bond"), AssetClass.BOND),
    (("reit", "リート"), AssetClass.REIT),
    (("バランス", "balanced"), AssetClass.BALANCED),
    (("金", "gold", "コモディティ", "commodity"), AssetClass.COMMODITY),
    (("暗号", "crypto", "その他", "other"), AssetClass.OTHER),
)
_REGION_HINTS: tuple[tuple[str, str], ...] = (
    ("全世界", "Global"),
    ("先進国", "Developed"),
    ("新興国", "Emerging"),
    ("米国", "US"),
    ("国内", "Japan"),
    ("日本", "Japan"),
)


def fund_type_asset_class(fund_type: str) -> AssetClass:
    """The asset class the existing app's `fundType` (Japanese or English) names."""
    lowered = fund_type.lower()
    for hints, klass in _ASSET_CLASS_HINTS:
        if any(h in lowered for h in hints):
            return klass
    return AssetClass.EQUITY


def _region(fund_type: str, market: Market) -> str | None:
    for hint, region in _REGION_HINTS:
        if hint in fund_type:
            return region
    return {Market.JP: "Japan", Market.US: "US"}.get(market)


def _legacy_asset(asset: Mapping[str, Any], as_of: datetime) -> tuple[Holding, Quote | None]:
    """One of `currentAssets`: the holding, and the quote its price gives (none when the
    price is missing or zero)."""
    instrument = parse_symbol(str(asset["ticker"]))
    symbol = instrument.symbol
    fund_type = str(asset.get("fundType") or "")
    count = to_decimal(asset.get("holdings", 0), f"{symbol} holdings")
    # Funds count lots of 10,000 units and are priced per 10,000 units.
    if instrument.market is Market.FUND:
        check_quantity(count, f"{symbol} holdings")  # before multiplying: 1e999999 overflows
        count *= FUND_PRICE_UNIT
    currency = Currency.of(str(asset.get("currency") or instrument.currency.code))
    holding = Holding(
        instrument=instrument,
        quantity=count,
        asset_class=fund_type_asset_class(fund_type),
        currency=currency,
        region=_region(fund_type, instrument.market),
        name=str(asset.get("name") or "") or None,
    )
    raw_price = asset.get("price")
    if raw_price is None:
        return holding, None
    price = to_decimal(raw_price, f"{symbol} price")
    if price <= 0:
        return holding, None
    quote = Quote(
        symbol=symbol,
        price=Money(check_price(price, f"{symbol} price"), currency),
        status=QuoteStatus.CACHED,
        source=str(asset.get("source") or EXPORT_SOURCE),
        as_of=as_of,
        name=holding.name,
    )
    return holding, quote


def _parse_legacy_export(
    data: Mapping[str, Any], *, at: datetime, default_name: str
) -> LoadedPortfolio:
    base = _base_currency(data)
    rate_info = data.get("exchangeRate")
    as_of = at
    rates: list[FxRate] = []
    if rate_info is not None:
        raw_rate = rate_info.get("rate") if isinstance(rate_info, dict) else rate_info
        if isinstance(rate_info, dict) and rate_info.get("lastUpdated"):
            as_of = _parse_time(rate_info["lastUpdated"], "exchangeRate.lastUpdated")
        if raw_rate is not None:
            rate = to_decimal(raw_rate, "exchangeRate")
            if rate <= 0:
                raise FileFormatError(f"exchangeRate must be positive, got {rate}")
            check_rate(rate, "exchangeRate")
            # The app stores yen per dollar; a rate below 1 can only be dollars per yen.
            pair = (USD, JPY) if rate >= 1 else (JPY, USD)
            rates.append(FxRate(pair[0], pair[1], rate, as_of, EXPORT_SOURCE))

    assets = data.get("currentAssets")
    if not isinstance(assets, list):
        raise FileFormatError("`currentAssets` must be a list")
    check_count(len(assets), "holdings", MAX_HOLDINGS)
    holdings: list[Holding] = []
    quotes: dict[str, Quote] = {}
    for index, asset in enumerate(assets):
        if not isinstance(asset, dict) or not asset.get("ticker"):
            raise FileFormatError(f"currentAssets[{index}] needs a `ticker`")
        try:
            holding, quote = _legacy_asset(asset, as_of)
        except DomainError as exc:
            raise located(exc, f"currentAssets[{index}]") from None
        holdings.append(holding)
        if quote is not None:
            quotes[holding.symbol] = quote

    target_list = data.get("targetPortfolio") or []
    if not isinstance(target_list, list):
        raise FileFormatError("`targetPortfolio` must be a list")
    check_count(len(target_list), "targets", MAX_TARGETS)
    targets: dict[str, Decimal] = {}
    for index, target in enumerate(target_list):
        if not isinstance(target, dict) or not target.get("ticker"):
            raise FileFormatError(f"targetPortfolio[{index}] needs a `ticker`")
        try:
            symbol = parse_symbol(str(target["ticker"])).symbol
            pct = to_decimal(target.get("targetPercentage", 0), f"{symbol} targetPercentage")
        except DomainError as exc:
            raise located(exc, f"targetPortfolio[{index}]") from None
        targets[symbol] = targets.get(symbol, Decimal(0)) + pct
    if targets and not any(targets.values()):
        targets = {}  # the app exports 0% everywhere until targets are set
    _check_targets(targets)

    portfolio = Portfolio(
        user_id=LOCAL_USER,
        portfolio_id=default_name,
        name=str(data.get("name") or default_name),
        base_currency=base,
        created_at=at,
        holdings=holdings,
        targets=targets,
        allow_fractional=_flag(data, "allowFractional"),
    )
    return LoadedPortfolio(portfolio, quotes, rates, kind="legacy-export")


# -- quote snapshots -----------------------------------------------------------------
def load_quotes(path: Path) -> QuoteSnapshot:
    data = read_json(path)
    try:
        return parse_quotes_document(data)
    except DomainError as exc:
        raise FileFormatError(f"{path}: {exc}") from None


def parse_quotes_document(data: Any) -> QuoteSnapshot:
    if not isinstance(data, dict) or not isinstance(data.get("quotes"), dict):
        raise FileFormatError("a quotes file is an object with a `quotes` object")
    fmt = data.get("format", QUOTES_FORMAT)
    if fmt != QUOTES_FORMAT:
        raise FileFormatError(f"unsupported format {fmt!r} (expected {QUOTES_FORMAT})")
    source = str(data.get("source") or "file")
    as_of = _parse_time(data["asOf"], "asOf") if data.get("asOf") else None
    try:
        status = QuoteStatus(str(data.get("status", QuoteStatus.CACHED.value)))
    except ValueError:
        raise FileFormatError(f"unknown quote status {data.get('status')!r}") from None
    if status is QuoteStatus.UNAVAILABLE:
        raise FileFormatError("a quotes file cannot mark its prices unavailable")
    quotes: dict[str, Quote] = {}
    for raw_symbol, item in data["quotes"].items():
        if not isinstance(item, dict) or "price" not in item:
            raise FileFormatError(f"quotes.{_key(raw_symbol)} needs a `price`")
        try:
            quote = _parse_quote(raw_symbol, item, status, source, as_of)
        except FileFormatError:
            raise
        except DomainError as exc:
            raise located(exc, f"quotes.{_key(raw_symbol)}") from None
        quotes[quote.symbol] = quote
    raw_rates = data.get("rates") or {}
    if not isinstance(raw_rates, dict):
        raise FileFormatError("`rates` must be an object of pair: rate, e.g. USD-JPY")
    rates: list[FxRate] = []
    for pair, raw_rate in raw_rates.items():
        try:
            instrument = parse_symbol(pair)
            if instrument.market is not Market.FX:
                raise FileFormatError(f"rates key {pair!r} is not an FX pair such as USD-JPY")
            base, quote_code = instrument.code.split("-")
            rate = to_decimal(raw_rate, f"{pair} rate")
            if rate > 0:  # FxRate refuses the others
                check_rate(rate, f"{pair} rate")
            rates.append(FxRate(Currency.of(base), Currency.of(quote_code), rate, as_of, source))
        except FileFormatError:
            raise
        except DomainError as exc:
            raise located(exc, f"rates.{_key(pair)}") from None
    return QuoteSnapshot(quotes, rates, source, bool(data.get("sample", False)), as_of)


def _parse_quote(
    raw_symbol: str,
    item: Mapping[str, Any],
    status: QuoteStatus,
    source: str,
    as_of: datetime | None,
) -> Quote:
    instrument = parse_symbol(raw_symbol)
    currency = Currency.of(str(item.get("currency") or instrument.currency.code))
    name = item.get("name")
    what = f"{instrument.symbol} price"
    price = to_decimal(item["price"], what)
    if price > 0:  # Quote refuses the others
        check_price(price, what)
    return Quote(
        symbol=instrument.symbol,
        price=Money(price, currency),
        status=status,
        source=str(item.get("source") or source),
        as_of=_parse_time(item["asOf"], f"quotes.{raw_symbol}.asOf") if item.get("asOf") else as_of,
        change=_optional_decimal(item.get("change"), f"{raw_symbol} change"),
        change_percent=_optional_decimal(item.get("changePercent"), f"{raw_symbol} changePercent"),
        name=None if name is None else str(name),
    )


def _key(key: str) -> str:
    """A key of the file, as an error message names it: cut short."""
    return key if len(key) <= 40 else key[:40] + "..."


def _optional_decimal(value: object, what: str) -> Decimal | None:
    return None if value is None else to_decimal(value, what)


def _base_currency(data: Mapping[str, Any]) -> Currency:
    try:
        return Currency.of(str(data.get("baseCurrency") or "JPY"))
    except DomainError as exc:
        raise FileFormatError(f"baseCurrency: {exc}") from None


def _parse_time(value: object, what: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise FileFormatError(f"{what}: not an ISO 8601 time: {value!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
