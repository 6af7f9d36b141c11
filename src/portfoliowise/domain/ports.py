"""Ports: what the domain and its use cases need from the outside world. Adapters
implement these and translate SDK errors into domain errors."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from portfoliowise.domain.analysis import AnalysisRequest, AnalysisResult
from portfoliowise.domain.audit import AuditEntry
from portfoliowise.domain.events import DomainEvent
from portfoliowise.domain.fx import FxRate
from portfoliowise.domain.instruments import Instrument
from portfoliowise.domain.money import Currency
from portfoliowise.domain.portfolio import Portfolio
from portfoliowise.domain.quotes import Quote
from portfoliowise.domain.sessions import Session


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware (UTC)."""
        ...


class IdGenerator(Protocol):
    def new_id(self) -> str: ...


class PortfolioRepository(Protocol):
    """Writes are conditional on `portfolio.version` (optimistic lock, `ConflictError`)
    and atomic with their audit entries; a successful write bumps `portfolio.version`."""

    def get(self, user_id: str, portfolio_id: str) -> Portfolio:
        """Raises `NotFoundError` (also for another user's or a deleted portfolio)."""
        ...

    def list_for_user(self, user_id: str) -> list[Portfolio]: ...

    def add(self, portfolio: Portfolio, audit: Sequence[AuditEntry]) -> None: ...

    def save(self, portfolio: Portfolio, audit: Sequence[AuditEntry]) -> None: ...


class AuditLog(Protocol):
    def record(self, entries: Sequence[AuditEntry]) -> None:
        """For entries not tied to a portfolio write (sign-in, sign-out)."""
        ...

    def for_user(self, user_id: str, since: datetime, until: datetime) -> list[AuditEntry]: ...


@dataclass(frozen=True, slots=True)
class CachedQuote:
    quote: Quote
    expires_at: datetime


class QuoteSource(Protocol):
    name: str

    def fetch(self, instruments: Sequence[Instrument]) -> dict[str, Quote]:
        """Quotes by symbol for those it knows (one batched call where the source allows).
        Raises `SourceUnavailable` when the source fails as a whole."""
        ...


class QuoteCache(Protocol):
    def get_many(self, instruments: Sequence[Instrument]) -> dict[str, CachedQuote]:
        """The latest cached quote per symbol, expired ones included (for stale serving)."""
        ...

    def put_many(self, quotes: Sequence[Quote], expires_at: datetime) -> None: ...


class FxSource(Protocol):
    name: str

    def fetch_rates(self, pairs: Sequence[tuple[Currency, Currency]]) -> list[FxRate]: ...


class SessionStore(Protocol):
    def put(self, session: Session) -> None: ...

    def get(self, session_hash: str, now: datetime) -> Session | None:
        """None when absent or expired (expiry is honoured on read)."""
        ...

    def delete(self, session_hash: str) -> None: ...


class EventPublisher(Protocol):
    def publish(self, events: Sequence[DomainEvent]) -> None: ...


class BlobStore(Protocol):
    def put(
        self, key: str, data: bytes, content_type: str = "application/octet-stream"
    ) -> None: ...

    def get(self, key: str) -> bytes:
        """Raises `NotFoundError`."""
        ...

    def list(self, prefix: str) -> list[str]: ...


class Analyst(Protocol):
    def analyse(self, request: AnalysisRequest) -> AnalysisResult: ...
