"""The generated Tokyo and New York tables (`calendar_data`, written by
scripts/generate_calendars.py) against exchange_calendars, for every day of the years they
cover: trading or not, and each session's open, close and lunch break."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from portfoliowise.adapters.market import calendar_data
from portfoliowise.adapters.market.calendars import new_york_calendar, tokyo_calendar
from portfoliowise.domain.calendar import TradingCalendar

xcals = pytest.importorskip("exchange_calendars")
# exchange_calendars on pandas 3 triggers pandas' own deprecation notices: not ours.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _utc(timestamp: object) -> datetime:
    return timestamp.to_pydatetime().astimezone(UTC)  # type: ignore[attr-defined, no-any-return]


@pytest.mark.parametrize(("code", "ours"), [("XTKS", tokyo_calendar), ("XNYS", new_york_calendar)])
def test_every_day_matches_exchange_calendars(code: str, ours: object) -> None:
    calendar: TradingCalendar = ours()  # type: ignore[operator]
    first, last = calendar_data.FIRST_DAY, calendar_data.LAST_DAY
    reference = xcals.get_calendar(
        code,
        start=(first - timedelta(days=40)).isoformat(),
        end=(last + timedelta(days=40)).isoformat(),
    )
    sessions = {ts.date(): ts for ts in reference.sessions}
    day, checked = first, 0
    while day <= last:
        session = sessions.get(day)
        assert calendar.is_trading_day(day) is (session is not None), day
        if session is not None:
            assert calendar.session_open(day) == _utc(reference.session_open(session)), day
            assert calendar.session_close(day) == _utc(reference.session_close(session)), day
            if calendar.lunch_break is not None:
                start, end = calendar.lunch_break
                assert datetime.combine(day, start, calendar.zone) == _utc(
                    reference.session_break_start(session)
                ), day
                assert datetime.combine(day, end, calendar.zone) == _utc(
                    reference.session_break_end(session)
                ), day
            checked += 1
        day += timedelta(days=1)
    assert checked > 2600  # eleven years of sessions


def test_the_tables_cover_2020_to_2030() -> None:
    first, last = calendar_data.FIRST_DAY, calendar_data.LAST_DAY
    assert (first, last) == (date(2020, 1, 1), date(2030, 12, 31))
    assert min(calendar_data.XTKS_HOLIDAYS).year == 2020
    assert max(calendar_data.XNYS_HOLIDAYS).year == 2030
