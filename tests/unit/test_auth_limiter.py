"""The in-memory failed-attempt limiter: a sliding window per key."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from portfoliowise.application.auth import InMemoryAttemptLimiter

T0 = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=15)


def test_blocked_after_the_limit_until_the_oldest_counted_failure_leaves_the_window() -> None:
    limiter = InMemoryAttemptLimiter(max_failures=3, window=WINDOW)
    for minute in (0, 5, 10):
        assert limiter.blocked_for("ip", T0 + timedelta(minutes=minute)) == 0
        limiter.record_failure("ip", T0 + timedelta(minutes=minute))

    assert limiter.blocked_for("ip", T0 + timedelta(minutes=10)) == 5 * 60
    assert limiter.blocked_for("ip", T0 + timedelta(minutes=14, seconds=59, microseconds=1)) == 1
    assert limiter.blocked_for("ip", T0 + timedelta(minutes=15)) == 0
    assert limiter.blocked_for("other", T0 + timedelta(minutes=10)) == 0


def test_failures_while_blocked_extend_the_block() -> None:
    limiter = InMemoryAttemptLimiter(max_failures=2, window=WINDOW)
    limiter.record_failure("ip", T0)
    limiter.record_failure("ip", T0 + timedelta(minutes=1))
    limiter.record_failure("ip", T0 + timedelta(minutes=14))

    # The failure at 0 has left the window; the ones at 1 and 14 still fill it until 16.
    assert limiter.blocked_for("ip", T0 + timedelta(minutes=15)) == 60
    assert limiter.blocked_for("ip", T0 + timedelta(minutes=16)) == 0


def test_old_keys_are_forgotten_beyond_the_key_limit() -> None:
    limiter = InMemoryAttemptLimiter(max_failures=1, window=WINDOW, max_keys=10)
    for i in range(25):
        limiter.record_failure(f"ip{i}", T0 + timedelta(seconds=i))

    assert limiter.blocked_for("ip24", T0 + timedelta(seconds=30)) > 0
    assert limiter.blocked_for("ip0", T0 + timedelta(seconds=30)) == 0


def test_max_failures_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        InMemoryAttemptLimiter(max_failures=0)
