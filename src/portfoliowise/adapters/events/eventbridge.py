"""Domain events onto the EventBridge bus (AWS mode).

Each event becomes one PutEvents entry: `Source` = `portfoliowise.<context>`, `DetailType` =
the event's class name, `Detail` = its JSON (`{eventId, occurredAt, userId, ...}`), `Time` =
when it happened. Entries are measured the way EventBridge measures them and one over the
limit is refused before anything is sent. Requests carry at most 10 entries and stay within
the size limit. Entries that come back failed (the request itself succeeded) are sent again,
alone, with capped exponential backoff; those still failing end in `EventsNotPublished`.
Failed requests are retried by botocore (standard mode, see `events_client`)."""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from botocore.config import Config
from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError

from portfoliowise.adapters import aws_session
from portfoliowise.domain.errors import PayloadTooLarge, SourceUnavailable
from portfoliowise.domain.events import DomainEvent

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_events.type_defs import PutEventsRequestEntryTypeDef

logger = logging.getLogger(__name__)

BUS_NAME = "portfoliowise"
MAX_ENTRIES_PER_REQUEST = 10
MAX_ENTRY_BYTES = 256 * 1024
"""EventBridge's limit on one entry, and on the entries of one request together."""
TIME_BYTES = 14
"""What a `Time` parameter counts for, whatever its value."""

MAX_ATTEMPTS = 3
CONNECT_TIMEOUT_SECONDS = 1.0
READ_TIMEOUT_SECONDS = 2.0

UNAVAILABLE_CODES = frozenset(
    {"ThrottlingException", "InternalException", "InternalFailure", "ServiceUnavailable"}
)
"""Request errors meaning "EventBridge cannot take this now" (botocore retried them)."""
PERMANENT_ENTRY_CODES = frozenset(
    {
        "InvalidArgument",
        "MalformedDetail",
        "AccessDeniedException",
        "NotAuthorizedForSourceException",
        "NotAuthorizedForDetailTypeException",
    }
)
"""Entry errors that sending the same entry again cannot fix: never resent."""


class EventsNotPublished(SourceUnavailable):
    """Some events did not reach the bus; `event_ids` names them (their `eventId`)."""

    def __init__(self, message: str, event_ids: Sequence[str]) -> None:
        super().__init__(f"{message}: {', '.join(event_ids)}")
        self.event_ids = tuple(event_ids)


def events_client(
    endpoint_url: str | None = None,
    region: str | None = None,
    *,
    max_attempts: int = MAX_ATTEMPTS,
    connect_timeout: float = CONNECT_TIMEOUT_SECONDS,
    read_timeout: float = READ_TIMEOUT_SECONDS,
) -> EventBridgeClient:
    """A low-level EventBridge client with botocore's standard retry mode and timeouts sized
    for the 10 s portfolio function (build one per process and share it)."""
    config = Config(
        retries={"mode": "standard", "total_max_attempts": max_attempts},
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        tcp_keepalive=True,
    )
    with aws_session.lock:  # the process's one session (`adapters.aws_session`)
        return aws_session.session().client(
            "events", endpoint_url=endpoint_url, region_name=region, config=config
        )


def detail_of(event: DomainEvent) -> str:
    """The `Detail` string: compact JSON, non-ASCII text kept as UTF-8 (not \\u escapes)."""
    return json.dumps(event.to_json(), ensure_ascii=False, separators=(",", ":"))


def entry_size(entry: PutEventsRequestEntryTypeDef) -> int:
    """The size EventBridge counts for an entry (its documented PutEvents entry size)."""
    size = TIME_BYTES if entry.get("Time") is not None else 0
    for text in (entry.get("Source"), entry.get("DetailType"), entry.get("Detail")):
        size += len(text.encode("utf-8")) if text else 0
    for resource in entry.get("Resources") or []:
        size += len(resource.encode("utf-8"))
    return size


def entry_for(event: DomainEvent, bus_name: str = BUS_NAME) -> PutEventsRequestEntryTypeDef:
    """The PutEvents entry publishing `event` on the bus `bus_name`."""
    return {
        "Time": event.occurred_at,
        "Source": event.source,
        "DetailType": event.name,
        "Detail": detail_of(event),
        "EventBusName": bus_name,
    }


def event_size(event: DomainEvent) -> int:
    """The size of the entry `event` is published as (the bus name does not count)."""
    return entry_size(entry_for(event))


def too_large(event: DomainEvent, size: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"event {event.name} {event.event_id} is {size} bytes on the bus, over the "
        f"{MAX_ENTRY_BYTES}-byte limit; nothing was published"
    )


