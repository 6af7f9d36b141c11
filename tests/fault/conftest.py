"""Fault-injection tests (issue 16): each failure is injected at the real wire boundary
(a botocore `before-send` hook on a moto-backed client, an httpx/requests transport, a
SIGKILL of a real process) and the product is watched from the outside: statuses, bodies,
and what is stored afterwards. No network; every wait is bounded.

The recorded-answer helpers of the integration tests are shared (their directories are put
on `sys.path`, as pytest does for the tests that live there)."""

from __future__ import annotations

import sys
from pathlib import Path

_TESTS = Path(__file__).resolve().parents[1]
for _helpers in ("integration/api", "integration/market", "integration/openai", "load"):
    _path = str(_TESTS / _helpers)
    if _path not in sys.path:
        sys.path.insert(0, _path)


import pytest  # noqa: E402


@pytest.fixture(scope="session")
def yahoo_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(tmp_path_factory.mktemp("yfinance"))
