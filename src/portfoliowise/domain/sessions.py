"""Sign-in sessions as the domain sees them. The cookie value never leaves the handler:
stores key sessions by a hash of it; provider tokens and the user's profile are stored
encrypted.

A session also carries its refresh-token state: the hash of the current refresh token
(`refresh_hash`), the one it replaced (`previous_refresh_hash`) and when that happened
(`rotated_at`). A refresh token is good once: using it rotates it, and a token that is
neither the current one nor the previous one within `REFRESH_GRACE` (two tabs refreshing at
once) is a reuse, which ends the session."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

SESSION_TTL = timedelta(hours=24)
ACCESS_TOKEN_TTL = timedelta(minutes=15)
REFRESH_GRACE = timedelta(seconds=30)


@dataclass(frozen=True, slots=True)
class Session:
    session_hash: str
    user_id: str
    expires_at: datetime
    access_token: bytes = b""  # ciphertext
    refresh_token: bytes = b""  # ciphertext (the provider's)
    profile: bytes = b""  # ciphertext of the user's profile JSON (email, name, picture)
    refresh_hash: str = ""  # sha256 hex of our current refresh token
    previous_refresh_hash: str = ""
    rotated_at: datetime | None = None

    def expired(self, now: datetime) -> bool:
        return now >= self.expires_at

    def refresh_state(self, presented_hash: str, now: datetime) -> RefreshState:
        """What a refresh token (by its hash) is to this session."""
        if self.refresh_hash and presented_hash == self.refresh_hash:
            return RefreshState.CURRENT
        if (
            self.previous_refresh_hash
            and presented_hash == self.previous_refresh_hash
            and self.rotated_at is not None
            and now - self.rotated_at <= REFRESH_GRACE
        ):
            return RefreshState.JUST_ROTATED
        return RefreshState.REUSED


class RefreshState(StrEnum):
    """`CURRENT`: rotate it. `JUST_ROTATED`: another tab rotated it a moment ago (answer
    without rotating again). `REUSED`: end the session."""

    CURRENT = "current"
    JUST_ROTATED = "just-rotated"
    REUSED = "reused"
