"""`POST /client-logs`: the web app's console entries, signed in only, capped, rate-limited
per session, scrubbed, written with the hashed subject; the file and CloudWatch sinks."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from api_harness import LambdaContext, call, make_event
from moto import mock_aws

from portfoliowise.adapters.client_logs.cloudwatch import CloudWatchClientLogSink
from portfoliowise.adapters.client_logs.file import FileClientLogSink
from portfoliowise.adapters.client_logs.memory import MemoryClientLogSink
from portfoliowise.adapters.clock import FixedClock
from portfoliowise.application.client_logs import (
    MAX_BATCH_BYTES,
    MAX_ENTRIES,
    MAX_MESSAGE_CHARS,
    RATE_LIMIT_BATCHES,
    scrub,
)
from portfoliowise.domain.signals import subject_of
from portfoliowise.handlers import bootstrap
from portfoliowise.handlers.container import Container

PATH = "/client-logs"
JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJl"


def entry(**changes: Any) -> dict[str, Any]:
    """One console entry as the app's shipper sends it (logger.ts levels, ISO time)."""
    return {
        "level": "error",
        "message": "Failed to fetch exchange rate",
        "url": "https://portfolio-wise.com/dashboard",
        "timestamp": "2026-11-27T05:59:58.123Z",
    } | changes


def post(app: Any, body: Any = ..., **changes: Any) -> tuple[int, dict[str, Any], Any]:
    return call(app, "create_portfolio.json", method="POST", path=PATH, body=body, **changes)


def sink(container: Container) -> MemoryClientLogSink:
    found = container.client_log_sink()
    assert isinstance(found, MemoryClientLogSink)
    return found


def test_a_batch_is_written_with_the_hashed_subject_only(app: Any, container: Container) -> None:
    batch = {
        "entries": [
            entry(),
            entry(level="warn", message="slow", timestamp=1764223198123),
            entry(level="log", message="x", url="", extra="ignored"),
        ]
    }
    status, _, body = post(app, batch)
    assert (status, body) == (202, {"accepted": 3})
    records = sink(container).records
    assert [r["level"] for r in records] == ["error", "warn", "log"]
    assert records[0]["message"] == "Failed to fetch exchange rate"
    assert records[0]["url"] == "https://portfolio-wise.com/dashboard"
    assert records[0]["timestamp"] == "2026-11-27T05:59:58.123Z"
    assert records[1]["timestamp"] == "1764223198123"
    assert {r["subject"] for r in records} == {subject_of("userA")}
    assert "userA" not in json.dumps(records)


def test_secrets_are_scrubbed(app: Any, container: Container) -> None:
    message = f"token {JWT} for taro@example.com, Authorization: Bearer abc.def-123"
    url = "https://portfolio-wise.com/cb?code=4/0Abc&state=x&access_token=zzz"
    status, _, _ = post(app, {"entries": [entry(message=message, url=url)]})
    assert status == 202
    (record,) = sink(container).records
    text = json.dumps(record)
    for secret in (JWT, "eyJ", "taro@example.com", "abc.def-123", "4/0Abc", "zzz"):
        assert secret not in text, secret
    assert "state=x" in str(record["url"])


def test_scrub_leaves_plain_text() -> None:
    assert scrub("TypeError: cannot read 'price' of undefined") == (
        "TypeError: cannot read 'price' of undefined"
    )


def test_signed_out_is_401_and_nothing_is_written(app: Any, container: Container) -> None:
    status, _, _ = post(app, {"entries": [entry()]}, user=None)
    assert status == 401
    assert sink(container).records == []


@pytest.mark.parametrize(
    ("batch", "expected"),
    [
        ({"entries": [entry()] * (MAX_ENTRIES + 1)}, 413),
        ({"entries": [entry(message="m" * (MAX_MESSAGE_CHARS + 1))]}, 400),
        ({"entries": [entry(level="fatal")]}, 400),
        ({"entries": [{"message": "no level"}]}, 400),
        ({"logs": []}, 400),
    ],
)
def test_caps_and_shape(app: Any, container: Container, batch: Any, expected: int) -> None:
    status, _, body = post(app, batch)
    assert status == expected, body
    assert sink(container).records == []


