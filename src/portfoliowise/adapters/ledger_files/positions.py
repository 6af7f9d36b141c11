"""Holdings read from a positions file (a broker's 保有証券 export, the existing app's
export): each becomes an opening `buy` dated on the import date the caller gives, so a
ledger can start from it, and a `Holding`, so a holdings-only portfolio can take it.

- The opening buy's unit price is the acquisition price (取得単価, `purchasePrice`) when
  the file gives one; otherwise the file's current price (現在値, 基準価額, `price`), and
  the symbol is listed in `unknown_cost`: the ledger starts at market value, and the
  holding has no cost basis (never a made-up one). A row with neither is refused.
- Funds are counted in units (口) and priced per 10,000 units, as `Activity` and
  `Holding` count them; the cost basis is quantity × price / 10,000 for them.
- A symbol on several rows (a broker lists NISA and taxable accounts apart) gives one
  opening buy per row and one holding, its quantities and costs added up (no cost basis
  when one of its rows has none)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from portfoliowise.adapters.ledger_files.collect import Collector
from portfoliowise.domain.activities import Activity, ActivityType
from portfoliowise.domain.errors import DomainError, OutOfRange, ValidationError
from portfoliowise.domain.instruments import Instrument
from portfoliowise.domain.limits import (
    MAX_DECIMAL_PLACES,
    MAX_TEXT_LENGTH,
    MIN_STEP,
    decimal_places,
)
from portfoliowise.domain.money import Currency, Money, quantize
from portfoliowise.domain.portfolio import AssetClass, Holding

UNKNOWN_COST_NOTE = "opening position at the file's price: cost unknown"


@dataclass(slots=True)
class _Position:
    instrument: Instrument
    currency: Currency
    quantity: Decimal
    cost: Decimal | None
    name: str | None
    asset_class: AssetClass | None
    line: int


@dataclass(slots=True)
class Positions:
    """The holdings gathered so far, by symbol, in the order first seen."""

    opening_day: date
    by_symbol: dict[str, _Position] = field(default_factory=dict)
    unknown_cost: list[str] = field(default_factory=list)

    def add(
        self,
        collector: Collector,
        *,
        line: int,
        instrument: Instrument,
        currency: Currency,
        quantity: Decimal | None,
        cost_price: Decimal | None,
        price: Decimal | None,
        name: str | None,
        asset_class: AssetClass | None = None,
        id_parts: tuple[str, ...],
        day: date | None = None,
    ) -> None:
        """One row's holding: its opening buy is added to `collector`, or a
        `DomainError` says why not (the caller rejects the row). The buy is dated `day`,
        else the opening day."""
        day = day or self.opening_day
        if quantity is None:
            raise ValidationError(f"{instrument.symbol}: no quantity (保有数量)")
        if cost_price is not None and cost_price > 0:
            unit_price, known = cost_price, True
        elif price is not None and price > 0:
            unit_price, known = price, False
        else:
            raise ValidationError(
                f"{instrument.symbol}: neither an acquisition price (取得単価) nor a current "
                "price (現在値): no price for the opening buy"
            )
        cost = instrument.value_of(quantity, unit_price) if known else None
        if cost is not None and decimal_places(cost) > MAX_DECIMAL_PLACES:
            cost = quantize(cost, MIN_STEP, ROUND_HALF_UP)
        # The holding on its own first: its name, quantity and cost meet the limits.
        Holding.of(
            instrument.symbol,
            quantity,
            asset_class=asset_class,
            currency=currency,
            cost_basis=None if cost is None else Money(cost, currency),
            name=name,
        )
        activity = Activity(
            activity_id=collector.new_id((day.isoformat(), *id_parts)),
            type=ActivityType.BUY,
            day=day,
            currency=currency,
            symbol=instrument.symbol,
            quantity=quantity,
            unit_price=unit_price,
            note=_note(name, known),
        )
        earlier = self.by_symbol.get(instrument.symbol)
        if earlier is not None and earlier.currency != currency:
            raise ValidationError(
                f"{instrument.symbol} is listed in {earlier.currency.code} on line "
                f"{earlier.line}, in {currency.code} here"
            )
        collector.add(activity)
        if earlier is None:
            self.by_symbol[instrument.symbol] = _Position(
                instrument, currency, quantity, cost, name, asset_class, line
            )
        else:
            earlier.quantity += quantity
            earlier.cost = None if earlier.cost is None or cost is None else earlier.cost + cost
        if not known and instrument.symbol not in self.unknown_cost:
            self.unknown_cost.append(instrument.symbol)

    def holdings(self) -> tuple[Holding, ...]:
        """One holding per symbol; a sum over the limits is an error naming the symbol."""
        out = []
        for symbol, p in self.by_symbol.items():
            try:
                out.append(
                    Holding.of(
                        symbol,
                        p.quantity,
                        asset_class=p.asset_class,
                        currency=p.currency,
                        cost_basis=None if p.cost is None else Money(p.cost, p.currency),
                        name=p.name,
                    )
                )
            except OutOfRange as exc:
                raise exc.located(f"{symbol}, its rows added up") from None
            except DomainError as exc:
                raise ValidationError(f"{symbol}, its rows added up: {exc}") from None
        return tuple(out)


def _note(name: str | None, known: bool) -> str | None:
    if known:
        return name
    if not name:
        return UNKNOWN_COST_NOTE
    room = MAX_TEXT_LENGTH - len(UNKNOWN_COST_NOTE) - 3
    short = name if len(name) <= room else name[: room - 1] + "…"
    return f"{short} ({UNKNOWN_COST_NOTE})"
