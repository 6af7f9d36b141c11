"""Ledger use cases over the in-memory store and the SQLite store: activities added, listed,
deleted and imported, each change one version-checked commit with its audit entry; a
ledger-based portfolio's holdings follow its activities; the performance report with
recorded closes (no network)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from portfoliowise.adapters.clock import FixedClock, SequentialIds
from portfoliowise.adapters.ledger_files import read_ledger
from portfoliowise.adapters.memory import (
    InMemoryAuditLog,
    InMemoryEventPublisher,
    InMemoryPortfolioRepository,
)
from portfoliowise.adapters.sqlite import open_sqlite_stores
from portfoliowise.application import ledger_commands as lc
from portfoliowise.application.ledger_commands import ActivityDraft, ImportRejected, LedgerPorts
from portfoliowise.application.performance_queries import Basis, PerformanceQueries
from portfoliowise.application.portfolio_commands import PortfolioPorts, create_portfolio
from portfoliowise.domain.activities import Activity
from portfoliowise.domain.audit import RequestContext
from portfoliowise.domain.errors import (
    ConflictError,
    InvariantViolation,
    NotFoundError,
    OutOfRange,
    SourceUnavailable,
    UnknownSymbolError,
    ValidationError,
)
from portfoliowise.domain.events import ActivitiesChanged
from portfoliowise.domain.ledger import OversellError
from portfoliowise.domain.market import DailyClose, DailyHistory
from portfoliowise.domain.money import JPY, USD, Money
from portfoliowise.domain.portfolio import AssetClass, Holding, Portfolio

CONTEXT = RequestContext(ip="203.0.113.9", user_agent="pytest")
T0 = datetime(2026, 11, 27, 6, 0, tzinfo=UTC)
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ledger"

CSV = """date,type,symbol,quantity,unit_price,amount,fees,taxes,currency,fx_rate,note
2026-01-05,buy,7203,100,2450,,500,,,,first lot
2026-02-02,buy,7203,100,2550,,,,,,
2026-03-02,sell,7203,50,2600,,,,,,
2026-03-31,dividend,7203,,,6000,,1218,,,
"""
BAD_ROW = "2026-04-01,bogus,7203,1,1,,,,,,\n"


@dataclass
class World:
    ports: LedgerPorts
    clock: FixedClock
    audit: Any  # the store's AuditLog
    bus: InMemoryEventPublisher

    @property
    def store(self) -> Any:
        return self.ports.ledger

    def actions(self) -> list[str]:
        entries = self.audit.for_user("u1", T0 - timedelta(days=1), T0 + timedelta(days=1))
        return [e.action for e in sorted(entries, key=lambda e: e.timestamp)]

    def entries(self, action: str) -> list[Any]:
        entries = self.audit.for_user("u1", T0 - timedelta(days=1), T0 + timedelta(days=1))
        return [e for e in sorted(entries, key=lambda e: e.timestamp) if e.action == action]


@pytest.fixture(params=["memory", "sqlite"])
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    clock = FixedClock(T0)
    bus = InMemoryEventPublisher()
    closing = None
    if request.param == "memory":
        audit: Any = InMemoryAuditLog(clock)
        store: Any = InMemoryPortfolioRepository(audit)
    else:
        stores = open_sqlite_stores(tmp_path / "data", clock)
        audit, store, closing = stores.audit, stores.portfolios, stores
    portfolio_ports = PortfolioPorts(store, bus, clock, SequentialIds("id"))
    try:
        yield World(LedgerPorts(portfolio_ports, store, read_ledger), clock, audit, bus)
    finally:
        if closing is not None:
            closing.close()


def _portfolio(world: World, *holdings: Holding, base: Any = JPY) -> Portfolio:
    return create_portfolio(
        world.ports.portfolio,
        user_id="u1",
        name="ledger",
        base_currency=base,
        context=CONTEXT,
        holdings=holdings,
    )


def _tick(world: World) -> None:
    world.clock.advance(timedelta(seconds=1))


def _add(world: World, portfolio_id: str, *drafts: ActivityDraft, **kw: Any) -> lc.LedgerChange:
    _tick(world)
    return lc.add_activities(
        world.ports,
        user_id="u1",
        portfolio_id=portfolio_id,
        drafts=drafts,
        context=CONTEXT,
        **kw,
    )


def _import(world: World, portfolio_id: str, data: bytes, **kw: Any) -> lc.ImportResult:
    _tick(world)
    return lc.import_activities(
        world.ports,
        user_id="u1",
        portfolio_id=portfolio_id,
        data=data,
        context=CONTEXT,
        filename="activities.csv",
        **kw,
    )


def _settings(world: World, portfolio_id: str, **kw: Any) -> Portfolio:
    _tick(world)
    return lc.change_ledger_settings(
        world.ports, user_id="u1", portfolio_id=portfolio_id, context=CONTEXT, **kw
    )


def buy(day: str, symbol: str, quantity: str, price: str, **kw: Any) -> ActivityDraft:
    return ActivityDraft(
        "buy",
        date.fromisoformat(day),
        symbol=symbol,
        quantity=Decimal(quantity),
        unit_price=Decimal(price),
        **kw,
    )


def sell(day: str, symbol: str, quantity: str, price: str, **kw: Any) -> ActivityDraft:
    return ActivityDraft(
        "sell",
        date.fromisoformat(day),
        symbol=symbol,
        quantity=Decimal(quantity),
        unit_price=Decimal(price),
        **kw,
    )


def split(day: str, symbol: str, ratio: str) -> ActivityDraft:
    return ActivityDraft("split", date.fromisoformat(day), symbol=symbol, quantity=Decimal(ratio))


def _ids(world: World, portfolio_id: str) -> list[str]:
    return [a.activity_id for a in world.store.activities("u1", portfolio_id)]


def _holdings(world: World, portfolio_id: str) -> dict[str, tuple[Decimal, Money | None]]:
    stored = world.store.get("u1", portfolio_id)
    return {h.symbol: (h.quantity, h.cost_basis) for h in stored.holdings}


# -- adding, listing, deleting -------------------------------------------------------------


def test_added_activities_get_ids_are_stored_in_order_and_audited(world: World) -> None:
    portfolio = _portfolio(world)
    change = _add(
        world,
        portfolio.portfolio_id,
        buy("2026-02-02", "7203", "100", "2500"),
        ActivityDraft("deposit", date(2026, 2, 2), currency="JPY", amount=Decimal(300000)),
        buy("2026-01-05", "AAPL", "2", "190", activity_id="mine-1"),
    )

    assert [a.activity_id for a in change.added] == ["id-0002", "id-0003", "mine-1"]
    assert change.added[2].currency == USD  # the symbol's
    assert change.portfolio.version == 2
    # stored in sort order: date, then deposits before buys
    assert _ids(world, portfolio.portfolio_id) == ["mine-1", "id-0003", "id-0002"]
    # holdings-only: the holdings are left as entered
    assert _holdings(world, portfolio.portfolio_id) == {}
    (entry,) = world.entries("portfolio.activities_changed")
    assert entry.resource == f"portfolio/{portfolio.portfolio_id}/activities"
    assert entry.changes["activities"] == {"before": 0, "after": 3}
    assert entry.changes["added"]["after"][0] == {
        "id": "id-0002",
        "type": "buy",
        "date": "2026-02-02",
        "symbol": "7203",
    }
    assert [e.name for e in world.bus.published][-1] == "ActivitiesChanged"
    assert world.bus.published[-1].event_id == entry.event_id


def test_an_invalid_activity_is_named_by_its_index_and_nothing_is_stored(world: World) -> None:
    portfolio = _portfolio(world)
    with pytest.raises(UnknownSymbolError, match=r"^activities\[1\]: unknown symbol"):
        _add(
            world,
            portfolio.portfolio_id,
            buy("2026-01-05", "7203", "1", "1"),
            buy("2026-01-05", "NOT A SYMBOL", "1", "1"),
        )
    with pytest.raises(OutOfRange, match=r"^activities\[0\]: "):
        _add(world, portfolio.portfolio_id, buy("2026-01-05", "7203", "1e40", "1"))
    with pytest.raises(ValidationError, match="needs its currency"):
        _add(world, portfolio.portfolio_id, ActivityDraft("deposit", date(2026, 1, 5)))
    assert _ids(world, portfolio.portfolio_id) == []
    assert world.store.get("u1", portfolio.portfolio_id).version == 1


def test_ids_must_be_new(world: World) -> None:
    portfolio = _portfolio(world)
    pid = portfolio.portfolio_id
    _add(world, pid, buy("2026-01-05", "7203", "1", "1", activity_id="a"))
    with pytest.raises(InvariantViolation, match="already has an activity 'a'"):
        _add(world, pid, buy("2026-01-06", "7203", "1", "1", activity_id="a"))
    with pytest.raises(ValidationError, match="given twice"):
        _add(
            world,
            pid,
            buy("2026-01-06", "7203", "1", "1", activity_id="b"),
            buy("2026-01-07", "7203", "1", "1", activity_id="b"),
        )
    assert _ids(world, pid) == ["a"]


def test_a_request_adds_at_most_1000(world: World) -> None:
    portfolio = _portfolio(world)
    drafts = [buy("2026-01-05", "7203", "1", "1") for _ in range(1001)]
    with pytest.raises(OutOfRange, match="at most 1,000"):
        _add(world, portfolio.portfolio_id, *drafts)


def test_the_portfolio_limit_holds(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lc, "MAX_ACTIVITIES", 3)
    portfolio = _portfolio(world)
    _add(world, portfolio.portfolio_id, *[buy("2026-01-05", "7203", "1", "1")] * 2)
    with pytest.raises(OutOfRange, match="too many activities"):
        _add(world, portfolio.portfolio_id, *[buy("2026-01-06", "7203", "1", "1")] * 2)


def test_an_oversell_is_refused_whatever_the_source(world: World) -> None:
    portfolio = _portfolio(world)
    pid = portfolio.portfolio_id
    _add(world, pid, buy("2026-01-05", "7203", "100", "2000"))
    with pytest.raises(OversellError, match="only 100 are held"):
        _add(world, pid, sell("2026-01-06", "7203", "101", "2100"))
    # deleting the buy would leave a later sell oversold
    _add(world, pid, sell("2026-01-07", "7203", "100", "2100", activity_id="s"))
    buy_id = _ids(world, pid)[0]
    _tick(world)
    with pytest.raises(OversellError):
        lc.delete_activity(
            world.ports, user_id="u1", portfolio_id=pid, activity_id=buy_id, context=CONTEXT
        )
    assert len(_ids(world, pid)) == 2


def test_delete_one_and_unknown_ids(world: World) -> None:
    portfolio = _portfolio(world)
    pid = portfolio.portfolio_id
    _add(world, pid, buy("2026-01-05", "7203", "100", "2000", activity_id="x"))
    _tick(world)
    change = lc.delete_activity(
        world.ports, user_id="u1", portfolio_id=pid, activity_id="x", context=CONTEXT
    )
    assert [a.activity_id for a in change.removed] == ["x"]
    assert _ids(world, pid) == []
    (_, removed) = world.entries("portfolio.activities_changed")
    assert removed.changes["removed"]["before"][0]["id"] == "x"
    assert removed.changes["activities"] == {"before": 1, "after": 0}
    with pytest.raises(NotFoundError, match="no activity 'x'"):
        lc.delete_activity(
            world.ports, user_id="u1", portfolio_id=pid, activity_id="x", context=CONTEXT
        )


def test_listing_is_paged_by_an_opaque_cursor(world: World) -> None:
    portfolio = _portfolio(world)
    pid = portfolio.portfolio_id
    days = ["2026-01-09", "2026-01-05", "2026-01-07", "2026-01-06", "2026-01-08"]
    _add(world, pid, *[buy(day, "7203", "1", "1", activity_id=f"a{day[-1]}") for day in days])
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        page = lc.list_activities(
            world.ports, user_id="u1", portfolio_id=pid, limit=2, cursor=cursor
        )
        pages += 1
        assert page.total == 5
        seen += [a.activity_id for a in page.activities]
        cursor = page.cursor
        if cursor is None:
            break
    assert pages == 3
    assert seen == ["a5", "a6", "a7", "a8", "a9"]
    with pytest.raises(ValidationError, match="cursor"):
        lc.list_activities(world.ports, user_id="u1", portfolio_id=pid, cursor="garbage!")
    with pytest.raises(ValidationError, match="limit"):
        lc.list_activities(world.ports, user_id="u1", portfolio_id=pid, limit=1001)
    with pytest.raises(NotFoundError):
        lc.list_activities(world.ports, user_id="u2", portfolio_id=pid)


# -- versions --------------------------------------------------------------------------------


def test_a_stale_version_is_a_conflict_and_changes_nothing(world: World) -> None:
    portfolio = _portfolio(world)
    pid = portfolio.portfolio_id
    _add(world, pid, buy("2026-01-05", "7203", "1", "1"))
    with pytest.raises(ConflictError) as caught:
        _add(world, pid, buy("2026-01-06", "7203", "1", "1"), expected_version=1)
    assert caught.value.current_version == 2
    with pytest.raises(ConflictError):
        _import(world, pid, CSV.encode(), expected_version=1)
    assert len(_ids(world, pid)) == 1


def test_a_change_made_meanwhile_fails_the_commit(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The activities are read after the portfolio: a write between the two reads makes the
    commit, conditional on the version read first, a conflict."""
    portfolio = _portfolio(world)
    pid = portfolio.portfolio_id
    real = world.store.activities

    def racing(user_id: str, portfolio_id: str) -> list[Activity]:
        monkeypatch.setattr(world.store, "activities", real)
        _add(world, pid, buy("2026-01-05", "7203", "5", "1", activity_id="other"))
        return real(user_id, portfolio_id)

    monkeypatch.setattr(world.store, "activities", racing)
    with pytest.raises(ConflictError):
        _add(world, pid, buy("2026-01-06", "7203", "1", "1", activity_id="mine"))
    assert _ids(world, pid) == ["other"]