def test_a_body_over_the_byte_cap_is_413(app: Any, container: Container) -> None:
    message = "m" * (MAX_MESSAGE_CHARS - 10)
    count = MAX_BATCH_BYTES // MAX_MESSAGE_CHARS + 1
    assert count <= MAX_ENTRIES
    status, _, _ = post(app, {"entries": [entry(message=message)] * count})
    assert status == 413
    assert sink(container).records == []


def test_rate_limited_per_session(app: Any, container: Container, clock: FixedClock) -> None:
    for _ in range(RATE_LIMIT_BATCHES):
        assert post(app, {"entries": [entry()]})[0] == 202
    status, headers, body = post(app, {"entries": [entry()]})
    assert status == 429, body
    assert int(headers["Retry-After"]) >= 1
    assert body["error"]["code"] == "rate_limited"
    # another session is not limited by this one's batches
    assert post(app, {"entries": [entry()]}, user="userB")[0] == 202
    clock.advance(timedelta(minutes=1, seconds=1))
    assert post(app, {"entries": [entry()]})[0] == 202
    assert len(sink(container).records) == RATE_LIMIT_BATCHES + 2


def test_the_portfolio_function_serves_it(container: Container) -> None:
    app = bootstrap.portfolio_function(container)
    response = app.resolve(
        make_event("create_portfolio.json", method="POST", path=PATH, body={"entries": []}),
        LambdaContext(),
    )
    assert response["statusCode"] == 202


def test_the_file_sink_writes_json_lines(tmp_path: Path) -> None:
    path = tmp_path / "data" / "client.log"
    file_sink = FileClientLogSink(path)
    file_sink.write([{"level": "error", "message": "a"}, {"level": "info", "message": "ü"}])
    file_sink.write([{"level": "warn", "message": "b\nc"}])
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["message"] for line in lines] == ["a", "ü", "b\nc"]


def test_serve_writes_client_log_in_the_data_dir(tmp_path: Path) -> None:
    from portfoliowise.handlers.container import CLIENT_LOG_FILE, local_container

    container = local_container(tmp_path)
    file_sink = container.client_log_sink()
    assert isinstance(file_sink, FileClientLogSink)
    assert file_sink.path == tmp_path / CLIENT_LOG_FILE


REGION = "us-west-2"
GROUP = "/custom/application"


@pytest.fixture
def logs(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    with mock_aws():
        client = boto3.client("logs", region_name=REGION)
        client.create_log_group(logGroupName=GROUP)
        yield client


def test_the_cloudwatch_sink_puts_json_events_on_its_own_stream(logs: Any) -> None:
    cloudwatch = CloudWatchClientLogSink(logs, GROUP, stream_name=lambda: "client/test")
    cloudwatch.write([{"level": "error", "message": "a", "subject": "abc"}])
    cloudwatch.write([{"level": "info", "message": "b", "subject": "abc"}])
    (stream,) = logs.describe_log_streams(logGroupName=GROUP)["logStreams"]
    assert stream["logStreamName"] == "client/test"
    events = logs.get_log_events(logGroupName=GROUP, logStreamName="client/test")["events"]
    assert [json.loads(e["message"])["message"] for e in events] == ["a", "b"]


def test_a_failed_cloudwatch_write_is_logged_and_dropped(
    logs: Any, caplog: pytest.LogCaptureFixture
) -> None:
    cloudwatch = CloudWatchClientLogSink(logs, "/custom/missing")
    cloudwatch.write([{"level": "error", "message": "secret-free"}])
    assert "dropped 1 client log entries: ResourceNotFoundException" in caplog.text
