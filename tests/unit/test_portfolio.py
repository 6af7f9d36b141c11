"""The portfolio aggregate: its commands, the invariants they keep, the domain event each
change records (with before/after), `updatedAt` ordering and the JSON round trip."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portfoliowise.domain.errors import (
    InvariantViolation,
    OutOfRange,
    UnknownCurrencyError,
    UnknownSymbolError,
    ValidationError,
)
from portfoliowise.domain.events import (
    FieldChange,
    HoldingAdded,
    HoldingChanged,
    HoldingRemoved,
    PortfolioCreated,
    PortfolioDeleted,
    PortfolioRenamed,
    PortfolioSettingsChanged,
    TargetsSet,
)
from portfoliowise.domain.money import JPY, USD, Money
from portfoliowise.domain.portfolio import (
    AssetClass,
    Holding,
    Portfolio,
    holding_from_json,
    validate_targets,
)

T0 = datetime(2024, 6, 3, 0, 0, tzinfo=UTC)
TICK = timedelta(microseconds=1)


def later(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def toyota(quantity: str = "100") -> Holding:
    return Holding.of("7203.T", quantity, cost_basis=Money.of("250000", JPY), sector="Autos")


def new_portfolio(**overrides: object) -> Portfolio:
    args: dict[str, object] = {
        "user_id": "user-1",
        "portfolio_id": "p-0001",
        "name": "NISA",
        "base_currency": JPY,
        "at": T0,
    }
    args.update(overrides)
    portfolio = Portfolio.create(**args)  # type: ignore[arg-type]
    portfolio.pull_events()
    return portfolio


def only_event(portfolio: Portfolio) -> object:
    events = portfolio.pull_events()
    assert len(events) == 1, events
    return events[0]


# -- holdings --------------------------------------------------------------------------


def test_holding_of_normalises_and_defaults() -> None:
    stock = Holding.of("7203.T", "100")
    fund = Holding.of("0331418a", 12345)
    us = Holding.of("brk.b", "1.5", asset_class=" Bond ", currency="usd")

    assert (stock.symbol, stock.quantity, stock.asset_class, stock.currency) == (
        "7203",
        Decimal(100),
        AssetClass.EQUITY,
        JPY,
    )
    assert (fund.symbol, fund.asset_class) == ("0331418A", AssetClass.OTHER)
    assert (us.symbol, us.asset_class, us.currency) == ("BRK-B", AssetClass.BOND, USD)


def test_holding_rejects_bad_input() -> None:
    with pytest.raises(OutOfRange, match="7203 quantity is out of range"):
        Holding.of("7203", "-1")
    with pytest.raises(ValidationError):
        Holding.of("7203", 1.5)
    with pytest.raises(ValidationError, match="FX pair"):
        Holding.of("USDJPY", "1")
    with pytest.raises(OutOfRange, match="7203 cost basis is out of range"):
        Holding.of("7203", "1", cost_basis=Money.of(-1, JPY))
    with pytest.raises(ValidationError, match="asset class"):
        Holding.of("7203", "1", asset_class="crypto")
    with pytest.raises(UnknownSymbolError):
        Holding.of("NOT A SYMBOL", "1")
    with pytest.raises(UnknownCurrencyError):
        Holding.of("7203", "1", currency="XYZ")


def test_holding_json_round_trip() -> None:
    holding = Holding.of(
        "AAPL",
        "12.5",
        asset_class="equity",
        cost_basis=Money.of("2000.125", USD),
        sector="Tech",
        region="US",
        name="Apple",
    )

    assert holding.to_json() == {
        "symbol": "AAPL",
        "market": "US",
        "quantity": "12.5",
        "assetClass": "equity",
        "currency": "USD",
        "costBasis": {"amount": "2000.125", "currency": "USD"},
        "sector": "Tech",
        "region": "US",
        "name": "Apple",
    }
    assert holding_from_json(holding.to_json()) == holding


# -- creation --------------------------------------------------------------------------


def test_create_records_portfolio_created_with_the_whole_snapshot() -> None:
    portfolio = Portfolio.create(
        user_id="user-1",
        portfolio_id="p-0001",
        name="  NISA  ",
        base_currency=JPY,
        at=T0,
        holdings=[toyota()],
        targets={"7203": 100},
    )

    event = only_event(portfolio)

    assert isinstance(event, PortfolioCreated)
    assert event.action == "portfolio.created"
    assert (event.user_id, event.portfolio_id, event.occurred_at) == ("user-1", "p-0001", T0)
    assert event.changes["name"] == FieldChange(None, "NISA")
    assert event.changes["targets"] == FieldChange(None, {"7203": "100"})
    assert event.changes["holdings"].after == [toyota().to_json()]
    assert all(change.before is None for change in event.changes.values())
    assert portfolio.name == "NISA"
    assert portfolio.version == 0
    assert portfolio.created_at == portfolio.updated_at == T0


@pytest.mark.parametrize("name", ["", "   ", "x" * 101])
def test_name_must_be_present_and_short(name: str) -> None:
    with pytest.raises(ValidationError, match="name"):
        new_portfolio(name=name)


def test_ids_are_required_and_times_must_be_aware() -> None:
    with pytest.raises(ValidationError):
        new_portfolio(user_id="")
    with pytest.raises(ValidationError):
        new_portfolio(portfolio_id="")
    with pytest.raises(ValidationError, match="timezone-aware"):
        new_portfolio(at=datetime(2024, 6, 3))  # noqa: DTZ001


def test_no_duplicate_symbols_even_when_spelled_differently() -> None:
    with pytest.raises(InvariantViolation, match="already held"):
        new_portfolio(holdings=[Holding.of("7203", "100"), Holding.of("7203.T", "200")])


# -- rename and settings ---------------------------------------------------------------


def test_rename_records_before_and_after() -> None:
    portfolio = new_portfolio()

    portfolio.rename(" Growth ", at=later(1))

    event = only_event(portfolio)
    assert isinstance(event, PortfolioRenamed)
    assert event.changes == {"name": FieldChange("NISA", "Growth")}
    assert event.occurred_at == later(1)
    assert portfolio.name == "Growth"
    assert portfolio.updated_at == later(1)


def test_renaming_to_the_same_name_records_nothing() -> None:
    portfolio = new_portfolio()

    portfolio.rename(" NISA ", at=later(1))

    assert portfolio.pull_events() == []
    assert portfolio.updated_at == T0


def test_change_settings_records_only_what_changed() -> None:
    portfolio = new_portfolio()

    portfolio.change_settings(at=later(1), base_currency=USD, allow_fractional=True)
    event = only_event(portfolio)
    assert isinstance(event, PortfolioSettingsChanged)
    assert event.changes == {
        "baseCurrency": FieldChange("JPY", "USD"),
        "allowFractional": FieldChange(False, True),
    }

    portfolio.change_settings(at=later(2), base_currency=USD, allow_fractional=False)
    event = only_event(portfolio)
    assert event.changes == {"allowFractional": FieldChange(True, False)}  # type: ignore[attr-defined]

    portfolio.change_settings(at=later(3), base_currency=USD)
    portfolio.change_settings(at=later(3))
    assert portfolio.pull_events() == []
    assert (portfolio.base_currency, portfolio.allow_fractional) == (USD, False)


# -- holdings commands -----------------------------------------------------------------


def test_add_holding_records_every_field_as_added() -> None:
    portfolio = new_portfolio()

    portfolio.add_holding(toyota(), at=later(1))

    event = only_event(portfolio)
    assert isinstance(event, HoldingAdded)
    assert event.symbol == "7203"
    assert event.resource == "portfolio/p-0001/holding/7203"
    assert event.changes["quantity"] == FieldChange(None, "100")
    assert event.changes["symbol"] == FieldChange(None, "7203")
    assert {change.before for change in event.changes.values()} == {None}
    assert portfolio.holding("7203.T") == toyota()
    assert len(portfolio) == 1


def test_adding_a_held_symbol_is_refused() -> None:
    portfolio = new_portfolio(holdings=[toyota()])

    with pytest.raises(InvariantViolation, match="already held"):
        portfolio.add_holding(Holding.of("7203", "5"), at=later(1))

    assert portfolio.pull_events() == []
    assert portfolio.holding("7203") == toyota()


def test_change_holding_records_only_changed_fields() -> None:
    portfolio = new_portfolio(holdings=[toyota()])
    changed = Holding.of("7203", "200", cost_basis=Money.of("250000", JPY), sector="Autos")

    portfolio.change_holding(changed, at=later(1))

    event = only_event(portfolio)
    assert isinstance(event, HoldingChanged)
    assert event.symbol == "7203"
    assert event.changes == {"quantity": FieldChange("100", "200")}
    assert portfolio.holding("7203") == changed


def test_changing_a_holding_to_itself_records_nothing() -> None:
    portfolio = new_portfolio(holdings=[toyota()])

    portfolio.change_holding(toyota(), at=later(1))

    assert portfolio.pull_events() == []


def test_changing_or_removing_a_holding_not_held_is_refused() -> None:
    portfolio = new_portfolio()

    with pytest.raises(InvariantViolation, match="not held"):
        portfolio.change_holding(toyota(), at=later(1))
    with pytest.raises(InvariantViolation, match="not held"):
        portfolio.set_quantity("7203", Decimal(1), at=later(1))
    with pytest.raises(InvariantViolation, match="not held"):
        portfolio.remove_holding("7203", at=later(1))


def test_set_quantity_records_a_holding_change() -> None:
    portfolio = new_portfolio(holdings=[toyota()])

    portfolio.set_quantity("7203.T", Decimal(300), at=later(1))

    event = only_event(portfolio)
    assert isinstance(event, HoldingChanged)
    assert event.changes == {"quantity": FieldChange("100", "300")}
    assert portfolio.holding("7203").quantity == Decimal(300)  # type: ignore[union-attr]


def test_quantity_can_never_go_negative() -> None:
    portfolio = new_portfolio(holdings=[toyota()])

    with pytest.raises(OutOfRange, match="quantity is out of range"):
        portfolio.set_quantity("7203", Decimal(-1), at=later(1))

    assert portfolio.holding("7203") == toyota()
    assert portfolio.pull_events() == []


def test_set_quantity_to_zero_keeps_the_holding() -> None:
    portfolio = new_portfolio(holdings=[toyota()])

    portfolio.set_quantity("7203", Decimal(0), at=later(1))

    assert portfolio.holding("7203").quantity == 0  # type: ignore[union-attr]


def test_remove_holding_records_every_field_as_removed() -> None:
    portfolio = new_portfolio(holdings=[toyota(), Holding.of("AAPL", "3")])

    portfolio.remove_holding("7203.T", at=later(1))

    event = only_event(portfolio)
    assert isinstance(event, HoldingRemoved)
    assert event.symbol == "7203"
    assert event.changes["quantity"] == FieldChange("100", None)
    assert {change.after for change in event.changes.values()} == {None}
    assert portfolio.holding("7203") is None
    assert [h.symbol for h in portfolio.holdings] == ["AAPL"]


# -- targets ---------------------------------------------------------------------------


def test_set_targets_normalises_symbols_and_records_before_and_after() -> None:
    portfolio = new_portfolio(targets={"7203": 100})

    portfolio.set_targets({"7203.T": "60", "brk.b": 40}, at=later(1))

    event = only_event(portfolio)
    assert isinstance(event, TargetsSet)
    assert event.changes == {"targets": FieldChange({"7203": "100"}, {"7203": "60", "BRK-B": "40"})}
    assert portfolio.targets == {"7203": Decimal(60), "BRK-B": Decimal(40)}


def test_clearing_targets() -> None:
    portfolio = new_portfolio(targets={"7203": 100})

    portfolio.set_targets(None, at=later(1))

    assert portfolio.targets == {}
    assert only_event(portfolio).changes == {  # type: ignore[attr-defined]
        "targets": FieldChange({"7203": "100"}, {})
    }
    portfolio.set_targets({}, at=later(2))
    assert portfolio.pull_events() == []


def test_setting_the_same_targets_records_nothing() -> None:
    portfolio = new_portfolio(targets={"7203": 50, "AAPL": 50})

    portfolio.set_targets({"7203.T": "50.0", "AAPL": 50}, at=later(1))

    assert portfolio.pull_events() == []


@pytest.mark.parametrize(
    "targets",
    [
        {"7203": 50, "AAPL": "49.98"},  # 99.98: off by more than 0.01
        {"7203": "100.02"},
        {"7203": 60, "AAPL": 60},
        {"7203": -10, "AAPL": 110},
        {"7203": 50, "7203.T": 50},  # the same symbol twice
    ],
)
def test_targets_must_sum_to_100_within_a_hundredth(targets: dict[str, object]) -> None:
    portfolio = new_portfolio(targets={"7203": 100})

    # InvariantViolation (the sum, a symbol twice) or OutOfRange (a target above 100)
    with pytest.raises(ValidationError):
        portfolio.set_targets(targets, at=later(1))

    assert portfolio.targets == {"7203": Decimal(100)}
    assert portfolio.pull_events() == []


@pytest.mark.parametrize(
    "targets",
    [
        {"7203": "33.33", "AAPL": "33.33", "0331418A": "33.33"},  # 99.99
        {"7203": "50.005", "AAPL": "50.005"},  # 100.01
        {"7203": 0, "AAPL": 100},
    ],
)
def test_targets_within_the_tolerance_are_accepted(targets: dict[str, object]) -> None:
    validated = validate_targets(targets)

    assert list(validated) == list(targets)
    assert abs(sum(validated.values(), Decimal(0)) - 100) <= Decimal("0.01")


def test_target_errors_are_typed() -> None:
    with pytest.raises(UnknownSymbolError):
        validate_targets({"???": 100})
    with pytest.raises(ValidationError):
        validate_targets({"7203": 100.0})


@given(st.lists(st.integers(0, 10_000), min_size=1, max_size=6))
def test_any_split_of_100_is_a_valid_set_of_targets(weights: list[int]) -> None:
    symbols = ["7203", "6758", "AAPL", "VTI", "0331418A", "BRK-B"][: len(weights)]
    total = sum(weights) or 1
    # Percentages to 2 places; the rounding error goes to the last symbol.
    pcts = [(Decimal(100) * w / total).quantize(Decimal("0.01")) for w in weights]
    pcts[-1] = Decimal(100) - sum(pcts[:-1], Decimal(0))
    if pcts[-1] < 0:
        return

    targets = validate_targets(dict(zip(symbols, pcts, strict=True)))

    assert sum(targets.values(), Decimal(0)) == Decimal(100)


# -- delete ----------------------------------------------------------------------------


def test_delete_records_the_event_and_closes_the_portfolio() -> None:
    portfolio = new_portfolio(holdings=[toyota()])

    portfolio.delete(at=later(1))

    event = only_event(portfolio)
    assert isinstance(event, PortfolioDeleted)
    assert event.changes == {"deleted": FieldChange(False, True)}
    assert portfolio.deleted

    with pytest.raises(InvariantViolation, match="deleted"):
        portfolio.delete(at=later(2))
    with pytest.raises(InvariantViolation, match="deleted"):
        portfolio.add_holding(Holding.of("AAPL", "1"), at=later(2))
    with pytest.raises(InvariantViolation, match="deleted"):
        portfolio.set_quantity("7203", Decimal(1), at=later(2))
    with pytest.raises(InvariantViolation, match="deleted"):
        portfolio.remove_holding("7203", at=later(2))
    with pytest.raises(InvariantViolation, match="deleted"):
        portfolio.set_targets({"7203": 100}, at=later(2))
    with pytest.raises(InvariantViolation, match="deleted"):
        portfolio.rename("Other", at=later(2))
    with pytest.raises(InvariantViolation, match="deleted"):
        portfolio.change_settings(at=later(2), base_currency=USD)
    assert portfolio.pull_events() == []


# -- event payloads --------------------------------------------------------------------


def test_event_json_is_the_bus_detail() -> None:
    portfolio = new_portfolio()
    portfolio.rename("Growth", at=later(1))
    event = only_event(portfolio)

    assert event.name == "PortfolioRenamed"  # type: ignore[attr-defined]
    assert event.source == "portfoliowise.portfolio"  # type: ignore[attr-defined]
    assert event.resource == "portfolio/p-0001"  # type: ignore[attr-defined]
    assert event.to_json() == {  # type: ignore[attr-defined]
        "eventId": event.event_id,  # type: ignore[attr-defined]
        "occurredAt": later(1).isoformat(),
        "userId": "user-1",
        "portfolioId": "p-0001",
        "action": "portfolio.renamed",
        "changes": {"name": {"before": "NISA", "after": "Growth"}},
    }


def test_every_event_has_its_own_id() -> None:
    portfolio = new_portfolio()
    portfolio.rename("A", at=later(1))
    portfolio.rename("B", at=later(1))

    first, second = portfolio.pull_events()

    assert first.event_id != second.event_id


# -- version and updatedAt -------------------------------------------------------------


def test_commands_move_updated_at_but_never_the_version() -> None:
    portfolio = new_portfolio()

    portfolio.add_holding(toyota(), at=later(5))
    portfolio.set_targets({"7203": 100}, at=later(9))

    assert portfolio.updated_at == later(9)
    assert portfolio.created_at == T0
    assert portfolio.version == 0  # only a repository write bumps it


def test_changes_at_one_instant_get_strictly_increasing_times() -> None:
    portfolio = new_portfolio()

    portfolio.rename("A", at=later(1))
    portfolio.rename("B", at=later(1))
    portfolio.rename("C", at=later(1))

    times = [event.occurred_at for event in portfolio.pull_events()]
    assert times == [later(1), later(1) + TICK, later(1) + 2 * TICK]
    assert portfolio.updated_at == times[-1]


def test_the_first_change_after_creation_at_the_same_instant_is_moved_on() -> None:
    portfolio = Portfolio.create(
        user_id="user-1", portfolio_id="p-0001", name="NISA", base_currency=JPY, at=T0
    )

    portfolio.rename("Growth", at=T0)

    created, renamed = portfolio.pull_events()
    assert created.occurred_at == T0
    assert renamed.occurred_at == T0 + TICK


def test_updated_at_never_goes_back_when_the_clock_does() -> None:
    stored = Portfolio(
        user_id="user-1",
        portfolio_id="p-0001",
        name="NISA",
        base_currency=JPY,
        created_at=T0,
        updated_at=later(10),
        version=3,
    )

    stored.rename("Growth", at=later(5))

    assert only_event(stored).occurred_at == later(10) + TICK  # type: ignore[attr-defined]
    assert stored.updated_at == later(10) + TICK


def test_updated_at_never_goes_back_before_the_first_save() -> None:
    unsaved = new_portfolio()  # version 0, its creation event already pulled

    unsaved.rename("Growth", at=T0 - timedelta(hours=1))

    assert unsaved.updated_at > T0
    assert unsaved.updated_at >= unsaved.created_at


def test_times_in_other_zones_are_kept_as_instants() -> None:
    jst = timezone(timedelta(hours=9))
    portfolio = new_portfolio()

    portfolio.rename("Growth", at=later(1).astimezone(jst))

    assert portfolio.updated_at == later(1)


# -- JSON round trip -------------------------------------------------------------------


def full_portfolio() -> Portfolio:
    portfolio = Portfolio(
        user_id="user-1",
        portfolio_id="p-0001",
        name="NISA",
        base_currency=USD,
        created_at=T0,
        updated_at=later(30),
        holdings=[
            toyota(),
            Holding.of("BRK.B", "1.25", cost_basis=Money.of("400.10", USD), name="Berkshire"),
            Holding.of("0331418A", "123456", asset_class="balanced", region="Global"),
        ],
        targets={"7203": "33.34", "BRK-B": "33.33", "0331418A": "33.33"},
        allow_fractional=True,
        version=7,
    )
    return portfolio


def test_to_json_shape() -> None:
    document = full_portfolio().to_json()

    assert document["userId"] == "user-1"
    assert document["baseCurrency"] == "USD"
    assert document["allowFractional"] is True
    assert document["targets"] == {"7203": "33.34", "BRK-B": "33.33", "0331418A": "33.33"}
    assert document["createdAt"] == "2024-06-03T00:00:00+00:00"
    assert document["updatedAt"] == "2024-06-03T00:30:00+00:00"
    assert document["version"] == 7
    assert [h["symbol"] for h in document["holdings"]] == [  # type: ignore[index, union-attr]
        "7203",
        "BRK-B",
        "0331418A",
    ]


def test_json_round_trip() -> None:
    original = full_portfolio()

    copy = Portfolio.from_json(original.to_json())

    assert copy.to_json() == original.to_json()
    assert copy.holdings == original.holdings
    assert copy.targets == original.targets
    assert (copy.created_at, copy.updated_at, copy.version) == (T0, later(30), 7)
    assert copy.events == []


@pytest.mark.parametrize(
    "damage",
    [
        lambda d: d.pop("userId"),
        lambda d: d.update(baseCurrency="XYZ"),
        lambda d: d.update(createdAt="yesterday"),
        lambda d: d.update(createdAt="2024-06-03T00:00:00"),  # no time zone
        lambda d: d.update(version="seven"),
        lambda d: d.update(targets={"7203": "50"}),
        lambda d: d["holdings"][0].update(quantity="-5"),
        lambda d: d["holdings"][0].pop("symbol"),
    ],
)
def test_from_json_rejects_broken_documents(damage) -> None:  # type: ignore[no-untyped-def]
    document = full_portfolio().to_json()
    damage(document)

    with pytest.raises(ValidationError):
        Portfolio.from_json(document)


symbols = st.sampled_from(["7203", "130A", "6758", "AAPL", "BRK-B", "VTI", "0331418A"])
quantities = st.decimals(min_value=0, max_value=Decimal(10**9), places=4)


@given(
    st.dictionaries(symbols, quantities, max_size=7),
    st.text(min_size=1, max_size=100).filter(str.strip),
    st.booleans(),
)
def test_json_round_trip_property(
    held: dict[str, Decimal], name: str, allow_fractional: bool
) -> None:
    original = Portfolio(
        user_id="user-1",
        portfolio_id="p-0001",
        name=name,
        base_currency=JPY,
        created_at=T0,
        holdings=[Holding.of(symbol, quantity) for symbol, quantity in held.items()],
        allow_fractional=allow_fractional,
    )

    assert Portfolio.from_json(original.to_json()).to_json() == original.to_json()
