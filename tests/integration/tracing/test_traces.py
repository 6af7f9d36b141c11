"""X-Ray traces of a Lambda function, recorded in memory.

- Inside the Lambda runtime (`LAMBDA_TASK_ROOT` and the invocation's `_X_AMZN_TRACE_ID`),
  the portfolio function's module answers `GET /portfolios/{id}/valuation` over moto
  DynamoDB, with a real session: every adapter call is one subsegment named after its
  port's method and annotated with its table; botocore's DynamoDB calls nest inside; the
  request's `user` annotation is the hash of the user id, and neither the id nor the
  e-mail is in anything emitted. It runs in a fresh interpreter: patching and the SDK's
  Lambda context are process-wide.
- Where there is no daemon (tests, the CLI) tracing is off and nothing X-Ray prints."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from portfoliowise.domain.signals import subject_of as user_hash

ROOT = Path(__file__).resolve().parents[3]
USER_ID = "google:109876543210987654321"
SESSION_ID = "A" * 43  # a well-formed session id (base64url of 32 bytes)
EMAIL = "investor@example.com"
TABLES = {
    "PORTFOLIO_TABLE": "pw-portfolio",
    "AUDIT_TABLE": "pw-audit",
    "SESSION_TABLE": "pw-session",
    "CACHE_TABLE": "pw-cache",
}
SCRIPT = """
import json, sys
from datetime import UTC, datetime, timedelta
sys.path.insert(0, {harness!r})
from moto import mock_aws
from aws_xray_sdk.core import xray_recorder
from aws_xray_sdk.core.emitters.udp_emitter import UDPEmitter

class MemoryEmitter(UDPEmitter):
    def __init__(self):
        super().__init__()
        self.documents = []
    def send_entity(self, entity):
        self.documents.append(entity.serialize())

with mock_aws():
    from portfoliowise.adapters.clock import SystemClock
    from portfoliowise.adapters.dynamodb import (
        DynamoPortfolioRepository, TableNames, create_tables, dynamodb_client,
    )
    from portfoliowise.adapters.dynamodb.sessions import DynamoSessionStore
    from portfoliowise.application.request_auth import token_hash
    from portfoliowise.domain.audit import RequestContext, audit_entries
    from portfoliowise.domain.money import JPY
    from portfoliowise.domain.portfolio import Holding, Portfolio
    from portfoliowise.domain.sessions import Session
    from api_harness import LambdaContext, make_event

    names = TableNames(**{tables!r})
    client = dynamodb_client()
    create_tables(client, names)
    now = datetime.now(UTC)
    portfolio = Portfolio.create(
        user_id={user!r}, portfolio_id="p1", name="core", base_currency=JPY, at=now,
        holdings=[Holding.of("7203", "100")],
    )
    DynamoPortfolioRepository(client, names, SystemClock()).add(
        portfolio, audit_entries(portfolio.pull_events(), RequestContext())
    )
    DynamoSessionStore(client, names).put(
        Session(token_hash({sid!r}), {user!r}, now + timedelta(hours=1))
    )

    import portfoliowise.handlers.lambdas.portfolio as function
    emitter = MemoryEmitter()
    xray_recorder.configure(emitter=emitter)
    event = make_event(
        "get_portfolio.json", path="/portfolios/p1/valuation", user=None,
        headers={{"Cookie": "__Host-session={sid}"}},
    )
    response = function.handler(event, LambdaContext())
    print(json.dumps({{"status": response["statusCode"], "documents": emitter.documents}}))
