"""Ports: what the domain and its use cases need from the outside world. Adapters
implement these and translate SDK errors into domain errors."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # annotations only: a function imports the ports, not every model (cold start)
    from portfoliowise.domain.activities import Activity, ActivityChange
    from portfoliowise.domain.analysis import AnalysisReport, AnalysisRequest
    from portfoliowise.domain.audit import AuditEntry
    from portfoliowise.domain.events import DomainEvent
    from portfoliowise.domain.fx import FxRate
    from portfoliowise.domain.instruments import Instrument
    from portfoliowise.domain.market import DailyHistory, ListedIssue
    from portfoliowise.domain.money import Currency, Money
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
    and atomic with their audit entries: a change is never stored without its entries, nor
    the reverse. A successful write bumps `portfolio.version`."""

    def get(self, user_id: str, portfolio_id: str) -> Portfolio:
        """Raises `NotFoundError` (also for another user's or a deleted portfolio)."""
        ...

    def list_for_user(self, user_id: str) -> list[Portfolio]:
        """The user's portfolios ordered by portfolioId (one query per page, never a scan)."""
        ...

    def add(self, portfolio: Portfolio, audit: Sequence[AuditEntry]) -> None:
        """Store a new portfolio (version 0 -> 1). `ConflictError` if the id is taken."""
        ...

    def save(self, portfolio: Portfolio, audit: Sequence[AuditEntry]) -> None:
        """Store a change read at `portfolio.version`; a deleted portfolio is removed.
        `NotFoundError` if it is gone, `ConflictError` (with the stored version) if stale."""
        ...

    def all_portfolios(self) -> Iterator[Portfolio]:
        """Every user's portfolios, for the backup job only (a paginated full read)."""
        ...

    def get_with_valuation(self, user_id: str, portfolio_id: str) -> tuple[Portfolio, Money | None]:
        """The portfolio (as `get`) and the total `record_valuation` keeps for it (None when
        none is kept), in the same read: the valuation routes compare a new total with it
        and write only when it differs."""
        ...

    def record_valuation(
        self, user_id: str, portfolio_id: str, total: Money, at: datetime
    ) -> Money | None:
        """Keep `total` (the portfolio's whole value in its base currency, valued at `at`)
        as its latest valuation and return the one kept before, or None when there is none
        (one round trip where the store allows). Not a change of the portfolio: `version`
        and `updatedAt` stay, it never conflicts with a change, and it is not audited. A
        change of the portfolio (`add`, `save`, `restore`) forgets the kept valuation, which
        valued other holdings or another base currency. `NotFoundError` for a missing or
        deleted portfolio; `CurrencyMismatchError` for a total in another currency."""
        ...

    def restore(self, portfolio: Portfolio, audit: Sequence[AuditEntry]) -> None:
        """Write a snapshot from a backup whatever is stored, atomically with its audit
        entries. Its version becomes the backup's, or the stored version + 1 when that is
        higher, so that a client holding the overwritten state gets a conflict."""
        ...

    def activities(self, user_id: str, portfolio_id: str) -> list[Activity]:
        """See `ActivityLedger` (every portfolio store keeps its portfolios' activities)."""
        ...

    def commit(
        self, portfolio: Portfolio, audit: Sequence[AuditEntry], change: ActivityChange
    ) -> None:
        """See `ActivityLedger`."""
        ...


class ActivityLedger(Protocol):
    """A portfolio's activities, stored beside it (their own items or rows, never inside
    the portfolio's), changed only together with the portfolio: version-checked like
    `PortfolioRepository.save` and atomic with the change's audit entries, however many
    activities one change carries (an import of 100,000 included)."""

    def activities(self, user_id: str, portfolio_id: str) -> list[Activity]:
        """The portfolio's activities, in `Activity.sort_key` order. `NotFoundError` as
        `PortfolioRepository.get`."""
        ...

    def commit(
        self, portfolio: Portfolio, audit: Sequence[AuditEntry], change: ActivityChange
    ) -> None:
        """Save `portfolio` (read at `portfolio.version`; `ConflictError` when stale) and
        apply `change` to its activities, all or nothing. A `change.batch_id` already
        applied to this portfolio is not applied twice (`ConflictError` names it)."""
        ...


class AuditLog(Protocol):
    def record(self, entries: Sequence[AuditEntry]) -> None:
        """For entries not tied to a portfolio write (sign-in, sign-out)."""
        ...

    def for_user(self, user_id: str, since: datetime, until: datetime) -> list[AuditEntry]:
        """The user's unexpired entries in [since, until], oldest first."""
        ...


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
    """One item per instrument (its cache key `symbol#market`): the latest quote, fresh until
    `expires_at` and then kept until `expires_at + QUOTE_KEPT_FOR` to be served as stale."""

    def get_many(self, instruments: Sequence[Instrument]) -> dict[str, CachedQuote]:
        """The latest cached quote per symbol, by symbol, for any number of instruments
        (FX pairs included); past-fresh ones included (for stale serving), past-kept ones
        treated as absent. One batched read: an adapter that must split it into requests
        sends them concurrently, so that it costs one round trip."""
        ...

    def put_many(self, quotes: Sequence[Quote], expires_at: datetime) -> None:
        """Store quotes with prices (unavailable quotes are never cached), in batches."""
        ...


