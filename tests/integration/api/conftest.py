"""Fixtures of the API tests (see api_harness)."""

from __future__ import annotations

from typing import Any

import pytest
from api_harness import NOW, fake_container

from portfoliowise.adapters.clock import FixedClock
from portfoliowise.handlers.api.app import build_app
from portfoliowise.handlers.container import Container


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def container(clock: FixedClock) -> Container:
    return fake_container(clock)


@pytest.fixture
def app(container: Container) -> Any:
    return build_app(container)
