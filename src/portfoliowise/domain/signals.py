"""Signals for the team that runs PortfolioWise (the seed's info alarms): a portfolio
whose value moved more than a threshold between two valuations, a first sign-in (a
sign-up), unusual activity (more writes by one user in an hour than a threshold).

A use case emits a `Signal`; the runtime's `Signals` adapter publishes it to the info SNS
topic (a log line locally) and counts the metric of the same name, which the info alarms
watch. A signal never carries an e-mail, a name or a raw user id: `subject` is a hash."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Final, Protocol

if TYPE_CHECKING:  # an annotation only: the auth function needs no domain events (cold start)
    from portfoliowise.domain.events import JsonValue

LARGE_CHANGE_PERCENT: Final = Decimal(10)
"""Default: a valuation total more than 10 % away from the previous one is a large change."""

UNUSUAL_WRITES_PER_HOUR: Final = 100
"""Default: more portfolio writes than this by one user within an hour is unusual."""


class SignalKind(StrEnum):
    """The metric name each signal counts (the CDK app's info alarms read these names)."""

    LARGE_PORTFOLIO_CHANGE = "LargePortfolioChanges"
    SIGN_UP = "SignUps"
    UNUSUAL_ACTIVITY = "UnusualActivity"


def subject_of(user_id: str) -> str:
    """A stable pseudonym of a user for operators' messages (never the id itself)."""
    return hashlib.sha256(user_id.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class Signal:
    kind: SignalKind
    subject: str  # `subject_of(user_id)`
    at: datetime
    details: dict[str, JsonValue] = field(default_factory=dict)  # numbers as strings

    def message(self) -> str:
        parts = ", ".join(f"{key}={value}" for key, value in sorted(self.details.items()))
        return f"{self.kind.value}: user {self.subject} at {self.at.isoformat()} ({parts})"


class Signals(Protocol):
    def emit(self, signal: Signal) -> None:
        """Publish and count `signal`; never raises (a lost signal must not fail the
        request that caused it: adapters log their own failures)."""
        ...
