"""Event publishers (the `EventPublisher` port): the EventBridge bus in AWS mode, an
in-process bus locally and in tests."""

from portfoliowise.adapters.events.eventbridge import (
    BUS_NAME,
    Backoff,
    EventBridgePublisher,
    EventsNotPublished,
    events_client,
)
from portfoliowise.adapters.events.inprocess import ALL, InProcessBus

__all__ = [
    "ALL",
    "BUS_NAME",
    "Backoff",
    "EventBridgePublisher",
    "EventsNotPublished",
    "InProcessBus",
    "events_client",
]
