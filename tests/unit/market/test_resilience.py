"""The token bucket, the circuit breaker and the guarded sources, on a FixedClock."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portfoliowise.adapters.clock import FixedClock
from portfoliowise.adapters.market.http import Throttled
from portfoliowise.adapters.market.resilience import (
    MAX_RETRY_AFTER,
    BreakerState,
    CircuitBreaker,
    CircuitOpen,
    Guard,
    GuardedFxSource,
    GuardedHistorySource,
    GuardedQuoteSource,
    RateLimited,
    TokenBucket,
)
from portfoliowise.domain.errors import NotFoundError, SourceUnavailable
from portfoliowise.domain.fx import FxRate
from portfoliowise.domain.instruments import Instrument, Market, parse_symbol
from portfoliowise.domain.market import DailyHistory
from portfoliowise.domain.money import JPY, USD, Currency, Money
from portfoliowise.domain.quotes import Quote, QuoteStatus

T0 = datetime(2026, 11, 27, 0, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


# -- token bucket ----------------------------------------------------------------------


def test_a_full_bucket_allows_its_capacity_then_refuses(clock: FixedClock) -> None:
    bucket = TokenBucket(Decimal(2), 3, clock)
    assert [bucket.try_acquire() for _ in range(4)] == [True, True, True, False]


def test_tokens_flow_back_at_the_rate(clock: FixedClock) -> None:
    bucket = TokenBucket(Decimal(2), 3, clock)
    for _ in range(3):
        bucket.acquire()
    clock.advance(timedelta(milliseconds=499))
    assert not bucket.try_acquire()
    clock.advance(timedelta(milliseconds=1))
    assert bucket.try_acquire()  # 0.5 s at 2/s is one token
    clock.advance(timedelta(hours=1))
    assert bucket.available == Decimal(3)  # never above capacity


def test_an_empty_bucket_raises_instead_of_sleeping(clock: FixedClock) -> None:
    bucket = TokenBucket("0.5", 1, clock, name="stooq")
    bucket.acquire()
    with pytest.raises(RateLimited, match="stooq: rate limit") as caught:
        bucket.acquire()
    assert isinstance(caught.value, SourceUnavailable)  # the chain moves on
    assert bucket.wait_time() == timedelta(seconds=2)


def test_an_injected_sleep_waits_for_the_token(clock: FixedClock) -> None:
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.advance(timedelta(seconds=seconds))

    bucket = TokenBucket(4, 1, clock, sleep=sleep, max_wait=timedelta(seconds=1))
    bucket.acquire()
    bucket.acquire()
    assert slept == [0.25]


def test_a_wait_longer_than_max_wait_is_not_slept(clock: FixedClock) -> None:
    slept: list[float] = []
    bucket = TokenBucket(0.1, 1, clock, sleep=slept.append, max_wait=timedelta(seconds=2))
    bucket.acquire()
    with pytest.raises(RateLimited):
        bucket.acquire()
    assert slept == []


def test_a_sleep_that_does_not_help_still_raises(clock: FixedClock) -> None:
    bucket = TokenBucket(10, 1, clock, sleep=lambda seconds: None)  # the clock never moves
    bucket.acquire()
    with pytest.raises(RateLimited):
        bucket.acquire()


def test_float_configuration_is_accepted(clock: FixedClock) -> None:
    assert TokenBucket(0.1, 1, clock).rate == Decimal("0.1")  # via str: no binary noise


@pytest.mark.parametrize(("rate", "capacity"), [(0, 1), (-1, 1), ("nan", 1), (1, 0)])
def test_bad_configuration_is_refused(clock: FixedClock, rate: object, capacity: int) -> None:
    with pytest.raises(ValueError, match=r"must be a positive number|capacity of at least 1"):
        TokenBucket(rate, capacity, clock)  # type: ignore[arg-type]


def test_a_clock_going_back_adds_no_tokens(clock: FixedClock) -> None:
    bucket = TokenBucket(1, 1, clock)
    bucket.acquire()
    clock.advance(timedelta(seconds=-30))
    assert not bucket.try_acquire()
    clock.advance(timedelta(seconds=30))
    assert not bucket.try_acquire()  # the lost time is not counted twice
    clock.advance(timedelta(seconds=1))
    assert bucket.try_acquire()


@given(
    steps=st.lists(st.integers(min_value=0, max_value=5_000), min_size=1, max_size=60),
    rate=st.sampled_from(["0.5", "1", "2", "7.5"]),
    capacity=st.integers(min_value=1, max_value=5),
)
def test_never_more_calls_than_capacity_plus_rate_times_time(
    steps: list[int], rate: str, capacity: int
) -> None:
    clock = FixedClock(T0)
    bucket = TokenBucket(Decimal(rate), capacity, clock)
    allowed = 0
    for millis in steps:
        clock.advance(timedelta(milliseconds=millis))
        allowed += bucket.try_acquire()
        assert bucket.available <= capacity
    elapsed = Decimal(sum(steps)) / 1000
    assert allowed <= capacity + elapsed * Decimal(rate)


# -- circuit breaker ----------------------------------------------------------------------


def breaker(clock: FixedClock, threshold: int = 3) -> CircuitBreaker:
    return CircuitBreaker(threshold, timedelta(seconds=60), clock, name="stooq")


def test_it_opens_after_consecutive_failures_only(clock: FixedClock) -> None:
    b = breaker(clock)
    for _ in range(2):
        assert b.allow()
        b.record_failure()
    assert b.allow()
    b.record_success()  # resets the count
    for _ in range(2):
        b.record_failure()
    assert b.state is BreakerState.CLOSED
    assert b.consecutive_failures == 2
    b.record_failure()
    assert b.state is BreakerState.OPEN
    assert not b.allow()
    assert b.retry_at == T0 + timedelta(seconds=60)


def test_half_open_lets_exactly_one_trial_through(clock: FixedClock) -> None:
    b = breaker(clock, threshold=1)
    b.record_failure()
    clock.advance(timedelta(seconds=59))
    assert not b.allow()
    clock.advance(timedelta(seconds=1))
    assert b.state is BreakerState.HALF_OPEN
    assert b.allow()
    assert not b.allow()  # a second caller during the trial is refused
    b.record_success()
    assert b.state is BreakerState.CLOSED
    assert b.allow()


def test_a_failed_trial_opens_it_for_another_cool_down(clock: FixedClock) -> None:
    b = breaker(clock, threshold=3)
    for _ in range(3):
        b.record_failure()
    clock.advance(timedelta(seconds=60))
    assert b.allow()
    b.record_failure()
    assert b.state is BreakerState.OPEN
    assert b.retry_at == clock.now() + timedelta(seconds=60)


def test_a_released_trial_can_be_taken_again(clock: FixedClock) -> None:
    b = breaker(clock, threshold=1)
    b.record_failure()
    clock.advance(timedelta(seconds=60))
    assert b.allow()
    b.release()
    assert b.allow()


def test_retry_after_opens_it_at_once_for_that_long(clock: FixedClock) -> None:
    b = breaker(clock, threshold=5)
    b.record_failure(retry_after=timedelta(seconds=300))
    assert b.state is BreakerState.OPEN
    assert b.retry_at == T0 + timedelta(seconds=300)
    b.record_success()
    b.record_failure(retry_after=timedelta(seconds=5))  # never shorter than the cool-down
    assert b.retry_at == T0 + timedelta(seconds=60)
    b.record_success()
    b.record_failure(retry_after=timedelta(days=2))  # capped
    assert b.retry_at == T0 + MAX_RETRY_AFTER


@pytest.mark.parametrize(("threshold", "cool_down"), [(0, 60), (1, 0)])
def test_bad_breaker_configuration_is_refused(
    clock: FixedClock, threshold: int, cool_down: int
) -> None:
    with pytest.raises(ValueError, match="must be"):
        CircuitBreaker(threshold, timedelta(seconds=cool_down), clock)


# -- guarded sources -----------------------------------------------------------------------

APPLE = Quote("AAPL", Money.of("235.41", "USD"), QuoteStatus.LIVE, "fake", T0)


class FakeQuotes:
    name = "fake"

    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.calls: list[list[str]] = []

    def fetch(self, instruments: Sequence[Instrument]) -> dict[str, Quote]:
        self.calls.append([i.symbol for i in instruments])
        if self.error is not None:
            raise self.error
        return {"AAPL": APPLE} if any(i.symbol == "AAPL" for i in instruments) else {}


def guard(clock: FixedClock, threshold: int = 2, capacity: int = 100) -> Guard:
    return Guard(
        "fake",
        TokenBucket(1, capacity, clock),
        CircuitBreaker(threshold, timedelta(seconds=60), clock),
    )


def test_an_open_breaker_does_not_call_the_source(clock: FixedClock) -> None:
    inner = FakeQuotes(SourceUnavailable("fake: 500"))
    source = GuardedQuoteSource(inner, guard(clock))
    assert source.name == "fake"
    for _ in range(2):
        with pytest.raises(SourceUnavailable):
            source.fetch([parse_symbol("AAPL")])
    with pytest.raises(CircuitOpen, match="circuit open"):
        source.fetch([parse_symbol("AAPL")])
    assert len(inner.calls) == 2
    clock.advance(timedelta(seconds=60))
    inner.error = None
    assert source.fetch([parse_symbol("AAPL")]) == {"AAPL": APPLE}  # the trial succeeds
    assert source.guard.breaker is not None
    assert source.guard.breaker.state is BreakerState.CLOSED


def test_unexpected_errors_count_as_failures(clock: FixedClock) -> None:
    source = GuardedQuoteSource(FakeQuotes(KeyError("boom")), guard(clock, threshold=1))
    with pytest.raises(KeyError):
        source.fetch([parse_symbol("AAPL")])
    with pytest.raises(CircuitOpen):
        source.fetch([parse_symbol("AAPL")])


def test_a_throttle_opens_the_breaker_for_its_retry_after(clock: FixedClock) -> None:
    inner = FakeQuotes(Throttled("fake: 429", timedelta(minutes=10)))
    source = GuardedQuoteSource(inner, guard(clock, threshold=5))
    with pytest.raises(Throttled):
        source.fetch([parse_symbol("AAPL")])
    clock.advance(timedelta(minutes=9))
    with pytest.raises(CircuitOpen):
        source.fetch([parse_symbol("AAPL")])
    assert len(inner.calls) == 1


def test_the_rate_limit_refuses_without_calling_or_counting_a_failure(clock: FixedClock) -> None:
    inner = FakeQuotes()
    source = GuardedQuoteSource(inner, guard(clock, threshold=1, capacity=1))
    source.fetch([parse_symbol("AAPL")])
    with pytest.raises(RateLimited):
        source.fetch([parse_symbol("AAPL")])
    assert len(inner.calls) == 1
    assert source.guard.breaker is not None
    assert source.guard.breaker.state is BreakerState.CLOSED


def test_a_rate_limited_trial_gives_the_trial_back(clock: FixedClock) -> None:
    inner = FakeQuotes(SourceUnavailable("down"))
    source = GuardedQuoteSource(inner, guard(clock, threshold=1, capacity=1))
    with pytest.raises(SourceUnavailable):
        source.fetch([parse_symbol("AAPL")])
    clock.advance(timedelta(seconds=60))  # half-open, but the bucket has 1 token again
    source.guard.bucket.try_acquire()  # type: ignore[union-attr]  # someone took it
    with pytest.raises(RateLimited):
        source.fetch([parse_symbol("AAPL")])
    clock.advance(timedelta(seconds=1))
    inner.error = None
    assert source.fetch([parse_symbol("AAPL")]) == {"AAPL": APPLE}


def test_instruments_of_other_markets_skip_the_source_and_the_guard(clock: FixedClock) -> None:
    inner = FakeQuotes()
    g = guard(clock, capacity=1)
    source = GuardedQuoteSource(inner, g, frozenset({Market.US}))
    assert source.fetch([parse_symbol("7203"), parse_symbol("0331418A")]) == {}
    assert inner.calls == []
    assert source.fetch([parse_symbol("7203"), parse_symbol("AAPL")]) == {"AAPL": APPLE}
    assert inner.calls == [["AAPL"]]


class FakeHistory:
    name = "fake"

    def __init__(self, error: Exception | None = None) -> None:
        self.error = error
        self.calls = 0

    def history(self, instrument: Instrument, start: date, end: date) -> DailyHistory:
        self.calls += 1
        if self.error is not None:
            raise self.error
        return DailyHistory(instrument.symbol, "USD", (), "fake")


def test_not_found_is_an_answer_not_a_failure(clock: FixedClock) -> None:
    inner = FakeHistory(NotFoundError("no such symbol"))
    source = GuardedHistorySource(inner, guard(clock, threshold=1))
    for _ in range(3):
        with pytest.raises(NotFoundError):
            source.history(parse_symbol("ZZZZ"), date(2026, 1, 1), date(2026, 2, 1))
    assert inner.calls == 3


def test_history_of_an_unserved_market_is_not_found_without_a_call(clock: FixedClock) -> None:
    inner = FakeHistory()
    source = GuardedHistorySource(inner, guard(clock), frozenset({Market.JP, Market.US}))
    with pytest.raises(NotFoundError):
        source.history(parse_symbol("0331418A"), date(2026, 1, 1), date(2026, 2, 1))
    assert inner.calls == 0
    assert source.history(parse_symbol("AAPL"), date(2026, 1, 1), date(2026, 2, 1)).symbol == "AAPL"


def test_the_fx_guard(clock: FixedClock) -> None:
    class FakeFx:
        name = "fake-fx"
        calls = 0

        def fetch_rates(self, pairs: Sequence[tuple[Currency, Currency]]) -> list[FxRate]:
            self.calls += 1
            raise SourceUnavailable("down")

    inner = FakeFx()
    source = GuardedFxSource(inner, guard(clock, threshold=1))
    assert source.fetch_rates([]) == []
    with pytest.raises(SourceUnavailable):
        source.fetch_rates([(USD, JPY)])
    with pytest.raises(CircuitOpen):
        source.fetch_rates([(USD, JPY)])
    assert inner.calls == 1
    assert source.name == "fake-fx"
