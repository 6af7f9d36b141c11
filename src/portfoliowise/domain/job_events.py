"""Events of the scheduled jobs (context "jobs": `source` = `portfoliowise.jobs`).

`JobCompleted` is published once per run of a job (cache warm, backup, cleanup) with the
counts of its report. It is a `DomainEvent` so that the publishers (EventBridge, the
in-process bus) and their size checks take it as they are, but it belongs to no portfolio:
its `detail` is `{eventId, occurredAt, job, counts, notReached?}`, without `userId` or
`portfolioId`, and it is never written to the audit trail."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar

from portfoliowise.domain.events import DomainEvent, JsonValue


@dataclass(frozen=True, kw_only=True)
class JobCompleted(DomainEvent):
    """`counts`: the report's numbers (`{"priced": 3, "unavailable": 0, ...}`; nested for a
    report's groups, e.g. cleanup's `{"deleted": {"sessions": 3}}`). `not_reached`: what a
    job stopped before reaching when its time ran out (the cache warm), else None."""

    action: ClassVar[str] = "job.completed"
    context: ClassVar[str] = "jobs"
    user_id: str = ""  # no user: a job runs for everyone
    portfolio_id: str = ""  # no portfolio
    job: str
    counts: dict[str, JsonValue] = field(default_factory=dict)
    not_reached: dict[str, JsonValue] | None = None

    @property
    def resource(self) -> str:
        return f"job/{self.job}"

    def to_json(self) -> dict[str, JsonValue]:
        detail: dict[str, JsonValue] = {
            "eventId": self.event_id,
            "occurredAt": self.occurred_at.isoformat(),
            "job": self.job,
            "counts": dict(self.counts),
        }
        if self.not_reached is not None:
            detail["notReached"] = dict(self.not_reached)
        return detail


def counts_of(
    report: Mapping[str, object], *, skip: frozenset[str] = frozenset()
) -> dict[str, JsonValue]:
    """The numbers of a job's report: integers as they are, lists by their length, mappings
    by their own numbers (kept when they have any); text, flags and `skip` keys left out."""
    counts: dict[str, JsonValue] = {}
    for key, value in report.items():
        if key in skip or isinstance(value, bool):
            continue
        if isinstance(value, int):
            counts[key] = value
        elif isinstance(value, list | tuple):
            counts[key] = len(value)
        elif isinstance(value, Mapping):
            nested = counts_of(value)
            if nested:
                counts[key] = nested
    return counts
