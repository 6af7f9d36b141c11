"""Domain events recorded by the portfolio aggregate. Each carries what changed as
`{field: {"before": ..., "after": ...}}` with JSON-safe values (Decimals as strings),
which is also what the audit trail stores."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar
from uuid import uuid4

JsonValue = str | int | bool | None | list["JsonValue"] | dict[str, "JsonValue"]


@dataclass(frozen=True, slots=True)
class FieldChange:
    before: JsonValue
    after: JsonValue

    def to_json(self) -> dict[str, JsonValue]:
        return {"before": self.before, "after": self.after}


def _new_event_id() -> str:
    return uuid4().hex


@dataclass(frozen=True, kw_only=True)
class DomainEvent:
    action: ClassVar[str] = "event"
    context: ClassVar[str] = "portfolio"  # the bounded context: `source` on the bus
    user_id: str
    portfolio_id: str
    occurred_at: datetime
    changes: dict[str, FieldChange] = field(default_factory=dict)
    event_id: str = field(default_factory=_new_event_id)

    @property
    def name(self) -> str:
        """The `detail-type` on the bus."""
        return type(self).__name__

    @property
    def source(self) -> str:
        """The `source` on the bus: `portfoliowise.<context>`."""
        return f"portfoliowise.{self.context}"

    @property
    def resource(self) -> str:
        return f"portfolio/{self.portfolio_id}"

    def changes_json(self) -> dict[str, JsonValue]:
        return {key: change.to_json() for key, change in self.changes.items()}

    def to_json(self) -> dict[str, JsonValue]:
        """The `detail` of the published event: `{eventId, occurredAt, userId, ...payload}`."""
        return {
            "eventId": self.event_id,
            "occurredAt": self.occurred_at.isoformat(),
            "userId": self.user_id,
            "portfolioId": self.portfolio_id,
            "action": self.action,
            "changes": self.changes_json(),
        }


@dataclass(frozen=True, kw_only=True)
class PortfolioCreated(DomainEvent):
    action: ClassVar[str] = "portfolio.created"


@dataclass(frozen=True, kw_only=True)
class PortfolioRenamed(DomainEvent):
    action: ClassVar[str] = "portfolio.renamed"


@dataclass(frozen=True, kw_only=True)
class PortfolioSettingsChanged(DomainEvent):
    """Base currency or fractional-share setting changed."""

    action: ClassVar[str] = "portfolio.settings_changed"


@dataclass(frozen=True, kw_only=True)
class HoldingAdded(DomainEvent):
    action: ClassVar[str] = "holding.added"
    symbol: str

    @property
    def resource(self) -> str:
        return f"portfolio/{self.portfolio_id}/holding/{self.symbol}"


@dataclass(frozen=True, kw_only=True)
class HoldingChanged(DomainEvent):
    action: ClassVar[str] = "holding.changed"
    symbol: str

    @property
    def resource(self) -> str:
        return f"portfolio/{self.portfolio_id}/holding/{self.symbol}"


@dataclass(frozen=True, kw_only=True)
class HoldingRemoved(DomainEvent):
    action: ClassVar[str] = "holding.removed"
    symbol: str

    @property
    def resource(self) -> str:
        return f"portfolio/{self.portfolio_id}/holding/{self.symbol}"


@dataclass(frozen=True, kw_only=True)
class TargetsSet(DomainEvent):
    action: ClassVar[str] = "portfolio.targets_set"


@dataclass(frozen=True, kw_only=True)
class PortfolioDeleted(DomainEvent):
    action: ClassVar[str] = "portfolio.deleted"


@dataclass(frozen=True, kw_only=True)
class ActivitiesChanged(DomainEvent):
    """Activities added to or removed from the portfolio's ledger (`Portfolio.
    record_activities`). `changes` say what, kept small whatever the number (the event
    stays far inside the bus's 256 KB): `activities` (the count before and after), then
    `added` / `removed` as a list of `{id, type, date, symbol}` for at most
    `MAX_LISTED_ACTIVITIES`, else their count; an import gives its count, `batchId`,
    `sha256` (the file's) and `format`, never its activities."""

    action: ClassVar[str] = "portfolio.activities_changed"

    @property
    def resource(self) -> str:
        return f"portfolio/{self.portfolio_id}/activities"


MAX_LISTED_ACTIVITIES = 100
"""Activities an `ActivitiesChanged` lists one by one (id ≤ 100 characters, symbol,
type, date: at most ~25 KB); more, or an import, are counted."""


@dataclass(frozen=True, kw_only=True)
class PortfolioRestored(DomainEvent):
    """Written from a backup; `changes` carries the restored snapshot and its origin."""

    action: ClassVar[str] = "portfolio.restored"
