"""`portfoliowise value` and `simulate` on the bundled example, in fresh interpreters: they
load neither the AWS SDK nor the API, pydantic, httpx, pandas, yfinance, the container or
the ledger readers (`cli.build_parser` imports each subcommand's module only when needed),
so that the command starts at once (the `cli` rows of `make bench` time it)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
PORTFOLIO = str(EXAMPLES / "portfolio.json")
QUOTES = str(EXAMPLES / "quotes.sample.json")
FORBIDDEN = (
    "boto3",
    "botocore",
    "pydantic",
    "pydantic_settings",
    "httpx",
    "pandas",
    "numpy",
    "yfinance",
    "openai",
    "dependency_injector",
    "aws_lambda_powertools",
    "portfoliowise.handlers.api",
    "portfoliowise.handlers.container",
    "portfoliowise.handlers.cli_performance",
    "portfoliowise.adapters.ledger_files",
)
PROBE = """
import json, sys
from portfoliowise.handlers.cli import main
code = main({argv!r})
sys.stdout.flush()
print(json.dumps({{"code": code, "loaded": sorted(
    m for m in sys.modules if any(m == f or m.startswith(f + ".") for f in {forbidden!r})
)}}), file=sys.stderr)
"""


@pytest.mark.parametrize(
    "argv",
    [
        ["value", PORTFOLIO, "--quotes", QUOTES, "--currency", "JPY"],
        ["value", PORTFOLIO, "--quotes", QUOTES, "--json"],
        ["simulate", PORTFOLIO, "--quotes", QUOTES, "--budget", "300000JPY"],
    ],
    ids=["value", "value-json", "simulate"],
)
def test_value_and_simulate_never_load_the_aws_sdk_or_the_api(argv: list[str]) -> None:
    probe = PROBE.format(argv=argv, forbidden=FORBIDDEN)
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip()
    result = json.loads(done.stderr.splitlines()[-1])
    assert result == {"code": 0, "loaded": []}


def test_a_bad_option_of_value_is_still_one_line() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "portfoliowise.handlers.cli", "value", PORTFOLIO, "--nope"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith("portfoliowise: error: ")
    assert done.stderr.count("\n") == 1
