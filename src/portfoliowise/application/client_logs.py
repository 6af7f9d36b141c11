"""The web app's console entries (`POST /client-logs`): capped, rate-limited per session,
scrubbed of secrets, and written one JSON record each with the user's hashed subject
(`domain.signals.subject_of`), never the user id or an e-mail.

Caps (answered before anything is written):
- MAX_ENTRIES entries per batch (more: 413), MAX_BATCH_BYTES bytes per request body
  (more: 413), MAX_MESSAGE_CHARS characters per message and MAX_URL_CHARS per url (more:
  400, the request schema).
- RATE_LIMIT_BATCHES batches per session in a sliding RATE_WINDOW (more: 429 with
  Retry-After). In process memory: per local server, or per warm Lambda instance (API
  Gateway's stage throttle and the WAF rate rule bound the rest).

Where the records go is the `ClientLogSink` port's: the `/custom/application` CloudWatch
log group in AWS, `client.log` in the data directory locally."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Final, Protocol

from portfoliowise.application.auth import InMemoryAttemptLimiter
from portfoliowise.domain.errors import PayloadTooLarge, RateLimited
from portfoliowise.domain.events import JsonValue
from portfoliowise.domain.ports import Clock
from portfoliowise.domain.signals import subject_of

MAX_ENTRIES: Final = 50
MAX_MESSAGE_CHARS: Final = 2_000
MAX_URL_CHARS: Final = 2_000
MAX_BATCH_BYTES: Final = 64 * 1024
RATE_LIMIT_BATCHES: Final = 30
RATE_WINDOW: Final = timedelta(minutes=1)
LEVELS: Final = ("log", "info", "warn", "error", "debug")

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]*){0,2}")
_BEARER = re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]+")
_SECRET_PARAM = re.compile(
    r"(?i)\b(access_token|refresh_token|id_token|token|code|session|password|api_key|key)="
    r"[^&\s#]+"
)


def scrub(text: str) -> str:
    """`text` without e-mail addresses, JWTs (`eyJ...`), bearer tokens or secret query
    parameters."""
    text = _BEARER.sub("Bearer [REDACTED]", text)
    text = _JWT.sub("[REDACTED_TOKEN]", text)
    text = _EMAIL.sub("[REDACTED_EMAIL]", text)
    return _SECRET_PARAM.sub(lambda m: f"{m.group(1)}=[REDACTED]", text)


@dataclass(frozen=True, slots=True)
class ClientLogEntry:
    level: str
    message: str
    url: str
    timestamp: str  # as the app sent it (ISO-8601, or epoch milliseconds as text)


class ClientLogSink(Protocol):
    def write(self, records: Sequence[dict[str, JsonValue]]) -> None:
        """Write each record as one JSON line (in order)."""
        ...


class ClientLogs:
    """The use case: `accept` one batch of one session."""

    def __init__(
        self,
        sink: ClientLogSink,
        clock: Clock,
        limiter: InMemoryAttemptLimiter | None = None,
    ) -> None:
        self._sink = sink
        self._clock = clock
        # The sign-in limiter's sliding window, counting batches instead of failures.
        self._limiter = limiter or InMemoryAttemptLimiter(
            max_failures=RATE_LIMIT_BATCHES, window=RATE_WINDOW
        )

    def accept(
        self,
        *,
        user_id: str,
        session_key: str,
        entries: Sequence[ClientLogEntry],
        body_bytes: int,
    ) -> int:
        """Write `entries`; how many. Raises PayloadTooLarge (413) or RateLimited (429)."""
        now = self._clock.now()
        if body_bytes > MAX_BATCH_BYTES:
            raise PayloadTooLarge(f"a batch of client logs is at most {MAX_BATCH_BYTES} bytes")
        if len(entries) > MAX_ENTRIES:
            raise PayloadTooLarge(f"a batch of client logs has at most {MAX_ENTRIES} entries")
        retry = self._limiter.blocked_for(session_key, now)
        if retry:
            raise RateLimited(
                f"at most {RATE_LIMIT_BATCHES} batches of client logs a minute", retry
            )
        self._limiter.record_failure(session_key, now)
        subject = subject_of(user_id)
        received = now.isoformat()
        records: list[dict[str, JsonValue]] = [
            {
                "source": "web",
                "subject": subject,
                "level": entry.level,
                "message": scrub(entry.message),
                "url": scrub(entry.url),
                "timestamp": scrub(entry.timestamp),
                "received": received,
            }
            for entry in entries
        ]
        if records:
            self._sink.write(records)
        return len(records)
