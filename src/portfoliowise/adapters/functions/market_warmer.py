"""The scheduled function warms the quote cache through the market function (the one
allowed to call the quote sources and write the Cache table, and the only one carrying
yfinance): a synchronous invoke with `{"warm": {"symbols": [...], "pairs": [...]}}`,
answered `{"priced": n, "unavailable": [...]}`.

botocore and the use case are imported when a warmer is made or used: the market function
imports this module for `WARM_REQUEST` alone (cold start)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from portfoliowise.domain.errors import SourceUnavailable

if TYPE_CHECKING:
    from mypy_boto3_lambda import LambdaClient

    from portfoliowise.application.scheduled_jobs import WarmReport
else:
    LambdaClient = Any

WARM_REQUEST = "warm"


def lambda_client() -> LambdaClient:
    from botocore.config import Config

    from portfoliowise.adapters import aws_session

    # The market function answers within its 30 s timeout; the invoke waits a little longer.
    config = Config(read_timeout=35, connect_timeout=5, retries={"mode": "standard"})
    with aws_session.lock:  # the process's one session (`adapters.aws_session`)
        return aws_session.session().client("lambda", config=config)


class InvokedMarketWarmer:
    def __init__(self, client: LambdaClient, function_name: str) -> None:
        if not function_name:
            raise ValueError("the market function's name is not configured")
        self._client = client
        self._function = function_name

    def warm(self, symbols: Sequence[str], pairs: Sequence[str]) -> WarmReport:
        from botocore.exceptions import BotoCoreError, ClientError

        from portfoliowise.application.scheduled_jobs import WarmReport

        payload = {WARM_REQUEST: {"symbols": list(symbols), "pairs": list(pairs)}}
        try:
            response = self._client.invoke(
                FunctionName=self._function,
                InvocationType="RequestResponse",
                Payload=json.dumps(payload).encode(),
            )
            body = json.loads(response["Payload"].read())
        except (BotoCoreError, ClientError, ValueError) as exc:
            raise SourceUnavailable(f"market function {self._function}: {exc}") from exc
        if response.get("FunctionError") or not isinstance(body, dict):
            raise SourceUnavailable(f"market function {self._function} failed: {body!r:.300}")
        return WarmReport(
            priced=int(body.get("priced", 0)), unavailable=list(body.get("unavailable", []))
        )