# -- ledger-based portfolios -----------------------------------------------------------------


def test_a_ledger_based_portfolios_holdings_follow_buys_sells_and_splits(world: World) -> None:
    portfolio = _portfolio(world)
    pid = portfolio.portfolio_id
    _settings(world, pid, holdings_source="activities", expected_version=1)
    _add(
        world,
        pid,
        buy("2026-01-05", "7203", "100", "2000", fees=Decimal(500)),
        buy("2026-01-06", "AAPL", "10", "190", fx_rate=Decimal(150)),
    )
    assert _holdings(world, pid) == {
        "7203": (Decimal(100), Money(Decimal(200500), JPY)),
        "AAPL": (Decimal(10), Money(Decimal(285000), JPY)),  # at the buy's rate
    }
    _add(world, pid, sell("2026-02-02", "7203", "40", "2100"))
    assert _holdings(world, pid)["7203"] == (Decimal(60), Money(Decimal(120300), JPY))
    _add(world, pid, split("2026-03-02", "7203", "2"))
    assert _holdings(world, pid)["7203"] == (Decimal(120), Money(Decimal(120300), JPY))
    _add(world, pid, sell("2026-03-03", "AAPL", "10", "200", fx_rate=Decimal(151)))
    assert set(_holdings(world, pid)) == {"7203"}  # sold out: removed
    actions = world.actions()
    assert actions.count("holding.added") == 2
    assert actions.count("holding.removed") == 1
    assert actions.count("portfolio.activities_changed") == 4


