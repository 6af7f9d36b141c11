"""The optional paid source (Twelve Data) over recorded JSON, and its key in Secrets
Manager (faked with moto): no key configured, a missing or empty secret -> no source."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import boto3
import pytest
from moto import mock_aws
from recorded_http import NOT_TEXT, TRANSPORT_FAILURES, Answer, Recorder, body, raw

from portfoliowise.adapters.market.http import Throttled
from portfoliowise.adapters.market.paid import (
    TwelveDataQuoteSource,
    paid_quote_source,
    read_api_key,
)
from portfoliowise.domain.errors import SourceUnavailable
from portfoliowise.domain.instruments import parse_symbol
from portfoliowise.domain.money import Money

KEY = "td-test-key-0123456789"
US = [parse_symbol(s) for s in ("AAPL", "BRK.B", "ZZZZ")]


def source(recorder: Recorder) -> TwelveDataQuoteSource:
    return TwelveDataQuoteSource(recorder.client(), KEY)


def test_one_request_for_the_batch_with_the_key_in_a_header() -> None:
    recorder = Recorder(body("twelvedata_batch.json", content_type="application/json"))
    quotes = source(recorder).fetch(US)

    assert recorder.count == 1
    request = recorder.requests[0]
    assert request.url.params["symbol"] == "AAPL,BRK.B,ZZZZ"
    assert request.headers["Authorization"] == f"apikey {KEY}"
    assert KEY not in str(request.url)
    assert set(quotes) == {"AAPL", "BRK-B"}  # ZZZZ: an error in its slot
    apple = quotes["AAPL"]
    assert apple.price == Money.of("235.41", "USD")
    assert apple.change == Decimal("1.31")
    assert apple.change_percent == Decimal("0.55958")
    assert apple.as_of == datetime(2026, 11, 27, 18, 0, tzinfo=UTC)  # last_quote_at
    assert apple.source == "twelvedata"
    assert apple.name == "Apple Inc."
    assert quotes["BRK-B"].price == Money.of("513.66", "USD")


def test_a_single_symbol_answer_is_the_quote_itself() -> None:
    quotes = source(Recorder(body("twelvedata_single.json"))).fetch([parse_symbol("AAPL")])
    # No last_quote_at: the bar's date at the New York close (16:00 EST).
    assert quotes["AAPL"].as_of == datetime(2026, 11, 27, 21, 0, tzinfo=UTC)


def test_a_single_unknown_symbol_is_an_empty_answer() -> None:
    answer = raw('{"code":404,"message":"**symbol** not found: ZZZZ.","status":"error"}')
    assert source(Recorder(answer)).fetch([parse_symbol("ZZZZ")]) == {}


def test_only_us_instruments_are_sent() -> None:
    recorder = Recorder(body("twelvedata_batch.json"))
    assert source(recorder).fetch([parse_symbol("7203"), parse_symbol("0331418A")]) == {}
    assert recorder.count == 0


def test_running_out_of_credits_is_a_throttle() -> None:
    with pytest.raises(Throttled, match="credits"):
        source(Recorder(body("twelvedata_out_of_credits.json"))).fetch(US)


@pytest.mark.parametrize(
    "answer",
    [
        *TRANSPORT_FAILURES.values(),
        body("twelvedata_bad_key.json"),
        raw('{"code":400,"message":"bad request","status":"error"}'),  # for a batch
        NOT_TEXT,
        raw("[1, 2]"),
        raw('{"AAPL": {"close": "235'),
    ],
)
def test_failures_fail_the_source(answer: Answer) -> None:
    with pytest.raises(SourceUnavailable, match="twelvedata"):
        source(Recorder(answer)).fetch(US)


def test_malformed_quotes_are_absent() -> None:
    answer = raw(
        '{"AAPL":{"symbol":"AAPL","currency":"USD","close":"0","datetime":"2026-11-27"},'
        '"BRK.B":{"symbol":"BRK.B","currency":"EUR","close":"1","datetime":"2026-11-27"},'
        '"ZZZZ":{"symbol":"ZZZZ","currency":"USD","close":"12.5"}}'
    )
    assert source(Recorder(answer)).fetch(US) == {}


# -- the key, from Secrets Manager ---------------------------------------------------------


@pytest.fixture
def secrets() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("secretsmanager", region_name="ap-northeast-1")


def config(name: str | None) -> Mapping[str, str]:
    return {} if name is None else {"PAID_QUOTES_SECRET": name}


def test_a_plain_secret_is_the_key(secrets: Any) -> None:
    secrets.create_secret(Name="pw/twelvedata", SecretString=f"  {KEY}\n")
    built = paid_quote_source(config("pw/twelvedata"), secrets, Recorder().client())
    assert isinstance(built, TwelveDataQuoteSource)
    assert read_api_key(secrets, "pw/twelvedata") == KEY


@pytest.mark.parametrize("field", ["apiKey", "api_key", "key"])
def test_a_json_secret_holds_the_key(secrets: Any, field: str) -> None:
    secrets.create_secret(Name="pw/twelvedata", SecretString=f'{{"{field}": "{KEY}"}}')
    assert read_api_key(secrets, "pw/twelvedata") == KEY


@pytest.mark.parametrize("value", ["   ", '{"apiKey": ""}', '{"other": "x"}', "{not json"])
def test_an_empty_secret_means_no_source(secrets: Any, value: str) -> None:
    secrets.create_secret(Name="pw/twelvedata", SecretString=value)
    assert paid_quote_source(config("pw/twelvedata"), secrets, Recorder().client()) is None


def test_a_secret_without_a_value_means_no_source(secrets: Any) -> None:
    secrets.create_secret(Name="pw/twelvedata")  # created, never given a value
    assert paid_quote_source(config("pw/twelvedata"), secrets, Recorder().client()) is None


def test_a_missing_secret_means_no_source(secrets: Any) -> None:
    assert paid_quote_source(config("pw/none"), secrets, Recorder().client()) is None


def test_no_secret_name_means_no_source_and_no_call() -> None:
    class Untouchable:
        def get_secret_value(self, *, SecretId: str) -> Mapping[str, Any]:
            raise AssertionError("Secrets Manager must not be called")

    assert paid_quote_source(config(None), Untouchable(), Recorder().client()) is None
    assert paid_quote_source(config("  "), Untouchable(), Recorder().client()) is None


def test_other_secrets_manager_errors_are_a_failed_source(secrets: Any) -> None:
    secrets.create_secret(Name="pw/twelvedata", SecretString=KEY)
    secrets.delete_secret(SecretId="pw/twelvedata")  # scheduled for deletion: InvalidRequest
    with pytest.raises(SourceUnavailable, match="pw/twelvedata"):
        read_api_key(secrets, "pw/twelvedata")
