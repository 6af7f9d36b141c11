"""Audit entries, built from domain events: who changed what, when, from where."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from portfoliowise.domain.errors import ValidationError

if TYPE_CHECKING:  # annotations only: the auth function needs no domain events (cold start)
    from portfoliowise.domain.events import DomainEvent, JsonValue

AUDIT_RETENTION = timedelta(days=90)
"""Audit entries expire (the Audit table's TTL) this long after they were written."""


@dataclass(frozen=True, slots=True)
class RequestContext:
    """Where a change came from (recorded with it); empty for scheduled jobs."""

    ip: str = ""
    user_agent: str = ""


@dataclass(frozen=True, slots=True)
class AuditEntry:
    date: str  # UTC YYYY-MM-DD: the Audit table's partition key
    timestamp: datetime  # UTC
    user_id: str
    action: str
    resource: str
    changes: dict[str, JsonValue]
    ip: str
    user_agent: str
    event_id: str

    @property
    def expires_at(self) -> datetime:
        return self.timestamp + AUDIT_RETENTION

    @property
    def sort_key(self) -> str:
        """`timestamp#userId`, the Audit table's sort key."""
        return f"{self.timestamp.isoformat(timespec='microseconds')}#{self.user_id}"

    def to_json(self) -> dict[str, JsonValue]:
        return {
            "date": self.date,
            "timestamp": self.timestamp.isoformat(timespec="microseconds"),
            "userId": self.user_id,
            "action": self.action,
            "resource": self.resource,
            "changes": self.changes,
            "ip": self.ip,
            "userAgent": self.user_agent,
            "eventId": self.event_id,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AuditEntry:
        """Inverse of `to_json` (stores and backups)."""
        try:
            timestamp = datetime.fromisoformat(str(data["timestamp"]))
            if timestamp.tzinfo is None:
                raise ValueError("audit timestamp without a time zone")
            changes = data.get("changes") or {}
            if not isinstance(changes, dict):
                raise TypeError("audit changes must be an object")
            return cls(
                date=str(data["date"]),
                timestamp=timestamp.astimezone(UTC),
                user_id=str(data["userId"]),
                action=str(data["action"]),
                resource=str(data["resource"]),
                changes=changes,
                ip=str(data.get("ip") or ""),
                user_agent=str(data.get("userAgent") or ""),
                event_id=str(data.get("eventId") or ""),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValidationError(f"not an audit entry: {exc}") from None


def audit_entry(event: DomainEvent, context: RequestContext) -> AuditEntry:
    at = event.occurred_at.astimezone(UTC)
    return AuditEntry(
        date=at.strftime("%Y-%m-%d"),
        timestamp=at,
        user_id=event.user_id,
        action=event.action,
        resource=event.resource,
        changes=event.changes_json(),
        ip=context.ip,
        user_agent=context.user_agent,
        event_id=event.event_id,
    )


def audit_entries(events: Iterable[DomainEvent], context: RequestContext) -> list[AuditEntry]:
    """One entry per event. Events of one command share a time; later entries are moved on
    by a microsecond each so that every entry of a user has its own `timestamp#userId` key
    and the trail keeps the order in which the changes were made."""
    entries: list[AuditEntry] = []
    for event in events:
        entry = audit_entry(event, context)
        if entries and entry.timestamp <= entries[-1].timestamp:
            moved = entries[-1].timestamp + timedelta(microseconds=1)
            entry = replace(entry, timestamp=moved, date=moved.strftime("%Y-%m-%d"))
        entries.append(entry)
    return entries