def test_the_fields_the_ledger_does_not_know_are_kept(world: World) -> None:
    portfolio = _portfolio(world)
    pid = portfolio.portfolio_id
    _add(world, pid, buy("2026-01-05", "1306", "10", "2500"))  # any Tokyo code
    _settings(world, pid, holdings_source="activities", expected_version=2)
    stored = world.store.get("u1", pid)
    held = stored.holding("1306")
    assert held is not None
    _tick(world)
    stored.change_holding(
        Holding.of(
            "1306",
            "10",
            asset_class=AssetClass.EQUITY,
            name="TOPIX ETF",
            sector="ETF",
            cost_basis=held.cost_basis,
        ),
        at=world.clock.now(),
    )
    world.store.save(stored, [])
    _add(world, pid, buy("2026-01-06", "1306", "5", "2600"))
    after = world.store.get("u1", pid).holding("1306")
    assert after is not None
    assert (after.quantity, after.name, after.sector) == (Decimal(15), "TOPIX ETF", "ETF")


def test_costs_in_the_trades_currency_without_their_rates(world: World) -> None:
    portfolio = _portfolio(world)
    pid = portfolio.portfolio_id
    _settings(world, pid, holdings_source="activities", expected_version=1)
    _add(world, pid, buy("2026-01-06", "AAPL", "10", "190"))  # no fx_rate: no market read
    assert _holdings(world, pid) == {"AAPL": (Decimal(10), Money(Decimal(1900), USD))}


