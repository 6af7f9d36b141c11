"""Gathering a file's activities row by row: accepted ones, refused ones with their line
and the domain's reason, and ids for the rows that carry none."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from portfoliowise.adapters.ledger_files.model import RejectedRow
from portfoliowise.domain.activities import Activity
from portfoliowise.domain.errors import DomainError, ValidationError

ID_DIGITS = 20


class Collector:
    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.activities: list[Activity] = []
        self.rejected: list[RejectedRow] = []
        self.rows = 0
        self._digests: dict[str, int] = {}
        self._ids: set[str] = set()

    def new_id(self, parts: Iterable[str]) -> str:
        """An id made of the row's content: the same file read twice gives the same ids
        (so a repeated import can be recognised), identical rows get `-2`, `-3`..."""
        digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:ID_DIGITS]
        seen = self._digests.get(digest, 0) + 1
        self._digests[digest] = seen
        base = f"{self.prefix}-{digest}"
        return base if seen == 1 else f"{base}-{seen}"

    def add(self, activity: Activity) -> None:
        if activity.activity_id in self._ids:
            raise ValidationError(f"a second activity with id {activity.activity_id!r}")
        self._ids.add(activity.activity_id)
        self.activities.append(activity)

    def reject(self, line: int, error: DomainError, where: str | None = None) -> None:
        code = getattr(error, "code", "validation_error")
        self.rejected.append(RejectedRow(line, str(error), str(code), where))
