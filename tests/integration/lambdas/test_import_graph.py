"""Each Lambda function loads what it uses and nothing more: in a fresh interpreter with
the environment the CDK stack sets, its module is imported and everything its routes or
jobs use is built (no AWS call is made); then the modules it must not load are checked.
The portfolio and auth functions never load the market sources, httpx, S3 code, yfinance,
pandas or openai; the market function loads the chain but not yfinance/pandas (imported by
the Yahoo adapter on its first call). Each function imports its own routers only (and the
use cases they serve); the scheduled function imports no API at all."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

MARKET_SOURCES = tuple(
    f"portfoliowise.adapters.market.{name}"
    for name in ("chain", "yahoo", "stooq", "funds", "frankfurter", "jpx", "paid", "http")
)
SDKS = ("yfinance", "pandas", "numpy", "openai", "curl_cffi")
ROUTERS = (
    "auth",
    "portfolio",
    "ledger",
    "market",
    "performance",
    "analysis",
    "web_app",
    "web_app_portfolio",
    "client_logs",
)


SCHEMAS = tuple(name for name in ROUTERS if name != "auth")
"""The routers with answers of their own: `api.schemas.<name>` (the auth router's are in
`api.schemas.common`)."""


def other_routes(*own: str) -> tuple[str, ...]:
    """The router modules of the other functions and their answers' schema modules (a
    function imports its own routers only, through `api.app.router`, and builds only their
    answers)."""
    routers = "portfoliowise.handlers.api.routers"
    schemas = "portfoliowise.handlers.api.schemas"
    return (
        *(f"{routers}.{name}" for name in ROUTERS if name not in own),
        *(f"{schemas}.{name}" for name in SCHEMAS if name not in own),
    )


def use_cases(*names: str) -> tuple[str, ...]:
    """Use cases only the other functions' routers serve."""
    return tuple(f"portfoliowise.application.{name}" for name in names)


FORBIDDEN: dict[str, tuple[str, ...]] = {
    "portfolio": (
        *MARKET_SOURCES,
        *SDKS,
        "httpx",
        "portfoliowise.adapters.blobs.s3",
        "portfoliowise.adapters.sqlite",
        "portfoliowise.adapters.google",
        "portfoliowise.handlers.jobs",
        "croniter",
        "tqdm",
        *other_routes("portfolio", "ledger", "web_app_portfolio", "client_logs"),
        *use_cases("analysis", "market_queries", "performance_queries", "web_app"),
    ),
    "auth": (
        *MARKET_SOURCES,
        *SDKS,
        "portfoliowise.adapters.blobs.s3",
        "portfoliowise.adapters.sqlite",
        "portfoliowise.adapters.portfolio_files",
        "portfoliowise.handlers.jobs",
        "croniter",
        "tqdm",
        *other_routes("auth", "web_app"),
        *use_cases(
            "analysis",
            "portfolio_commands",
            "ledger_commands",
            "performance_queries",
            # the client configuration's limits come from `market_limits`, constants only
            "market_queries",
            "market_service",
        ),
    ),
    "market": (
        *SDKS,
        "portfoliowise.adapters.blobs.s3",
        "portfoliowise.adapters.sqlite",
        "portfoliowise.adapters.google",
        "portfoliowise.adapters.portfolio_files",
        "portfoliowise.handlers.jobs",
        "croniter",
        "tqdm",
        *other_routes("market", "performance"),
        *use_cases("analysis", "portfolio_commands", "ledger_commands", "web_app"),
    ),
    "scheduled": (
        *SDKS,
        "portfoliowise.adapters.google",
        "croniter",
        "tqdm",
        # no API at all
        "portfoliowise.handlers.api.app",
        "portfoliowise.handlers.api.schemas",
        "portfoliowise.handlers.api.schemas.common",
        *other_routes(),
        *use_cases("analysis", "market_queries", "web_app"),
    ),
    "analysis": (
        *MARKET_SOURCES,
        "yfinance",
        "pandas",
        "numpy",
        "curl_cffi",
        "portfoliowise.adapters.blobs.s3",
        "portfoliowise.adapters.sqlite",
        "portfoliowise.adapters.google",
        "portfoliowise.handlers.jobs",
        "croniter",
        "tqdm",
        *other_routes("analysis"),
        *use_cases("ledger_commands", "performance_queries", "market_queries", "web_app"),
    ),
}
USES = {
    "portfolio": "c.portfolio_queries(); c.portfolio_ports(); c.audit_trail(); "
    "c.portfolio_formats(); c.authenticator()",
    "auth": "c.auth_service(); c.authenticator()",
    "market": "c.market_queries()",
    "scheduled": "function.jobs(); c.warmer()",
    "analysis": "c.analysis_ports(); c.authenticator()",
}
PROBE = """
import importlib, json, sys
function = importlib.import_module("portfoliowise.handlers.lambdas.{name}")
c = function.container
{uses}
print(json.dumps(sorted(m for m in {forbidden!r} if m in sys.modules)))
"""


@pytest.mark.parametrize("name", sorted(FORBIDDEN))
def test_a_function_loads_only_what_it_uses(name: str) -> None:
    env: dict[str, Any] = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PORTFOLIOWISE_", "DEV_", "GOOGLE_", "SESSION_"))
    }
    env.update(
        {
            "AWS_LAMBDA_FUNCTION_NAME": f"portfoliowise-{name}",
            "AWS_DEFAULT_REGION": "ap-northeast-1",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "BACKUP_BUCKET": "pw-backups",
            "MARKET_FUNCTION_NAME": "portfoliowise-market",
            "SESSION_SIGNING_KEY": "s" * 64,
            "SESSION_KMS_KEY_ID": "alias/portfoliowise-session-tokens",
            "OPENAI_API_KEY_SECRET": "arn:aws:secretsmanager:ap-northeast-1:1:secret:openai",
            "POWERTOOLS_LOG_LEVEL": "ERROR",
        }
    )
    code = PROBE.format(name=name, uses=USES[name].replace("; ", "\n"), forbidden=FORBIDDEN[name])
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []
