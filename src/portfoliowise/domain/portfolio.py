"""The portfolio aggregate: holdings, target allocations and the events its changes record."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any, Final

from portfoliowise.domain.errors import InvariantViolation, OutOfRange, ValidationError, preview
from portfoliowise.domain.events import (
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
    MAX_HOLDINGS,
    MAX_NAME_LENGTH,
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
        )

    @property
    def symbol(self) -> str:
        return self.instrument.symbol

    def to_json(self) -> dict[str, JsonValue]:
        return {
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
    repositories compare it on write (optimistic lock) and bump it."""

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
        self.version = version
        self.deleted = deleted
        self._holdings: dict[str, Holding] = {}
        for holding in holdings:
            self._put_new(holding)
        self.targets: dict[str, Decimal] = validate_targets(targets)
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
    ) -> None:
        self._check_open()
        changes: dict[str, FieldChange] = {}
        if base_currency is not None and base_currency != self.base_currency:
            changes["baseCurrency"] = FieldChange(self.base_currency.code, base_currency.code)
            self.base_currency = base_currency
        if allow_fractional is not None and allow_fractional != self.allow_fractional:
            changes["allowFractional"] = FieldChange(self.allow_fractional, allow_fractional)
            self.allow_fractional = allow_fractional
        if changes:
            self._record(PortfolioSettingsChanged, at, changes)

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
        changes = {
            key: FieldChange(before[key], after[key]) for key in after if before[key] != after[key]
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

    def delete(self, *, at: datetime) -> None:
        self._check_open()
        self.deleted = True
        self._record(PortfolioDeleted, at, {"deleted": FieldChange(False, True)})

    def pull_events(self) -> list[DomainEvent]:
        events, self.events = self.events, []
        return events

    # -- serialisation ------------------------------------------------------------
    def to_json(self) -> dict[str, JsonValue]:
        return {
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
            )
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, ValidationError):
                raise
            raise ValidationError(f"not a portfolio document: {exc}") from None

    # -- internals ----------------------------------------------------------------
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
    )
