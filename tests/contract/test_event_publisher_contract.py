"""The `EventPublisher` contract, run against every adapter: the in-memory fake, the
in-process bus and EventBridge (moto, in-process: a rule on the `portfoliowise` bus sends
what it matches to an SQS queue, which the test reads back)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from portfoliowise.adapters.events import (
    ALL,
    BUS_NAME,
    Backoff,
    EventBridgePublisher,
    InProcessBus,
    events_client,
)
from portfoliowise.adapters.memory import InMemoryEventPublisher
from portfoliowise.domain.errors import PayloadTooLarge
from portfoliowise.domain.events import (
    DomainEvent,
    FieldChange,
    HoldingAdded,
    PortfolioCreated,
    TargetsSet,
)
from portfoliowise.domain.ports import EventPublisher

REGION = "ap-northeast-1"
AT = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)

Envelope = dict[str, Any]
"""What a consumer receives: `source`, `detail-type` and `detail` (as on EventBridge)."""


@pytest.fixture(autouse=True)
def _fake_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)


@dataclass
class Backend:
    name: str
    publisher: EventPublisher
    delivered: Callable[[], list[Envelope]]
    """Everything consumers received so far."""


def _envelope(event: DomainEvent) -> Envelope:
    return {"source": event.source, "detail-type": event.name, "detail": event.to_json()}


def _memory() -> Iterator[Backend]:
    fake = InMemoryEventPublisher()
    yield Backend("memory", fake, lambda: [_envelope(e) for e in fake.published])


def _inprocess() -> Iterator[Backend]:
    bus = InProcessBus()
    received: list[Envelope] = []
    bus.subscribe(ALL, lambda event: received.append(_envelope(event)))
    yield Backend("inprocess", bus, lambda: list(received))


def _eventbridge() -> Iterator[Backend]:
    with mock_aws():
        events = events_client(region=REGION)
        events.create_event_bus(Name=BUS_NAME)
        sqs = boto3.client("sqs", region_name=REGION)
        queue_url = sqs.create_queue(QueueName="portfoliowise-consumer")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        events.put_rule(
            Name="all-portfoliowise",
            EventBusName=BUS_NAME,
            EventPattern=json.dumps({"source": [{"prefix": "portfoliowise."}]}),
        )
        events.put_targets(
            Rule="all-portfoliowise",
            EventBusName=BUS_NAME,
            Targets=[{"Id": "consumer", "Arn": queue_arn}],
        )
        received: list[Envelope] = []

        def delivered() -> list[Envelope]:
            while True:
                messages = sqs.receive_message(
                    QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0
                ).get("Messages", [])
                if not messages:
                    return list(received)
                for message in messages:
                    received.append(json.loads(message["Body"]))
                    sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])

        publisher = EventBridgePublisher(events, BUS_NAME, Backoff(sleep=lambda _: None))
        yield Backend("eventbridge", publisher, delivered)


BACKENDS: dict[str, Callable[[], Iterator[Backend]]] = {
    "memory": _memory,
    "inprocess": _inprocess,
    "eventbridge": _eventbridge,
}


@pytest.fixture(params=list(BACKENDS))
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    yield from BACKENDS[request.param]()


def holding_added(n: int = 0, **changes: FieldChange) -> HoldingAdded:
    return HoldingAdded(
        user_id="u1",
        portfolio_id="p1",
        occurred_at=AT + timedelta(seconds=n),
        symbol="7203",
        changes=changes or {"quantity": FieldChange(None, str(100 * (n + 1)))},
    )


def _ids(envelopes: list[Envelope]) -> list[str]:
    return [e["detail"]["eventId"] for e in envelopes]


def test_published_events_reach_consumers_once_each(backend: Backend) -> None:
    events = [holding_added(n) for n in range(3)]

    backend.publisher.publish(events)

    delivered = backend.delivered()
    assert sorted(_ids(delivered)) == sorted(e.event_id for e in events)


def test_envelope(backend: Backend) -> None:
    event = holding_added(quantity=FieldChange(None, "100"))

    backend.publisher.publish([event])

    [envelope] = backend.delivered()
    assert envelope["source"] == "portfoliowise.portfolio"
    assert envelope["detail-type"] == "HoldingAdded"
    assert envelope["detail"] == {
        "eventId": event.event_id,
        "occurredAt": "2026-11-28T02:00:00+00:00",
        "userId": "u1",
        "portfolioId": "p1",
        "action": "holding.added",
        "changes": {"quantity": {"before": None, "after": "100"}},
    }


def test_detail_types_are_the_event_class_names(backend: Backend) -> None:
    created = PortfolioCreated(user_id="u1", portfolio_id="p1", occurred_at=AT)
    targets = TargetsSet(user_id="u1", portfolio_id="p1", occurred_at=AT)

    backend.publisher.publish([created, targets])

    by_id = {e["detail"]["eventId"]: e["detail-type"] for e in backend.delivered()}
    assert by_id == {created.event_id: "PortfolioCreated", targets.event_id: "TargetsSet"}


def test_non_ascii_detail_round_trips(backend: Backend) -> None:
    event = holding_added(name=FieldChange("トヨタ自動車", "基準価額 10,000口"))

    backend.publisher.publish([event])

    [envelope] = backend.delivered()
    assert envelope["detail"]["changes"]["name"] == {
        "before": "トヨタ自動車",
        "after": "基準価額 10,000口",
    }


def test_more_events_than_one_request_holds(backend: Backend) -> None:
    events = [holding_added(n) for n in range(23)]

    backend.publisher.publish(events)

    assert sorted(_ids(backend.delivered())) == sorted(e.event_id for e in events)


def test_nothing_to_publish(backend: Backend) -> None:
    backend.publisher.publish([])

    assert backend.delivered() == []


def test_event_over_the_bus_limit_is_refused_and_nothing_is_published(backend: Backend) -> None:
    if backend.name == "memory":
        pytest.skip("InMemoryEventPublisher does not enforce the bus's size limit")
    small = holding_added(0)
    big = holding_added(1, note=FieldChange(None, "x" * 262_144))

    with pytest.raises(PayloadTooLarge, match=big.event_id):
        backend.publisher.publish([small, big])

    assert backend.delivered() == []


# --- the in-process bus only --------------------------------------------------------------


def test_inprocess_dispatches_in_order_to_matching_subscribers() -> None:
    bus = InProcessBus()
    calls: list[tuple[str, str]] = []
    bus.subscribe("HoldingAdded", lambda e: calls.append(("added", e.event_id)))
    bus.subscribe(ALL, lambda e: calls.append(("all", e.event_id)))
    bus.subscribe("TargetsSet", lambda e: calls.append(("targets", e.event_id)))
    first, second = holding_added(0), holding_added(1)
    targets = TargetsSet(user_id="u1", portfolio_id="p1", occurred_at=AT)

    bus.publish([first, targets, second])

    assert calls == [
        ("added", first.event_id),
        ("all", first.event_id),
        ("all", targets.event_id),
        ("targets", targets.event_id),
        ("added", second.event_id),
        ("all", second.event_id),
    ]
    assert bus.published == [first, targets, second]


def test_inprocess_does_not_handle_a_redelivered_event_twice() -> None:
    bus = InProcessBus()
    handled: list[str] = []
    bus.subscribe(ALL, lambda e: handled.append(e.event_id))
    event = holding_added(0)

    bus.publish([event])
    bus.publish([event, holding_added(1)])
    bus.publish([event])

    assert handled.count(event.event_id) == 1
    assert len(handled) == 2
    assert len(bus.published) == 4  # what was published, redeliveries included


def test_inprocess_failing_handler_is_logged_and_isolated(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bus = InProcessBus()
    handled: list[str] = []
    attempts: list[str] = []

    def failing(event: DomainEvent) -> None:
        attempts.append(event.event_id)
        if len(attempts) == 1:
            raise RuntimeError("consumer is down")

    bus.subscribe(ALL, failing)
    bus.subscribe(ALL, lambda e: handled.append(e.event_id))
    first, second = holding_added(0), holding_added(1)

    with caplog.at_level("ERROR"):
        bus.publish([first, second])

    assert handled == [first.event_id, second.event_id]  # the others went on
    [record] = caplog.records
    assert record.exc_info is not None
    assert first.event_id in record.getMessage()

    bus.publish([first])  # redelivered: the failed handler gets it again, the other does not

    assert attempts == [first.event_id, second.event_id, first.event_id]
    assert handled == [first.event_id, second.event_id]


def test_inprocess_events_published_by_a_handler_come_after_the_current_one() -> None:
    bus = InProcessBus()
    calls: list[str] = []
    follow_up = TargetsSet(user_id="u1", portfolio_id="p1", occurred_at=AT)

    def on_added(event: DomainEvent) -> None:
        calls.append(f"added:{event.event_id}")
        bus.publish([follow_up])
        calls.append("published follow-up")

    bus.subscribe("HoldingAdded", on_added)
    bus.subscribe(ALL, lambda e: calls.append(f"all:{e.name}"))
    event = holding_added(0)

    bus.publish([event])

    assert calls == [
        f"added:{event.event_id}",
        "published follow-up",
        "all:HoldingAdded",
        "all:TargetsSet",
    ]


def test_inprocess_forgets_old_deliveries_beyond_its_memory() -> None:
    bus = InProcessBus(remembered=2)
    handled: list[str] = []
    bus.subscribe(ALL, lambda e: handled.append(e.event_id))
    events = [holding_added(n) for n in range(3)]

    bus.publish(events)
    bus.publish([events[2]])  # remembered: not handled again
    bus.publish([events[0]])  # forgotten: handled again

    assert handled == [e.event_id for e in events] + [events[0].event_id]