def test_ledger_settings(world: World) -> None:
    portfolio = _portfolio(world, Holding.of("7203", "100"))
    pid = portfolio.portfolio_id
    with pytest.raises(InvariantViolation, match="record or import its activities first"):
        _settings(world, pid, holdings_source="activities")
    _add(
        world,
        pid,
        buy("2026-01-05", "7203", "100", "2000"),
        buy("2026-02-05", "7203", "100", "3000"),
    )
    _add(world, pid, sell("2026-03-05", "7203", "100", "3500"))
    assert _holdings(world, pid) == {"7203": (Decimal(100), None)}  # as entered
    with pytest.raises(ConflictError):
        _settings(world, pid, holdings_source="activities", expected_version=1)
    after = _settings(world, pid, holdings_source="activities", expected_version=3)
    assert after.holdings_source.value == "activities"
    assert _holdings(world, pid) == {"7203": (Decimal(100), Money(Decimal(250000), JPY))}
    _settings(world, pid, cost_basis="fifo")
    assert _holdings(world, pid) == {"7203": (Decimal(100), Money(Decimal(300000), JPY))}
    version = world.store.get("u1", pid).version
    unchanged = _settings(world, pid, cost_basis="fifo")
    assert unchanged.version == version  # nothing changed: nothing written
    _settings(world, pid, holdings_source="holdings")
    assert world.store.get("u1", pid).to_json().get("holdingsSource") is None
    assert _holdings(world, pid) == {"7203": (Decimal(100), Money(Decimal(300000), JPY))}
    with pytest.raises(ValidationError):
        _settings(world, pid, cost_basis="lifo")


