"""Where signals go: `SnsSignals` on SNS faked by moto (an SQS queue subscribed to the topic
reads what the team's subscribers get), `LoggedSignals` as log lines, and the container's
choice between them (`INFO_TOPIC_ARN`)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from moto import mock_aws

from portfoliowise.adapters.notify import LoggedSignals, SnsSignals, signal_document, sns_client
from portfoliowise.domain.signals import Signal, SignalKind, subject_of
from portfoliowise.handlers.container import container_from_env

REGION = "ap-northeast-1"
AT = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
SIGNAL = Signal(
    kind=SignalKind.LARGE_PORTFOLIO_CHANGE,
    subject=subject_of("user-1"),
    at=AT,
    details={"portfolioId": "p1", "changePercent": "12.5", "total": "1125000"},
)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws():
        yield


@pytest.fixture
def topic(aws: None) -> tuple[str, str]:
    """The info topic and the URL of an SQS queue subscribed to it (SNS's JSON envelope)."""
    sns = boto3.client("sns", region_name=REGION)
    sqs = boto3.client("sqs", region_name=REGION)
    arn = sns.create_topic(Name="portfoliowise-info-notifications")["TopicArn"]
    url = sqs.create_queue(QueueName="info")["QueueUrl"]
    queue = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue["Attributes"]["QueueArn"])
    return arn, url


def _received(url: str) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs", region_name=REGION)
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    return [json.loads(m["Body"]) for m in messages]


def test_a_signal_is_published_with_its_kind_line_and_json(topic: tuple[str, str]) -> None:
    arn, url = topic

    SnsSignals(sns_client(REGION), arn).emit(SIGNAL)

    (envelope,) = _received(url)
    assert envelope["TopicArn"] == arn
    assert envelope["Subject"] == "LargePortfolioChanges"
    assert envelope["Message"] == SIGNAL.message()
    assert envelope["Message"].startswith(f"LargePortfolioChanges: user {SIGNAL.subject} at ")
    attributes = envelope["MessageAttributes"]
    assert attributes["kind"] == {"Type": "String", "Value": "LargePortfolioChanges"}
    assert attributes["signal"]["Type"] == "String"
    assert json.loads(attributes["signal"]["Value"]) == {
        "kind": "LargePortfolioChanges",
        "subject": SIGNAL.subject,
        "at": "2026-11-28T02:00:00+00:00",
        "details": {"portfolioId": "p1", "changePercent": "12.5", "total": "1125000"},
    }


def test_every_kind_is_its_own_subject(topic: tuple[str, str]) -> None:
    arn, url = topic
    signals = SnsSignals(sns_client(REGION), arn)
    for kind in SignalKind:
        signals.emit(Signal(kind=kind, subject=subject_of("u"), at=AT))
    assert sorted(e["Subject"] for e in _received(url)) == sorted(k.value for k in SignalKind)


def test_the_client_is_built_on_the_first_publish_only(topic: tuple[str, str]) -> None:
    arn, url = topic
    built: list[object] = []

    def build() -> Any:
        built.append(object())
        return sns_client(REGION)

    signals = SnsSignals(build, arn)
    assert built == []
    signals.emit(SIGNAL)
    signals.emit(SIGNAL)
    assert len(built) == 1
    assert len(_received(url)) == 2


def test_a_failed_publish_is_logged_not_raised(aws: None, caplog: pytest.LogCaptureFixture) -> None:
    missing = f"arn:aws:sns:{REGION}:123456789012:no-such-topic"
    with caplog.at_level(logging.WARNING, logger="portfoliowise.adapters.notify.sns"):
        SnsSignals(sns_client(REGION), missing).emit(SIGNAL)  # no exception
    (record,) = caplog.records
    assert "LargePortfolioChanges" in record.getMessage()
    assert missing in record.getMessage()
    assert record.exc_info is not None


def test_a_client_that_cannot_be_built_is_logged_not_raised(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken() -> Any:
        raise RuntimeError("no region")

    with caplog.at_level(logging.WARNING, logger="portfoliowise.adapters.notify.sns"):
        SnsSignals(broken, "arn:aws:sns:ap-northeast-1:1:info").emit(SIGNAL)
    assert len(caplog.records) == 1


def test_a_topic_is_required() -> None:
    with pytest.raises(ValueError, match="topic"):
        SnsSignals(lambda: None, "")


def test_logged_signals_write_one_line_per_signal(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("test.signals")
    with caplog.at_level(logging.INFO, logger="test.signals"):
        LoggedSignals(logger).emit(SIGNAL)
        LoggedSignals(logger).emit(Signal(SignalKind.SIGN_UP, subject_of("u2"), AT))
    first, second = caplog.records
    assert first.levelno == logging.INFO
    assert first.getMessage() == f"signal: {SIGNAL.message()}"
    assert first.signal == signal_document(SIGNAL)  # type: ignore[attr-defined]
    assert second.getMessage().startswith("signal: SignUps: user ")
    assert "user-1" not in first.getMessage()  # a hash, never the user id


def test_logged_signals_never_raise(caplog: pytest.LogCaptureFixture) -> None:
    class Broken:
        def info(self, *args: Any, **kwargs: Any) -> None:
            raise OSError("disk full")

    with caplog.at_level(logging.WARNING, logger="portfoliowise.adapters.notify.logged"):
        LoggedSignals(Broken()).emit(SIGNAL)
    assert len(caplog.records) == 1


@pytest.mark.parametrize("mode", ["aws", "local"])
def test_the_container_publishes_to_the_topic_when_one_is_set(mode: str) -> None:
    arn = f"arn:aws:sns:{REGION}:123456789012:portfoliowise-info-notifications"
    with_topic = container_from_env({"PORTFOLIOWISE_MODE": mode, "INFO_TOPIC_ARN": arn})
    without = container_from_env({"PORTFOLIOWISE_MODE": mode})
    assert isinstance(with_topic.signals(), SnsSignals)
    assert with_topic.signals() is with_topic.signals()
    assert isinstance(without.signals(), LoggedSignals)


def test_the_container_signals_reach_the_topic(topic: tuple[str, str]) -> None:
    arn, url = topic
    container = container_from_env({"PORTFOLIOWISE_MODE": "aws", "INFO_TOPIC_ARN": arn})
    container.signals().emit(SIGNAL)
    assert [e["Subject"] for e in _received(url)] == ["LargePortfolioChanges"]