"""


def _environment(**extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PORTFOLIOWISE_", "DEV_", "GOOGLE_", "SESSION_", "POWERTOOLS_"))
        and key not in ("LAMBDA_TASK_ROOT", "_X_AMZN_TRACE_ID", "AWS_XRAY_SDK_ENABLED")
    }
    env.update(
        {
            "AWS_DEFAULT_REGION": "ap-northeast-1",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "SESSION_SIGNING_KEY": "s" * 64,
            "POWERTOOLS_LOG_LEVEL": "WARNING",
            "POWERTOOLS_SERVICE_NAME": "portfoliowise-portfolio",
            **TABLES,
        }
    )
    env.update(extra)
    return env


def _flatten(document: dict[str, Any], into: dict[str, dict[str, Any]]) -> None:
    into[document["id"]] = document
    for child in document.get("subsegments") or []:
        _flatten(child, into)


def _traced_valuation() -> tuple[list[dict[str, Any]], str]:
    env = _environment(
        AWS_LAMBDA_FUNCTION_NAME="portfoliowise-portfolio",
        LAMBDA_TASK_ROOT="/var/task",
        _X_AMZN_TRACE_ID="Root=1-67a1b2c3-0123456789abcdef01234567;Parent=53995c3f42cd8ad8;Sampled=1",
    )
    code = SCRIPT.format(
        harness=str(ROOT / "tests" / "integration" / "api"),
        tables=_names(),
        user=USER_ID,
        sid=SESSION_ID,
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=180
    )
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    assert answer["status"] == 200
    entities: dict[str, dict[str, Any]] = {}
    for text in answer["documents"]:
        _flatten(json.loads(text), entities)
    return list(entities.values()), "\n".join(answer["documents"]) + done.stdout + done.stderr


def _names() -> dict[str, str]:
    return {
        "portfolio": TABLES["PORTFOLIO_TABLE"],
        "audit": TABLES["AUDIT_TABLE"],
        "session": TABLES["SESSION_TABLE"],
        "cache": TABLES["CACHE_TABLE"],
    }


def test_a_valuation_is_one_subsegment_per_adapter_call_with_its_table() -> None:
    entities, everything = _traced_valuation()
    by_name: dict[str, list[dict[str, Any]]] = {}
    for entity in entities:
        by_name.setdefault(entity["name"], []).append(entity)

    handler = by_name["## handler"]
    assert len(handler) == 1
    assert handler[0]["annotations"]["user"] == user_hash(USER_ID)
    assert handler[0]["annotations"]["Service"] == "portfolio"
    assert "metadata" not in handler[0] or "handler response" not in json.dumps(
        handler[0]["metadata"]
    )

    # one subsegment per adapter call, under the handler's, annotated with its table
    adapters = [e for e in entities if e.get("namespace") == "local" and e is not handler[0]]
    table_of = {
        "SessionStore": TABLES["SESSION_TABLE"],
        "PortfolioRepository": TABLES["PORTFOLIO_TABLE"],
        "QuoteCache": TABLES["CACHE_TABLE"],
    }
    assert sorted(e["name"].partition(".")[0] for e in adapters) == sorted(table_of)
    for adapter in adapters:
        assert adapter["parent_id"] == handler[0]["id"]
        assert adapter["annotations"] == {"table": table_of[adapter["name"].partition(".")[0]]}
    assert {e["name"] for e in adapters} >= {"SessionStore.get", "QuoteCache.get_many"}
    # botocore is patched: each adapter call's DynamoDB requests nest inside it
    calls = [e for e in entities if e.get("namespace") == "aws"]
    parents = {adapter["id"]: adapter for adapter in adapters}
    assert {e["name"] for e in calls} == {"dynamodb"}
    assert all(call["parent_id"] in parents for call in calls)
    operations = {
        parents[call["parent_id"]]["name"].partition(".")[0]: call["aws"]["operation"]
        for call in calls
    }
    assert operations == {
        "SessionStore": "GetItem",
        "PortfolioRepository": "GetItem",
        "QuoteCache": "BatchGetItem",
    }

    assert USER_ID not in everything
    assert USER_ID.split(":")[1] not in everything
    assert EMAIL not in everything


@pytest.mark.parametrize("function", ["portfolio", "auth"])
def test_a_function_patches_botocore_and_httpx_when_they_are_first_imported(
    function: str,
) -> None:
    """Traced functions defer X-Ray's patches to the first import of boto3 (and httpx), so
    that neither loads at the function's start; a client made later is still traced."""
    code = """
import sys
import portfoliowise.handlers.lambdas.{name}
print(sorted(m for m in ("boto3", "botocore.client", "httpx") if m in sys.modules))
from portfoliowise.adapters.dynamodb.client import dynamodb_client
dynamodb_client()
import botocore.client
print(hasattr(botocore.client.BaseClient._make_api_call, "__wrapped__"))
import httpx
print(httpx.Client.__module__)
"""
    env = _environment(AWS_LAMBDA_FUNCTION_NAME=f"portfoliowise-{function}", LAMBDA_TASK_ROOT="/x")
    done = subprocess.run(
        [sys.executable, "-c", code.format(name=function)],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    loaded, patched, client = done.stdout.strip().splitlines()[-3:]
    assert loaded == "[]"
    assert patched == "True"
    # only the functions that call out over httpx patch it (auth: Google)
    expected = "aws_xray_sdk.ext.httpx.patch" if function == "auth" else "httpx"
    assert client.startswith(expected)


XRAY_NOISE = ("segment", "xray", "x-ray", "daemon", "subsegment", "context missing", "emitter")


def _noise(text: str) -> list[str]:
    return [line for line in text.splitlines() if any(n in line.lower() for n in XRAY_NOISE)]


def test_without_a_daemon_a_function_traces_nothing_and_says_nothing() -> None:
    """The way the other tests run a function (no Lambda runtime): off, and silent."""
    code = """
import logging, sys
logging.basicConfig(level=logging.DEBUG, stream=sys.stderr)
sys.path.insert(0, {harness!r})
from api_harness import LambdaContext, make_event
import portfoliowise.handlers.lambdas.portfolio as function
from aws_xray_sdk import global_sdk_config
assert function.container.settings().tracing is False
assert not global_sdk_config.sdk_enabled()
logging.getLogger().setLevel(logging.INFO)
print(function.handler(make_event("get_portfolio.json", user=None), LambdaContext())["statusCode"])
"""
    env = _environment(AWS_LAMBDA_FUNCTION_NAME="portfoliowise-portfolio")
    done = subprocess.run(
        [sys.executable, "-c", code.format(harness=str(ROOT / "tests" / "integration" / "api"))],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "401"
    warnings = [line for line in _noise(done.stderr) if not line.startswith("DEBUG")]
    assert warnings == []


def test_the_cli_prints_no_xray_warning(tmp_path: Path) -> None:
    env = _environment(PORTFOLIOWISE_DATA_DIR=str(tmp_path))
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "portfoliowise.handlers.cli",
            "value",
            str(ROOT / "examples" / "portfolio.json"),
            "--quotes",
            str(ROOT / "examples" / "quotes.sample.json"),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    assert _noise(done.stderr) == []