# -- imports ---------------------------------------------------------------------------------


def test_an_import_is_one_change_with_one_entry(world: World) -> None:
    portfolio = _portfolio(world)
    pid = portfolio.portfolio_id
    data = CSV.encode()
    result = _import(world, pid, data)
    assert (result.imported, result.duplicates, result.rows) == (4, 0, 4)
    assert (result.format, result.encoding) == ("activities-csv", "utf-8")
    assert result.sha256 == hashlib.sha256(data).hexdigest()
    assert result.batch_id == lc.batch_id_of(pid, data, format=None, opening_date=None)
    assert result.portfolio.version == 2
    (entry,) = world.entries("portfolio.activities_changed")
    assert entry.changes == {
        "activities": {"before": 0, "after": 4},
        "added": {"before": None, "after": 4},
        "batchId": {"before": None, "after": result.batch_id},
        "sha256": {"before": None, "after": result.sha256},
        "format": {"before": None, "after": "activities-csv"},
    }


def test_all_or_nothing_refuses_the_file_with_the_lines(world: World) -> None:
    portfolio = _portfolio(world)
    pid = portfolio.portfolio_id
    with pytest.raises(ImportRejected) as caught:
        _import(world, pid, (CSV + BAD_ROW).encode())
    assert caught.value.code == "rows_rejected"
    assert [r.line for r in caught.value.rejected] == [6]
    assert "line 6" in str(caught.value)
    assert _ids(world, pid) == []


