"""Sign-in sessions as the domain sees them. The cookie value never leaves the handler:
stores key sessions by a hash of it; provider tokens are stored encrypted."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

SESSION_TTL = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class Session:
    session_hash: str
    user_id: str
    expires_at: datetime
    access_token: bytes = b""  # ciphertext
    refresh_token: bytes = b""  # ciphertext

    def expired(self, now: datetime) -> bool:
        return now >= self.expires_at
