"""AuditLog: entries for one user in a time range, oldest first, gone after 90 days."""

from __future__ import annotations

from datetime import timedelta

from contract_stores import Stores

from portfoliowise.domain.audit import AUDIT_RETENTION, AuditEntry, RequestContext, audit_entries
from portfoliowise.domain.events import FieldChange, PortfolioRenamed

CONTEXT = RequestContext(ip="198.51.100.4", user_agent="Mozilla/5.0 (iPhone)")


def _entry(stores: Stores, user_id: str, name: str) -> AuditEntry:
    event = PortfolioRenamed(
        user_id=user_id,
        portfolio_id="p1",
        occurred_at=stores.clock.now(),
        changes={"name": FieldChange("before", name)},
    )
    return audit_entries([event], CONTEXT)[0]


def _all(stores: Stores, user_id: str) -> list[AuditEntry]:
    now = stores.clock.now()
    return stores.audit.for_user(user_id, now - timedelta(days=400), now + timedelta(days=1))


def test_recorded_entries_read_back_whole(stores: Stores) -> None:
    entry = _entry(stores, "u1", "新しい名前")
    stores.audit.record([entry])
    assert _all(stores, "u1") == [entry]


def test_entries_are_scoped_to_the_user_and_ordered_oldest_first(stores: Stores) -> None:
    written = []
    for i in range(5):
        for user_id in ["u1", "u2"]:
            written.append(_entry(stores, user_id, f"n{i}"))
        stores.clock.advance(timedelta(hours=13))  # crosses UTC dates
    stores.audit.record(list(reversed(written)))
    mine = _all(stores, "u1")
    assert [e.changes["name"] for e in mine] == [
        {"before": "before", "after": f"n{i}"} for i in range(5)
    ]
    assert {e.user_id for e in mine} == {"u1"}
    assert len({e.date for e in mine}) >= 3


def test_the_time_range_is_inclusive_and_respected(stores: Stores) -> None:
    entries = []
    for i in range(4):
        entries.append(_entry(stores, "u1", f"n{i}"))
        stores.clock.advance(timedelta(days=1))
    stores.audit.record(entries)
    found = stores.audit.for_user("u1", entries[1].timestamp, entries[2].timestamp)
    assert found == entries[1:3]


def test_entries_past_their_retention_are_absent(stores: Stores) -> None:
    old = _entry(stores, "u1", "old")
    stores.audit.record([old])
    stores.clock.advance(AUDIT_RETENTION - timedelta(days=1))
    recent = _entry(stores, "u1", "recent")
    stores.audit.record([recent])
    assert _all(stores, "u1") == [old, recent]
    stores.clock.advance(timedelta(days=1))
    assert _all(stores, "u1") == [recent]


def test_entries_of_one_command_keep_their_order(stores: Stores) -> None:
    events = [
        PortfolioRenamed(
            user_id="u1",
            portfolio_id="p1",
            occurred_at=stores.clock.now(),
            changes={"name": FieldChange(str(i), str(i + 1))},
        )
        for i in range(3)
    ]
    entries = audit_entries(events, CONTEXT)
    stores.audit.record(entries)
    assert _all(stores, "u1") == entries
    assert len({e.sort_key for e in entries}) == 3