def test_partial_imports_the_good_rows_and_answers_the_others(world: World) -> None:
    portfolio = _portfolio(world)
    pid = portfolio.portfolio_id
    result = _import(world, pid, (CSV + BAD_ROW).encode(), mode="partial")
    assert result.imported == 4
    assert [(r.line, r.code) for r in result.rejected] == [(6, "validation_error")]
    assert "bogus" in result.rejected[0].reason
    assert len(_ids(world, pid)) == 4


def test_the_same_import_again_adds_nothing(world: World) -> None:
    portfolio = _portfolio(world)
    pid = portfolio.portfolio_id
    first = _import(world, pid, CSV.encode())
    again = _import(world, pid, CSV.encode())
    assert (again.imported, again.duplicates, again.already_imported) == (0, 4, True)
    assert again.portfolio.version == first.portfolio.version  # nothing written
    assert len(world.entries("portfolio.activities_changed")) == 1
    # one of its activities deleted: the batch is applied, the store refuses it again
    _tick(world)
    lc.delete_activity(
        world.ports,
        user_id="u1",
        portfolio_id=pid,
        activity_id=_ids(world, pid)[-1],
        context=CONTEXT,
    )
    third = _import(world, pid, CSV.encode())
    assert (third.imported, third.already_imported) == (0, True)
    assert len(_ids(world, pid)) == 3


def test_an_overlapping_export_adds_only_its_new_rows(world: World) -> None:
    portfolio = _portfolio(world)
    pid = portfolio.portfolio_id
    _import(world, pid, CSV.encode())
    later = CSV + "2026-05-01,buy,7203,10,2700,,,,,,\n"
    result = _import(world, pid, later.encode())
    assert (result.imported, result.duplicates, result.already_imported) == (1, 4, False)
    assert len(_ids(world, pid)) == 5


def test_the_same_id_with_other_values_refuses_the_import(world: World) -> None:
    portfolio = _portfolio(world)
    pid = portfolio.portfolio_id
    doc = {
        "format": "portfoliowise/activities@1",
        "baseCurrency": "JPY",
        "activities": [
            {
                "id": "a1",
                "type": "buy",
                "date": "2026-01-05",
                "currency": "JPY",
                "symbol": "7203",
                "quantity": "1",
                "unitPrice": "1",
            }
        ],
    }
    _import(world, pid, json.dumps(doc).encode())
    doc["activities"][0]["quantity"] = "2"  # type: ignore[index]
    with pytest.raises(InvariantViolation, match="other values"):
        _import(world, pid, json.dumps(doc).encode())