class FxSource(Protocol):
    name: str

    def fetch_rates(self, pairs: Sequence[tuple[Currency, Currency]]) -> list[FxRate]:
        """Rates for the pairs it knows (one batched call where possible). Raises
        `SourceUnavailable` when the source fails as a whole."""
        ...


class HistorySource(Protocol):
    name: str

    def history(self, instrument: Instrument, start: date, end: date) -> DailyHistory:
        """Daily closes in [start, end]. `NotFoundError` for an unknown symbol,
        `SourceUnavailable` when the source fails."""
        ...


class SymbolMaster(Protocol):
    """Tokyo listed issues (JPX): names, segments and sector classification."""

    def lookup(self, code: str) -> ListedIssue | None: ...

    def __len__(self) -> int: ...


class SessionStore(Protocol):
    def put(self, session: Session) -> None: ...

    def get(self, session_hash: str, now: datetime) -> Session | None:
        """None when absent or expired (expiry is honoured on read)."""
        ...

    def delete(self, session_hash: str) -> None: ...

    def rotate_refresh(
        self, session_hash: str, expected_hash: str, new_hash: str, at: datetime
    ) -> bool:
        """Make `new_hash` the session's refresh hash if it is still `expected_hash` (the
        current one becomes the previous one, `rotated_at` = `at`), atomically; False when
        the session is gone or its refresh hash is no longer `expected_hash`."""
        ...


class EventPublisher(Protocol):
    def publish(self, events: Sequence[DomainEvent]) -> None:
        """Publish committed events. Raises `PayloadTooLarge` for an event over the bus
        limit and `SourceUnavailable` when entries still fail after resending."""
        ...


class BlobStore(Protocol):
    def put(
        self, key: str, data: bytes, content_type: str = "application/octet-stream"
    ) -> None: ...

    def get(self, key: str) -> bytes:
        """Raises `NotFoundError`."""
        ...

    def list(self, prefix: str) -> list[str]:
        """Keys under `prefix`, sorted."""
        ...


class Analyst(Protocol):
    """An AI analyst: its report for `request`, or `AnalystFailed` saying why not."""

    name: str

    def analyse(self, request: AnalysisRequest) -> AnalysisReport: ...


# --- Sign-in (issue 5): the identity provider, the token cipher, the attempt limiter ---


@dataclass(frozen=True, slots=True)
class VerifiedIdentity:
    """Who the identity provider vouches for, after every check of its ID token passed.

    `subject` is the provider's stable account id (Google's `sub`), never the email, which
    can change hands. The tokens are the provider's, in clear: encrypt before storing."""

    provider: str
    subject: str
    email: str
    access_token: str = ""  # empty when the client sent an ID token only
    refresh_token: str | None = None
    name: str = ""
    picture: str = ""


class IdentityProvider(Protocol):
    def exchange(self, code: str, code_verifier: str | None, redirect_uri: str) -> VerifiedIdentity:
        """Exchange an authorization code (with its PKCE verifier, or None for a client that
        sends none, allowed only for the configured redirect URIs) and verify the ID token.
        `Unauthenticated` when the code or the token is refused, `ValidationError` for a
        redirect URI we do not allow, `SourceUnavailable` when the provider fails."""
        ...

    def identify(self, id_token: str) -> VerifiedIdentity:
        """Verify an ID token the client got straight from the provider (Google Sign-In's
        `credential`); no provider tokens come with it. Same errors as `exchange`."""
        ...


class AccessTokenCodec(Protocol):
    """Signs and checks our own access tokens (JWT, HS256, the key id in the header)."""

    def encode(self, claims: Mapping[str, object], key: bytes, key_id: str) -> str: ...

    def decode(self, token: str, key_for: Callable[[str], bytes | None]) -> dict[str, object]:
        """The claims of `token` when its signature verifies with the key its header names
        (`key_for(kid)`; None: unknown key). No time checks (the caller has the clock).
        `Unauthenticated` otherwise."""
        ...


class TokenCipher(Protocol):
    """Authenticated encryption of small secrets (provider tokens) at rest. `context` is bound
    to the ciphertext (AES-GCM associated data / KMS encryption context): decrypting with
    another context fails."""

    def encrypt(self, plaintext: bytes, *, context: str) -> bytes: ...

    def decrypt(self, blob: bytes, *, context: str) -> bytes: ...


class AttemptLimiter(Protocol):
    """Counts failures per key (a client IP) in a sliding window."""

    def blocked_for(self, key: str, now: datetime) -> int:
        """Seconds until `key` may try again; 0 when it may try now."""
        ...

    def record_failure(self, key: str, now: datetime) -> None: ...
