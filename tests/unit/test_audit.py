"""Audit entries built from domain events: the UTC date partition, the timestamp, who, what,
on which resource, the before/after changes and where the request came from."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from portfoliowise.domain.audit import (
    AUDIT_RETENTION,
    AuditEntry,
    RequestContext,
    audit_entries,
    audit_entry,
)
from portfoliowise.domain.errors import ValidationError
from portfoliowise.domain.events import FieldChange, HoldingAdded, PortfolioRenamed
from portfoliowise.domain.money import JPY
from portfoliowise.domain.portfolio import Holding, Portfolio

JST = timezone(timedelta(hours=9))
T0 = datetime(2024, 6, 3, 12, 0, tzinfo=UTC)
CONTEXT = RequestContext(ip="203.0.113.7", user_agent="Mozilla/5.0")
MICRO = timedelta(microseconds=1)


def renamed(at: datetime = T0, user_id: str = "user-1") -> PortfolioRenamed:
    return PortfolioRenamed(
        user_id=user_id,
        portfolio_id="p-0001",
        occurred_at=at,
        changes={"name": FieldChange("NISA", "Growth")},
    )


def test_entry_carries_who_what_when_and_where() -> None:
    event = renamed()

    entry = audit_entry(event, CONTEXT)

    assert entry.date == "2024-06-03"
    assert entry.timestamp == T0
    assert entry.user_id == "user-1"
    assert entry.action == "portfolio.renamed"
    assert entry.resource == "portfolio/p-0001"
    assert entry.changes == {"name": {"before": "NISA", "after": "Growth"}}
    assert entry.ip == "203.0.113.7"
    assert entry.user_agent == "Mozilla/5.0"
    assert entry.event_id == event.event_id


def test_date_and_timestamp_are_utc_even_for_events_in_another_zone() -> None:
    # 08:30 on 4 June in Tokyo is still 3 June in UTC.
    event = renamed(at=datetime(2024, 6, 4, 8, 30, tzinfo=JST))

    entry = audit_entry(event, CONTEXT)

    assert entry.date == "2024-06-03"
    assert entry.timestamp == datetime(2024, 6, 3, 23, 30, tzinfo=UTC)
    assert entry.timestamp.utcoffset() == timedelta(0)
    assert entry.to_json()["timestamp"] == "2024-06-03T23:30:00.000000+00:00"


def test_holding_events_name_the_holding_as_the_resource() -> None:
    event = HoldingAdded(
        user_id="user-1",
        portfolio_id="p-0001",
        occurred_at=T0,
        symbol="7203",
        changes={"quantity": FieldChange(None, "100")},
    )

    entry = audit_entry(event, CONTEXT)

    assert entry.action == "holding.added"
    assert entry.resource == "portfolio/p-0001/holding/7203"
    assert entry.changes == {"quantity": {"before": None, "after": "100"}}


def test_scheduled_jobs_record_no_ip_or_user_agent() -> None:
    entry = audit_entry(renamed(), RequestContext())

    assert (entry.ip, entry.user_agent) == ("", "")


def test_sort_key_and_expiry() -> None:
    entry = audit_entry(renamed(), CONTEXT)

    assert entry.sort_key == "2024-06-03T12:00:00.000000+00:00#user-1"
    assert entry.expires_at == T0 + AUDIT_RETENTION
    assert timedelta(days=90) == AUDIT_RETENTION


def test_to_json() -> None:
    event = renamed()

    assert audit_entry(event, CONTEXT).to_json() == {
        "date": "2024-06-03",
        "timestamp": "2024-06-03T12:00:00.000000+00:00",
        "userId": "user-1",
        "action": "portfolio.renamed",
        "resource": "portfolio/p-0001",
        "changes": {"name": {"before": "NISA", "after": "Growth"}},
        "ip": "203.0.113.7",
        "userAgent": "Mozilla/5.0",
        "eventId": event.event_id,
    }


def test_json_round_trip() -> None:
    entry = audit_entry(renamed(at=datetime(2024, 6, 4, 8, 30, 0, 123456, tzinfo=JST)), CONTEXT)

    assert AuditEntry.from_json(entry.to_json()) == entry


def test_from_json_fills_optional_fields() -> None:
    entry = AuditEntry.from_json(
        {
            "date": "2024-06-03",
            "timestamp": "2024-06-03T21:00:00+09:00",
            "userId": "user-1",
            "action": "session.signed_in",
            "resource": "session",
        }
    )

    assert entry.timestamp == datetime(2024, 6, 3, 12, 0, tzinfo=UTC)
    assert (entry.changes, entry.ip, entry.user_agent, entry.event_id) == ({}, "", "", "")


@pytest.mark.parametrize(
    "damage",
    [
        lambda d: d.pop("userId"),
        lambda d: d.update(timestamp="not a time"),
        lambda d: d.update(timestamp="2024-06-03T12:00:00"),  # no time zone
        lambda d: d.update(changes=["not", "a", "map"]),
    ],
)
def test_from_json_rejects_broken_entries(damage) -> None:  # type: ignore[no-untyped-def]
    document = audit_entry(renamed(), CONTEXT).to_json()
    damage(document)

    with pytest.raises(ValidationError, match="not an audit entry"):
        AuditEntry.from_json(document)


def test_entries_of_one_command_get_distinct_increasing_timestamps() -> None:
    events = [renamed(), renamed(), renamed()]

    entries = audit_entries(events, CONTEXT)

    assert [e.timestamp for e in entries] == [T0, T0 + MICRO, T0 + 2 * MICRO]
    assert len({e.sort_key for e in entries}) == 3
    assert [e.event_id for e in entries] == [e.event_id for e in events]


def test_a_timestamp_moved_past_midnight_moves_the_date_too() -> None:
    midnight = datetime(2024, 6, 3, 23, 59, 59, 999999, tzinfo=UTC)

    entries = audit_entries([renamed(at=midnight), renamed(at=midnight)], CONTEXT)

    assert [e.date for e in entries] == ["2024-06-03", "2024-06-04"]
    assert entries[1].timestamp == datetime(2024, 6, 4, tzinfo=UTC)


def test_entries_already_in_order_are_kept_as_they_are() -> None:
    events = [renamed(at=T0), renamed(at=T0 + timedelta(seconds=1))]

    entries = audit_entries(events, CONTEXT)

    assert [e.timestamp for e in entries] == [T0, T0 + timedelta(seconds=1)]
    assert audit_entries([], CONTEXT) == []


def test_entries_from_a_portfolio_change() -> None:
    portfolio = Portfolio.create(
        user_id="user-1", portfolio_id="p-0001", name="NISA", base_currency=JPY, at=T0
    )
    portfolio.add_holding(Holding.of("7203", "100"), at=T0)
    portfolio.set_quantity("7203", Holding.of("7203", "200").quantity, at=T0)

    entries = audit_entries(portfolio.pull_events(), CONTEXT)

    assert [e.action for e in entries] == ["portfolio.created", "holding.added", "holding.changed"]
    assert [e.resource for e in entries] == [
        "portfolio/p-0001",
        "portfolio/p-0001/holding/7203",
        "portfolio/p-0001/holding/7203",
    ]
    assert entries[2].changes == {"quantity": {"before": "100", "after": "200"}}
    assert sorted(e.sort_key for e in entries) == [e.sort_key for e in entries]
    assert len({e.sort_key for e in entries}) == 3
