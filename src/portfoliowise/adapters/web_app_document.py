"""The existing web app's portfolio document (`GET/PUT /api/portfolio`) and the domain:
`WebAppDocuments` of `application.web_app_portfolio`.

The document (the app's `types/portfolio.types.ts`, `services/portfolioSyncService.ts`):
`{currentAssets: [asset], targetPortfolio: [target], baseCurrency, exchangeRate?,
additionalBudget?, aiPromptTemplate?}`, numbers read as `Decimal` (never a float).

Typed: the domain's own fields, what it computes with.
- An asset's `ticker` is its holding's instrument (the canonical symbol); `holdings` its
  quantity (for a fund, lots of 10,000 units, as the app's export is read); `currency`,
  `name`, `region`; `fundType` gives the asset class (the export's rule);
  `purchasePrice` x `holdings` the cost basis (the app's own P/L rule; none unless both
  are above 0).
- `targetPortfolio` gives the targets when its percentages make an allocation (each 0 to
  100, summing to 100 within 0.01). While they do not (the app starts every target at 0 %
  and a user edits one at a time) the portfolio has no targets, and the list is kept.
- `baseCurrency`; `additionalBudget` (`{amount, currency}`, exact); `aiPromptTemplate`.

Kept as sent (`domain.attributes`), never read by the domain: every other field of an
asset (`id`, `price`, `source`, `lastUpdated`, `fundType`, the fees and dividends,
`isStock`, `isMutualFund`, `purchasePrice`, `purchaseDate`, `symbol`, and whatever the app
adds) with its holding; `targetPortfolio`, `exchangeRate` and any other top-level field
with the portfolio; and a typed field's own spelling when the domain's value would not be
written back identically (`7203.T`, `name: ""`, a quantity sent as a text...). The app's
`price` is its own snapshot: kept, never a quote.

Written back: each typed field from the domain, in its kept spelling while that still
means the domain's value, so that what the app sent comes back exactly (JSON numbers with
their digits), and a change made elsewhere (the native API, an import) shows through. A
holding the app has never seen gets `id` = its symbol (the app keys its rows by `id`).

What a document leaves out is left as it is: an asset without `name` keeps its
holding's name, a document without `aiPromptTemplate` keeps the template; a holding's
sector, which the app does not have, is always kept. A holding is refused when its symbol
is not one we know (Tokyo, US, fund) or is listed twice."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Final

from portfoliowise.adapters.portfolio_files import fund_type_asset_class
from portfoliowise.application.web_app_portfolio import WebAppState
from portfoliowise.domain.attributes import Attributes
from portfoliowise.domain.errors import (
    InvariantViolation,
    OutOfRange,
    UnknownCurrencyError,
    UnknownSymbolError,
    ValidationError,
)
from portfoliowise.domain.instruments import Instrument, Market, parse_symbol
from portfoliowise.domain.limits import (
    MAX_AMOUNT,
    MAX_DECIMAL_PLACES,
    MAX_HOLDING_ATTRIBUTES_LENGTH,
    MAX_HOLDINGS,
    MAX_PORTFOLIO_ATTRIBUTES_LENGTH,
    MAX_PROMPT_TEMPLATE_LENGTH,
    MAX_TARGETS,
    MAX_TEXT_LENGTH,
    MIN_STEP,
    check_amount,
    check_count,
    check_quantity,
    check_text,
    decimal_places,
)
from portfoliowise.domain.money import Currency, Money, quantize, to_decimal
from portfoliowise.domain.portfolio import AssetClass, Holding, Portfolio, validate_targets

ASSETS: Final = "currentAssets"
TARGETS: Final = "targetPortfolio"
BASE_CURRENCY: Final = "baseCurrency"
EXCHANGE_RATE: Final = "exchangeRate"
BUDGET: Final = "additionalBudget"
TEMPLATE: Final = "aiPromptTemplate"
SERVER_FIELDS: Final = frozenset({"version", "updatedAt"})
"""Top-level fields the server answers with; never kept from a document."""

ASSET_TYPED: Final = ("ticker", "holdings", "currency", "name", "region")
"""An asset's fields written back from the domain's values."""


class _Absent:
    """Written back as nothing (an optional field the domain has no value for)."""


# -- reading and comparing JSON values --------------------------------------------------
def _is_number(value: object) -> bool:
    return isinstance(value, int | Decimal) and not isinstance(value, bool)


def same_json(a: object, b: object) -> bool:
    """Whether two JSON values are written identically: numbers by their plain digits
    (`120` and `120.0` differ), `true` is not `1`, and key order does not count."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if _is_number(a) and _is_number(b):
        return _same_number(Decimal(a), Decimal(b))  # type: ignore[arg-type]
    if a is None or b is None:
        return a is b
    if isinstance(a, str) or isinstance(b, str):
        return isinstance(a, str) and isinstance(b, str) and a == b
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(same_json(a[k], b[k]) for k in a)
    if isinstance(a, Sequence) and isinstance(b, Sequence):
        return len(a) == len(b) and all(same_json(x, y) for x, y in zip(a, b, strict=True))
    return False


