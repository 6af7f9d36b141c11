"""`ClientLogSink` on CloudWatch Logs: `PutLogEvents` into the `/custom/application` log
group, one JSON line per event, on a stream of this process (created on the first write:
`client/<date>/<random>`, one writer per stream, so no sequence tokens are needed).

Each event is stamped with the time it was received (a browser's clock may be days off,
and CloudWatch refuses events older than 14 days or more than 2 hours ahead); the app's
own `timestamp` stays in the JSON. A failed write is logged (count and error code only)
and dropped: the web app's console lines are not worth a 5xx to the user.
IAM: `logs:CreateLogStream` and `logs:PutLogEvents` on the group (the CDK app's
`grant_write`)."""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from portfoliowise.domain.events import JsonValue

log = logging.getLogger(__name__)


def _stream_name() -> str:
    return f"client/{datetime.now(UTC):%Y/%m/%d}/{uuid.uuid4().hex}"


class CloudWatchClientLogSink:
    def __init__(
        self,
        client: Any,
        log_group: str,
        *,
        stream_name: Callable[[], str] = _stream_name,
        now_millis: Callable[[], int] = lambda: int(time.time() * 1000),
    ) -> None:
        self._client = client
        self._group = log_group
        self._stream_name = stream_name
        self._now = now_millis
        self._stream: str | None = None
        self._lock = threading.Lock()

    def write(self, records: Sequence[dict[str, JsonValue]]) -> None:
        stamp = self._now()
        events = [
            {"timestamp": stamp, "message": json.dumps(r, ensure_ascii=False, sort_keys=True)}
            for r in records
        ]
        with self._lock:
            try:
                if self._stream is None:
                    stream = self._stream_name()
                    try:
                        self._client.create_log_stream(
                            logGroupName=self._group, logStreamName=stream
                        )
                    except ClientError as error:
                        if _code(error) != "ResourceAlreadyExistsException":
                            raise
                    self._stream = stream
                self._client.put_log_events(
                    logGroupName=self._group, logStreamName=self._stream, logEvents=events
                )
            except (ClientError, BotoCoreError) as error:
                log.warning(
                    "dropped %d client log entries: %s",
                    len(events),
                    _code(error) if isinstance(error, ClientError) else type(error).__name__,
                )


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))
