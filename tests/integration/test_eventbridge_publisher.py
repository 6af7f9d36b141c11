"""EventBridgePublisher against EventBridge faked by moto (in-process): what it sends,
request by request, observed with botocore event hooks (`before-call` records each PutEvents
request, `after-call` rewrites responses to simulate entries EventBridge did not accept)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from moto import mock_aws

from portfoliowise.adapters.events import (
    BUS_NAME,
    Backoff,
    EventBridgePublisher,
    EventsNotPublished,
    events_client,
)
from portfoliowise.adapters.events.eventbridge import (
    MAX_ENTRY_BYTES,
    entry_size,
    event_size,
)
from portfoliowise.domain.errors import PayloadTooLarge, SourceUnavailable
from portfoliowise.domain.events import FieldChange, HoldingAdded, PortfolioRenamed

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_events.type_defs import PutEventsRequestEntryTypeDef as Entry

REGION = "ap-northeast-1"
AT = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _fake_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)


@dataclass
class Recorder:
    """Every PutEvents request (its entries, as sent) and the waits between resends."""

    requests: list[list[dict[str, Any]]] = field(default_factory=list)
    sleeps: list[float] = field(default_factory=list)

    def before_call(self, params: dict[str, Any], **_: Any) -> None:
        self.requests.append(json.loads(params["body"])["Entries"])

    def event_ids(self, request: int) -> list[str]:
        return [json.loads(entry["Detail"])["eventId"] for entry in self.requests[request]]

    @property
    def sizes(self) -> list[int]:
        return [len(request) for request in self.requests]


@pytest.fixture
def client() -> Iterator[EventBridgeClient]:
    with mock_aws():
        client = events_client(region=REGION)
        client.create_event_bus(Name=BUS_NAME)
        yield client


@pytest.fixture
def recorder(client: EventBridgeClient) -> Recorder:
    recorder = Recorder()
    client.meta.events.register("before-call.events.PutEvents", recorder.before_call)
    return recorder


@pytest.fixture
def publisher(client: EventBridgeClient, recorder: Recorder) -> EventBridgePublisher:
    return EventBridgePublisher(client, BUS_NAME, Backoff(sleep=recorder.sleeps.append))


def holding_added(n: int = 0, padding: int = 0) -> HoldingAdded:
    changes = {"quantity": FieldChange(None, str(100 * (n + 1)))}
    if padding:
        changes["note"] = FieldChange(None, "x" * padding)
    return HoldingAdded(
        user_id="u1",
        portfolio_id="p1",
        occurred_at=AT + timedelta(seconds=n),
        symbol="7203",
        changes=changes,
    )


def sized(n: int, size: int) -> HoldingAdded:
    """An event whose entry is exactly `size` bytes on the bus."""
    base = holding_added(n, padding=1)
    event = holding_added(n, padding=1 + size - event_size(base))
    assert event_size(event) == size
    return event


def fail_entries(
    client: EventBridgeClient, recorder: Recorder, failures: dict[str, tuple[str, int]]
) -> None:
    """Make EventBridge report the entry of event id `k` failed with the error code
    `failures[k][0]`, the first `failures[k][1]` times it is sent (the responses are
    rewritten after moto answered)."""
    remaining = {event_id: times for event_id, (_, times) in failures.items()}

    def after_call(parsed: dict[str, Any], **_: Any) -> None:
        sent = recorder.event_ids(len(recorder.requests) - 1)
        for index, event_id in enumerate(sent):
            if remaining.get(event_id, 0) > 0:
                remaining[event_id] -= 1
                code = failures[event_id][0]
                parsed["Entries"][index] = {"ErrorCode": code, "ErrorMessage": "simulated"}
        parsed["FailedEntryCount"] = sum(1 for e in parsed["Entries"] if "ErrorCode" in e)

    client.meta.events.register("after-call.events.PutEvents", after_call)


ALWAYS = 1_000


# --- batching -----------------------------------------------------------------------------


def test_23_events_take_3_requests_of_10_10_and_3(
    publisher: EventBridgePublisher, recorder: Recorder
) -> None:
    events = [holding_added(n) for n in range(23)]

    publisher.publish(events)

    assert recorder.sizes == [10, 10, 3]
    sent = [event_id for n in range(3) for event_id in recorder.event_ids(n)]
    assert sent == [e.event_id for e in events]  # in order, each once
    assert recorder.sleeps == []


def test_requests_stay_under_the_size_limit(
    publisher: EventBridgePublisher, recorder: Recorder
) -> None:
    events = [sized(n, 100_000) for n in range(5)]

    publisher.publish(events)

    assert recorder.sizes == [2, 2, 1]
    for request in recorder.requests:
        assert sum(entry_size(cast("Entry", entry)) for entry in request) <= MAX_ENTRY_BYTES


def test_an_entry_of_exactly_the_limit_is_sent_alone(
    publisher: EventBridgePublisher, recorder: Recorder
) -> None:
    events = [holding_added(0), sized(1, MAX_ENTRY_BYTES), holding_added(2)]

    publisher.publish(events)

    assert recorder.sizes == [1, 1, 1]


def test_nothing_to_publish_sends_nothing(
    publisher: EventBridgePublisher, recorder: Recorder
) -> None:
    publisher.publish([])

    assert recorder.requests == []


# --- the size limit -----------------------------------------------------------------------


def test_entry_size_is_measured_as_eventbridge_does() -> None:
    entry: Entry = {
        "Time": AT,
        "Source": "portfoliowise.portfolio",  # 23 bytes
        "DetailType": "HoldingAdded",  # 12 bytes
        "Detail": '{"name":"トヨタ"}',  # 11 ASCII bytes + 3 characters of 3 bytes
        "Resources": ["arn:aws:s3:::b", "é"],  # 14 + 2 bytes
        "EventBusName": "not counted",
    }

    assert entry_size(entry) == 14 + 23 + 12 + 20 + 16
    assert entry_size({"Source": "s", "DetailType": "d"}) == 2  # no Time, no Detail


def test_an_event_over_the_limit_is_refused_before_anything_is_sent(
    publisher: EventBridgePublisher, recorder: Recorder
) -> None:
    too_big = sized(15, MAX_ENTRY_BYTES + 1)
    events = [holding_added(n) for n in range(15)] + [too_big] + [holding_added(16)]

    with pytest.raises(PayloadTooLarge) as raised:
        publisher.publish(events)

    assert recorder.requests == []  # not even the first full batch
    assert too_big.event_id in str(raised.value)
    assert "HoldingAdded" in str(raised.value)
    assert str(MAX_ENTRY_BYTES + 1) in str(raised.value)


def test_multibyte_text_counts_in_utf8_bytes(
    publisher: EventBridgePublisher, recorder: Recorder
) -> None:
    # 90,000 characters of 3 bytes each: under the limit in characters, over it in bytes.
    event = HoldingAdded(
        user_id="u1",
        portfolio_id="p1",
        occurred_at=AT,
        symbol="7203",
        changes={"note": FieldChange(None, "株" * 90_000)},
    )

    with pytest.raises(PayloadTooLarge):
        publisher.publish([event])
    assert recorder.requests == []


# --- failed entries -----------------------------------------------------------------------


def test_only_failed_entries_are_sent_again(
    client: EventBridgeClient, publisher: EventBridgePublisher, recorder: Recorder
) -> None:
    events = [holding_added(n) for n in range(6)]
    fail_entries(
        client,
        recorder,
        {
            events[1].event_id: ("ThrottlingException", 1),
            events[4].event_id: ("InternalFailure", 1),
        },
    )

    publisher.publish(events)

    assert recorder.sizes == [6, 2]
    assert recorder.event_ids(1) == [events[1].event_id, events[4].event_id]
    assert len(recorder.sleeps) == 1
    assert 0 <= recorder.sleeps[0] <= 0.2  # base 0.1 s * 2**1, full jitter


def test_resends_back_off_and_give_up_with_the_failed_event_ids(
    client: EventBridgeClient, publisher: EventBridgePublisher, recorder: Recorder
) -> None:
    events = [holding_added(n) for n in range(3)]
    fail_entries(
        client,
        recorder,
        {
            events[0].event_id: ("InternalFailure", ALWAYS),
            events[2].event_id: ("InternalFailure", ALWAYS),
        },
    )

    with pytest.raises(SourceUnavailable) as raised:
        publisher.publish(events)

    assert recorder.sizes == [3, 2, 2, 2]  # Backoff.attempts = 4 requests in all
    assert isinstance(raised.value, EventsNotPublished)
    assert raised.value.event_ids == (events[0].event_id, events[2].event_id)
    assert events[0].event_id in str(raised.value)
    assert events[1].event_id not in str(raised.value)
    assert len(recorder.sleeps) == 3
    for resend, wait in enumerate(recorder.sleeps, start=1):
        assert 0 <= wait <= min(1.0, 0.1 * 2**resend)


def test_a_failing_batch_does_not_stop_the_next_ones(
    client: EventBridgeClient, publisher: EventBridgePublisher, recorder: Recorder
) -> None:
    events = [holding_added(n) for n in range(23)]
    fail_entries(client, recorder, {events[3].event_id: ("InternalFailure", ALWAYS)})

    with pytest.raises(EventsNotPublished) as raised:
        publisher.publish(events)

    # the first batch, event 3 sent alone three more times, then the second and third batches
    assert recorder.sizes == [10, 1, 1, 1, 10, 3]
    assert raised.value.event_ids == (events[3].event_id,)


def test_entries_with_permanent_errors_are_not_resent(
    client: EventBridgeClient, publisher: EventBridgePublisher, recorder: Recorder
) -> None:
    events = [holding_added(n) for n in range(3)]
    fail_entries(client, recorder, {events[1].event_id: ("MalformedDetail", ALWAYS)})

    with pytest.raises(EventsNotPublished) as raised:
        publisher.publish(events)

    assert recorder.sizes == [3]
    assert raised.value.event_ids == (events[1].event_id,)


def test_a_failed_request_names_every_event_not_published() -> None:
    client = events_client(region=REGION)
    publisher = EventBridgePublisher(client, BUS_NAME, Backoff(sleep=lambda _: None))
    events = [holding_added(n) for n in range(23)]
    with Stubber(client) as stubber:
        stubber.add_response(
            "put_events", {"FailedEntryCount": 0, "Entries": [{"EventId": "e"}] * 10}
        )
        stubber.add_client_error("put_events", "ThrottlingException", http_status_code=400)

        with pytest.raises(EventsNotPublished) as raised:
            publisher.publish(events)

    assert raised.value.event_ids == tuple(e.event_id for e in events[10:])


def test_a_missing_bus_is_a_configuration_error_not_an_outage(client: EventBridgeClient) -> None:
    publisher = EventBridgePublisher(client, "no-such-bus", Backoff(sleep=lambda _: None))

    with pytest.raises(ClientError):
        publisher.publish([holding_added()])


# --- the envelope -------------------------------------------------------------------------


def test_envelope(publisher: EventBridgePublisher, recorder: Recorder) -> None:
    event = holding_added(0)
    renamed = PortfolioRenamed(
        user_id="u1",
        portfolio_id="p1",
        occurred_at=AT,
        changes={"name": FieldChange("老後資金", "NISA")},
    )

    publisher.publish([event, renamed])

    first, second = recorder.requests[0]
    assert first["Source"] == "portfoliowise.portfolio"
    assert first["DetailType"] == "HoldingAdded"
    assert first["EventBusName"] == BUS_NAME
    assert first["Time"] == AT.timestamp()
    detail = json.loads(first["Detail"])
    assert detail["eventId"] == event.event_id
    assert detail["occurredAt"] == "2026-11-28T02:00:00+00:00"
    assert detail["userId"] == "u1"
    assert detail == event.to_json()
    assert second["DetailType"] == "PortfolioRenamed"
    assert "老後資金" in second["Detail"]  # UTF-8 text, not \\u escapes
    assert "Resources" not in first


def test_events_client_uses_standard_retries() -> None:
    client = events_client(region=REGION)

    retries = client.meta.config.retries  # type: ignore[attr-defined]
    assert retries == {"mode": "standard", "total_max_attempts": 3}
