"""Cold start: what the market handler imports (the service, the Yahoo adapters, the
calendars) must not import yfinance or pandas; they load only when Yahoo is called."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("pandas", "yfinance", "numpy", "curl_cffi", "peewee", "exchange_calendars")
MODULES = (
    "portfoliowise.application.market_service",
    "portfoliowise.adapters.market.yahoo",
    "portfoliowise.adapters.market.calendars",
)


def _loaded_after(code: str) -> list[str]:
    script = (
        f"{code}\nimport json, sys\n"
        f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r})))"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
    )
    return list(json.loads(out.stdout.strip().splitlines()[-1]))


def test_the_market_modules_import_no_heavy_sdk() -> None:
    assert _loaded_after("\n".join(f"import {m}" for m in MODULES)) == []


def test_building_the_yahoo_adapters_imports_no_heavy_sdk_either() -> None:
    code = (
        "from portfoliowise.adapters.market.yahoo import "
        "YahooQuoteSource, YahooFxSource, YahooHistorySource\n"
        "YahooQuoteSource(); YahooFxSource(); YahooHistorySource()"
    )
    assert _loaded_after(code) == []


def test_building_the_live_chains_imports_no_heavy_sdk_either() -> None:
    code = (
        "from portfoliowise.adapters.clock import SystemClock\n"
        "from portfoliowise.adapters.market.chain import build_quote_sources, live_registries\n"
        "build_quote_sources({}, live_registries({}, SystemClock()).quotes, SystemClock())"
    )
    assert _loaded_after(code) == []


def test_the_check_would_notice_them() -> None:
    assert "numpy" in _loaded_after("import numpy")  # the cheapest of them to load