def _same_number(a: Decimal, b: Decimal) -> bool:
    """Whether `format(a, "f") == format(b, "f")`, without writing either out (a number
    read from a document may have a huge exponent)."""
    if not (a.is_finite() and b.is_finite()):
        return False
    places_a, places_b = min(int(a.as_tuple().exponent), 0), min(int(b.as_tuple().exponent), 0)
    return a == b and a.is_signed() == b.is_signed() and places_a == places_b


@contextmanager
def _at(where: str) -> Iterator[None]:
    """Errors found at `where` in the document, said so."""
    try:
        yield
    except OutOfRange as exc:
        raise exc.located(where) from None
    except (UnknownSymbolError, UnknownCurrencyError, InvariantViolation):
        raise
    except ValidationError as exc:
        raise ValidationError(f"{where}: {exc}") from None


def _number(value: object, what: str) -> Decimal:
    """A JSON number, or a text of one (kept as sent, so it comes back a text)."""
    if _is_number(value):
        return Decimal(value)  # type: ignore[arg-type]
    if isinstance(value, str):
        return to_decimal(value, what)
    raise ValidationError(f"{what} must be a number, got {type(value).__name__}")


def _text(value: object, field: str, length: int = MAX_TEXT_LENGTH) -> str | None:
    if value is not None and not isinstance(value, str):
        raise ValidationError(f"{field} must be a text or null")
    return check_text(value, field, length)


def _template(value: object) -> str | None:
    return _text(value, TEMPLATE, MAX_PROMPT_TEMPLATE_LENGTH)


def _currency(value: object, default: Currency) -> Currency:
    if value is None:
        return default
    if not isinstance(value, str):
        raise ValidationError("currency must be a text such as JPY or USD")
    return Currency.of(value)


# -- one asset ---------------------------------------------------------------------------
def _lots(value: object, instrument: Instrument) -> Decimal:
    """The app's `holdings` as a quantity: shares, or for a fund lots of 10,000 units
    (null: none)."""
    count = Decimal(0) if value is None else _number(value, "holdings")
    check_quantity(count, f"{instrument.symbol} holdings")  # before multiplying (1e999999)
    return count * instrument.price_unit


def _cost_basis(price: object, count: Decimal, currency: Currency, symbol: str) -> Money | None:
    """`purchasePrice` x `holdings` (per 10,000 units x lots for a fund: the same product),
    to `MAX_DECIMAL_PLACES`; None unless both are numbers above 0."""
    if not _is_number(price) or count <= 0:
        return None
    per_unit = Decimal(price)  # type: ignore[arg-type]
    if per_unit <= 0:
        return None
    if per_unit > MAX_AMOUNT:
        check_amount(per_unit, "purchasePrice", f"{symbol} purchasePrice")
    total = per_unit * count
    if decimal_places(total) > MAX_DECIMAL_PLACES:
        total = quantize(total, MIN_STEP, ROUND_HALF_UP)
    check_amount(total, "costBasis", f"{symbol} cost basis (purchasePrice x holdings)")
    return Money(total, currency)


