"""Trading calendars: which days an exchange trades, when its sessions open and close, and
so which trading date a price belongs to and whether a quote can still be the latest one.

A `TradingCalendar` is plain data (times in the exchange's own time zone, a set of
non-weekend closed days); the holiday tables themselves are generated data that live with
the adapters (`portfoliowise.adapters.market.calendars`). Outside the years those tables
cover, only weekends are known to be closed: a missed holiday then makes a quote look
older than it is (it is fetched again), never fresher.

Definitions used throughout:
- the *session date* at an instant is the trading day whose latest price is available then:
  the day itself once its session has opened, otherwise the previous trading day (before
  the open, and on weekends and holidays);
- a quote is *current* at `now` when no newer price can exist yet: it belongs to the session
  of the session date at `now`, and it is either that session's final close (priced at or
  after the close) or younger than the freshness TTL (a price taken during the session).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DEFAULT_FRESH_FOR = timedelta(hours=1)
"""The freshness of a price taken during a session (the Cache table's 1 h TTL)."""

_ONE_DAY = timedelta(days=1)
_MAX_SCAN_DAYS = 31  # no exchange closes for longer; guards against a corrupt table


@dataclass(frozen=True, slots=True, eq=False)
class TradingCalendar:
    """An exchange's sessions. `open`/`close` are the regular local times now in force;
    `earlier_closes` holds `(until, close)` pairs: sessions before `until` closed at `close`
    (Tokyo closed at 15:00 until 2024-11-05); `early_closes` are the half days (New York's
    13:00 closes) and `lunch_break` the mid-session pause (Tokyo 11:30-12:30) during which
    the exchange is not open. `first_day`/`last_day` bound the years the holiday table
    covers (informative: outside them only weekends are known to be closed)."""

    name: str
    tz: str
    open: time
    close: time
    holidays: frozenset[date]
    early_closes: Mapping[date, time] = field(default_factory=dict)
    earlier_closes: tuple[tuple[date, time], ...] = ()
    lunch_break: tuple[time, time] | None = None
    first_day: date | None = None
    last_day: date | None = None
    zone: ZoneInfo = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "zone", ZoneInfo(self.tz))
        if self.open >= self.close:
            raise ValueError(f"{self.name}: the session must open before it closes")
        object.__setattr__(self, "earlier_closes", tuple(sorted(self.earlier_closes)))

    # -- days ---------------------------------------------------------------------------

    def is_trading_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self.holidays

    def next_trading_day(self, day: date) -> date:
        """The first trading day strictly after `day`."""
        return self._scan(day, _ONE_DAY)

    def previous_trading_day(self, day: date) -> date:
        """The last trading day strictly before `day`."""
        return self._scan(day, -_ONE_DAY)

    def _scan(self, day: date, step: timedelta) -> date:
        candidate = day + step
        for _ in range(_MAX_SCAN_DAYS):
            if self.is_trading_day(candidate):
                return candidate
            candidate += step
        raise ValueError(f"{self.name}: no trading day within a month of {day}")

    # -- session times ------------------------------------------------------------------

    def close_time(self, day: date) -> time:
        """The local closing time of `day`'s session (half days and past regimes included)."""
        early = self.early_closes.get(day)
        if early is not None:
            return early
        for until, earlier in self.earlier_closes:
            if day < until:
                return earlier
        return self.close

    def session_open(self, day: date) -> datetime:
        return datetime.combine(day, self.open, tzinfo=self.zone)

    def session_close(self, day: date) -> datetime:
        return datetime.combine(day, self.close_time(day), tzinfo=self.zone)

    def local(self, at: datetime) -> datetime:
        if at.tzinfo is None:
            raise ValueError(f"{self.name}: instants must be timezone-aware, got {at!r}")
        return at.astimezone(self.zone)

    # -- instants -----------------------------------------------------------------------

    def session_date(self, at: datetime) -> date:
        """The trading date the latest available price at `at` belongs to: `at`'s local
        date once its session has opened, else the previous trading day."""
        local = self.local(at)
        day = local.date()
        if self.is_trading_day(day) and local.time() >= self.open:
            return day
        return self.previous_trading_day(day)

    def is_open(self, at: datetime) -> bool:
        """Whether the exchange is trading at `at` (not during the lunch break)."""
        local = self.local(at)
        day = local.date()
        if not self.is_trading_day(day):
            return False
        now = local.time()
        if not self.open <= now < self.close_time(day):
            return False
        if self.lunch_break is not None:
            start, end = self.lunch_break
            return not start <= now < end
        return True

    def next_open(self, at: datetime) -> datetime:
        """The first session open strictly after `at`."""
        local = self.local(at)
        day = local.date()
        if self.is_trading_day(day) and local.time() < self.open:
            return self.session_open(day)
        return self.session_open(self.next_trading_day(day))

    def is_final_close(self, as_of: datetime, now: datetime) -> bool:
        """Whether a price at `as_of` is the closing price of the latest session at `now`
        (the session has closed and no newer session has opened since)."""
        latest = self.session_date(now)
        return self.session_date(as_of) == latest and as_of >= self.session_close(latest)

    def quote_is_current(
        self, as_of: datetime, now: datetime, fresh_for: timedelta = DEFAULT_FRESH_FOR
    ) -> bool:
        """True when no newer price can exist at `now` for a quote priced at `as_of`: it is
        the final close of the latest session (a Friday close is current all weekend, until
        Monday's open), or a price from the latest session younger than `fresh_for`."""
        if as_of > now:
            as_of = now  # a source's clock slightly ahead of ours
        if self.session_date(as_of) != self.session_date(now):
            return False
        if self.is_final_close(as_of, now):
            return True
        return now - as_of < fresh_for

    def current_until(
        self, as_of: datetime, now: datetime, fresh_for: timedelta = DEFAULT_FRESH_FOR
    ) -> datetime:
        """Until when a quote priced at `as_of` and fetched at `now` may be served as
        current: `now + fresh_for`, or, for the final close of the latest session, the next
        session's open when that is later (a close fetched on Friday evening stays current
        until Monday's open)."""
        until = now + fresh_for
        if as_of <= now and self.is_final_close(as_of, now):
            return max(until, self.next_open(now))
        return until
