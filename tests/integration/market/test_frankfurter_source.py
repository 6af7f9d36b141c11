"""Frankfurter's ECB rates over recorded JSON: one request per base currency, rates read
as exact Decimals, stamped at 16:00 CET on their date; unknown currencies absent."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from recorded_http import NOT_TEXT, TRANSPORT_FAILURES, Answer, Recorder, body, raw

from portfoliowise.adapters.market.frankfurter import FrankfurterFxSource
from portfoliowise.domain.errors import SourceUnavailable
from portfoliowise.domain.money import EUR, JPY, USD, Currency

GBP, TWD = Currency.of("GBP"), Currency.of("TWD")
ECB_TIME = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)  # 16:00 CET


def by_base(routes: dict[str, Answer], default: Answer | None = None) -> Recorder:
    return Recorder(default, routes, key="from")


def test_one_request_per_base_currency() -> None:
    recorder = by_base({"USD": body("frankfurter_usd.json", content_type="application/json")})
    rates = FrankfurterFxSource(recorder.client()).fetch_rates([(USD, JPY), (USD, EUR)])

    assert recorder.count == 1
    request = recorder.requests[0]
    assert str(request.url) == "https://api.frankfurter.app/latest?from=USD&to=JPY%2CEUR"
    by_pair = {rate.pair: rate for rate in rates}
    assert by_pair["USD-JPY"].rate == Decimal("156.12")
    assert by_pair["USD-EUR"].rate == Decimal("0.86394")  # exact: parsed as Decimal
    assert all(type(rate.rate) is Decimal for rate in rates)
    assert by_pair["USD-JPY"].as_of == ECB_TIME
    assert by_pair["USD-JPY"].source == "frankfurter"


def test_two_bases_are_two_requests() -> None:
    recorder = by_base({"USD": body("frankfurter_usd.json"), "EUR": body("frankfurter_eur.json")})
    rates = FrankfurterFxSource(recorder.client()).fetch_rates(
        [(USD, JPY), (EUR, JPY), (EUR, GBP), (USD, JPY)]
    )
    assert recorder.count == 2
    assert {r.pair: r.rate for r in rates} == {
        "USD-JPY": Decimal("156.12"),
        "EUR-JPY": Decimal("180.71"),
        "EUR-GBP": Decimal("0.87705"),
    }


def test_currencies_the_ecb_does_not_quote_are_not_asked_for() -> None:
    recorder = by_base({}, default=body("frankfurter_usd.json"))
    assert FrankfurterFxSource(recorder.client()).fetch_rates([(USD, TWD), (TWD, JPY)]) == []
    assert recorder.count == 0


def test_a_404_leaves_that_bases_pairs_out() -> None:
    recorder = by_base(
        {"USD": body("frankfurter_usd.json"), "EUR": body("frankfurter_not_found.json", 404)}
    )
    rates = FrankfurterFxSource(recorder.client()).fetch_rates([(EUR, JPY), (USD, JPY)])
    assert [r.pair for r in rates] == ["USD-JPY"]


def test_a_404_alone_is_an_empty_answer() -> None:
    recorder = by_base({}, default=body("frankfurter_not_found.json", 404))
    assert FrankfurterFxSource(recorder.client()).fetch_rates([(USD, JPY)]) == []


def test_a_rate_missing_from_the_answer_is_absent() -> None:
    recorder = by_base({"USD": body("frankfurter_usd.json")})
    rates = FrankfurterFxSource(recorder.client()).fetch_rates([(USD, JPY), (USD, GBP)])
    assert [r.pair for r in rates] == ["USD-JPY"]


def test_bad_rates_are_absent_never_zero() -> None:
    answer = raw('{"amount":1.0,"base":"USD","date":"2026-11-27","rates":{"JPY":0,"EUR":"x"}}')
    assert (
        FrankfurterFxSource(by_base({}, answer).client()).fetch_rates([(USD, JPY), (USD, EUR)])
        == []
    )


@pytest.mark.parametrize(
    "answer",
    [
        *TRANSPORT_FAILURES.values(),
        NOT_TEXT,
        raw("<html><body>Service Unavailable</body></html>"),
        raw('{"amount":1.0,"base":"USD","date":"2026-11-27","rates":{"JPY":156.1'),
        raw("[]"),
        raw('{"amount":1.0,"base":"EUR","date":"2026-11-27","rates":{"JPY":180.71}}'),
        raw('{"amount":1.0,"base":"USD","rates":{"JPY":156.12}}'),
        raw('{"amount":1.0,"base":"USD","date":"2026-11-27","rates":[156.12]}'),
        raw('{"message":"bad currency pairs"}', 422),
    ],
)
def test_failures_fail_the_source(answer: Answer) -> None:
    with pytest.raises(SourceUnavailable, match="frankfurter"):
        FrankfurterFxSource(by_base({}, answer).client()).fetch_rates([(USD, JPY)])


def test_one_failed_base_leaves_the_others() -> None:
    recorder = by_base({"USD": body("frankfurter_usd.json"), "EUR": TRANSPORT_FAILURES["500"]})
    rates = FrankfurterFxSource(recorder.client()).fetch_rates([(EUR, JPY), (USD, JPY)])
    assert [r.pair for r in rates] == ["USD-JPY"]


def test_a_429_stops_the_other_bases() -> None:
    recorder = by_base({}, default=TRANSPORT_FAILURES["429"])
    with pytest.raises(SourceUnavailable):
        FrankfurterFxSource(recorder.client()).fetch_rates([(EUR, JPY), (USD, JPY)])
    assert recorder.count == 1