_ASSET_MEANING: Final[dict[str, Callable[[object, Instrument], object]]] = {
    "ticker": lambda raw, _: parse_symbol(str(raw)).symbol if isinstance(raw, str) else None,
    "holdings": _lots,
    "currency": lambda raw, instrument: _currency(raw, instrument.currency),
    "name": lambda raw, _: _text(raw, "name"),
    "region": lambda raw, _: _text(raw, "region"),
}
"""What the app's spelling of a typed field means in the domain's terms."""


def _typed(holding: Holding, field: str) -> object:
    """The domain's value of a typed field, as `_ASSET_MEANING` gives it."""
    return {
        "ticker": holding.symbol,
        "holdings": holding.quantity,
        "currency": holding.currency,
        "name": holding.name,
        "region": holding.region,
    }[field]


def _derived(holding: Holding, field: str) -> object:
    """A typed field as the app writes it (`_Absent` when the domain has none)."""
    if field == "holdings":
        return holding.quantity / holding.instrument.price_unit
    if field == "currency":
        return holding.currency.code
    value = _typed(holding, field)
    return _Absent if value is None else value


def _read_asset(raw: object, current: Portfolio | None) -> Holding:
    if not isinstance(raw, Mapping):
        raise ValidationError("an asset must be an object")
    ticker = raw.get("ticker")
    if not isinstance(ticker, str) or not ticker.strip():
        raise ValidationError("an asset needs a `ticker`")
    instrument = parse_symbol(ticker)
    before = current.holding(instrument.symbol) if current is not None else None
    was = before.attributes.as_dict() if before is not None else {}
    kept: dict[str, object] = {}

    def said(field: str) -> bool:
        """Whether the asset has `field`; if not, its kept spelling stays kept."""
        if field in raw:
            return True
        if field in was:
            kept[field] = was[field]
        return False

    if said("holdings"):
        quantity = _lots(raw["holdings"], instrument)
    else:
        quantity = before.quantity if before is not None else Decimal(0)
    currency = instrument.currency if before is None else before.currency
    if said("currency"):
        currency = _currency(raw["currency"], instrument.currency)
    name = None if before is None else before.name
    if said("name"):
        name = _text(raw["name"], "name")
    region = None if before is None else before.region
    if said("region"):
        region = _text(raw["region"], "region")
    fund_type = raw.get("fundType")
    if isinstance(fund_type, str):
        asset_class = fund_type_asset_class(fund_type)
    elif before is not None:
        asset_class = before.asset_class
    else:
        asset_class = AssetClass.OTHER if instrument.market is Market.FUND else AssetClass.EQUITY
    if "purchasePrice" in raw:
        count = quantity / instrument.price_unit
        cost = _cost_basis(raw["purchasePrice"], count, currency, instrument.symbol)
    else:
        cost = None if before is None else before.cost_basis
    holding = Holding(
        instrument=instrument,
        quantity=quantity,
        asset_class=asset_class,
        currency=currency,
        cost_basis=cost,
        sector=None if before is None else before.sector,
        region=region,
        name=name,
    )
    for field, value in raw.items():
        if field not in ASSET_TYPED or not same_json(_derived(holding, field), value):
            kept[field] = value
    attributes = Attributes.of(kept, max_length=MAX_HOLDING_ATTRIBUTES_LENGTH)
    return replace(holding, attributes=attributes)


def _write_asset(holding: Holding) -> dict[str, Any]:
    kept = holding.attributes.as_dict()
    asset: dict[str, Any] = {} if "id" in kept else {"id": holding.symbol}
    for field in ASSET_TYPED:
        value = _derived(holding, field)
        if field in kept and _asset_field_means(holding, field, kept[field]):
            value = kept[field]
        if value is not _Absent:
            asset[field] = value
    asset.update((field, value) for field, value in kept.items() if field not in ASSET_TYPED)
    return asset


