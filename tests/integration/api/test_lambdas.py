"""The Lambda modules: each builds its resolver once at import and answers proxy events;
the portfolio function's import graph has no yfinance, pandas or openai (cold start)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from api_harness import (
    EVENTS,
    NOW,
    LambdaContext,
    fake_container,
    make_event,
    quotes_table,
)
from dependency_injector import providers

from portfoliowise.adapters.clock import FixedClock
from portfoliowise.adapters.memory import InMemoryQuoteCache

HEAVY = ("yfinance", "pandas", "numpy", "openai")

PROBE = """
import json, sys
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path
import portfoliowise.handlers.lambdas.{module} as function
event = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
class Context:
    function_name = "probe"; function_version = "$LATEST"; memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:ap-northeast-1:123456789012:function:probe"
    aws_request_id = "probe-request"
response = function.handler(event, Context())
heavy = sorted(m for m in {heavy!r} if m in sys.modules)
print(json.dumps({{"status": response["statusCode"], "heavy": heavy,
                  "same": function.app is function.app}}))
"""


def _probe(module: str, tmp_path: Path) -> dict[str, Any]:
    env = {
        **os.environ,
        "PORTFOLIOWISE_MODE": "local",
        "PORTFOLIOWISE_DATA_DIR": str(tmp_path),
        "POWERTOOLS_LOG_LEVEL": "ERROR",
    }
    env.pop("AWS_LAMBDA_FUNCTION_NAME", None)
    code = PROBE.format(module=module, heavy=HEAVY)
    done = subprocess.run(
        [sys.executable, "-c", code, str(EVENTS / "health.json")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_the_portfolio_function_imports_no_heavy_sdk(tmp_path: Path) -> None:
    result = _probe("portfolio", tmp_path)
    assert result["status"] == 200
    assert result["heavy"] == []


def test_the_market_function_answers_a_recorded_event() -> None:
    from portfoliowise.handlers.lambdas import market as function

    fakes = fake_container(FixedClock(NOW))
    with function.container.market.override(providers.Object(fakes.market())):
        answer = function.handler(make_event("legacy_market_data.json"), LambdaContext())
    assert answer["statusCode"] == 200
    assert json.loads(answer["body"])["data"]["AAPL"]["price"] == 200
    portfolio = function.handler(make_event("list_portfolios.json"), LambdaContext())
    assert portfolio["statusCode"] == 404  # not one of this function's routes


@pytest.fixture
def quote_cache() -> InMemoryQuoteCache:
    return InMemoryQuoteCache(FixedClock(NOW))


@pytest.fixture
def portfolio_function(quote_cache: InMemoryQuoteCache) -> Iterator[Any]:
    """The module's own container (its resolver was built at import), its adapters
    overridden by fakes; the market stays the module's cache-only one."""
    from portfoliowise.handlers.lambdas import portfolio as function

    fakes = fake_container(FixedClock(NOW))
    names = ["settings", "clock", "ids", "audit_log", "portfolios", "events", "authenticator"]
    with ExitStack() as stack:
        for name in names:
            provider = getattr(function.container, name)
            stack.enter_context(provider.override(providers.Object(getattr(fakes, name)())))
        stack.enter_context(function.container.quote_cache.override(providers.Object(quote_cache)))
        function.container.cached_market.reset()
        yield function
    function.container.cached_market.reset()


def test_the_portfolio_handler_answers_recorded_events(portfolio_function: Any) -> None:
    created = portfolio_function.handler(make_event("create_portfolio.json"), LambdaContext())
    assert created["statusCode"] == 201
    portfolio_id = json.loads(created["body"])["portfolioId"]
    got = portfolio_function.handler(
        make_event("get_portfolio.json", path=f"/portfolios/{portfolio_id}"), LambdaContext()
    )
    assert got["statusCode"] == 200
    assert json.loads(got["body"])["name"] == "老後資金"
    other = portfolio_function.handler(
        make_event("get_portfolio.json", path=f"/portfolios/{portfolio_id}", user="userB"),
        LambdaContext(),
    )
    assert other["statusCode"] == 404


def test_the_portfolio_function_serves_no_market_routes(portfolio_function: Any) -> None:
    answer = portfolio_function.handler(make_event("market_quotes.json"), LambdaContext())
    assert answer["statusCode"] == 404


def test_the_portfolio_function_prices_from_the_quote_cache_only(
    portfolio_function: Any, quote_cache: InMemoryQuoteCache
) -> None:
    created = portfolio_function.handler(make_event("create_portfolio.json"), LambdaContext())
    path = f"/portfolios/{json.loads(created['body'])['portfolioId']}/valuation"
    answer = portfolio_function.handler(
        make_event("get_portfolio.json", path=path), LambdaContext()
    )
    assert answer["statusCode"] == 200, answer["body"]
    assert sorted(json.loads(answer["body"])["unpriced"]) == ["7203", "AAPL"]  # nothing cached

    quote_cache.put_many([quotes_table()["7203"]], NOW + timedelta(hours=1))
    answer = portfolio_function.handler(
        make_event("get_portfolio.json", path=path), LambdaContext()
    )
    body = json.loads(answer["body"])
    assert [h["symbol"] for h in body["holdings"]] == ["7203"]
    assert body["holdings"][0]["quote"]["status"] == "cached"
    assert body["unpriced"] == ["AAPL"]
