"""Audit entries, built from domain events: who changed what, when, from where."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from portfoliowise.domain.events import DomainEvent, JsonValue


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
    return [audit_entry(event, context) for event in events]
