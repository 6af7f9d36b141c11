"""Japanese mutual funds from the fund library's CSV (Shift_JIS, per 10,000 units): the
latest 基準価額 is the quote, its change from the previous row is the change; unknown and
unmapped funds are absent; one request per fund."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from recorded_http import NOT_TEXT, TRANSPORT_FAILURES, Answer, Recorder, body, raw

from portfoliowise.adapters.market.funds import (
    FundListing,
    FundNavSource,
    bundled_fund_isins,
    isin_is_valid,
    parse_nav_csv,
)
from portfoliowise.adapters.market.http import Throttled
from portfoliowise.domain.errors import NotFoundError, SourceUnavailable
from portfoliowise.domain.instruments import parse_symbol
from portfoliowise.domain.money import Money
from portfoliowise.domain.quotes import QuoteStatus

ALL_COUNTRY = parse_symbol("0331418A")  # eMAXIS Slim 全世界株式（オール・カントリー）
SP500 = parse_symbol("03311187")  # eMAXIS Slim 米国株式（S&P500）


def by_code(routes: dict[str, Answer], default: Answer | None = None) -> Recorder:
    return Recorder(default, routes, key="associFundCd")


def test_the_latest_nav_is_the_quote_per_ten_thousand_units() -> None:
    recorder = by_code({"0331418A": body("toushin_0331418A.csv", content_type="text/csv")})
    quotes = FundNavSource(recorder.client()).fetch([ALL_COUNTRY])

    assert recorder.count == 1
    request = recorder.requests[0]
    assert request.url.path == "/FdsWeb/FDST030000/csv-file-download"
    assert dict(request.url.params) == {"isinCd": "JP90C000H1T1", "associFundCd": "0331418A"}
    quote = quotes["0331418A"]
    assert quote.price == Money.of("33012", "JPY")
    assert quote.status is QuoteStatus.LIVE
    assert quote.source == "toushin-lib"
    assert quote.change == Decimal("135")  # 33012 - 32877
    assert quote.change_percent == Decimal("0.41")
    assert quote.as_of == datetime(2026, 11, 27, 6, 30, tzinfo=UTC)  # 15:30 JST
    assert quote.name == "eMAXIS Slim 全世界株式（オール・カントリー）"
    # 10,000 units are worth one 基準価額.
    assert ALL_COUNTRY.value_of(Decimal(10000), quote.price.amount) == Decimal("33012")  # type: ignore[union-attr]


def test_one_request_per_fund_whatever_the_row_order() -> None:
    recorder = by_code(
        {
            "0331418A": body("toushin_0331418A.csv"),
            "03311187": body("toushin_03311187.csv"),  # newest first, one bad row
        }
    )
    quotes = FundNavSource(recorder.client()).fetch([ALL_COUNTRY, SP500, ALL_COUNTRY])
    assert recorder.count == 2
    assert quotes["03311187"].price == Money.of("39877", "JPY")
    assert quotes["03311187"].change == Decimal("127")  # 39877 - 39750 (sorted by date)


def test_unmapped_funds_are_absent_without_a_request() -> None:
    recorder = by_code({}, default=body("toushin_0331418A.csv"))
    assert FundNavSource(recorder.client()).fetch([parse_symbol("9C311125")]) == {}
    assert recorder.count == 0


def test_more_isins_can_be_given_and_the_bundled_table_left_out() -> None:
    recorder = by_code({"2931113C": body("toushin_0331418A.csv")})
    source = FundNavSource(recorder.client(), {"2931113c": "JP90C0009VE0"}, include_bundled=False)
    assert source.listing("0331418A") is None
    quotes = source.fetch([parse_symbol("2931113C"), ALL_COUNTRY])
    assert set(quotes) == {"2931113C"}
    assert quotes["2931113C"].name is None
    assert recorder.requests[0].url.params["isinCd"] == "JP90C0009VE0"


def test_a_mistyped_isin_is_refused_at_construction() -> None:
    with pytest.raises(ValueError, match="ISIN"):
        FundNavSource(Recorder().client(), {"0331418A": "JP90C000H1T2"})


def test_the_bundled_table_has_valid_isins() -> None:
    table = bundled_fund_isins()
    assert table["0331418A"] == FundListing(
        "0331418A", "JP90C000H1T1", "eMAXIS Slim 全世界株式（オール・カントリー）"
    )
    assert table["03311187"].isin == "JP90C000GKC6"
    assert all(isin_is_valid(listing.isin) for listing in table.values())
    assert all(parse_symbol(code).market.value == "FUND" for code in table)


def test_isin_check_digits() -> None:
    assert isin_is_valid("JP90C000H1T1")
    assert isin_is_valid("US0378331005")
    assert not isin_is_valid("JP90C000H1T2")
    assert not isin_is_valid("JP90C000H1T")
    assert not isin_is_valid("jp90c000h1t1")


def test_a_fund_the_library_does_not_know_is_absent() -> None:
    recorder = by_code({}, default=body("toushin_no_data.json", content_type="application/json"))
    assert FundNavSource(recorder.client()).fetch([ALL_COUNTRY, SP500]) == {}
    assert recorder.count == 2


def test_a_header_only_csv_is_absent() -> None:
    header = "年月日,基準価額(円),純資産総額（百万円）,分配金,決算期\r\n".encode("cp932")
    assert FundNavSource(by_code({}, raw(header)).client()).fetch([ALL_COUNTRY]) == {}


def test_other_instruments_are_not_asked_for() -> None:
    recorder = by_code({}, default=body("toushin_0331418A.csv"))
    source = FundNavSource(recorder.client())
    assert source.fetch([parse_symbol("7203"), parse_symbol("AAPL")]) == {}
    assert recorder.count == 0


@pytest.mark.parametrize(
    "answer",
    [
        *TRANSPORT_FAILURES.values(),
        body("toushin_maintenance.html", content_type="text/html"),
        NOT_TEXT,
        raw("garbage,without,the,headers\r\n1,2,3,4\r\n"),
        raw(""),
    ],
)
def test_a_failed_download_fails_the_source_when_nothing_was_priced(answer: Answer) -> None:
    with pytest.raises(SourceUnavailable, match="toushin-lib"):
        FundNavSource(by_code({}, answer).client()).fetch([ALL_COUNTRY])


def test_one_failed_fund_leaves_the_others_priced() -> None:
    recorder = by_code(
        {"0331418A": TRANSPORT_FAILURES["500"], "03311187": body("toushin_03311187.csv")}
    )
    quotes = FundNavSource(recorder.client()).fetch([ALL_COUNTRY, SP500])
    assert set(quotes) == {"03311187"}  # 0331418A absent: the next source or the cache


def test_a_429_stops_the_remaining_requests() -> None:
    recorder = by_code({}, default=TRANSPORT_FAILURES["429"])
    with pytest.raises(SourceUnavailable, match="429"):
        FundNavSource(recorder.client()).fetch([ALL_COUNTRY, SP500])
    assert recorder.count == 1


def test_a_429_is_a_throttle_for_history() -> None:
    with pytest.raises(Throttled):
        FundNavSource(by_code({}, TRANSPORT_FAILURES["429"]).client()).history(
            ALL_COUNTRY, date(2026, 11, 1), date(2026, 11, 30)
        )


def test_history_is_the_csv_within_the_range() -> None:
    recorder = by_code({"0331418A": body("toushin_0331418A.csv")})
    history = FundNavSource(recorder.client()).history(
        ALL_COUNTRY, date(2026, 11, 24), date(2026, 11, 26)
    )
    assert history.currency == "JPY"
    assert history.source == "toushin-lib"
    assert [(c.day, c.close) for c in history.closes] == [
        (date(2026, 11, 24), Decimal("32812")),
        (date(2026, 11, 25), Decimal("32904")),
        (date(2026, 11, 26), Decimal("32877")),
    ]


def test_history_of_an_unknown_or_unmapped_fund_is_not_found() -> None:
    recorder = by_code({}, default=body("toushin_no_data.json"))
    source = FundNavSource(recorder.client())
    with pytest.raises(NotFoundError):
        source.history(ALL_COUNTRY, date(2026, 11, 1), date(2026, 11, 30))
    with pytest.raises(NotFoundError):
        source.history(parse_symbol("9C311125"), date(2026, 11, 1), date(2026, 11, 30))
    with pytest.raises(NotFoundError):
        source.history(parse_symbol("7203"), date(2026, 11, 1), date(2026, 11, 30))
    assert recorder.count == 1


def test_the_csv_parser_reads_the_real_layout() -> None:
    text = (
        "年月日,基準価額(円),純資産総額（百万円）,分配金,決算期\r\n"
        "2026年11月27日,33012,8890442,,\r\n"
        "2026年2月3日,30001,8000000,0,7\r\n"
        "2026年13月01日,1,1,,\r\n"
        "2026年11月26日,0,1,,\r\n"
    )
    rows = parse_nav_csv(text)
    assert rows is not None
    assert [(r.day, r.nav) for r in rows] == [
        (date(2026, 2, 3), Decimal("30001")),
        (date(2026, 11, 27), Decimal("33012")),
    ]
    assert parse_nav_csv('{"statusCode":null}') is None
