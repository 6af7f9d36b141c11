"""Trading calendars: holidays, session dates across midnight and time zones, opening hours,
and when a quote can still be the latest price."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from portfoliowise.adapters.market.calendars import (
    calendar_for,
    fx_calendar,
    new_york_calendar,
    tokyo_calendar,
)
from portfoliowise.domain.calendar import TradingCalendar
from portfoliowise.domain.instruments import Market

JST = ZoneInfo("Asia/Tokyo")
ET = ZoneInfo("America/New_York")
HOUR = timedelta(hours=1)


def jst(*args: int) -> datetime:
    return datetime(*args, tzinfo=JST)  # type: ignore[misc]


def et(*args: int) -> datetime:
    return datetime(*args, tzinfo=ET)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("day", "trading"),
    [
        (date(2025, 12, 30), True),  # 大納会
        (date(2025, 12, 31), False),
        (date(2026, 1, 1), False),
        (date(2026, 1, 2), False),  # closed although a weekday
        (date(2026, 1, 5), True),  # 大発会
        (date(2026, 1, 12), False),  # 成人の日
        (date(2026, 1, 10), False),  # Saturday
    ],
)
def test_tokyo_trading_days(day: date, trading: bool) -> None:
    assert tokyo_calendar().is_trading_day(day) is trading


@pytest.mark.parametrize(
    ("day", "trading"),
    [
        (date(2026, 11, 26), False),  # Thanksgiving
        (date(2026, 11, 27), True),  # a half day
        (date(2026, 1, 19), False),  # Martin Luther King Jr. Day
        (date(2026, 1, 12), True),  # Tokyo's holiday is New York's trading day
    ],
)
def test_new_york_trading_days(day: date, trading: bool) -> None:
    assert new_york_calendar().is_trading_day(day) is trading


def test_next_and_previous_trading_days_skip_holidays_and_weekends() -> None:
    tokyo = tokyo_calendar()
    assert tokyo.previous_trading_day(date(2026, 1, 5)) == date(2025, 12, 30)
    assert tokyo.next_trading_day(date(2025, 12, 30)) == date(2026, 1, 5)
    assert tokyo.next_trading_day(date(2026, 1, 9)) == date(2026, 1, 13)  # over 成人の日
    assert new_york_calendar().next_trading_day(date(2026, 11, 25)) == date(2026, 11, 27)


def test_session_times() -> None:
    tokyo, new_york = tokyo_calendar(), new_york_calendar()
    assert tokyo.session_open(date(2026, 1, 5)) == jst(2026, 1, 5, 9, 0)
    assert tokyo.session_close(date(2026, 1, 5)) == jst(2026, 1, 5, 15, 30)
    assert tokyo.session_close(date(2024, 11, 1)) == jst(2024, 11, 1, 15, 0)  # before 11/5
    assert tokyo.session_close(date(2024, 11, 5)) == jst(2024, 11, 5, 15, 30)
    assert new_york.session_close(date(2026, 11, 27)) == et(2026, 11, 27, 13, 0)
    assert new_york.session_close(date(2026, 11, 25)) == et(2026, 11, 25, 16, 0)


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        # Tokyo: 09:00 JST is 00:00 UTC, so the session date changes at UTC midnight.
        (datetime(2026, 1, 5, 23, 59, tzinfo=UTC), date(2026, 1, 5)),  # Tue 08:59 JST
        (datetime(2026, 1, 6, 0, 0, tzinfo=UTC), date(2026, 1, 6)),  # Tue 09:00 JST
        (datetime(2026, 1, 6, 14, 59, tzinfo=UTC), date(2026, 1, 6)),  # Tue 23:59 JST
        (datetime(2026, 1, 6, 15, 0, tzinfo=UTC), date(2026, 1, 6)),  # Wed 00:00, not open
        (datetime(2026, 1, 10, 3, 0, tzinfo=UTC), date(2026, 1, 9)),  # Saturday
        (datetime(2026, 1, 12, 3, 0, tzinfo=UTC), date(2026, 1, 9)),  # holiday Monday noon
        (datetime(2026, 1, 4, 23, 59, tzinfo=UTC), date(2025, 12, 30)),  # before 大発会
    ],
)
def test_tokyo_session_date(at: datetime, expected: date) -> None:
    assert tokyo_calendar().session_date(at) == expected


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (datetime(2026, 11, 27, 3, 0, tzinfo=UTC), date(2026, 11, 25)),  # Thanksgiving night
        (datetime(2026, 11, 27, 14, 29, tzinfo=UTC), date(2026, 11, 25)),  # 09:29 ET
        (datetime(2026, 11, 27, 14, 30, tzinfo=UTC), date(2026, 11, 27)),  # 09:30 ET
        # Daylight saving time began on 8 March 2026: the open moves to 13:30 UTC.
        (datetime(2026, 3, 9, 13, 29, tzinfo=UTC), date(2026, 3, 6)),
        (datetime(2026, 3, 9, 13, 30, tzinfo=UTC), date(2026, 3, 9)),
    ],
)
def test_new_york_session_date(at: datetime, expected: date) -> None:
    assert new_york_calendar().session_date(at) == expected


def test_one_instant_belongs_to_different_sessions_in_each_market() -> None:
    at = datetime(2026, 1, 6, 1, 0, tzinfo=UTC)  # 10:00 Tuesday in Tokyo, 20:00 Monday in NY
    assert tokyo_calendar().session_date(at) == date(2026, 1, 6)
    assert new_york_calendar().session_date(at) == date(2026, 1, 5)


@pytest.mark.parametrize(
    ("at", "is_open"),
    [
        (jst(2026, 1, 6, 8, 59), False),
        (jst(2026, 1, 6, 9, 0), True),
        (jst(2026, 1, 6, 12, 0), False),  # lunch break
        (jst(2026, 1, 6, 15, 29), True),
        (jst(2026, 1, 6, 15, 30), False),
        (jst(2024, 11, 1, 15, 10), False),  # closed at 15:00 then
        (jst(2024, 11, 5, 15, 10), True),
        (jst(2026, 1, 12, 10, 0), False),  # holiday
    ],
)
def test_tokyo_is_open(at: datetime, is_open: bool) -> None:
    assert tokyo_calendar().is_open(at) is is_open


def test_new_york_is_open_on_a_half_day() -> None:
    new_york = new_york_calendar()
    assert new_york.is_open(et(2026, 11, 27, 12, 59))
    assert not new_york.is_open(et(2026, 11, 27, 13, 0))


def test_next_open() -> None:
    tokyo = tokyo_calendar()
    assert tokyo.next_open(jst(2026, 1, 10, 12, 0)) == jst(2026, 1, 13, 9, 0)  # Sat -> Tue
    assert tokyo.next_open(jst(2026, 1, 6, 8, 0)) == jst(2026, 1, 6, 9, 0)
    assert tokyo.next_open(jst(2026, 1, 6, 9, 0)) == jst(2026, 1, 7, 9, 0)


class TestQuoteIsCurrent:
    friday_close = jst(2026, 1, 9, 15, 30)

    @pytest.mark.parametrize(
        ("now", "current"),
        [
            (jst(2026, 1, 9, 16, 0), True),
            (jst(2026, 1, 10, 12, 0), True),  # Saturday
            (jst(2026, 1, 12, 10, 0), True),  # holiday Monday
            (jst(2026, 1, 13, 8, 59), True),
            (jst(2026, 1, 13, 9, 0), False),  # Tuesday's session has opened
        ],
    )
    def test_a_friday_close_is_current_until_the_next_open(
        self, now: datetime, current: bool
    ) -> None:
        assert tokyo_calendar().quote_is_current(self.friday_close, now) is current

    def test_a_price_during_the_session_is_current_for_its_ttl(self) -> None:
        tokyo = tokyo_calendar()
        taken = jst(2026, 1, 9, 10, 0)
        assert tokyo.quote_is_current(taken, taken + timedelta(minutes=59))
        assert not tokyo.quote_is_current(taken, taken + HOUR)
        # Not the close: after the session it is only current for its TTL too.
        assert not tokyo.quote_is_current(taken, jst(2026, 1, 10, 12, 0))

    def test_a_close_from_an_older_session_is_not_current(self) -> None:
        tokyo = tokyo_calendar()
        thursday_close = jst(2026, 1, 8, 15, 30)
        assert tokyo.quote_is_current(thursday_close, jst(2026, 1, 9, 8, 30))
        assert not tokyo.quote_is_current(thursday_close, jst(2026, 1, 9, 9, 0))

    def test_current_until(self) -> None:
        tokyo, new_york = tokyo_calendar(), new_york_calendar()
        saturday = jst(2026, 1, 10, 12, 0)
        assert tokyo.current_until(self.friday_close, saturday) == jst(2026, 1, 13, 9, 0)
        intraday = jst(2026, 1, 9, 10, 0)
        assert tokyo.current_until(intraday, intraday) == intraday + HOUR
        half_day_close = et(2026, 11, 27, 13, 0)
        assert new_york.current_until(half_day_close, et(2026, 11, 27, 14, 0)) == et(
            2026, 11, 30, 9, 30
        )


def test_fx_trades_on_weekdays() -> None:
    fx = fx_calendar()
    friday = datetime(2026, 1, 9, 22, 0, tzinfo=ZoneInfo("Europe/London"))
    assert fx.quote_is_current(friday, datetime(2026, 1, 11, 12, 0, tzinfo=UTC))  # Sunday
    assert not fx.quote_is_current(friday, datetime(2026, 1, 12, 0, 0, tzinfo=UTC))
    assert fx.is_trading_day(date(2026, 1, 1))  # no holidays


def test_each_market_has_its_calendar() -> None:
    assert calendar_for(Market.JP) is tokyo_calendar()
    assert calendar_for(Market.FUND) is tokyo_calendar()  # 基準価額 on Tokyo business days
    assert calendar_for(Market.US) is new_york_calendar()
    assert calendar_for(Market.FX) is fx_calendar()


def test_instants_must_be_timezone_aware() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        tokyo_calendar().session_date(datetime(2026, 1, 9, 10, 0))  # noqa: DTZ001


def test_a_calendar_is_plain_data() -> None:
    calendar = TradingCalendar("TEST", "UTC", time(10), time(16), frozenset({date(2026, 1, 7)}))
    assert calendar.previous_trading_day(date(2026, 1, 8)) == date(2026, 1, 6)
    with pytest.raises(ValueError, match="open before"):
        TradingCalendar("BAD", "UTC", time(16), time(10), frozenset())
