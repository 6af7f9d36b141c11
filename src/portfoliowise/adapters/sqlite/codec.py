"""How the embedded store writes values SQLite has no type for: times (UTC ISO-8601 text
with microseconds, which sorts as it compares; or epoch microseconds, exact), TTLs (whole
epoch seconds, rounded up, as DynamoDB's), decimals (TEXT, exact) and JSON documents."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def utc_text(at: datetime) -> str:
    """`2026-11-27T09:00:00.000000+00:00`: fixed width, so text order is time order."""
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def epoch_micros(at: datetime) -> int:
    return (at - _EPOCH) // _MICROSECOND


def from_epoch_micros(micros: int) -> datetime:
    return _EPOCH + micros * _MICROSECOND


def ttl_seconds(at: datetime) -> int:
    """Whole epoch seconds of an expiry, rounded up: `ttl > floor(now)` keeps every row
    that has not expired (callers then compare the exact expiry)."""
    return math.ceil(Decimal(epoch_micros(at)) / 1_000_000)


def now_seconds(at: datetime) -> int:
    """Whole epoch seconds of `at`, rounded down (to compare with `ttl`)."""
    return epoch_micros(at) // 1_000_000


def decimal_text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def text_decimal(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


def dump_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def load_json(text: str) -> Any:
    return json.loads(text)
