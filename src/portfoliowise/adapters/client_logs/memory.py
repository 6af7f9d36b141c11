"""`ClientLogSink` in memory (tests, and any runtime that keeps nothing)."""

from __future__ import annotations

from collections.abc import Sequence

from portfoliowise.domain.events import JsonValue


class MemoryClientLogSink:
    def __init__(self) -> None:
        self.records: list[dict[str, JsonValue]] = []

    def write(self, records: Sequence[dict[str, JsonValue]]) -> None:
        self.records.extend(records)
