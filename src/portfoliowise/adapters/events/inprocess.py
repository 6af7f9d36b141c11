"""The in-process event bus (local mode and tests): publishing dispatches each event to its
subscribers synchronously, in order, in the publishing thread.

It keeps EventBridge's contract where consumers can tell: events over the bus's size limit
are refused (`PayloadTooLarge`, nothing dispatched), and a redelivered event (same
`eventId`) is not handled again by a subscriber that already handled it. A subscriber that
raises is logged and does not stop the others; it gets the event again if it is redelivered.
Events published by a subscriber are queued and dispatched after the current one."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence

from portfoliowise.adapters.events.eventbridge import check_sizes
from portfoliowise.domain.events import DomainEvent

logger = logging.getLogger(__name__)

Handler = Callable[[DomainEvent], None]

ALL = "*"
"""The detail type that subscribes to every event."""
REMEMBERED_DELIVERIES = 100_000
"""How many (subscriber, eventId) deliveries are remembered for de-duplication."""


class InProcessBus:
    """Implements `EventPublisher`; `published` lists every event published, in order."""

    def __init__(self, remembered: int = REMEMBERED_DELIVERIES) -> None:
        self.published: list[DomainEvent] = []
        self._subscriptions: list[tuple[str, Handler]] = []
        self._handled: OrderedDict[tuple[int, str], None] = OrderedDict()
        self._remembered = remembered
        self._queue: deque[DomainEvent] = deque()
        self._dispatching = False
        self._lock = threading.RLock()

    def subscribe(self, detail_type: str, handler: Handler) -> None:
        """Call `handler` with each event whose `name` is `detail_type` ("*": every event)."""
        with self._lock:
            self._subscriptions.append((detail_type, handler))

    def publish(self, events: Sequence[DomainEvent]) -> None:
        check_sizes(events)
        with self._lock:
            self.published.extend(events)
            self._queue.extend(events)
            if self._dispatching:
                return  # published by a subscriber: the running dispatch loop takes it
            self._dispatching = True
            try:
                while self._queue:
                    self._dispatch(self._queue.popleft())
            finally:
                self._dispatching = False

    def _dispatch(self, event: DomainEvent) -> None:
        for number, (detail_type, handler) in enumerate(list(self._subscriptions)):
            if detail_type not in (ALL, event.name):
                continue
            delivery = (number, event.event_id)
            if delivery in self._handled:
                logger.info("event %s %s already handled", event.name, event.event_id)
                continue
            try:
                handler(event)
            except Exception:
                logger.exception(
                    "handler %r failed on event %s %s", handler, event.name, event.event_id
                )
                continue
            self._handled[delivery] = None
            if len(self._handled) > self._remembered:
                self._handled.popitem(last=False)
