"""The Yahoo adapters against Yahoo's chart API in its wire format (recorded bodies served
to yfinance through a requests transport): prices, changes, times, and every failure mode
ending as absent symbols or `SourceUnavailable`, never as a price."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from yahoo_recorded import (
    FAILURES,
    RATE_LIMITED,
    SERVER_ERROR,
    Answer,
    RecordedYahoo,
    Slow,
    chart,
    chart_reply,
    reply,
)

from portfoliowise.adapters.clock import FixedClock
from portfoliowise.adapters.market.yahoo import (
    YahooFxSource,
    YahooHistorySource,
    YahooQuoteSource,
    to_decimal,
)
from portfoliowise.domain.errors import NotFoundError, SourceUnavailable
from portfoliowise.domain.instruments import parse_symbol
from portfoliowise.domain.money import EUR, JPY, USD, Money
from portfoliowise.domain.quotes import QuoteStatus

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:yfinance")

TOKYO = ZoneInfo("Asia/Tokyo")
NEW_YORK = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")


def _charts() -> dict[str, Answer]:
    return {
        "7203.T": chart_reply("7203.T_5d"),
        "AAPL": chart_reply("AAPL_5d"),
        "USDJPY=X": chart_reply("USDJPY=X_5d"),
    }


def _quotes(
    fake: RecordedYahoo, clock: FixedClock, cache_dir: str, **kw: object
) -> YahooQuoteSource:
    return YahooQuoteSource(fake.session(), clock=clock, cache_dir=cache_dir, **kw)  # type: ignore[arg-type]


def test_tokyo_and_us_quotes_come_from_one_download(
    clock: FixedClock, yahoo_cache_dir: str
) -> None:
    fake = RecordedYahoo(_charts())
    quotes = _quotes(fake, clock, yahoo_cache_dir).fetch(
        [parse_symbol("7203.T"), parse_symbol("AAPL")]
    )

    toyota, apple = quotes["7203"], quotes["AAPL"]
    assert toyota.price == Money(Decimal("3365"), JPY)
    assert toyota.change == Decimal("25")  # 3365 - 3340 (Thursday's close)
    assert toyota.change_percent == Decimal("0.75")
    assert toyota.volume == Decimal("20188600")
    assert toyota.as_of == datetime(2026, 1, 9, 15, 30, tzinfo=TOKYO)  # Friday's close
    assert (toyota.status, toyota.source) == (QuoteStatus.LIVE, "yahoo")
    # Yahoo's single-precision floats (259.3699951171875) come back as the quoted price.
    assert apple.price == Money(Decimal("259.37"), USD)
    assert apple.change == Decimal("0.47")
    assert apple.change_percent == Decimal("0.18")
    assert apple.as_of == datetime(2026, 1, 9, 16, 0, tzinfo=NEW_YORK)
    # One chart request per symbol (Yahoo's chart API has no batch form), no time-zone
    # lookups (seeded from our calendars), nothing outside the recorded endpoints.
    assert sorted(fake.chart_symbols()) == ["7203.T", "AAPL"]
    assert all(r.params["range"] == ["5d"] for r in fake.charts_requested())
    assert fake.unexpected == []


def test_no_time_zone_lookups_for_symbols_yahoo_has_not_seen(
    clock: FixedClock, yahoo_cache_dir: str
) -> None:
    # Symbols no other test uses, so yfinance's time-zone cache cannot already know them.
    fake = RecordedYahoo(
        {"9432.T": chart_reply("7203.T_5d", "9432.T"), "MSFT": chart_reply("AAPL_5d", "MSFT")}
    )
    quotes = _quotes(fake, clock, yahoo_cache_dir).fetch(
        [parse_symbol("9432"), parse_symbol("MSFT")]
    )
    assert set(quotes) == {"9432", "MSFT"}
    assert [r.params["range"] for r in fake.charts_requested()] == [["5d"], ["5d"]]


def test_a_price_taken_during_the_session_is_dated_by_yahoos_delay(
    yahoo_cache_dir: str,
) -> None:
    during = FixedClock(datetime(2026, 1, 9, 2, 0, tzinfo=UTC))  # Friday 11:00 JST
    fake = RecordedYahoo(_charts())
    quote = _quotes(fake, during, yahoo_cache_dir).fetch([parse_symbol("7203")])["7203"]
    assert quote.as_of == datetime(2026, 1, 9, 10, 40, tzinfo=TOKYO)  # 20 minutes late


def test_fx_rates(clock: FixedClock, yahoo_cache_dir: str) -> None:
    fake = RecordedYahoo(_charts())
    fx = YahooFxSource(fake.session(), clock=clock, cache_dir=yahoo_cache_dir)
    rates = fx.fetch_rates([(USD, JPY), (EUR, USD)])  # Yahoo knows only the first here
    assert len(rates) == 1
    assert (rates[0].base, rates[0].quote, rates[0].rate) == (USD, JPY, Decimal("157.892"))
    assert rates[0].as_of == datetime(2026, 1, 9, 22, 0, tzinfo=LONDON)
    assert set(fake.chart_symbols()) == {"EURUSD=X", "USDJPY=X"}


def test_funds_have_no_yahoo_symbol_and_are_never_asked(
    clock: FixedClock, yahoo_cache_dir: str
) -> None:
    fake = RecordedYahoo(_charts())
    assert _quotes(fake, clock, yahoo_cache_dir).fetch([parse_symbol("0331418A")]) == {}
    assert fake.sent() == 0


def test_an_unknown_symbol_is_absent_among_known_ones(
    clock: FixedClock, yahoo_cache_dir: str
) -> None:
    fake = RecordedYahoo(_charts())
    quotes = _quotes(fake, clock, yahoo_cache_dir).fetch(
        [parse_symbol("7203"), parse_symbol("ZZZZ")]
    )
    assert set(quotes) == {"7203"}


def test_a_symbol_that_fails_alone_is_absent(clock: FixedClock, yahoo_cache_dir: str) -> None:
    fake = RecordedYahoo({**_charts(), "AAPL": SERVER_ERROR})
    quotes = _quotes(fake, clock, yahoo_cache_dir).fetch(
        [parse_symbol("7203"), parse_symbol("AAPL")]
    )
    assert set(quotes) == {"7203"}


@pytest.mark.parametrize("failure", sorted(FAILURES))
def test_yahoo_failing_as_a_whole_is_source_unavailable(
    failure: str, clock: FixedClock, yahoo_cache_dir: str
) -> None:
    fake = RecordedYahoo(default=FAILURES[failure])
    source = _quotes(fake, clock, yahoo_cache_dir)
    with pytest.raises(SourceUnavailable):
        source.fetch([parse_symbol("7203"), parse_symbol("AAPL")])
    assert set(fake.chart_symbols()) == {"7203.T", "AAPL"}
    assert fake.unexpected == []


def test_a_bar_without_a_close_is_never_a_price(clock: FixedClock, yahoo_cache_dir: str) -> None:
    last_missing = chart("7203.T_5d")
    last_missing["chart"]["result"][0]["indicators"]["quote"][0]["close"][-1] = None
    no_closes = chart("AAPL_5d")
    no_closes["chart"]["result"][0]["indicators"]["quote"][0]["close"] = [None] * 5
    fake = RecordedYahoo({"7203.T": reply(last_missing), "AAPL": reply(no_closes)})
    quotes = _quotes(fake, clock, yahoo_cache_dir).fetch(
        [parse_symbol("7203"), parse_symbol("AAPL")]
    )
    assert "AAPL" not in quotes
    # Thursday's close with Thursday's time: the latest price there is, honestly dated.
    assert quotes["7203"].price == Money(Decimal("3340"), JPY)
    assert quotes["7203"].as_of == datetime(2026, 1, 8, 15, 30, tzinfo=TOKYO)


def test_a_rate_limited_yahoo_is_not_sent_the_rest_of_the_batch(
    clock: FixedClock, yahoo_cache_dir: str
) -> None:
    fake = RecordedYahoo(default=RATE_LIMITED)
    codes = [parse_symbol(str(1300 + n)) for n in range(60)]
    source = _quotes(fake, clock, yahoo_cache_dir, chunk_size=25)
    with pytest.raises(SourceUnavailable):
        source.fetch(codes)
    assert len(set(fake.chart_symbols())) == 25  # the first chunk only, not all 60


def test_a_slow_yahoo_is_abandoned_at_the_deadline(clock: FixedClock, yahoo_cache_dir: str) -> None:
    slow = Slow(chart_reply("7203.T_5d"), seconds=1.0)
    fake = RecordedYahoo({"7203.T": slow})
    source = _quotes(fake, clock, yahoo_cache_dir, deadline=0.2)
    started = time.monotonic()
    with pytest.raises(SourceUnavailable, match="within"):
        source.fetch([parse_symbol("7203")])
    assert time.monotonic() - started < 0.9
    assert slow.done.wait(5)  # let the abandoned call finish before the next test


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (259.3699951171875, "259.37"),
        (12345.669921875, "12345.67"),
        (2800.0, "2800"),
        (157.89199829101562, "157.892"),
        (0.006409999914467335, "0.00641"),
        (float("nan"), None),
        (0.0, None),
        (-1.0, None),
        (None, None),
    ],
)
def test_numbers_become_decimals_at_yahoos_precision(raw: object, expected: str | None) -> None:
    assert to_decimal(raw) == (None if expected is None else Decimal(expected))


# -- history -------------------------------------------------------------------------------


def _history(fake: RecordedYahoo, clock: FixedClock, cache_dir: str) -> YahooHistorySource:
    return YahooHistorySource(fake.session(), clock=clock, cache_dir=cache_dir)


def test_daily_history(clock: FixedClock, yahoo_cache_dir: str) -> None:
    fake = RecordedYahoo({"7203.T": chart_reply("7203.T_2025-12")})
    history = _history(fake, clock, yahoo_cache_dir).history(
        parse_symbol("7203"), date(2025, 12, 1), date(2025, 12, 31)
    )
    assert (history.symbol, history.currency, history.source) == ("7203", "JPY", "yahoo")
    days = [c.day for c in history.closes]
    assert days[0] == date(2025, 12, 1)
    assert days[-1] == date(2025, 12, 30)  # the exchange is closed on the 31st
    assert len(days) == 22 == len(set(days))
    assert all(isinstance(c.close, Decimal) and c.close > 0 for c in history.closes)
    (request,) = fake.charts_requested()
    assert "period1" in request.params
    assert request.params["interval"] == ["1d"]


def test_history_of_an_unknown_symbol_is_not_found(clock: FixedClock, yahoo_cache_dir: str) -> None:
    fake = RecordedYahoo()
    with pytest.raises(NotFoundError):
        _history(fake, clock, yahoo_cache_dir).history(
            parse_symbol("ZZZZ"), date(2025, 12, 1), date(2025, 12, 31)
        )


@pytest.mark.parametrize("failure", sorted(set(FAILURES) - {"unknown-symbol"}))
def test_history_failures_are_source_unavailable(
    failure: str, clock: FixedClock, yahoo_cache_dir: str
) -> None:
    fake = RecordedYahoo(default=FAILURES[failure])
    source = _history(fake, clock, yahoo_cache_dir)
    with pytest.raises(SourceUnavailable):
        source.history(parse_symbol("7203"), date(2025, 12, 1), date(2025, 12, 31))
    # A failed answer is not memoised: once Yahoo is back, the same range is asked again.
    fake.charts["7203.T"] = chart_reply("7203.T_2025-12")
    fake.default = chart_reply("7203.T_2025-12")
    again = source.history(parse_symbol("7203"), date(2025, 12, 1), date(2025, 12, 31))
    assert len(again.closes) == 22