def _asset_field_means(holding: Holding, field: str, raw: object) -> bool:
    """Whether the app's spelling `raw` of a typed field still means the holding's value."""
    meaning = _ASSET_MEANING[field]
    return _still_means(
        lambda value: meaning(value, holding.instrument), raw, _typed(holding, field)
    )


def _still_means(meaning: Callable[[object], object], raw: object, value: object) -> bool:
    try:
        return bool(meaning(raw) == value)
    except (ValidationError, ArithmeticError):
        return False


# -- targets -----------------------------------------------------------------------------
def _allocation(entries: Sequence[object]) -> dict[str, Decimal]:
    """The targets a target list makes: {} while its percentages are not an allocation
    (all 0, not summing to 100, one outside 0-100). A percentage that is not a number
    counts as 0. Raises `ValidationError` for an entry without a known `ticker`."""
    totals: dict[str, Decimal] = {}
    for index, entry in enumerate(entries):
        with _at(f"{TARGETS}[{index}]"):
            if not isinstance(entry, Mapping):
                raise ValidationError("a target must be an object")
            ticker = entry.get("ticker")
            if not isinstance(ticker, str) or not ticker.strip():
                raise ValidationError("a target needs a `ticker`")
            symbol = parse_symbol(ticker).symbol
            raw = entry.get("targetPercentage")
            pct = Decimal(raw) if _is_number(raw) else Decimal(0)  # type: ignore[arg-type]
            totals[symbol] = totals.get(symbol, Decimal(0)) + pct
    if not any(totals.values()):
        return {}
    try:
        return validate_targets(totals)
    except (ValidationError, ArithmeticError):
        return {}


def _write_targets(portfolio: Portfolio, kept: object) -> list[Any]:
    """The kept target list while it still makes the portfolio's targets; else the
    portfolio's targets in its shape (the kept entries with their percentages replaced,
    then one entry for each other target)."""
    entries = list(kept) if isinstance(kept, list) else []
    try:
        if _allocation(entries) == portfolio.targets:
            return entries
    except ValidationError:
        pass
    written: list[Any] = []
    placed: set[str] = set()
    for entry in entries:
        try:
            symbol = parse_symbol(str(entry["ticker"])).symbol
        except (KeyError, TypeError, ValidationError):
            written.append(entry)
            continue
        pct = Decimal(0) if symbol in placed else portfolio.targets.get(symbol, Decimal(0))
        placed.add(symbol)
        raw = entry.get("targetPercentage")
        same = _is_number(raw) and Decimal(raw) == pct
        written.append({**entry, "targetPercentage": raw if same else pct})
    for symbol, pct in portfolio.targets.items():
        if symbol not in placed:
            held = portfolio.holding(symbol)
            name = held.name if held is not None and held.name else symbol
            written.append({"id": symbol, "ticker": symbol, "name": name, "targetPercentage": pct})
    return written


# -- the portfolio's own fields --------------------------------------------------------
def _budget(raw: object) -> Money | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise ValidationError(f"{BUDGET} must be an object {{amount, currency}} or null")
    amount = raw.get("amount")
    if not _is_number(amount):
        raise ValidationError(f"{BUDGET}.amount must be a number")
    currency = raw.get("currency")
    if not isinstance(currency, str):
        raise ValidationError(f"{BUDGET}.currency must be a text such as JPY")
    value = Decimal(amount)  # type: ignore[arg-type]
    check_amount(value, BUDGET, "additional budget")
    return Money(value, Currency.of(currency))


def _budget_json(budget: Money | None) -> object:
    if budget is None:
        return None
    return {"amount": budget.amount, "currency": budget.currency.code}


def _list(document: Mapping[str, Any], field: str, limit: int, counted: str) -> list[Any]:
    value = document.get(field)
    if not isinstance(value, list):
        raise ValidationError(f"`{field}` must be a list")
    check_count(len(value), counted, limit)
    return value


