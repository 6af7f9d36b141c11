"""Signals onto the info SNS topic (`info-notifications`, whose subscribers are the team's
e-mail addresses).

One `Publish` per signal:
- `Subject`: the kind, which is the metric's name (`SignUps`, `LargePortfolioChanges`,
  `UnusualActivity`);
- `Message`: `Signal.message()`, one human-readable line (what an e-mail subscriber reads);
- message attributes (delivered to SQS, Lambda and HTTP subscribers, usable in
  subscription filter policies): `kind` (String, the kind again) and `signal` (String, the
  JSON document `{"kind", "subject", "at", "details"}` of `signal_document`).

Nothing is raised: a failed publish (botocore retries it once, with short timeouts) is
logged and the signal is dropped. The client is built when the first signal is published
when `client` is a function (`sns_client`), so a Lambda function pays for it only then."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from portfoliowise.adapters.notify.logged import signal_document
from portfoliowise.domain.signals import Signal

if TYPE_CHECKING:
    from mypy_boto3_sns import SNSClient
else:
    SNSClient = Any

logger = logging.getLogger(__name__)

MAX_ATTEMPTS: Final = 2
CONNECT_TIMEOUT_SECONDS: Final = 1.0
READ_TIMEOUT_SECONDS: Final = 2.0
MAX_SUBJECT_CHARS: Final = 100  # SNS's limit on `Subject`


def sns_client(region: str | None = None, endpoint_url: str | None = None) -> SNSClient:
    """A low-level SNS client with botocore's standard retries and timeouts short enough for
    the 10 s auth and portfolio functions."""
    from botocore.config import Config

    from portfoliowise.adapters import aws_session

    config = Config(
        retries={"mode": "standard", "total_max_attempts": MAX_ATTEMPTS},
        connect_timeout=CONNECT_TIMEOUT_SECONDS,
        read_timeout=READ_TIMEOUT_SECONDS,
    )
    with aws_session.lock:  # the process's one session (`adapters.aws_session`)
        return aws_session.session().client(
            "sns", region_name=region, endpoint_url=endpoint_url, config=config
        )


class SnsSignals:
    def __init__(self, client: SNSClient | Callable[[], SNSClient], topic_arn: str) -> None:
        """`client`: an SNS client, or a function building one on the first publish."""
        if not topic_arn:
            raise ValueError("the info topic's ARN is not configured")
        self._client = client
        self._topic_arn = topic_arn
        self._lock = threading.Lock()

    def _sns(self) -> SNSClient:
        with self._lock:
            if callable(self._client):
                self._client = self._client()
            return self._client

    def emit(self, signal: Signal) -> None:
        try:
            self._sns().publish(
                TopicArn=self._topic_arn,
                Subject=signal.kind.value[:MAX_SUBJECT_CHARS],
                Message=signal.message(),
                MessageAttributes={
                    "kind": {"DataType": "String", "StringValue": signal.kind.value},
                    "signal": {
                        "DataType": "String",
                        "StringValue": json.dumps(
                            signal_document(signal), ensure_ascii=False, separators=(",", ":")
                        ),
                    },
                },
            )
        except Exception:  # a signal never fails the request that caused it
            logger.warning(
                "signal %s not published to %s",
                signal.kind.value,
                self._topic_arn,
                exc_info=True,
            )
