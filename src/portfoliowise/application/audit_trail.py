"""The audit trail of one portfolio: every entry about it (the portfolio itself, its
holdings, targets and settings, a restore, its deletion), oldest or newest first, in pages.

Range rules: `until` defaults to now, `since` to 30 days before `until`; a range is at
most 90 days (the Audit table keeps entries 90 days). A page holds at most 200 entries; its
`cursor` carries the range and the last entry's key, so the next page continues where this
one stopped even when new entries arrive meanwhile."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from portfoliowise.domain.audit import AuditEntry
from portfoliowise.domain.errors import NotFoundError, ValidationError
from portfoliowise.domain.ports import AuditLog, Clock, PortfolioRepository

DEFAULT_DAYS = 30
MAX_DAYS = 90
DEFAULT_LIMIT = 50
MAX_LIMIT = 200
OLDEST_FIRST = "asc"
NEWEST_FIRST = "desc"


@dataclass(frozen=True, slots=True)
class AuditPage:
    portfolio_id: str
    since: datetime
    until: datetime
    order: str
    entries: list[AuditEntry]
    cursor: str | None  # the next page, or None when this is the last


def _utc(value: datetime, what: str) -> datetime:
    if value.tzinfo is None:
        raise ValidationError(f"{what} needs a time zone (e.g. 2026-01-31T00:00:00Z)")
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValidationError(f"{what} is outside the supported range of dates") from None


def _window(
    since: datetime | None, until: datetime | None, now: datetime
) -> tuple[datetime, datetime]:
    end = _utc(until, "until") if until is not None else now
    try:
        start = _utc(since, "since") if since is not None else end - timedelta(days=DEFAULT_DAYS)
    except OverflowError:
        raise ValidationError("since is outside the supported range of dates") from None
    if start > end or end - start > timedelta(days=MAX_DAYS):
        raise ValidationError(f"since..until must be a range of at most {MAX_DAYS} days")
    return start, end


def _key(entry: AuditEntry) -> tuple[str, str]:
    return entry.timestamp.isoformat(timespec="microseconds"), entry.event_id


def _encode(since: datetime, until: datetime, order: str, last: AuditEntry) -> str:
    stamp, event_id = _key(last)
    raw = json.dumps(
        [since.isoformat(), until.isoformat(), order, stamp, event_id], separators=(",", ":")
    )
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode(cursor: str) -> tuple[datetime, datetime, str, tuple[str, str]]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        since, until, order, stamp, event_id = json.loads(base64.urlsafe_b64decode(padded))
        start = datetime.fromisoformat(since)
        end = datetime.fromisoformat(until)
        if order not in (OLDEST_FIRST, NEWEST_FIRST) or start.tzinfo is None:
            raise ValueError(order)
        datetime.fromisoformat(stamp)
        return start, end, str(order), (str(stamp), str(event_id))
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError, RecursionError):
        raise ValidationError("cursor is not one this API gave") from None


def about(entry: AuditEntry, portfolio_id: str) -> bool:
    """Whether `entry` is about the portfolio (`portfolio/{id}` or below it)."""
    resource = f"portfolio/{portfolio_id}"
    return entry.resource == resource or entry.resource.startswith(resource + "/")


@dataclass(frozen=True, slots=True)
class AuditTrail:
    log: AuditLog
    portfolios: PortfolioRepository
    clock: Clock

    def page(
        self,
        user_id: str,
        portfolio_id: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        order: str = OLDEST_FIRST,
        limit: int = DEFAULT_LIMIT,
        cursor: str | None = None,
    ) -> AuditPage:
        """One page of the user's entries about the portfolio. Only the owner's entries are
        read, so another user's portfolio has none: with no entry in the range, a portfolio
        the user does not have is a `NotFoundError` (404); a deleted one keeps its trail."""
        if order not in (OLDEST_FIRST, NEWEST_FIRST):
            raise ValidationError("order must be asc (oldest first) or desc (newest first)")
        if not 1 <= limit <= MAX_LIMIT:
            raise ValidationError(f"limit must be between 1 and {MAX_LIMIT}")
        after: tuple[str, str] | None = None
        if cursor:
            start, end, order, after = _decode(cursor)
            start, end = _window(start, end, end)
        else:
            start, end = _window(since, until, self.clock.now().astimezone(UTC))
        entries = [e for e in self.log.for_user(user_id, start, end) if about(e, portfolio_id)]
        if not entries and cursor is None and not self._exists(user_id, portfolio_id):
            raise NotFoundError(f"no portfolio {portfolio_id}")
        entries.sort(key=_key, reverse=order == NEWEST_FIRST)
        if after is not None:
            mark = after
            if order == OLDEST_FIRST:
                entries = [e for e in entries if _key(e) > mark]
            else:
                entries = [e for e in entries if _key(e) < mark]
        page, more = entries[:limit], len(entries) > limit
        next_cursor = _encode(start, end, order, page[-1]) if more and page else None
        return AuditPage(portfolio_id, start, end, order, page, next_cursor)

    def _exists(self, user_id: str, portfolio_id: str) -> bool:
        try:
            self.portfolios.get(user_id, portfolio_id)
        except NotFoundError:
            return False
        return True
