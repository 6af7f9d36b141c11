"""Rate limiting and circuit breaking for market sources, on the domain `Clock` so that
tests drive them with a `FixedClock`.

- `TokenBucket`: `rate_per_second` tokens flow in, up to `capacity`; a call takes one.
  When the bucket is empty `acquire` raises `RateLimited` (a `SourceUnavailable`, so the
  chain simply moves on to the next source) instead of sleeping - unless a `sleep` is
  injected and the wait is within `max_wait`.
- `CircuitBreaker`: closed -> open after `failure_threshold` consecutive failures -> after
  `cool_down`, half-open: exactly one trial call goes through -> closed when it succeeds,
  open again (for another cool-down) when it fails. A `Throttled` failure that says how
  long to wait (Retry-After) opens it at once for at least that long.
- `GuardedQuoteSource`, `GuardedFxSource`, `GuardedHistorySource` put a bucket and a
  breaker in front of any source: an open breaker raises `CircuitOpen` without calling
  the source. A `NotFoundError` counts as an answer (the source is healthy), not a failure.

State is per process: each Lambda container keeps its own buckets and breakers.
Timeouts are not here: each source's httpx client carries its own (see `http.py`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from decimal import ROUND_CEILING, Decimal
from enum import StrEnum
from typing import TypeVar

from portfoliowise.adapters.market.http import Throttled
from portfoliowise.domain.errors import NotFoundError, SourceUnavailable
from portfoliowise.domain.fx import FxRate
from portfoliowise.domain.instruments import Instrument, Market
from portfoliowise.domain.market import DailyHistory
from portfoliowise.domain.money import Currency
from portfoliowise.domain.ports import Clock, FxSource, HistorySource, QuoteSource
from portfoliowise.domain.quotes import Quote

T = TypeVar("T")

MAX_RETRY_AFTER = timedelta(hours=1)
"""A Retry-After longer than this is capped: a source asking for a day off is retried
after an hour (the breaker's half-open trial then decides)."""

_MICROSECOND = timedelta(microseconds=1)
_ONE_MILLION = Decimal(1_000_000)


class RateLimited(SourceUnavailable):
    """Our own token bucket is empty: the source was not called."""


class CircuitOpen(SourceUnavailable):
    """The source's breaker is open: it was not called."""


def _seconds(delta: timedelta) -> Decimal:
    return Decimal(delta // _MICROSECOND) / _ONE_MILLION


def _as_decimal(value: Decimal | float | int | str, what: str) -> Decimal:
    number = value if isinstance(value, Decimal) else Decimal(str(value))
    if not number.is_finite() or number <= 0:
        raise ValueError(f"{what} must be a positive number, got {value!r}")
    return number


class TokenBucket:
    """A token bucket on a `Clock`. Thread-safe."""

    def __init__(
        self,
        rate_per_second: Decimal | float | int | str,
        capacity: int,
        clock: Clock,
        *,
        sleep: Callable[[float], None] | None = None,
        max_wait: timedelta = timedelta(seconds=2),
        name: str = "",
    ) -> None:
        if capacity < 1:
            raise ValueError(f"a token bucket needs a capacity of at least 1, got {capacity}")
        self.rate = _as_decimal(rate_per_second, "rate_per_second")
        self.capacity = Decimal(capacity)
        self.name = name
        self._clock = clock
        self._sleep = sleep
        self._max_wait = max_wait
        self._tokens = self.capacity
        self._updated = clock.now()
        self._lock = threading.Lock()

    def _refill(self, now: datetime) -> None:
        elapsed = now - self._updated
        if elapsed > timedelta(0):  # a clock that goes back adds nothing
            self._tokens = min(self.capacity, self._tokens + _seconds(elapsed) * self.rate)
            self._updated = now

    @property
    def available(self) -> Decimal:
        with self._lock:
            self._refill(self._clock.now())
            return self._tokens

    def try_acquire(self, tokens: int = 1) -> bool:
        """Take `tokens` if they are there; never waits."""
        with self._lock:
            self._refill(self._clock.now())
            if self._tokens >= tokens:
                self._tokens -= tokens
                return True
            return False

    def wait_time(self, tokens: int = 1) -> timedelta:
        """How long until `tokens` are available (zero when they are now)."""
        with self._lock:
            self._refill(self._clock.now())
            missing = Decimal(tokens) - self._tokens
        if missing <= 0:
            return timedelta(0)
        micros = (missing / self.rate * _ONE_MILLION).to_integral_value(rounding=ROUND_CEILING)
        return timedelta(microseconds=int(micros))

    def acquire(self, tokens: int = 1) -> None:
        """Take `tokens`, or raise `RateLimited`. With an injected `sleep`, first waits up
        to `max_wait` for them."""
        if tokens > self.capacity:
            raise ValueError(f"cannot take {tokens} tokens from a bucket of {self.capacity}")
        if self.try_acquire(tokens):
            return
        wait = self.wait_time(tokens)
        if self._sleep is not None and wait <= self._max_wait:
            self._sleep(float(_seconds(wait)))
            if self.try_acquire(tokens):
                return
        label = f"{self.name}: " if self.name else ""
        raise RateLimited(f"{label}rate limit reached, next call possible in {wait}")


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    """Consecutive-failure circuit breaker on a `Clock`. Thread-safe.

    Call `allow()` before calling the source (False: do not call), then exactly one of
    `record_success()`, `record_failure()` or `release()` (the call was not made)."""

    def __init__(
        self, failure_threshold: int, cool_down: timedelta, clock: Clock, *, name: str = ""
    ) -> None:
        if failure_threshold < 1:
            raise ValueError("failure_threshold must be at least 1")
        if cool_down <= timedelta(0):
            raise ValueError("cool_down must be positive")
        self.failure_threshold = failure_threshold
        self.cool_down = cool_down
        self.name = name
        self._clock = clock
        self._failures = 0
        self._open_until: datetime | None = None
        self._trial_running = False
        self._lock = threading.Lock()

    @property
    def state(self) -> BreakerState:
        with self._lock:
            return self._state(self._clock.now())

    def _state(self, now: datetime) -> BreakerState:
        if self._open_until is None:
            return BreakerState.CLOSED
        if now < self._open_until:
            return BreakerState.OPEN
        return BreakerState.HALF_OPEN

    @property
    def consecutive_failures(self) -> int:
        return self._failures

    @property
    def retry_at(self) -> datetime | None:
        """When an open breaker lets its trial call through (None when closed)."""
        return self._open_until

    def allow(self) -> bool:
        with self._lock:
            state = self._state(self._clock.now())
            if state is BreakerState.CLOSED:
                return True
            if state is BreakerState.OPEN or self._trial_running:
                return False
            self._trial_running = True  # half-open: this caller is the one trial
            return True

    def record_success(self) -> None:
        with self._lock:
            self._failures = 0
            self._open_until = None
            self._trial_running = False

    def record_failure(self, retry_after: timedelta | None = None) -> None:
        with self._lock:
            now = self._clock.now()
            self._failures += 1
            was_trial = self._trial_running
            self._trial_running = False
            wait = self.cool_down
            if retry_after is not None:
                wait = max(wait, min(retry_after, MAX_RETRY_AFTER))
            if was_trial or self._failures >= self.failure_threshold or retry_after is not None:
                self._open_until = now + wait

    def release(self) -> None:
        """The allowed call was not made: give the half-open trial back."""
        with self._lock:
            self._trial_running = False


class Guard:
    """A bucket and a breaker around calls to one source."""

    def __init__(
        self, name: str, bucket: TokenBucket | None = None, breaker: CircuitBreaker | None = None
    ) -> None:
        self.name = name
        self.bucket = bucket
        self.breaker = breaker

    def call(self, action: Callable[[], T]) -> T:
        breaker = self.breaker
        if breaker is not None and not breaker.allow():
            raise CircuitOpen(f"{self.name}: circuit open until {breaker.retry_at}")
        if self.bucket is not None:
            try:
                self.bucket.acquire()
            except RateLimited:
                if breaker is not None:
                    breaker.release()
                raise
        try:
            result = action()
        except NotFoundError:
            if breaker is not None:
                breaker.record_success()  # the source answered: it is up
            raise
        except Throttled as exc:
            if breaker is not None:
                breaker.record_failure(exc.retry_after)
            raise
        except Exception:
            if breaker is not None:
                breaker.record_failure()
            raise
        if breaker is not None:
            breaker.record_success()
        return result


def _relevant(
    instruments: Sequence[Instrument], markets: frozenset[Market] | None
) -> list[Instrument]:
    return [i for i in instruments if markets is None or i.market in markets]


class GuardedQuoteSource:
    """A `QuoteSource` behind a guard. With `markets` set, instruments of other markets
    are not passed on, and a call with none left returns `{}` without using the guard."""

    def __init__(
        self, inner: QuoteSource, guard: Guard, markets: frozenset[Market] | None = None
    ) -> None:
        self.inner = inner
        self.guard = guard
        self.markets = markets
        self.name = inner.name
        self.live: bool = getattr(inner, "live", True)

    def fetch(self, instruments: Sequence[Instrument]) -> dict[str, Quote]:
        wanted = _relevant(instruments, self.markets)
        if not wanted:
            return {}
        return self.guard.call(lambda: self.inner.fetch(wanted))


class GuardedFxSource:
    def __init__(self, inner: FxSource, guard: Guard) -> None:
        self.inner = inner
        self.guard = guard
        self.name = inner.name
        self.live: bool = getattr(inner, "live", True)

    def fetch_rates(self, pairs: Sequence[tuple[Currency, Currency]]) -> list[FxRate]:
        if not pairs:
            return []
        return self.guard.call(lambda: self.inner.fetch_rates(pairs))


class GuardedHistorySource:
    """A `HistorySource` behind a guard; an instrument of a market it does not serve is
    `NotFoundError` without a call."""

    def __init__(
        self, inner: HistorySource, guard: Guard, markets: frozenset[Market] | None = None
    ) -> None:
        self.inner = inner
        self.guard = guard
        self.markets = markets
        self.name = inner.name

    def history(self, instrument: Instrument, start: date, end: date) -> DailyHistory:
        if self.markets is not None and instrument.market not in self.markets:
            raise NotFoundError(f"{self.name} has no {instrument.market.value} history")
        return self.guard.call(lambda: self.inner.history(instrument, start, end))
