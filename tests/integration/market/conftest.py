"""Fixtures of the market integration tests: yfinance's caches in a temporary directory, and
its process-wide state (session singleton, memoised responses) reset between tests so that
one test's recorded answers never leak into the next."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from portfoliowise.adapters.clock import FixedClock

SATURDAY = datetime(2026, 1, 10, 3, 0, tzinfo=UTC)
"""12:00 JST on Saturday 10 January 2026, 22:00 ET on Friday: both markets closed."""


@pytest.fixture(scope="session")
def yahoo_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(tmp_path_factory.mktemp("yfinance"))


@pytest.fixture(autouse=True)
def _fresh_yfinance() -> Iterator[None]:
    yield
    data = sys.modules.get("yfinance.data")
    if data is not None:
        data.YfData.cache_get.cache_clear()
        data.YfData._instances.clear()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(SATURDAY)
