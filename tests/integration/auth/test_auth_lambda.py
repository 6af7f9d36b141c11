"""The auth Lambda module, in fresh interpreters: its import graph stays light (no yfinance,
pandas, numpy or openai), and its handler, built at import from the environment the CDK
stack sets, answers recorded events against moto's DynamoDB, KMS and Secrets Manager, with
dev login impossible although `DEV_LOGIN` is on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

EVENTS = Path(__file__).resolve().parents[2] / "events"
HEAVY = ("yfinance", "pandas", "numpy", "openai")


def run(script: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {
        k: v for k, v in os.environ.items() if not k.startswith(("GOOGLE_", "SESSION_", "DEV_"))
    }
    return subprocess.run(
        [sys.executable, "-c", script],
        env=base | env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_auth_lambda_imports_no_heavy_sdk(tmp_path: Path) -> None:
    script = f"""
import sys
import portfoliowise.handlers.lambdas.auth as module
assert callable(module.handler)
heavy = sorted(m for m in sys.modules if m.split(".")[0] in {HEAVY!r})
print("HEAVY=" + ",".join(heavy))
"""
    env = {
        "AWS_LAMBDA_FUNCTION_NAME": "portfoliowise-auth",
        "AWS_DEFAULT_REGION": "ap-northeast-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "GOOGLE_CLIENT_ID": "client.apps.googleusercontent.com",
        "GOOGLE_CLIENT_SECRET": "secret",
        "SESSION_SIGNING_KEY": "s" * 64,
        "SESSION_KMS_KEY_ID": "alias/portfoliowise-session-tokens",
        "PORTFOLIOWISE_DATA_DIR": str(tmp_path),
    }

    result = run(script, env)

    assert result.returncode == 0, result.stderr
    (line,) = [x for x in result.stdout.splitlines() if x.startswith("HEAVY=")]
    assert line == "HEAVY="


def test_the_auth_lambda_handler_answers_recorded_events_on_aws_adapters(tmp_path: Path) -> None:
    script = f"""
import json, os, sys
from pathlib import Path
from moto import mock_aws
import boto3

with mock_aws():
    from portfoliowise.adapters.dynamodb import TableNames, create_tables, dynamodb_client
    create_tables(dynamodb_client(), TableNames.from_env(os.environ))
    kms_key = boto3.client("kms").create_key()["KeyMetadata"]["Arn"]
    sm = boto3.client("secretsmanager")
    google = sm.create_secret(Name="pw/google", SecretString="google-secret")["ARN"]
    signing = sm.create_secret(Name="pw/signing", SecretString="s" * 64)["ARN"]
    os.environ.update({{
        "GOOGLE_CLIENT_SECRET_ARN": google,
        "SESSION_SIGNING_SECRET_ARN": signing,
        "SESSION_TOKEN_KEY_ARN": kms_key,
    }})
    from portfoliowise.handlers.lambdas.auth import container, handler
    from portfoliowise.handlers.local_server import LocalContext

    events = Path({str(EVENTS)!r})
    answers = {{}}
    for name in ("auth_dev_login.json", "auth_session.json", "auth_logout.json", "health"):
        if name == "health":
            event = dict(json.loads((events / "auth_session.json").read_text()))
            event.update(path="/health", resource="/health")
            answers[name] = handler(event, LocalContext(aws_request_id="r-h"))["statusCode"]
            continue
        event = json.loads((events / name).read_text())
        answers[name] = handler(event, LocalContext(aws_request_id="r-" + name))["statusCode"]
    signed_in = container.auth_service().dev_login  # exists, but refuses: not enabled inside Lambda
    try:
        signed_in("dev@example.com")
    except Exception as exc:
        answers["dev_login_use_case"] = type(exc).__name__
    print("ANSWERS=" + json.dumps(answers))
"""
    env = {
        "AWS_LAMBDA_FUNCTION_NAME": "portfoliowise-auth",
        "AWS_DEFAULT_REGION": "ap-northeast-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "SESSION_TABLE": "pw-session",
        "GOOGLE_CLIENT_ID": "client.apps.googleusercontent.com",
        "CLIENT_IP_HEADER": "CloudFront-Viewer-Address",
        "DEV_LOGIN": "1",
        "PORTFOLIOWISE_DATA_DIR": str(tmp_path),
    }

    result = run(script, env)

    assert result.returncode == 0, result.stderr
    (line,) = [x for x in result.stdout.splitlines() if x.startswith("ANSWERS=")]
    answers = json.loads(line.removeprefix("ANSWERS="))
    assert answers == {
        "auth_dev_login.json": 404,
        "auth_session.json": 401,
        "auth_logout.json": 204,
        "health": 200,
        "dev_login_use_case": "Forbidden",
    }
    assert list(tmp_path.iterdir()) == []  # AWS mode: no local key files
