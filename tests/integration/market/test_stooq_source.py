"""Stooq over recorded CSV answers: one request for up to 100 symbols, unknown and
malformed rows left out (never a zero), Stooq's Polish time zone converted, and every way
the endpoint fails raised as `SourceUnavailable`."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
from recorded_http import NOT_TEXT, TRANSPORT_FAILURES, Answer, Recorder, body, raw

from portfoliowise.adapters.market.http import Throttled
from portfoliowise.adapters.market.stooq import (
    StooqHistorySource,
    StooqQuoteSource,
    stooq_symbol,
)
from portfoliowise.domain.errors import NotFoundError, SourceUnavailable
from portfoliowise.domain.instruments import Instrument, parse_symbol
from portfoliowise.domain.money import Money
from portfoliowise.domain.quotes import QuoteStatus

HEADER = "Symbol,Date,Time,Open,High,Low,Close,Volume,Name"
REQUESTED = [parse_symbol(s) for s in ("7203", "130A", "AAPL", "BRK.B", "ZZZZ")]


def quotes_source(recorder: Recorder) -> StooqQuoteSource:
    return StooqQuoteSource(recorder.client())


def test_symbols_are_mapped_to_stooq_tickers() -> None:
    assert stooq_symbol(parse_symbol("7203.T")) == "7203.jp"
    assert stooq_symbol(parse_symbol("130A")) == "130a.jp"
    assert stooq_symbol(parse_symbol("BRK.B")) == "brk-b.us"
    assert stooq_symbol(parse_symbol("aapl")) == "aapl.us"
    assert stooq_symbol(parse_symbol("0331418A")) is None
    assert stooq_symbol(parse_symbol("USDJPY=X")) is None


def test_one_request_prices_every_symbol_stooq_knows() -> None:
    recorder = Recorder(body("stooq_quotes.csv", content_type="text/csv"))
    quotes = quotes_source(recorder).fetch(REQUESTED)

    assert recorder.count == 1
    assert str(recorder.requests[0].url) == (
        "https://stooq.com/q/l/?s=7203.jp+130a.jp+aapl.us+brk-b.us+zzzz.us&f=sd2t2ohlcvn&h&e=csv"
    )
    assert set(quotes) == {"7203", "130A", "AAPL", "BRK-B"}  # ZZZZ (N/D) is absent
    toyota, apple = quotes["7203"], quotes["AAPL"]
    assert toyota.price == Money.of("3021", "JPY")
    assert apple.price == Money.of("235.41", "USD")
    assert quotes["BRK-B"].price == Money.of("513.66", "USD")
    assert quotes["130A"].price == Money.of("1437", "JPY")
    assert apple.price is not None
    assert isinstance(apple.price.amount, Decimal)
    assert apple.status is QuoteStatus.LIVE
    assert apple.source == "stooq"
    assert apple.name == "APPLE"
    assert toyota.name == "TOYOTA MOTOR CORP"
    assert apple.volume == Decimal("21513921")
    # No previous close on this endpoint: no change is made up (e.g. from the open).
    assert apple.change is None
    assert apple.change_percent is None


def test_times_are_read_in_stooqs_time_zone() -> None:
    recorder = Recorder(body("stooq_quotes.csv"))
    quotes = quotes_source(recorder).fetch(REQUESTED)
    # 27 November: Poland is on CET (UTC+1).
    assert quotes["AAPL"].as_of == datetime(2026, 11, 27, 18, 0, 7, tzinfo=UTC)
    assert quotes["7203"].as_of == datetime(2026, 11, 27, 6, 30, tzinfo=UTC)


def test_summer_times_are_read_as_cest() -> None:
    csv = f"{HEADER}\nAAPL.US,2026-07-15,22:00:07,1,1,1,210.5,5,APPLE\n"
    quotes = quotes_source(Recorder(raw(csv))).fetch([parse_symbol("AAPL")])
    assert quotes["AAPL"].as_of == datetime(2026, 7, 15, 20, 0, 7, tzinfo=UTC)


def test_a_hundred_symbols_cost_one_request() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        symbols = request.url.params["s"].split(" ")  # `+` decodes to a space
        rows = [
            f"{s.upper()},2026-11-27,19:00:07,10,11,9,{10 + i}.5,1000,NAME {i}"
            for i, s in enumerate(symbols)
        ]
        return httpx.Response(200, text="\r\n".join([HEADER, *rows]) + "\r\n")

    recorder = Recorder(answer)
    instruments = [Instrument(f"{1000 + i}", parse_symbol("7203").market) for i in range(50)]
    instruments += [parse_symbol(f"A{chr(65 + i // 26)}{chr(65 + i % 26)}") for i in range(50)]
    assert len(set(instruments)) == 100

    quotes = quotes_source(recorder).fetch(instruments)

    assert recorder.count == 1
    assert len(quotes) == 100
    assert quotes["1000"].price == Money.of("10.5", "JPY")


def test_more_than_a_hundred_symbols_go_in_requests_of_a_hundred() -> None:
    recorder = Recorder(raw(f"{HEADER}\n"))
    instruments = [parse_symbol(f"{1000 + i}") for i in range(150)]
    assert quotes_source(recorder).fetch(instruments) == {}
    assert recorder.count == 2


def test_instruments_of_other_markets_are_not_sent() -> None:
    recorder = Recorder(body("stooq_quotes.csv"))
    source = quotes_source(recorder)
    assert source.fetch([parse_symbol("0331418A"), parse_symbol("USD-JPY")]) == {}
    assert recorder.count == 0
    source.fetch([parse_symbol("0331418A"), parse_symbol("AAPL")])
    assert recorder.requests[0].url.params["s"] == "aapl.us"


def test_malformed_rows_are_absent_never_zero() -> None:
    recorder = Recorder(body("stooq_quotes_malformed.csv"))
    wanted = [parse_symbol(s) for s in ("7203", "AAPL", "MSFT", "BRK-B", "NVDA")]
    quotes = quotes_source(recorder).fetch(wanted)
    assert set(quotes) == {"NVDA"}  # bad close, negative close, short row, bad date
    assert quotes["NVDA"].price == Money.of("182.44", "USD")


def test_an_unknown_symbol_alone_is_an_empty_answer_not_a_failure() -> None:
    csv = f"{HEADER}\nZZZZ.US,N/D,N/D,N/D,N/D,N/D,N/D,N/D,ZZZZ.US\n"
    assert quotes_source(Recorder(raw(csv))).fetch([parse_symbol("ZZZZ")]) == {}


def test_a_name_with_a_comma_is_kept_whole() -> None:
    csv = f"{HEADER}\nT.US,2026-11-27,19:00:06,17.4,17.41,17.26,17.4,25891151,AT&T, INC\n"
    quote = quotes_source(Recorder(raw(csv))).fetch([parse_symbol("T")])["T"]
    assert quote.name == "AT&T, INC"
    assert quote.price == Money.of("17.4", "USD")


@pytest.mark.parametrize("failure", sorted(TRANSPORT_FAILURES))
def test_transport_failures_fail_the_source(failure: str) -> None:
    recorder = Recorder(TRANSPORT_FAILURES[failure])
    with pytest.raises(SourceUnavailable, match="stooq"):
        quotes_source(recorder).fetch(REQUESTED)
    assert recorder.count == 1


def test_a_429_says_how_long_to_wait() -> None:
    with pytest.raises(Throttled, match="Retry-After 60") as caught:
        quotes_source(Recorder(TRANSPORT_FAILURES["429"])).fetch(REQUESTED)
    assert caught.value.retry_after == timedelta(seconds=60)


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (body("stooq_daily_limit.txt"), "daily hits limit"),
        (body("stooq_apikey_page.html", content_type="text/html"), "HTML"),
        (raw(""), "empty"),
        (NOT_TEXT, "not utf-8"),
        (raw("Date,Open,High,Low,Close,Volume\n2026-11-27,1,1,1,1,1\n"), "header"),
        (raw("<?xml version='1.0'?><error/>"), "HTML"),
    ],
    ids=["daily-limit", "api-key-page", "empty", "undecodable", "wrong-header", "xml"],
)
def test_bodies_that_are_not_the_quote_csv_fail_the_source(answer: Answer, error: str) -> None:
    with pytest.raises(SourceUnavailable, match=f"(?i){error}"):
        quotes_source(Recorder(answer)).fetch(REQUESTED)


def test_the_daily_limit_is_a_throttle() -> None:
    with pytest.raises(Throttled):
        quotes_source(Recorder(body("stooq_daily_limit.txt"))).fetch(REQUESTED)


# -- history ---------------------------------------------------------------------------


def history_source(recorder: Recorder) -> StooqHistorySource:
    return StooqHistorySource(recorder.client())


def test_history_is_one_request_for_the_range() -> None:
    recorder = Recorder(body("stooq_history_7203.csv"))
    history = history_source(recorder).history(
        parse_symbol("7203.T"), date(2026, 11, 20), date(2026, 11, 27)
    )
    assert recorder.count == 1
    params = recorder.requests[0].url.params
    assert dict(params) == {"s": "7203.jp", "d1": "20261120", "d2": "20261127", "i": "d"}
    assert history.symbol == "7203"
    assert history.currency == "JPY"
    assert history.source == "stooq"
    # Rows outside the asked range (the 19th) are dropped; oldest first.
    assert [c.day for c in history.closes] == [
        date(2026, 11, 20),
        date(2026, 11, 24),
        date(2026, 11, 25),
        date(2026, 11, 26),
        date(2026, 11, 27),
    ]
    assert history.closes[-1].close == Decimal("3021")
    assert history.closes[-1].volume == Decimal("18734500")


def test_no_data_is_not_found() -> None:
    with pytest.raises(NotFoundError):
        history_source(Recorder(body("stooq_history_no_data.txt"))).history(
            parse_symbol("ZZZZ"), date(2026, 11, 1), date(2026, 11, 27)
        )


def test_history_of_a_fund_is_not_asked_for() -> None:
    recorder = Recorder(body("stooq_history_7203.csv"))
    with pytest.raises(NotFoundError):
        history_source(recorder).history(
            parse_symbol("0331418A"), date(2026, 11, 1), date(2026, 11, 27)
        )
    assert recorder.count == 0


@pytest.mark.parametrize(
    "answer",
    [
        *TRANSPORT_FAILURES.values(),
        body("stooq_daily_limit.txt"),
        body("stooq_apikey_page.html"),
        NOT_TEXT,
        raw("Symbol,Name\nAAPL,APPLE\n"),
    ],
)
def test_history_failures_fail_the_source(answer: Answer) -> None:
    with pytest.raises(SourceUnavailable):
        history_source(Recorder(answer)).history(
            parse_symbol("AAPL"), date(2026, 11, 1), date(2026, 11, 27)
        )


def test_malformed_history_rows_are_skipped() -> None:
    csv = "Date,Open,High,Low,Close,Volume\n2026-11-26,1,1,1,abc,1\n2026-11-27,1,1,1,235.41,\n"
    history = history_source(Recorder(raw(csv))).history(
        parse_symbol("AAPL"), date(2026, 11, 1), date(2026, 11, 27)
    )
    assert [(c.day, c.close, c.volume) for c in history.closes] == [
        (date(2026, 11, 27), Decimal("235.41"), None)
    ]