def test_a_cp932_broker_file_imports_into_a_ledger_based_portfolio(world: World) -> None:
    portfolio = _portfolio(world)
    pid = portfolio.portfolio_id
    _settings(world, pid, holdings_source="activities", expected_version=1)
    data = (FIXTURES / "sbi_holdings.csv").read_bytes()
    with pytest.raises(ValidationError, match="opening_date"):
        _import(world, pid, data, mode="partial")
    result = _import(world, pid, data, mode="partial", opening_date=date(2026, 1, 5))
    assert (result.format, result.encoding, result.imported) == ("sbi", "cp932", 5)
    assert [r.line for r in result.rejected] == [8]
    holdings = _holdings(world, pid)
    assert holdings["7203"] == (Decimal(1100), Money(Decimal(2_300_000), JPY))
    assert holdings["AAPL"] == (Decimal(10), Money(Decimal(1750), USD))
    # one audit entry for the activities, one per holding it made
    assert world.actions().count("portfolio.activities_changed") == 1
    assert world.actions().count("holding.added") == 4


def test_the_event_of_a_large_import_stays_small(world: World) -> None:
    portfolio = _portfolio(world)
    rows = "".join(f"2026-01-05,buy,7203,1,{n + 1},,,,,,\n" for n in range(5_000))
    csv = CSV.splitlines()[0] + "\n" + rows
    _import(world, portfolio.portfolio_id, csv.encode())
    event = world.bus.published[-1]
    assert isinstance(event, ActivitiesChanged)
    assert len(json.dumps(event.to_json())) < 2_000
    # a POST of more than 100 counts them too
    _add(world, portfolio.portfolio_id, *[buy("2026-01-06", "7203", "1", "1")] * 150)
    assert world.bus.published[-1].changes["added"].after == 150


def test_unknown_portfolios_and_modes(world: World) -> None:
    with pytest.raises(NotFoundError):
        _import(world, "nope", CSV.encode())
    with pytest.raises(NotFoundError):
        _add(world, "nope", buy("2026-01-05", "7203", "1", "1"))
    portfolio = _portfolio(world)
    with pytest.raises(ValidationError, match="mode"):
        _import(world, portfolio.portfolio_id, CSV.encode(), mode="some")


# -- performance -----------------------------------------------------------------------------


class RecordedHistory:
    """Closes by symbol; an unknown symbol has none (`NotFoundError`), one in `down` fails."""

    def __init__(self, closes: dict[str, dict[str, str]], down: frozenset[str] = frozenset()):
        self.closes = closes
        self.down = down
        self.asked: list[tuple[str, date, date]] = []

    def history(self, symbol: str, start: date, end: date) -> DailyHistory:
        self.asked.append((symbol, start, end))
        if symbol in self.down:
            raise SourceUnavailable("source down")
        if symbol not in self.closes:
            raise NotFoundError(f"no history for {symbol}")
        points = sorted(
            (date.fromisoformat(day), Decimal(close)) for day, close in self.closes[symbol].items()
        )
        return DailyHistory(
            symbol,
            "USD" if symbol == "AAPL" else "JPY",
            tuple(DailyClose(day, close) for day, close in points if start <= day <= end),
            "recorded",
        )


CLOSES = {
    "7203": {
        "2026-10-30": "1900",
        "2026-11-02": "2000",
        "2026-11-16": "2100",
        "2026-11-26": "2200",
    },
    "AAPL": {"2026-10-30": "195", "2026-11-02": "200", "2026-11-26": "220"},
    "USD-JPY": {"2026-10-30": "150", "2026-11-02": "150", "2026-11-26": "155"},
}


def _queries(world: World, history: RecordedHistory) -> PerformanceQueries:
    return PerformanceQueries(world.store, world.store, history, world.clock)


