"""`ClientLogSink` on a local file: one JSON line per record, appended (`client.log` in
the data directory under `portfoliowise serve`)."""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from pathlib import Path

from portfoliowise.domain.events import JsonValue


class FileClientLogSink:
    def __init__(self, path: Path) -> None:
        self._path = path
        self._lock = threading.Lock()

    @property
    def path(self) -> Path:
        return self._path

    def write(self, records: Sequence[dict[str, JsonValue]]) -> None:
        lines = "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in records)
        with self._lock:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            with self._path.open("a", encoding="utf-8") as out:
                out.write(lines)