def check_sizes(events: Sequence[DomainEvent]) -> None:
    """`PayloadTooLarge` naming the first event whose entry is over the limit."""
    for event in events:
        size = event_size(event)
        if size > MAX_ENTRY_BYTES:
            raise too_large(event, size)


@dataclass(frozen=True, slots=True)
class Backoff:
    """Resends of failed entries: at most `attempts` requests per batch (the first one
    included), waiting a random time up to `base * 2**n` seconds (capped at `cap`) before
    the n-th resend. The defaults wait 1.4 s at most in all."""

    attempts: int = 4
    base: float = 0.1
    cap: float = 1.0
    sleep: Callable[[float], None] = field(default=time.sleep)

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("Backoff.attempts counts the first request: at least 1")

    def wait(self, resend: int) -> None:
        self.sleep(random.uniform(0, min(self.cap, self.base * 2**resend)))


@dataclass(frozen=True, slots=True)
class _Pending:
    event: DomainEvent
    entry: PutEventsRequestEntryTypeDef
    size: int


class EventBridgePublisher:
    """Implements `EventPublisher` over one custom bus."""

    def __init__(
        self, client: EventBridgeClient, bus_name: str = BUS_NAME, backoff: Backoff | None = None
    ) -> None:
        self._client = client
        self.bus_name = bus_name
        self._backoff = backoff or Backoff()

    def publish(self, events: Sequence[DomainEvent]) -> None:
        """Publish all of `events` or raise: `PayloadTooLarge` (nothing sent) for an event
        over the limit, `EventsNotPublished` naming the events that did not get through."""
        pending = [self._pending(event) for event in events]
        for item in pending:
            if item.size > MAX_ENTRY_BYTES:
                raise too_large(item.event, item.size)
        failed: list[str] = []
        batches = list(_batches(pending))
        for number, batch in enumerate(batches):
            given_up, error = self._send(batch)
            failed.extend(given_up)
            if error is not None:
                unsent = [item.event.event_id for rest in batches[number + 1 :] for item in rest]
                raise EventsNotPublished(
                    f"EventBridge is unavailable ({error}); events not published",
                    failed + unsent,
                ) from error
        if failed:
            raise EventsNotPublished("events still failing after resends", failed)

    def _pending(self, event: DomainEvent) -> _Pending:
        entry = entry_for(event, self.bus_name)
        return _Pending(event, entry, entry_size(entry))

    def _send(self, batch: list[_Pending]) -> tuple[list[str], SourceUnavailable | None]:
        """Send one batch, resending its failed entries: the ids of the events that did not
        get through, and the error that stopped the resends if a request failed."""
        given_up: list[str] = []
        sent = 0
        while batch and sent < self._backoff.attempts:
            if sent:
                self._backoff.wait(sent)
            try:
                response = self._put([item.entry for item in batch])
            except SourceUnavailable as exc:
                return given_up + [item.event.event_id for item in batch], exc
            sent += 1
            retry: list[_Pending] = []
            for item, (code, message) in zip(batch, response, strict=True):
                if code is None:
                    continue
                logger.warning(
                    "event %s %s not accepted by the bus: %s %s",
                    item.event.name,
                    item.event.event_id,
                    code,
                    message,
                )
                if code in PERMANENT_ENTRY_CODES:
                    given_up.append(item.event.event_id)
                else:
                    retry.append(item)
            batch = retry
        return given_up + [item.event.event_id for item in batch], None

    def _put(self, entries: list[PutEventsRequestEntryTypeDef]) -> list[tuple[str | None, str]]:
        """One PutEvents request: (error code or None, message) per entry."""
        try:
            response = self._client.put_events(Entries=entries)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
            if code in UNAVAILABLE_CODES or status >= 500:
                raise SourceUnavailable(f"PutEvents failed: {code}") from exc
            raise
        except (BotoConnectionError, HTTPClientError) as exc:
            raise SourceUnavailable(f"PutEvents did not answer: {exc}") from exc
        if not response.get("FailedEntryCount"):
            return [(None, "")] * len(entries)
        results = response.get("Entries", [])
        if len(results) != len(entries):
            raise SourceUnavailable("PutEvents answered for a different number of entries")
        return [(r.get("ErrorCode") or None, r.get("ErrorMessage", "")) for r in results]


def _batches(pending: Sequence[_Pending]) -> Iterator[list[_Pending]]:
    """Consecutive batches of at most 10 entries whose sizes add up to the limit at most."""
    batch: list[_Pending] = []
    total = 0
    for item in pending:
        if batch and (len(batch) == MAX_ENTRIES_PER_REQUEST or total + item.size > MAX_ENTRY_BYTES):
            yield batch
            batch, total = [], 0
        batch.append(item)
        total += item.size
    if batch:
        yield batch
