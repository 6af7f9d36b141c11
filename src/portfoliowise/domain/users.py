"""Which users PortfolioWise has seen: enough to tell a sign-up (a user's first sign-in
ever) from a returning user. Nothing else about the user is kept (no e-mail, no name)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol


class UserRegistry(Protocol):
    def first_seen(self, user_id: str, at: datetime) -> bool:
        """Record that `user_id` exists, as of `at` when it is new. True only the first
        time ever for that user (a conditional write: of concurrent calls, on any number
        of threads or instances, exactly one answers True); False afterwards.
        `SourceUnavailable` when the store cannot answer."""
        ...
