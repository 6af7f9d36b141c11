"""The trading calendars of the markets we price: Tokyo (also for Japanese mutual funds,
whose 基準価額 is set on Tokyo business days), New York, and FX (weekdays).

The Tokyo and New York tables come from the generated `calendar_data` module (2020-2030);
pass `calendar_for` to the market service as its `calendars` argument."""

from __future__ import annotations

from datetime import time
from functools import cache

from portfoliowise.adapters.market import calendar_data as data
from portfoliowise.domain.calendar import TradingCalendar
from portfoliowise.domain.instruments import Market


@cache
def tokyo_calendar() -> TradingCalendar:
    """Tokyo Stock Exchange (XTKS): 09:00-15:30 JST since 2024-11-05 (15:00 before),
    lunch break 11:30-12:30, closed 12/31-1/3 and on Japanese public holidays."""
    return TradingCalendar(
        name="XTKS",
        tz=data.XTKS_TZ,
        open=data.XTKS_OPEN,
        close=data.XTKS_CLOSE,
        holidays=data.XTKS_HOLIDAYS,
        early_closes=data.XTKS_EARLY_CLOSES,
        earlier_closes=data.XTKS_EARLIER_CLOSES,
        lunch_break=data.XTKS_LUNCH_BREAK,
        first_day=data.FIRST_DAY,
        last_day=data.LAST_DAY,
    )


@cache
def new_york_calendar() -> TradingCalendar:
    """New York Stock Exchange (XNYS, also Nasdaq's sessions): 09:30-16:00 ET, 13:00 on
    half days (the day after Thanksgiving, Christmas Eve, some July 3rds)."""
    return TradingCalendar(
        name="XNYS",
        tz=data.XNYS_TZ,
        open=data.XNYS_OPEN,
        close=data.XNYS_CLOSE,
        holidays=data.XNYS_HOLIDAYS,
        early_closes=data.XNYS_EARLY_CLOSES,
        earlier_closes=data.XNYS_EARLIER_CLOSES,
        lunch_break=data.XNYS_LUNCH_BREAK,
        first_day=data.FIRST_DAY,
        last_day=data.LAST_DAY,
    )


@cache
def fx_calendar() -> TradingCalendar:
    """Foreign exchange: every weekday on London dates (the dates Yahoo's daily FX bars
    carry), each day's rate final at 22:00 London (about 17:00 New York, the market's
    conventional day end). A simplification of the real Sunday-evening-to-Friday-evening
    week: a Friday rate then stays current until Monday 00:00 London."""
    return TradingCalendar(
        name="FX",
        tz="Europe/London",
        open=time(0, 0),
        close=time(22, 0),
        holidays=frozenset(),
    )


def calendar_for(market: Market) -> TradingCalendar:
    if market is Market.US:
        return new_york_calendar()
    if market is Market.FX:
        return fx_calendar()
    return tokyo_calendar()  # Market.JP and Market.FUND
