"""The portfolio aggregate: holdings, target allocations and the events its changes record."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from enum import Enum, StrEnum
from typing import Any, Final

from portfoliowise.domain.activities import MAX_ACTIVITIES, Activity, CostMethod, HoldingsSource
from portfoliowise.domain.attributes import NO_ATTRIBUTES, Attributes
from portfoliowise.domain.errors import InvariantViolation, OutOfRange, ValidationError, preview
from portfoliowise.domain.events import (
    MAX_LISTED_ACTIVITIES,
    ActivitiesChanged,
    DomainEvent,
    FieldChange,
    HoldingAdded,
    HoldingChanged,
    HoldingRemoved,
    JsonValue,
    PortfolioCreated,
    PortfolioDeleted,
    PortfolioRenamed,
    PortfolioSettingsChanged,
    TargetsSet,
)
from portfoliowise.domain.instruments import Instrument, Market, parse_symbol
from portfoliowise.domain.limits import (
    MAX_HOLDING_ATTRIBUTES_LENGTH,
    MAX_HOLDINGS,
    MAX_NAME_LENGTH,
    MAX_PORTFOLIO_ATTRIBUTES_LENGTH,
    MAX_PROMPT_TEMPLATE_LENGTH,
    MAX_TARGETS,
    MAX_TEXT_LENGTH,
    check_amount,
    check_count,
    check_percent,
    check_quantity,
    check_text,
)
from portfoliowise.domain.money import Currency, Money, to_decimal

__all__ = [  # the limits were defined here first; `domain.limits` holds them all now
    "MAX_HOLDINGS",
    "MAX_NAME_LENGTH",
    "UNCHANGED",
    "AssetClass",
    "Holding",
    "Portfolio",
    "holding_from_json",
    "validate_targets",
]

TARGET_SUM: Final = Decimal(100)
TARGET_TOLERANCE: Final = Decimal("0.01")


class AssetClass(StrEnum):
    EQUITY = "equity"
    BOND = "bond"
    REIT = "reit"
    COMMODITY = "commodity"
    BALANCED = "balanced"
    CASH = "cash"
    OTHER = "other"

    @classmethod
    def parse(cls, value: str) -> AssetClass:
        check_text(value, "assetClass")
        try:
            return cls(value.strip().lower())
        except ValueError:
            allowed = ", ".join(member.value for member in cls)
            raise ValidationError(
                f"unknown asset class {preview(value)} (one of {allowed})"
            ) from None


_TICK = timedelta(microseconds=1)


class _Unchanged(Enum):
    UNCHANGED = "unchanged"


UNCHANGED: Final = _Unchanged.UNCHANGED
"""`Portfolio.change_details`: leave this one as it is."""


def _aware(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValidationError("timestamps must be timezone-aware (UTC)")
    return at


@dataclass(frozen=True, slots=True)
class Holding:
    instrument: Instrument
    quantity: Decimal
    asset_class: AssetClass
    currency: Currency
    cost_basis: Money | None = None  # total amount paid, in any currency
    sector: str | None = None
    region: str | None = None
    name: str | None = None
    attributes: Attributes = NO_ATTRIBUTES  # a client's, kept as sent (`domain.attributes`)

    def __post_init__(self) -> None:
        """Every holding, from the API, a file, the CLI or a backup, is within the limits
        of `domain.limits`: `OutOfRange` names the field otherwise."""
        if not isinstance(self.quantity, Decimal) or not self.quantity.is_finite():
            raise ValidationError(f"{self.symbol}: quantity must be a Decimal")
        check_quantity(self.quantity, f"{self.symbol} quantity")
        if self.instrument.market is Market.FX:
            raise ValidationError(f"{self.symbol}: an FX pair cannot be held")
        if self.cost_basis is not None:
            check_amount(self.cost_basis.amount, "costBasis", f"{self.symbol} cost basis")
        for field in ("sector", "region", "name"):
            check_text(getattr(self, field), field, MAX_TEXT_LENGTH)
        _check_attributes(self.attributes, MAX_HOLDING_ATTRIBUTES_LENGTH, self.symbol)

    @classmethod
    def of(
        cls,
        symbol: str,
        quantity: object,
        *,
        asset_class: str | AssetClass | None = None,
        currency: str | Currency | None = None,
        cost_basis: Money | None = None,
        sector: str | None = None,
        region: str | None = None,
        name: str | None = None,
        attributes: Attributes | None = None,
    ) -> Holding:
        instrument = parse_symbol(symbol)
        if asset_class is None:
            klass = AssetClass.OTHER if instrument.market is Market.FUND else AssetClass.EQUITY
        else:
            klass = (
                asset_class
                if isinstance(asset_class, AssetClass)
                else AssetClass.parse(asset_class)
            )
        return cls(
            instrument=instrument,
            quantity=to_decimal(quantity, f"{instrument.symbol} quantity"),
            asset_class=klass,
            currency=Currency.of(currency) if currency is not None else instrument.currency,
            cost_basis=cost_basis,
            sector=sector or None,
            region=region or None,
            name=name or None,
            attributes=attributes or NO_ATTRIBUTES,
        )

    @property
    def symbol(self) -> str:
        return self.instrument.symbol

    def to_json(self) -> dict[str, JsonValue]:
        """Every field; `attributes` (their JSON text) only when there are some."""
        data: dict[str, JsonValue] = {
            "symbol": self.symbol,
            "market": self.instrument.market.value,
            "quantity": str(self.quantity),
            "assetClass": self.asset_class.value,
            "currency": self.currency.code,
            "costBasis": None
            if self.cost_basis is None
            else {"amount": str(self.cost_basis.amount), "currency": self.cost_basis.currency.code},
            "sector": self.sector,
            "region": self.region,
            "name": self.name,
        }
        if self.attributes:
            data["attributes"] = self.attributes.text
        return data


def _check_attributes(attributes: object, max_length: int, owner: str) -> Attributes:
    if not isinstance(attributes, Attributes):
        raise ValidationError(f"{owner}: attributes must be `Attributes`")
    if len(attributes.text) > max_length:
        limit = f"at most {max_length:,} characters as JSON"
        raise OutOfRange(
            "attributes",
            limit,
            message=f"{owner}: attributes are too long (at most {max_length:,} characters as JSON)",
        )
    return attributes


def _check_budget(budget: object) -> Money | None:
    if budget is None:
        return None
    if not isinstance(budget, Money):
        raise ValidationError("the additional budget must be an amount of money")
    check_amount(budget.amount, "additionalBudget", "additional budget")
    return budget


def _attributes_json(attributes: Attributes) -> JsonValue:
    return attributes.text if attributes else None


def _budget_json(budget: Money | None) -> JsonValue:
    """Exact (`Money.to_json` rounds to the minor unit, for display)."""
    if budget is None:
        return None
    return {"amount": str(budget.amount), "currency": budget.currency.code}


def validate_targets(targets: Mapping[str, object] | None) -> dict[str, Decimal]:
    """Normalise target symbols and check the percentages: each 0..100, summing to
    100 within 0.01. An empty mapping (or None) means no targets."""
    if not targets:
        return {}
    check_count(len(targets), "targets", MAX_TARGETS)
    result: dict[str, Decimal] = {}
    for raw_symbol, raw_pct in targets.items():
        symbol = parse_symbol(raw_symbol).symbol
        if symbol in result:
            raise InvariantViolation(f"target for {symbol} given twice")
        pct = to_decimal(raw_pct, f"target for {symbol}")
        check_percent(pct, "targets", f"target for {symbol}")
        result[symbol] = pct
    total = sum(result.values(), Decimal(0))
    if abs(total - TARGET_SUM) > TARGET_TOLERANCE:
        raise InvariantViolation(f"targets must sum to 100 (within 0.01), got {total}")
    return result


def _targets_json(targets: Mapping[str, Decimal]) -> dict[str, JsonValue]:
    return {symbol: str(pct) for symbol, pct in targets.items()}


class Portfolio:
    """Aggregate root. Mutate only through its methods; each records a domain event.

    `version` is the stored version this state was read at (0 before the first save);
    repositories compare it on write (optimistic lock) and bump it.

    Besides holdings and targets, a portfolio may carry the budget its owner plans to add
    (`additional_budget`, exact), a template for AI analysis prompts, and a client's
    `attributes` (kept as sent, never read here: `domain.attributes`)."""

    def __init__(
        self,
        *,
        user_id: str,
        portfolio_id: str,
        name: str,
        base_currency: Currency,
        created_at: datetime,
        updated_at: datetime | None = None,
        holdings: Iterable[Holding] = (),
        targets: Mapping[str, object] | None = None,
        allow_fractional: bool = False,
        version: int = 0,
        deleted: bool = False,
        additional_budget: Money | None = None,
        ai_prompt_template: str | None = None,
        attributes: Attributes | None = None,
        holdings_source: HoldingsSource = HoldingsSource.HOLDINGS,
        cost_basis: CostMethod = CostMethod.AVERAGE,
    ) -> None:
        if not user_id or not portfolio_id:
            raise ValidationError("a portfolio needs a user id and a portfolio id")
        self.user_id = user_id
        self.portfolio_id = portfolio_id
        self.name = self._check_name(name)
        self.base_currency = base_currency
        self.created_at = _aware(created_at)
        self.updated_at = _aware(updated_at or created_at)
        self.allow_fractional = allow_fractional
        self.holdings_source = HoldingsSource.parse(holdings_source)
        self.cost_basis = CostMethod.parse(cost_basis)
        self.version = version
        self.deleted = deleted
        self._holdings: dict[str, Holding] = {}
        for holding in holdings:
            self._put_new(holding)
        self.targets: dict[str, Decimal] = validate_targets(targets)
        self.additional_budget = _check_budget(additional_budget)
        self.ai_prompt_template = self._check_template(ai_prompt_template)
        self.attributes = self._check_own_attributes(attributes)
        self.events: list[DomainEvent] = []

    # -- construction -------------------------------------------------------------
    @classmethod
    def create(
        cls,
        *,
        user_id: str,
        portfolio_id: str,
        name: str,
        base_currency: Currency,
        at: datetime,
        holdings: Iterable[Holding] = (),
        targets: Mapping[str, object] | None = None,
        allow_fractional: bool = False,
        additional_budget: Money | None = None,
        ai_prompt_template: str | None = None,
        attributes: Attributes | None = None,
        holdings_source: HoldingsSource = HoldingsSource.HOLDINGS,
        cost_basis: CostMethod = CostMethod.AVERAGE,
    ) -> Portfolio:
        portfolio = cls(
            user_id=user_id,
            portfolio_id=portfolio_id,
            name=name,
            base_currency=base_currency,
            created_at=at,
            holdings=holdings,
            targets=targets,
            allow_fractional=allow_fractional,
            additional_budget=additional_budget,
            ai_prompt_template=ai_prompt_template,
            attributes=attributes,
            holdings_source=holdings_source,
            cost_basis=cost_basis,
        )
        snapshot = portfolio.to_json()
        portfolio._record(
            PortfolioCreated,
            at,
            {key: FieldChange(None, value) for key, value in snapshot.items()},
        )
        return portfolio

    # -- reading ------------------------------------------------------------------
    @property
    def holdings(self) -> list[Holding]:
        return list(self._holdings.values())

    def holding(self, symbol: str) -> Holding | None:
        return self._holdings.get(parse_symbol(symbol).symbol)

    def __len__(self) -> int:
        return len(self._holdings)

    # -- commands -----------------------------------------------------------------
    def rename(self, name: str, *, at: datetime) -> None:
        self._check_open()
        new = self._check_name(name)
        if new == self.name:
            return
        before, self.name = self.name, new
        self._record(PortfolioRenamed, at, {"name": FieldChange(before, new)})

    def change_settings(
        self,
        *,
        at: datetime,
        base_currency: Currency | None = None,
        allow_fractional: bool | None = None,
        holdings_source: HoldingsSource | None = None,
        cost_basis: CostMethod | None = None,
    ) -> None:
        self._check_open()
        changes: dict[str, FieldChange] = {}
        if holdings_source is not None and holdings_source != self.holdings_source:
            changes["holdingsSource"] = FieldChange(self.holdings_source.value, holdings_source)
            self.holdings_source = HoldingsSource.parse(holdings_source)
        if cost_basis is not None and cost_basis != self.cost_basis:
            changes["costBasis"] = FieldChange(self.cost_basis.value, cost_basis)
            self.cost_basis = CostMethod.parse(cost_basis)
        if base_currency is not None and base_currency != self.base_currency:
            changes["baseCurrency"] = FieldChange(self.base_currency.code, base_currency.code)
            self.base_currency = base_currency
        if allow_fractional is not None and allow_fractional != self.allow_fractional:
            changes["allowFractional"] = FieldChange(self.allow_fractional, allow_fractional)
            self.allow_fractional = allow_fractional
        if changes:
            self._record(PortfolioSettingsChanged, at, changes)

    def change_details(
        self,
        *,
        at: datetime,
        additional_budget: Money | _Unchanged | None = UNCHANGED,
        ai_prompt_template: str | _Unchanged | None = UNCHANGED,
        attributes: Attributes | _Unchanged = UNCHANGED,
    ) -> None:
        """Set the additional budget, the AI prompt template or the client's attributes
        (None clears the first two; `UNCHANGED`, the default, leaves one as it is). Each
        field that changed is its own `PortfolioSettingsChanged`, so that one event, which
        carries the field before and after, stays within the bus's size limit (see
        `domain.limits`); nothing is recorded when nothing changed."""
        self._check_open()
        budget, template, kept = self.additional_budget, self.ai_prompt_template, self.attributes
        if not isinstance(additional_budget, _Unchanged):
            budget = _check_budget(additional_budget)
        if not isinstance(ai_prompt_template, _Unchanged):
            template = self._check_template(ai_prompt_template)
        if not isinstance(attributes, _Unchanged):
            kept = self._check_own_attributes(attributes)
        # Every value is checked before anything changes.
        fields = (
            ("additionalBudget", _budget_json(self.additional_budget), _budget_json(budget)),
            ("aiPromptTemplate", self.ai_prompt_template, template),
            ("attributes", _attributes_json(self.attributes), _attributes_json(kept)),
        )
        self.additional_budget, self.ai_prompt_template, self.attributes = budget, template, kept
        for field, before, after in fields:
            if before != after:
                self._record(PortfolioSettingsChanged, at, {field: FieldChange(before, after)})

    def add_holding(self, holding: Holding, *, at: datetime) -> None:
        self._put_new(holding)
        after = holding.to_json()
        self._record(
            HoldingAdded,
            at,
            {key: FieldChange(None, value) for key, value in after.items()},
            symbol=holding.symbol,
        )

    def change_holding(self, holding: Holding, *, at: datetime) -> None:
        """Replace the holding with the same symbol, recording each field that changed."""
        self._check_open()
        current = self._holdings.get(holding.symbol)
        if current is None:
            raise InvariantViolation(f"{holding.symbol} is not held in this portfolio")
        before, after = current.to_json(), holding.to_json()
        keys = list(after) + [key for key in before if key not in after]
        changes = {
            key: FieldChange(before.get(key), after.get(key))
            for key in keys
            if before.get(key) != after.get(key)
        }
        if not changes:
            return
        self._holdings[holding.symbol] = holding
        self._record(HoldingChanged, at, changes, symbol=holding.symbol)

    def set_quantity(self, symbol: str, quantity: Decimal, *, at: datetime) -> None:
        current = self._require(symbol)
        self.change_holding(replace(current, quantity=quantity), at=at)

    def remove_holding(self, symbol: str, *, at: datetime) -> None:
        current = self._require(symbol)
        del self._holdings[current.symbol]
        before = current.to_json()
        self._record(
            HoldingRemoved,
            at,
            {key: FieldChange(value, None) for key, value in before.items()},
            symbol=current.symbol,
        )

    def set_targets(self, targets: Mapping[str, object] | None, *, at: datetime) -> None:
        self._check_open()
        new = validate_targets(targets)
        if new == self.targets:
            return
        before, self.targets = self.targets, new
        self._record(
            TargetsSet,
            at,
            {"targets": FieldChange(_targets_json(before), _targets_json(new))},
        )

    def record_activities(
        self,
        *,
        at: datetime,
        before: int,
        added: Sequence[Activity] = (),
        removed: Sequence[Activity] = (),
        batch_id: str | None = None,
        digest: str | None = None,
        file_format: str | None = None,
    ) -> None:
        """Record a change of the portfolio's activities (stored beside it, through the
        `ActivityLedger` port, in the same commit as this change): one `ActivitiesChanged`
        saying what changed. `before` is how many activities the portfolio had; with
        `batch_id` (an import) the change says how many, the batch id, the file's sha256
        (`digest`) and its format, never the activities; otherwise up to
        `MAX_LISTED_ACTIVITIES` are listed (id, type, date, symbol) and more are counted.
        Nothing added or removed: nothing recorded. The holdings are not touched here (a
        ledger-based portfolio's use case replaces them, holding by holding)."""
        self._check_open()
        if not added and not removed:
            return
        after = before + len(added) - len(removed)
        if before < 0 or after < 0:
            raise InvariantViolation("more activities removed than the portfolio has")
        check_count(after, "activities", MAX_ACTIVITIES)
        listed = batch_id is None and len(added) + len(removed) <= MAX_LISTED_ACTIVITIES

        def described(items: Sequence[Activity]) -> JsonValue:
            if not listed:
                return len(items)
            return [
                {
                    "id": a.activity_id,
                    "type": a.type.value,
                    "date": a.day.isoformat(),
                    "symbol": a.symbol,
                }
                for a in items
            ]

        changes = {"activities": FieldChange(before, after)}
        if added:
            changes["added"] = FieldChange(None, described(added))
        if removed:
            changes["removed"] = FieldChange(described(removed), None)
        for key, value in (("batchId", batch_id), ("sha256", digest), ("format", file_format)):
            if value is not None:
                changes[key] = FieldChange(None, value)
        self._record(ActivitiesChanged, at, changes)

    def delete(self, *, at: datetime) -> None:
        self._check_open()
        self.deleted = True
        self._record(PortfolioDeleted, at, {"deleted": FieldChange(False, True)})

    def pull_events(self) -> list[DomainEvent]:
        events, self.events = self.events, []
        return events

    # -- serialisation ------------------------------------------------------------
    def to_json(self) -> dict[str, JsonValue]:
        """Every field; `additionalBudget`, `aiPromptTemplate` and `attributes` (their
        JSON text) only when set, `holdingsSource` and `costBasis` only when not the
        defaults (`holdings`, `average`)."""
        data: dict[str, JsonValue] = {
            "userId": self.user_id,
            "portfolioId": self.portfolio_id,
            "name": self.name,
            "baseCurrency": self.base_currency.code,
            "allowFractional": self.allow_fractional,
            "holdings": [holding.to_json() for holding in self.holdings],
            "targets": _targets_json(self.targets),
            "createdAt": self.created_at.isoformat(),
            "updatedAt": self.updated_at.isoformat(),
            "version": self.version,
        }
        if self.additional_budget is not None:
            data["additionalBudget"] = _budget_json(self.additional_budget)
        if self.ai_prompt_template is not None:
            data["aiPromptTemplate"] = self.ai_prompt_template
        if self.attributes:
            data["attributes"] = _attributes_json(self.attributes)
        if self.holdings_source is not HoldingsSource.HOLDINGS:
            data["holdingsSource"] = self.holdings_source.value
        if self.cost_basis is not CostMethod.AVERAGE:
            data["costBasis"] = self.cost_basis.value
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Portfolio:
        """Inverse of `to_json` (stored snapshots, backups). Raises `ValidationError`."""
        try:
            return cls(
                user_id=str(data["userId"]),
                portfolio_id=str(data["portfolioId"]),
                name=str(data["name"]),
                base_currency=Currency.of(str(data["baseCurrency"])),
                created_at=datetime.fromisoformat(str(data["createdAt"])),
                updated_at=datetime.fromisoformat(str(data["updatedAt"])),
                holdings=[holding_from_json(h) for h in data.get("holdings") or []],
                targets=data.get("targets") or None,
                allow_fractional=bool(data.get("allowFractional", False)),
                version=int(data.get("version", 0)),
                additional_budget=_budget_from_json(data.get("additionalBudget")),
                ai_prompt_template=data.get("aiPromptTemplate"),
                attributes=_attributes_from_json(
                    data.get("attributes"), MAX_PORTFOLIO_ATTRIBUTES_LENGTH
                ),
                holdings_source=HoldingsSource.parse(data.get("holdingsSource", "holdings")),
                cost_basis=CostMethod.parse(data.get("costBasis", "average")),
            )
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, ValidationError):
                raise
            raise ValidationError(f"not a portfolio document: {exc}") from None

    # -- internals ----------------------------------------------------------------
    @staticmethod
    def _check_template(template: object) -> str | None:
        """An AI prompt template: a text of at most `MAX_PROMPT_TEMPLATE_LENGTH`
        characters; "" is None."""
        return check_text(template, "aiPromptTemplate", MAX_PROMPT_TEMPLATE_LENGTH)

    @staticmethod
    def _check_own_attributes(attributes: Attributes | None) -> Attributes:
        if attributes is None:
            return NO_ATTRIBUTES
        return _check_attributes(attributes, MAX_PORTFOLIO_ATTRIBUTES_LENGTH, "portfolio")

    @staticmethod
    def _check_name(name: str) -> str:
        cleaned = name.strip() if isinstance(name, str) else ""
        if not cleaned:
            raise ValidationError("portfolio name cannot be empty")
        if len(cleaned) > MAX_NAME_LENGTH:
            limit = f"at most {MAX_NAME_LENGTH} characters"
            raise OutOfRange("name", limit, value=cleaned, label="portfolio name")
        return cleaned

    def _check_open(self) -> None:
        if self.deleted:
            raise InvariantViolation(f"portfolio {self.portfolio_id} is deleted")

    def _require(self, symbol: str) -> Holding:
        self._check_open()
        current = self._holdings.get(parse_symbol(symbol).symbol)
        if current is None:
            raise InvariantViolation(f"{symbol} is not held in this portfolio")
        return current

    def _put_new(self, holding: Holding) -> None:
        self._check_open()
        if holding.symbol in self._holdings:
            raise InvariantViolation(f"{holding.symbol} is already held in this portfolio")
        check_count(len(self._holdings) + 1, "holdings", MAX_HOLDINGS)
        self._holdings[holding.symbol] = holding

    def _record(
        self,
        kind: type[DomainEvent],
        at: datetime,
        changes: dict[str, FieldChange],
        **extra: str,
    ) -> None:
        occurred = _aware(at)
        if occurred < self.updated_at or (
            occurred == self.updated_at and (self.events or self.version > 0)
        ):
            # Changes are strictly ordered even when the clock has not moved (or moved
            # back): each gets its own time, and so its own audit key `timestamp#userId`.
            # Only the creation event may share the creation time.
            occurred = self.updated_at + _TICK
        self.updated_at = occurred
        self.events.append(
            kind(
                user_id=self.user_id,
                portfolio_id=self.portfolio_id,
                occurred_at=self.updated_at,
                changes=changes,
                **extra,
            )
        )


def holding_from_json(data: Mapping[str, Any]) -> Holding:
    cost = data.get("costBasis")
    return Holding.of(
        str(data["symbol"]),
        data["quantity"],
        asset_class=data.get("assetClass"),
        currency=data.get("currency"),
        cost_basis=None if not cost else Money.of(cost["amount"], cost["currency"]),
        sector=data.get("sector"),
        region=data.get("region"),
        name=data.get("name"),
        attributes=_attributes_from_json(data.get("attributes"), MAX_HOLDING_ATTRIBUTES_LENGTH),
    )


def _attributes_from_json(text: object, max_length: int) -> Attributes:
    """`attributes` of `to_json` (their JSON text; absent or None: none)."""
    if text is None:
        return NO_ATTRIBUTES
    if not isinstance(text, str):
        raise ValidationError("attributes must be the JSON text of an object")
    return Attributes.from_text(text, max_length=max_length)


def _budget_from_json(data: object) -> Money | None:
    if data is None:
        return None
    if not isinstance(data, Mapping) or "amount" not in data or "currency" not in data:
        raise ValidationError("additionalBudget must be an object with `amount` and `currency`")
    return Money.of(data["amount"], str(data["currency"]))