def test_performance_of_a_ledger_based_portfolio(world: World) -> None:
    portfolio = _portfolio(world)
    pid = portfolio.portfolio_id
    _settings(world, pid, holdings_source="activities", expected_version=1)
    _add(world, pid, buy("2026-11-02", "7203", "100", "2000"))
    history = RecordedHistory(CLOSES)
    result = _queries(world, history).report(
        "u1", pid, start=date(2026, 11, 1), end=date(2026, 11, 26)
    )
    assert result.basis is Basis.ACTIVITIES
    data = result.to_json(series=True)
    assert data["range"] == {
        "label": "2026-11-01..2026-11-26",
        "start": "2026-11-01",
        "end": "2026-11-26",
        "base": "2026-10-31",
    }
    assert (data["value"], data["startValue"], data["invested"], data["gain"]) == (
        "220000",
        "0",
        "200000",
        "20000",
    )
    assert data["twr"] == "0.1000000000"
    assert data["xirr"] is not None
    assert data["unknown"] == {"days": 0}
    assert data["unavailable"] == []
    assert len(data["series"]) == 27  # type: ignore[arg-type]
    assert [s for s, *_ in history.asked] == ["7203"]  # JPY only: no rate asked
    assert "series" not in result.to_json()


def test_performance_of_a_holdings_only_portfolio_without_activities(world: World) -> None:
    portfolio = _portfolio(world, Holding.of("7203", "100"), Holding.of("AAPL", "10"))
    result = _queries(world, RecordedHistory(CLOSES)).report(
        "u1", portfolio.portfolio_id, period="2026-11-03..2026-11-26"
    )
    assert result.basis is Basis.HOLDINGS
    data = result.to_json(series=True)
    # 7203: 200,000 -> 220,000; AAPL: 10 x 200 x 150 = 300,000 -> 10 x 220 x 155 = 341,000
    assert (data["startValue"], data["value"], data["gain"]) == ("500000", "561000", "61000")
    assert data["twr"] == "0.1220000000"
    assert (data["xirr"], data["invested"], data["unrealized"]) == (None, None, None)
    assert all(h["cost"] is None for h in data["holdings"])  # type: ignore[union-attr, index]
    assert data["series"][0]["invested"] is None  # type: ignore[index]
    assert data["basis"] == "holdings"


def test_unknown_closes_are_reported_never_invented(world: World) -> None:
    portfolio = _portfolio(world, Holding.of("7203", "100"), Holding.of("9984", "10"))
    history = RecordedHistory(CLOSES, down=frozenset({"9984"}))
    data = (
        _queries(world, history)
        .report("u1", portfolio.portfolio_id, period="2026-11-03..2026-11-26")
        .to_json()
    )
    assert data["unavailable"] == [{"symbol": "9984", "reason": "source_unavailable"}]
    assert data["value"] is None
    assert data["startValue"] is None
    assert data["unknown"]["days"] == 25  # type: ignore[index]
    assert data["unknown"]["9984"] == 25  # type: ignore[index]


def test_performance_in_another_currency_and_its_parameters(world: World) -> None:
    portfolio = _portfolio(world, Holding.of("7203", "100"))
    queries = _queries(world, RecordedHistory(CLOSES))
    pid = portfolio.portfolio_id
    data = queries.report(
        "u1", pid, start=date(2026, 11, 3), end=date(2026, 11, 26), currency="usd"
    ).to_json()
    assert data["currency"] == "USD"
    # 200,000 JPY at 150 = 1,333.33 USD; 220,000 JPY at 155 = 1,419.35 USD
    assert (data["startValue"], data["value"]) == ("1333.33", "1419.35")
    with pytest.raises(ValidationError, match="JPY or USD"):
        queries.report("u1", pid, currency="EUR")
    with pytest.raises(ValidationError, match="not both"):
        queries.report("u1", pid, period="YTD", start=date(2026, 1, 1))
    with pytest.raises(ValidationError, match="range must be"):
        queries.report("u1", pid, period="2W")
    with pytest.raises(ValidationError, match="after the as-of date"):
        queries.report("u1", pid, end=date(2026, 12, 1))
    with pytest.raises(NotFoundError):
        queries.report("u2", pid)
    ytd = queries.report("u1", pid, period="ytd")
    assert ytd.report.range.start == date(2026, 1, 1)
    assert ytd.as_of == date(2026, 11, 27)