class WebAppDocuments:
    """`application.web_app_portfolio.WebAppDocuments` (see the module docstring)."""

    def read(self, document: Mapping[str, Any], current: Portfolio | None) -> WebAppState:
        if not isinstance(document, Mapping):
            raise ValidationError("the portfolio must be a JSON object")
        assets = _list(document, ASSETS, MAX_HOLDINGS, "holdings")
        targets = _list(document, TARGETS, MAX_TARGETS, "targets")
        was = current.attributes.as_dict() if current is not None else {}
        kept: dict[str, object] = {}

        raw_base = document.get(BASE_CURRENCY)
        if not isinstance(raw_base, str):
            raise ValidationError(f"`{BASE_CURRENCY}` must be a text such as JPY")
        base = Currency.of(raw_base)
        if raw_base != base.code:
            kept[BASE_CURRENCY] = raw_base

        holdings: list[Holding] = []
        seen: dict[str, int] = {}
        for index, raw in enumerate(assets):
            with _at(f"{ASSETS}[{index}]"):
                holding = _read_asset(raw, current)
            if holding.symbol in seen:
                raise InvariantViolation(
                    f"{ASSETS}[{index}]: {holding.symbol} is listed twice "
                    f"(also {ASSETS}[{seen[holding.symbol]}])"
                )
            seen[holding.symbol] = index
            holdings.append(holding)

        allocation = _allocation(targets)
        kept[TARGETS] = targets

        budget = None if current is None else current.additional_budget
        if BUDGET in document:
            with _at(BUDGET):
                budget = _budget(document[BUDGET])
            if not same_json(_budget_json(budget), document[BUDGET]):
                kept[BUDGET] = document[BUDGET]
        elif BUDGET in was:
            kept[BUDGET] = was[BUDGET]

        template = None if current is None else current.ai_prompt_template
        if TEMPLATE in document:
            template = _template(document[TEMPLATE])
            if not same_json(template, document[TEMPLATE]):
                kept[TEMPLATE] = document[TEMPLATE]
        elif TEMPLATE in was:
            kept[TEMPLATE] = was[TEMPLATE]

        if EXCHANGE_RATE in document:
            if document[EXCHANGE_RATE] is not None:  # null: none, as GET writes it
                kept[EXCHANGE_RATE] = document[EXCHANGE_RATE]
        elif EXCHANGE_RATE in was:
            kept[EXCHANGE_RATE] = was[EXCHANGE_RATE]

        known = {ASSETS, TARGETS, BASE_CURRENCY, BUDGET, TEMPLATE, EXCHANGE_RATE}
        for field, value in document.items():
            if field not in known and field not in SERVER_FIELDS:
                kept[field] = value
        with _at(f"{TARGETS}, {EXCHANGE_RATE} and the other fields"):
            attributes = Attributes.of(kept, max_length=MAX_PORTFOLIO_ATTRIBUTES_LENGTH)
        return WebAppState(
            base_currency=base,
            holdings=tuple(holdings),
            targets=allocation,
            additional_budget=budget,
            ai_prompt_template=template,
            attributes=attributes,
        )

    def write(self, portfolio: Portfolio) -> dict[str, Any]:
        kept = portfolio.attributes.as_dict()
        base: object = portfolio.base_currency.code
        if BASE_CURRENCY in kept and _still_means(
            lambda raw: Currency.of(str(raw)), kept[BASE_CURRENCY], portfolio.base_currency
        ):
            base = kept[BASE_CURRENCY]
        budget = _budget_json(portfolio.additional_budget)
        if BUDGET in kept and _still_means(_budget, kept[BUDGET], portfolio.additional_budget):
            budget = kept[BUDGET]
        template: object = portfolio.ai_prompt_template
        if TEMPLATE in kept and _still_means(
            _template, kept[TEMPLATE], portfolio.ai_prompt_template
        ):
            template = kept[TEMPLATE]
        document: dict[str, Any] = {
            ASSETS: [_write_asset(holding) for holding in portfolio.holdings],
            TARGETS: _write_targets(portfolio, kept.get(TARGETS)),
            BASE_CURRENCY: base,
            EXCHANGE_RATE: kept.get(EXCHANGE_RATE),
            BUDGET: budget,
            TEMPLATE: template,
        }
        for field, value in kept.items():
            document.setdefault(field, value)
        return document
